/*  cf_bench_stats: latency samples and INFO fields; see cf_bench_stats.h.
    Samples are kept whole (a run has at most a few hundred thousand
    requests) and sorted when a quantile is asked for, so the percentiles
    are exact rather than read off a histogram.                              */
#include "cf_bench_stats.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t us;
    uint32_t weight;
} stats_sample_t;

struct _cf_bench_stats_t {
    stats_sample_t *samples;
    size_t count, capacity;
    uint64_t total, max;
    double sum;
    bool sorted;
};

cf_bench_stats_t *cf_bench_stats_new(void)
{
    cf_bench_stats_t *self = cf_calloc(1, sizeof *self);
    self->sorted = true;
    return self;
}

void cf_bench_stats_destroy(cf_bench_stats_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->samples);
    free(*self_p);
    *self_p = NULL;
}

void cf_bench_stats_add(cf_bench_stats_t *self, uint64_t us, uint32_t weight)
{
    assert(self);
    if (weight == 0)
        return;
    self->samples = cf_grow(self->samples, &self->capacity, self->count + 1, sizeof *self->samples);
    self->samples[self->count++] = (stats_sample_t) { us, weight };
    self->total += weight;
    self->sum += (double) us * weight;
    if (us > self->max)
        self->max = us;
    self->sorted = false;
}

uint64_t cf_bench_stats_count(const cf_bench_stats_t *self)
{
    assert(self);
    return self->total;
}

static int stats_order(const void *a, const void *b)
{
    const stats_sample_t *x = a, *y = b;
    return x->us < y->us ? -1 : x->us > y->us;
}

uint64_t cf_bench_stats_quantile(cf_bench_stats_t *self, double q)
{
    assert(self && q > 0 && q <= 1);
    if (self->total == 0)
        return 0;
    if (!self->sorted) {
        qsort(self->samples, self->count, sizeof *self->samples, stats_order);
        self->sorted = true;
    }
    /* The rank is ceil(q * total), computed so that 0.999 * 1000 is 999. */
    uint64_t rank = (uint64_t) ceil(q * (double) self->total - 1e-9);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < self->count; i++)
        if ((seen += self->samples[i].weight) >= rank)
            return self->samples[i].us;
    return self->max;
}

double cf_bench_stats_mean(const cf_bench_stats_t *self)
{
    assert(self);
    return self->total ? self->sum / (double) self->total : 0;
}

uint64_t cf_bench_stats_max(const cf_bench_stats_t *self)
{
    assert(self);
    return self->max;
}

/* ---- INFO --------------------------------------------------------------- */

/* The start of the line "<field>:..." in info, or NULL. */
static const char *info_line(const char *info, const char *field)
{
    size_t len = strlen(field);
    for (const char *line = info; line && *line;) {
        if (strncmp(line, field, len) == 0 && line[len] == ':')
            return line + len + 1;
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return NULL;
}

int cf_bench_info_number(const char *info, const char *field, double *value)
{
    assert(info && field && value);
    const char *at = info_line(info, field);
    if (!at)
        return -1;
    char *end;
    double v = strtod(at, &end);
    if (end == at || (*end && *end != '\r' && *end != '\n'))
        return -1;
    *value = v;
    return 0;
}

size_t cf_bench_info_commands(const char *info, cf_bench_command_t *out, size_t max)
{
    assert(info && (out || max == 0));
    static const char prefix[] = "cmdstat_";
    size_t n = 0;
    for (const char *line = info; line && *line && n < max;) {
        const char *colon = strchr(line, ':'), *eol = strchr(line, '\n');
        if (strncmp(line, prefix, sizeof prefix - 1) == 0 && colon && (!eol || colon < eol)
            && strncmp(colon + 1, "calls=", 6) == 0) {
            size_t len = (size_t) (colon - line) - (sizeof prefix - 1);
            if (len < sizeof out[n].name) {
                memcpy(out[n].name, line + sizeof prefix - 1, len);
                out[n].name[len] = '\0';
                out[n].calls = strtoull(colon + 7, NULL, 10);
                const char *usec = strstr(colon, ",usec=");
                out[n].usec = usec && (!eol || usec < eol) ? strtoull(usec + 6, NULL, 10) : 0;
                n++;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return n;
}

const cf_bench_command_t *cf_bench_command_find(const cf_bench_command_t *table, size_t count,
                                                const char *name)
{
    assert(table || count == 0);
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

uint64_t cf_bench_command_calls(const cf_bench_command_t *table, size_t count, const char *name)
{
    const cf_bench_command_t *c = cf_bench_command_find(table, count, name);
    return c ? c->calls : 0;
}

size_t cf_bench_commands_add(cf_bench_command_t *table, size_t count, size_t max,
                             const cf_bench_command_t *more, size_t n)
{
    assert((table || max == 0) && (more || n == 0));
    for (size_t i = 0; i < n; i++) {
        cf_bench_command_t *c = (cf_bench_command_t *) cf_bench_command_find(table, count,
                                                                             more[i].name);
        if (!c && count == max)
            continue;
        if (!c) {
            c = &table[count++];
            *c = (cf_bench_command_t) { .calls = 0 };
            memcpy(c->name, more[i].name, sizeof c->name);
        }
        c->calls += more[i].calls;
        c->usec += more[i].usec;
    }
    return count;
}

uint64_t cf_bench_commands_calls(const cf_bench_command_t *table, size_t count)
{
    uint64_t calls = 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].name, "info") != 0)
            calls += table[i].calls;
    return calls;
}

int cf_bench_info_text(const char *info, const char *field, char *out, size_t size)
{
    assert(info && field && out && size);
    const char *at = info_line(info, field);
    if (!at)
        return -1;
    size_t len = strcspn(at, "\r\n");
    if (len >= size)
        return -1;
    memcpy(out, at, len);
    out[len] = '\0';
    return 0;
}

size_t cf_bench_info_replicas(const char *info, cf_bench_addr_t *out, size_t max)
{
    assert(info && (out || max == 0));
    size_t n = 0;
    for (const char *line = info; line && *line && n < max;) {
        unsigned index;
        int port, used = 0;
        char host[sizeof out->host];
        /* slave0:ip=127.0.0.1,port=7001,state=online,offset=...,lag=0 */
        if (sscanf(line, "slave%u:ip=%63[^,],port=%d%n", &index, host, &port, &used) == 3
            && used > 0) {
            memcpy(out[n].host, host, sizeof host);
            out[n++].port = port;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return n;
}
