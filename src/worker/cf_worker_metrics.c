/*  cf_worker_metrics: the worker's Prometheus series (docs/operations.md,
    "Metrics"), all made here: events by type and outcome and dead letters
    (counted by cf_apply), Redis latency and errors (cf_store), jobs and
    overdue alerts (cf_worker).                                              */
#include "cf_worker_internal.h"
#include "caseflow/cf_event.h"
#include "caseflow/cf_proto.h"

#include <stdio.h>
#include <string.h>

/* Seconds, from 0.5 ms to 5 s. */
static const double s_redis_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1, 0.25, 0.5, 1, 2.5, 5 };

void cf_worker_metrics_new(cf_metrics_t *registry, cf_apply_t *apply, cf_store_t *store,
                           worker_metrics_t *out)
{
    memset(out, 0, sizeof *out);
    if (!registry)
        return;
    cf_apply_metrics_t counts = { .dead_letters = cf_metrics_counter(registry,
        "caseflow_worker_dead_letters_total", "Events set aside in the dead-letter stream.",
        NULL) };
    char labels[96];
    for (int t = 0; t <= CF_EV_TYPE_COUNT; t++)
        for (int s = 0; s < CF_ACK_BUSY; s++) {     /* a worker never answers busy */
            snprintf(labels, sizeof labels, "type=\"%s\",outcome=\"%s\"",
                     t < CF_EV_TYPE_COUNT ? cf_event_type_name((cf_event_type_t) t) : "invalid",
                     cf_ack_status_name((cf_ack_status_t) s));
            counts.events[t][s] = cf_metrics_counter(registry, "caseflow_worker_events_total",
                "Events processed, by type (invalid: did not decode) and outcome.", labels);
        }
    cf_apply_set_metrics(apply, &counts);
    const char *help = "Jobs answered, by run (careful: event by event, after a lost worker "
                       "or a refusal).";
    out->jobs[0] = cf_metrics_counter(registry, "caseflow_worker_jobs_total", help,
                                      "run=\"batch\"");
    out->jobs[1] = cf_metrics_counter(registry, "caseflow_worker_jobs_total", help,
                                      "run=\"careful\"");
    out->alerts_fired = cf_metrics_counter(registry, "caseflow_worker_overdue_alerts_total",
                                           "Overdue alerts fired.", NULL);
    cf_store_set_metrics(store,
        cf_metrics_histogram(registry, "caseflow_worker_redis_seconds",
                             "Latency of a job's apply round trip to Redis, in seconds.", NULL,
                             s_redis_buckets, sizeof s_redis_buckets / sizeof *s_redis_buckets),
        cf_metrics_counter(registry, "caseflow_worker_redis_errors_total",
                           "Failed Redis calls (unreachable, error reply, unexpected reply).",
                           NULL));
}
