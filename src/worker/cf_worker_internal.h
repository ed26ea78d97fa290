/*  cf_worker internals: the worker's own Prometheus series, made with those
    of its cf_apply and cf_store by cf_worker_metrics.c. Not installed.      */
#ifndef CF_WORKER_INTERNAL_H
#define CF_WORKER_INTERNAL_H

#include "cf_apply.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_store.h"

typedef struct {
    cf_metric_t *jobs[2];           /* answered, by run: [0] batch, [1] careful */
    cf_metric_t *alerts_fired;
} worker_metrics_t;

/*  Creates every series of a worker in registry (NULL: none, and *out is
    all NULL) and hands apply and store theirs.                             */
void cf_worker_metrics_new(cf_metrics_t *registry, cf_apply_t *apply, cf_store_t *store,
                           worker_metrics_t *out);

#endif
