/*  cf_metrics: a small registry of Prometheus metrics (counters, gauges,
    histograms with fixed buckets) and its text exposition format (0.0.4).

    A daemon creates its series once, before serving them, in one function;
    then its own thread updates them while the HTTP thread (cf_metrics_http)
    renders: counters and gauges are C11 atomics, histograms and the render
    take the registry's mutex. Every update accepts a NULL series and does
    nothing, and every constructor given a NULL registry returns NULL, so a
    daemon started without metrics calls the same hooks at the cost of a
    test. Series of one name (different labels) share one # HELP and # TYPE.  */
#ifndef CF_METRICS_H
#define CF_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct _cf_metrics_t cf_metrics_t;
typedef struct _cf_metric_t cf_metric_t;

cf_metrics_t *cf_metrics_new(void);
/*  Frees the registry and every series it made.                             */
void cf_metrics_destroy(cf_metrics_t **self_p);

/*  Adds a series. name is a Prometheus metric name; labels is NULL or the
    pairs as they appear between the braces, e.g. `outcome="accepted"` (the
    caller's fixed text: it is not escaped). A name keeps the kind and help
    it was first given. NULL when self is NULL. The series lives as long as
    the registry.                                                             */
cf_metric_t *cf_metrics_counter(cf_metrics_t *self, const char *name, const char *help,
                                const char *labels);
cf_metric_t *cf_metrics_gauge(cf_metrics_t *self, const char *name, const char *help,
                              const char *labels);
/*  bounds: count upper bounds, increasing; +Inf is added.                   */
cf_metric_t *cf_metrics_histogram(cf_metrics_t *self, const char *name, const char *help,
                                  const char *labels, const double *bounds, size_t count);

/*  Counter: adds n. Gauge: sets it. Histogram: counts one observation.     */
void cf_metric_add(cf_metric_t *metric, uint64_t n);
void cf_metric_set(cf_metric_t *metric, int64_t value);
void cf_metric_observe(cf_metric_t *metric, double value);
#define cf_metric_inc(metric) cf_metric_add((metric), 1)

/*  The value of a counter or gauge (a histogram: its count).                */
int64_t cf_metric_value(const cf_metric_t *metric);

/*  Renders every series in the text format; a malloc'd NUL-terminated text
    the caller frees, its length in *len.                                    */
char *cf_metrics_render(cf_metrics_t *self, size_t *len);

#endif
