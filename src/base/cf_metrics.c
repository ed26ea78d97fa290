/*  cf_metrics: the registry and its text rendering; see cf_metrics.h.
    Series are kept in creation order; the render groups each name's series
    under one # HELP and # TYPE, as the format asks.                         */
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_kind_t;

static const char *const s_kind_name[] = { "counter", "gauge", "histogram" };

struct _cf_metric_t {
    metric_kind_t kind;
    char *name, *help, *labels;         /* labels may be NULL */
    _Atomic int64_t value;              /* counter, gauge; a histogram's count */
    pthread_mutex_t *lock;              /* the registry's: histograms */
    double *bounds;
    uint64_t *buckets;                  /* per bucket, not cumulative; +Inf last */
    size_t bound_count;
    double sum;
};

struct _cf_metrics_t {
    pthread_mutex_t lock;
    cf_metric_t **series;
    size_t count, capacity;
};

cf_metrics_t *cf_metrics_new(void)
{
    cf_metrics_t *self = cf_calloc(1, sizeof *self);
    pthread_mutex_init(&self->lock, NULL);
    return self;
}

void cf_metrics_destroy(cf_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_metrics_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        cf_metric_t *m = self->series[i];
        free(m->name);
        free(m->help);
        free(m->labels);
        free(m->bounds);
        free(m->buckets);
        free(m);
    }
    free(self->series);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

static cf_metric_t *metrics_add(cf_metrics_t *self, metric_kind_t kind, const char *name,
                                const char *help, const char *labels)
{
    if (!self)
        return NULL;
    assert(name && *name && help);
    cf_metric_t *m = cf_calloc(1, sizeof *m);
    m->kind = kind;
    m->name = cf_strdup(name);
    m->help = cf_strdup(help);
    m->labels = labels && *labels ? cf_strdup(labels) : NULL;
    m->lock = &self->lock;
    pthread_mutex_lock(&self->lock);
    self->series = cf_grow(self->series, &self->capacity, self->count + 1, sizeof *self->series);
    self->series[self->count++] = m;
    pthread_mutex_unlock(&self->lock);
    return m;
}

cf_metric_t *cf_metrics_counter(cf_metrics_t *self, const char *name, const char *help,
                                const char *labels)
{
    return metrics_add(self, METRIC_COUNTER, name, help, labels);
}

cf_metric_t *cf_metrics_gauge(cf_metrics_t *self, const char *name, const char *help,
                              const char *labels)
{
    return metrics_add(self, METRIC_GAUGE, name, help, labels);
}

cf_metric_t *cf_metrics_histogram(cf_metrics_t *self, const char *name, const char *help,
                                  const char *labels, const double *bounds, size_t count)
{
    cf_metric_t *m = metrics_add(self, METRIC_HISTOGRAM, name, help, labels);
    if (!m)
        return NULL;
    assert(bounds || count == 0);
    m->bounds = cf_calloc(count + 1, sizeof *m->bounds);
    m->buckets = cf_calloc(count + 1, sizeof *m->buckets);
    for (size_t i = 0; i < count; i++) {
        assert(i == 0 || bounds[i] > bounds[i - 1]);
        m->bounds[i] = bounds[i];
    }
    m->bound_count = count;
    return m;
}

void cf_metric_add(cf_metric_t *metric, uint64_t n)
{
    if (metric)
        atomic_fetch_add_explicit(&metric->value, (int64_t) n, memory_order_relaxed);
}

void cf_metric_set(cf_metric_t *metric, int64_t value)
{
    if (metric)
        atomic_store_explicit(&metric->value, value, memory_order_relaxed);
}

void cf_metric_observe(cf_metric_t *metric, double value)
{
    if (!metric)
        return;
    assert(metric->kind == METRIC_HISTOGRAM);
    size_t i = 0;
    while (i < metric->bound_count && value > metric->bounds[i])
        i++;
    pthread_mutex_lock(metric->lock);
    metric->buckets[i]++;
    metric->sum += value;
    atomic_fetch_add_explicit(&metric->value, 1, memory_order_relaxed);
    pthread_mutex_unlock(metric->lock);
}

int64_t cf_metric_value(const cf_metric_t *metric)
{
    assert(metric);
    return atomic_load_explicit(&((cf_metric_t *) metric)->value, memory_order_relaxed);
}

/* ---- rendering (under the registry's lock) ----------------------------- */

/* name{labels,extra}: the braces only when there is something in them. */
static void render_name(FILE *out, const cf_metric_t *m, const char *suffix, const char *extra)
{
    const char *labels = m->labels ? m->labels : "";
    bool any = *labels || extra;
    fprintf(out, "%s%s%s%s%s%s%s", m->name, suffix, any ? "{" : "", labels,
            *labels && extra ? "," : "", extra ? extra : "", any ? "}" : "");
}

static void render_histogram(FILE *out, const cf_metric_t *m)
{
    uint64_t cumulative = 0;
    char le[64];
    for (size_t i = 0; i <= m->bound_count; i++) {
        cumulative += m->buckets[i];
        if (i < m->bound_count)
            snprintf(le, sizeof le, "le=\"%g\"", m->bounds[i]);
        else
            snprintf(le, sizeof le, "le=\"+Inf\"");
        render_name(out, m, "_bucket", le);
        fprintf(out, " %" PRIu64 "\n", cumulative);
    }
    render_name(out, m, "_sum", NULL);
    fprintf(out, " %.9g\n", m->sum);
    render_name(out, m, "_count", NULL);
    fprintf(out, " %" PRIu64 "\n", cumulative);
}

static void render_series(FILE *out, const cf_metric_t *m)
{
    if (m->kind == METRIC_HISTOGRAM) {
        render_histogram(out, m);
        return;
    }
    render_name(out, m, "", NULL);
    fprintf(out, " %" PRId64 "\n", cf_metric_value(m));
}

char *cf_metrics_render(cf_metrics_t *self, size_t *len)
{
    assert(self && len);
    char *text = NULL;
    FILE *out = cf_memstream_open(&text, len);
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->count; i++) {
        const cf_metric_t *first = self->series[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(self->series[j]->name, first->name);
        if (seen)
            continue;               /* rendered with the first of its name */
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", first->name, first->help, first->name,
                s_kind_name[first->kind]);
        for (size_t j = i; j < self->count; j++)
            if (!strcmp(self->series[j]->name, first->name))
                render_series(out, self->series[j]);
    }
    pthread_mutex_unlock(&self->lock);
    cf_memstream_close(out);
    return text;
}
