/*  cf_worker_metrics: a worker's Prometheus series (docs/operations.md,
    "Metrics"): created once, the store's counts added after each job.      */
#include "cf_worker_internal.h"
#include "caseflow/cf_event.h"

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
        "Overdue alerts fired, by the timer or by the apply path (deadlines already due "
        "as their events are applied).", NULL);
    out->markers_swept = cf_metrics_counter(registry, "caseflow_worker_markers_swept_total",
        "Expired dedupe markers deleted by the sweep (docs/storage.md, \"Dedupe markers\").",
        NULL);
    out->conflicts = cf_metrics_counter(registry, "caseflow_worker_commit_conflicts_total",
        "Commits refused because a state changed after it was read (read and computed again).",
        NULL);
    out->fenced = cf_metrics_counter(registry, "caseflow_worker_jobs_fenced_total",
        "Jobs a commit of which its shard's owner epoch refused (the shard has another owner): "
        "handed back to the broker.", NULL);
    cf_store_set_metrics(store,
        cf_metrics_histogram(registry, "caseflow_worker_redis_seconds",
                             "Latency of a job's apply round trip to Redis, in seconds.", NULL,
                             s_redis_buckets, sizeof s_redis_buckets / sizeof *s_redis_buckets),
        cf_metrics_counter(registry, "caseflow_worker_redis_errors_total",
                           "Failed Redis calls (unreachable, error reply, unexpected reply).",
                           NULL));
}

/* Adds to metric what a count kept over the store's life grew by since
   *seen, its value at the last look. */
static void worker_count_since(cf_metric_t *metric, uint64_t now, uint64_t *seen)
{
    cf_metric_add(metric, now - *seen);
    *seen = now;
}

void cf_worker_metrics_count_store(worker_metrics_t *metrics, const cf_store_t *store)
{
    worker_count_since(metrics->conflicts, cf_store_conflicts(store), &metrics->conflicts_seen);
    worker_count_since(metrics->alerts_fired, cf_store_alerts_fired(store),
                       &metrics->alerts_fired_seen);
}
