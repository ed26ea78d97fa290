/*  cf_broker_metrics: the broker's Prometheus series (docs/operations.md,
    "Metrics"): created in one place, updated from one call at each place
    where the thing counted happens (cf_broker.c, cf_broker_notify.c, the
    routing files cf_broker_route.c and cf_broker_route_acks.c).
    Without --metrics the registry is NULL, every series is NULL and each
    update is a no-op.                                                       */
#include "cf_broker_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const s_families[BROKER_TOPIC_FAMILIES] = {
    "case", "milestone", "alert", "reject", "stats", "other" };

/* Each endpoint's name in the labels, and the ZAP domain it is known by. */
static const char *const s_endpoints[BROKER_ENDPOINTS][2] = {
    { "intake", BROKER_INTAKE_ROLES }, { "workers", CF_ZAP_WORKERS },
    { "publish", CF_ZAP_SUBSCRIBERS }, { "control", CF_ZAP_OPERATORS } };

/* The series without labels, as a table: where each goes, its kind, name
   and help. */
static const struct {
    size_t offset;
    bool gauge;
    const char *name, *help;
} s_plain[] = {
    { offsetof(broker_metrics_t, requests), false, "caseflow_broker_requests_total",
      "Requests (PUSH, SNAPSHOT) received on the intake." },
    { offsetof(broker_metrics_t, redeliveries), false, "caseflow_broker_redeliveries_total",
      "Jobs sent again (REDO) after the worker holding them was lost." },
    { offsetof(broker_metrics_t, bundled), false, "caseflow_broker_bundled_events_total",
      "Events handed to a worker in a job bundled from the parts of several requests." },
    { offsetof(broker_metrics_t, queue_events), true, "caseflow_broker_queue_events",
      "Events queued, waiting for a worker." },
    { offsetof(broker_metrics_t, queue_jobs), true, "caseflow_broker_queue_jobs",
      "Jobs (one per PUSH) queued, waiting for a worker." },
    { offsetof(broker_metrics_t, queue_age), true, "caseflow_broker_queue_age_seconds",
      "Seconds the job at the head of the queue (the next to go to a worker) has waited since "
      "its PUSH came in; 0 when the queue is empty." },
    { offsetof(broker_metrics_t, inflight), true, "caseflow_broker_inflight_jobs",
      "Jobs held by workers, not yet answered." },
    { offsetof(broker_metrics_t, workers), true, "caseflow_broker_workers",
      "Workers connected." },
    { offsetof(broker_metrics_t, dropped), false, "caseflow_broker_notifications_dropped_total",
      "Overflows: times a subscriber's queue was full and it began to lose notifications "
      "(not how many it lost: its seq gaps tell); 0 only when no subscriber lost any." },
    { offsetof(broker_metrics_t, notices_refused), false,
      "caseflow_broker_notifications_refused_total",
      "Notifications in workers' DONEs not published: a topic a worker may not publish, a body "
      "too large, not a map, or with a key of the broker's stamp." },
    { offsetof(broker_metrics_t, outbox_errors), false, "caseflow_broker_outbox_errors_total",
      "Failed reads of the notification outboxes in Redis (retried)." },
};

void cf_broker_metrics_new(cf_broker_t *self, cf_metrics_t *registry)
{
    broker_metrics_t *m = &self->metrics;
    char labels[64];
    for (int s = 0; s < CF_ACK_STATUS_COUNT; s++) {
        snprintf(labels, sizeof labels, "outcome=\"%s\"", cf_ack_status_name((cf_ack_status_t) s));
        m->events[s] = cf_metrics_counter(registry, "caseflow_broker_events_total",
            "Events answered to producers, by outcome (busy: refused by the broker).", labels);
    }
    for (size_t i = 0; i < sizeof s_plain / sizeof *s_plain; i++)
        *(cf_metric_t **) ((char *) m + s_plain[i].offset) = s_plain[i].gauge
            ? cf_metrics_gauge(registry, s_plain[i].name, s_plain[i].help, NULL)
            : cf_metrics_counter(registry, s_plain[i].name, s_plain[i].help, NULL);
    for (int f = 0; f < BROKER_TOPIC_FAMILIES; f++) {
        snprintf(labels, sizeof labels, "family=\"%s\"", s_families[f]);
        m->published[f] = cf_metrics_counter(registry, "caseflow_broker_notifications_total",
            "Notifications published, by topic family.", labels);
    }
    for (int e = 0; e < BROKER_ENDPOINTS; e++) {
        snprintf(labels, sizeof labels, "endpoint=\"%s\"", s_endpoints[e][0]);
        m->connections[e] = cf_metrics_gauge(registry, "caseflow_broker_connections",
            "Connections open (in their handshake too), by endpoint.", labels);
        m->refused[e] = cf_metrics_counter(registry, "caseflow_broker_connections_refused_total",
            "Handshakes refused because the endpoint was at --connections-max.", labels);
    }
}

void cf_broker_metrics_gauges(cf_broker_t *self)
{
    broker_metrics_t *m = &self->metrics;
    if (!m->workers)
        return;
    cf_metric_set(m->queue_events, (int64_t) cf_broker_queued(self, cf_jobq_events));
    cf_metric_set(m->queue_jobs, (int64_t) cf_broker_queued(self, cf_jobq_jobs));
    int64_t head = cf_broker_queued_oldest(self);
    cf_metric_set(m->queue_age, head < 0 ? 0 : (cf_clock_ms() - head) / 1000);
    cf_metric_set(m->inflight, (int64_t) cf_roster_inflight(self->roster));
    cf_metric_set(m->workers, (int64_t) cf_roster_size(self->roster));
    /* the publisher and the outbox reader keep these counts: mirror them */
    if (self->publisher)
        cf_metric_set(m->dropped, (int64_t) cf_publisher_dropped(self->publisher));
    if (self->outbox)
        cf_metric_set(m->outbox_errors, (int64_t) cf_outbox_errors(self->outbox));
    for (int e = 0; self->zap && e < BROKER_ENDPOINTS; e++) {
        size_t open;
        uint64_t refused;
        cf_zap_connections(self->zap, s_endpoints[e][1], &open, &refused);
        cf_metric_set(m->connections[e], (int64_t) open);
        cf_metric_set(m->refused[e], (int64_t) refused);
    }
}

void cf_broker_metrics_acks(cf_broker_t *self, const void *data, size_t size)
{
    if (!self->metrics.workers)
        return;
    static cf_ack_t acks[CF_MSG_MAX_JOB_EVENTS];       /* the broker's one thread */
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int count = cf_msg_unpack_acks(&result, data, size, acks, CF_MSG_MAX_JOB_EVENTS);
    for (int i = 0; i < count; i++)
        if (acks[i].status < CF_ACK_STATUS_COUNT)
            cf_metric_inc(self->metrics.events[acks[i].status]);
    msgpack_unpacked_destroy(&result);
}

void cf_broker_metrics_published(cf_broker_t *self, const zmq_msg_t *topic)
{
    if (!self->metrics.workers)
        return;
    const char *name = zmq_msg_data((zmq_msg_t *) topic);
    size_t len = zmq_msg_size((zmq_msg_t *) topic), f = 0;
    const char *dot = memchr(name, '.', len);
    size_t head = dot ? (size_t) (dot - name) : len;
    while (f + 1 < BROKER_TOPIC_FAMILIES
           && !(strlen(s_families[f]) == head && !memcmp(name, s_families[f], head)))
        f++;
    cf_metric_inc(self->metrics.published[f]);
}
