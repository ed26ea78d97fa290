/*  cf_broker: dispatch to workers by credit, ACK forwarding and worker
    liveness; see cf_broker.h. The sockets are served by cf_loop; each
    handler drains a bounded number of messages per call so that neither
    side can starve the other. This core starts the broker's other parts
    and calls them, never the reverse: the intake (what a PUSH must pass to
    be queued) is cf_broker_intake.c, notifications (the outboxes, stats)
    cf_broker_notify.c, the operators' socket cf_broker_control.c, the
    series cf_broker_metrics.c, SNAPSHOT requests cf_broker_snapshot.c;
    messages are built and read by cf_msg.                                  */
#include "caseflow/cf_broker.h"
#include "caseflow/cf_alloc.h"
#include "cf_broker_internal.h"
#include "caseflow/cf_event.h"
#include "cf_jobq.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_zmq.h"
#include "cf_roster.h"
#include "cf_publisher.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

_Static_assert(CF_SETTINGS_QUEUE_BYTES_MIN == CF_MSG_MAX_PUSH_BYTES,
               "--queue-bytes holds at least one largest PUSH");

_Static_assert(CF_SETTINGS_JOB_EVENTS_MAX == CF_MSG_MAX_JOB_EVENTS,
               "--job-events is at most one JOB");

_Static_assert(CF_MSG_MAX_INTAKE_FRAME_BYTES >= CF_EVENT_MAX_BYTES + CF_MSG_CURVE_OVERHEAD,
               "the largest valid event passes the intake's frame limit under CURVE");

/* What one connection to a server socket may make libzmq hold before the
   broker reads a byte of it (docs/security.md, "Memory"): frames of at most
   max_frame bytes (a larger one drops the connection) and rcvhwm whole
   messages queued. */
typedef struct {
    int64_t max_frame;
    int rcvhwm;
} broker_bounds_t;

/* A bound server socket admitting roles (a ZAP domain: "producers",
   "producers,subscribers"; see cf_zap.h), or NULL with err. */
static void *broker_socket(cf_broker_t *self, int type, const char *endpoint, const char *roles,
                           broker_bounds_t bounds, char *err, size_t err_size)
{
    void *socket = zmq_socket(self->ctx, type);
    if (cf_broker_secure_socket(self, socket, endpoint, roles, err, err_size) < 0) {
        zmq_close(socket);
        return NULL;
    }
    int on = 1, linger = 0, sndtimeo = 0;
    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &bounds.max_frame, sizeof bounds.max_frame);
    zmq_setsockopt(socket, ZMQ_RCVHWM, &bounds.rcvhwm, sizeof bounds.rcvhwm);
    if (type == ZMQ_ROUTER)
        zmq_setsockopt(socket, ZMQ_ROUTER_MANDATORY, &on, sizeof on);
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    if (!endpoint || zmq_bind(socket, endpoint) < 0) {
        snprintf(err, err_size, "cannot bind %s: %s", endpoint ? endpoint : "(none)",
                 endpoint ? zmq_strerror(zmq_errno()) : "no endpoint given");
        zmq_close(socket);
        return NULL;
    }
    return socket;
}

/* ---- dispatch --------------------------------------------------------- */

/* The parts a lost worker held go back to be routed again, as REDO, which
   the worker applies event by event, so that an event that takes workers
   down is found and dead-lettered. */
static void broker_requeue(cf_broker_t *self, cf_job_t *jobs)
{
    while (jobs) {
        cf_job_t *next = jobs->next;
        jobs->redo = true;
        cf_jobq_push_front(self->queue, jobs);
        jobs = next;
    }
}

static void broker_drop_member(cf_broker_t *self, cf_member_t *member, const char *why)
{
    /* a worker that said BYE left as it should: not a warning */
    CF_LOG(strcmp(why, "said BYE") ? CF_LOG_WARN : CF_LOG_INFO, "worker removed",
           "worker=%s reason=\"%s\" requeued_jobs=%zu", CF_LOG_QUOTE(member->name), why,
           member->inflight_count);
    broker_requeue(self, cf_member_take_all(member));
    cf_broker_route_forget(self, member);
    cf_roster_remove(self->roster, member);
}

/* Splits what waits by the owners of its shards (cf_broker_route.c), then
   hands each worker the parts of its shards while it has credit. */
static void broker_dispatch(cf_broker_t *self)
{
    cf_broker_route_rebalance(self);
    cf_job_t *job;
    while ((job = cf_jobq_pop(self->queue)))
        if (!cf_broker_route_split(self, job)) {
            cf_jobq_push_front(self->queue, job);
            break;
        }
    for (size_t i = cf_roster_size(self->roster); i-- > 0;) {
        cf_member_t *member = cf_roster_at(self->roster, i);
        cf_job_t *part;
        while (member->credit > 0 && (part = cf_broker_route_bundle(self, member->backlog))) {
            if (cf_broker_route_send(self, member, part) < 0) {
                cf_jobq_push_front(member->backlog, part);
                broker_drop_member(self, member, "unreachable");
                break;
            }
            if (part->attempts)
                cf_metric_inc(self->metrics.redeliveries);
            part->attempts++;
            part->sent_at = member->last_sent = cf_clock_ms();
            cf_member_hold(member, part);
        }
    }
    cf_broker_metrics_gauges(self);
}

/* ---- workers ---------------------------------------------------------- */

static void broker_on_ready(cf_broker_t *self, cf_multipart_t *parts, cf_member_t *member)
{
    zmq_msg_t *id = cf_multipart_at(parts, 0);
    int64_t now = cf_clock_ms();
    if (member)     /* a worker that reconnected: whatever it held is redone */
        broker_drop_member(self, member, "re-registered");
    member = cf_roster_add(self->roster, zmq_msg_data(id), zmq_msg_size(id), now);
    if (!member)
        return;
    self->last_join = now;      /* eligible for shards once the joins settle */
    cf_msg_ready_t ready;
    cf_msg_parse_ready(parts, &ready);     /* a bad body leaves the defaults */
    member->credit = ready.credit >= 1 && ready.credit <= BROKER_CREDIT_MAX ? ready.credit : 1;
    snprintf(member->name, sizeof member->name, "%s:%u", ready.host, ready.pid);
    snprintf(member->host, sizeof member->host, "%s", ready.host);
    member->pid = ready.pid;
    cf_broker_control_label(self, member);
    CF_LOG(CF_LOG_INFO, "worker joined", "worker=%s id=%s credit=%u workers=%zu",
           CF_LOG_QUOTE(member->name), member->label, member->credit, cf_roster_size(self->roster));
}

static void broker_on_done(cf_broker_t *self, cf_multipart_t *parts, cf_member_t *member)
{
    uint64_t job_id = 0;
    if (cf_msg_parse_done(parts, &job_id) < 0)
        return;
    cf_job_t *part = cf_member_release(member, job_id);
    if (!part) {
        CF_LOG(CF_LOG_DEBUG, "late DONE dropped", "worker=%s job=%llu",
               CF_LOG_QUOTE(member->name),
               (unsigned long long) job_id);
        return;
    }
    member->jobs_done++;
    member->events_done += part->event_count;
    /* the member's next job first, its acks and notifications after: they
       are the broker's work of a DONE, and the worker would wait them out */
    broker_dispatch(self);
    cf_broker_route_done(self, member, part, cf_multipart_data(parts, 4),
                         cf_multipart_len(parts, 4));
    cf_broker_notify_done(self, member, parts);
    cf_job_destroy(&part);
}

static void broker_on_worker_message(cf_broker_t *self, cf_multipart_t *parts)
{
    zmq_msg_t *id = cf_multipart_at(parts, 0);
    cf_member_t *member = cf_roster_find(self->roster, zmq_msg_data(id), zmq_msg_size(id));
    if (!cf_msg_signed(parts, 1))
        return;
    if (!cf_zap_current(self->zap, cf_multipart_at(parts, 1))) {   /* revoked on SIGHUP */
        if (member)
            broker_drop_member(self, member, "key revoked");
        return;
    }
    cf_msg_command_t command = cf_msg_worker_command(parts);
    if (member)
        member->last_seen = cf_clock_ms();
    if (command == CF_MSG_READY)
        broker_on_ready(self, parts, member);
    else if (!member)
        CF_LOG(CF_LOG_DEBUG, "message from unknown worker dropped", "%s", "");
    else if (command == CF_MSG_DONE)
        broker_on_done(self, parts, member);
    else if (command == CF_MSG_BYE)
        broker_drop_member(self, member, "said BYE");
}

static int broker_on_intake(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    cf_broker_t *self = arg;
    cf_broker_intake_read(self, socket);
    broker_dispatch(self);
    return 0;
}

static int broker_on_workers(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    cf_broker_t *self = arg;
    for (int i = 0; i < BROKER_DRAIN_MAX && cf_multipart_recv(self->worker_parts, socket) == 0; i++)
        broker_on_worker_message(self, self->worker_parts);
    broker_dispatch(self);
    return 0;
}

/* Drops workers silent past liveness; heartbeats the others when idle. */
static int broker_on_heartbeat(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    cf_broker_t *self = arg;
    int64_t now = cf_clock_ms();
    for (size_t i = cf_roster_size(self->roster); i-- > 0;) {
        cf_member_t *member = cf_roster_at(self->roster, i);
        if (now - member->last_seen > self->liveness_ms) {
            broker_drop_member(self, member, "no heartbeat");
            continue;
        }
        if (now - member->last_sent < self->heartbeat_ms)
            continue;
        if (cf_msg_send_heartbeat(self->workers, ZMQ_DONTWAIT, member->id, member->id_len) < 0)
            broker_drop_member(self, member, "unreachable");
        else
            member->last_sent = now;
    }
    broker_dispatch(self);
    return 0;
}

/* ---- life cycle ------------------------------------------------------- */

cf_broker_t *cf_broker_new(const cf_broker_config_t *config, char *err, size_t err_size)
{
    assert(config);
    cf_broker_t *self = cf_calloc(1, sizeof *self);
    self->ctx = zmq_ctx_new();
    self->started_at = cf_clock_ms();
    /* Job ids start at random so that no two broker runs hand out the same
       id: a worker writes it into the dedupe markers of the events it
       applies, and a later request must never pass for an earlier one. */
    randombytes_buf(&self->next_job_id, sizeof self->next_job_id);
    self->queue_limit = config->queue_limit ? config->queue_limit : CF_SETTINGS_QUEUE_DEFAULT;
    self->queue_bytes = config->queue_bytes ? config->queue_bytes
                                            : CF_SETTINGS_QUEUE_BYTES_DEFAULT;
    self->heartbeat_ms = config->heartbeat_ms > 0 ? config->heartbeat_ms
                                                  : CF_SETTINGS_HEARTBEAT_DEFAULT;
    self->liveness_ms = config->liveness_ms > 0 ? config->liveness_ms
                                                : CF_SETTINGS_LIVENESS_DEFAULT;
    self->producer_rate = config->producer_rate > 0 ? config->producer_rate
                                                    : CF_SETTINGS_PRODUCER_RATE_DEFAULT;
    self->producer_bytes = config->producer_bytes ? config->producer_bytes
                                                  : CF_SETTINGS_PRODUCER_BYTES_DEFAULT;
    self->producers_max = config->producers_max ? config->producers_max
                                                : CF_SETTINGS_PRODUCERS_MAX_DEFAULT;
    self->rates = cf_ratelimit_new(self->producer_rate,     /* a whole PUSH always fits */
                                   self->producer_rate > CF_MSG_MAX_EVENTS
                                   ? self->producer_rate : CF_MSG_MAX_EVENTS,
                                   self->producers_max);
    self->snapshot_rates = cf_ratelimit_new(1.0 / BROKER_SNAPSHOT_EVERY_S, BROKER_SNAPSHOT_BURST,
                                            BROKER_SNAPSHOT_CONNECTIONS);
    self->queue = cf_jobq_new();
    self->roster = cf_roster_new();
    self->intake_parts = cf_multipart_new(4 + CF_MSG_MAX_EVENTS + 1);
    self->worker_parts = cf_multipart_new(CF_MSG_MAX_DONE_PARTS);
    self->loop = cf_loop_new();
    msgpack_sbuffer_init(&self->sbuf);
    cf_broker_route_start(self, config);
    cf_broker_metrics_new(self, config->metrics);
    if (cf_broker_notify_rules(self, config, err, err_size) < 0
        || cf_broker_secure_start(self, config, err, err_size) < 0) {
        cf_broker_destroy(&self);
        return NULL;
    }
    /* subscribers ask for their snapshot on intake; only producers may PUSH */
    const broker_bounds_t intake = { CF_MSG_MAX_INTAKE_FRAME_BYTES, BROKER_INTAKE_RCVHWM },
                          workers = { CF_MSG_MAX_FRAME_BYTES, BROKER_WORKERS_RCVHWM },
                          control = { CF_MSG_MAX_INTAKE_FRAME_BYTES, BROKER_CONTROL_RCVHWM };
    self->intake = broker_socket(self, ZMQ_ROUTER, config->intake_endpoint,
                                 BROKER_INTAKE_ROLES, intake, err, err_size);
    self->workers = self->intake
        ? broker_socket(self, ZMQ_ROUTER, config->worker_endpoint, CF_ZAP_WORKERS, workers, err,
                        err_size) : NULL;
    self->control = self->workers && config->control_endpoint
        ? broker_socket(self, ZMQ_ROUTER, config->control_endpoint, CF_ZAP_OPERATORS, control,
                        err, err_size) : NULL;
    if (!self->workers || (config->control_endpoint && !self->control)
        || cf_broker_notify_start(self, config, err, err_size) < 0) {
        cf_broker_destroy(&self);
        return NULL;
    }
    cf_loop_add_socket(self->loop, self->intake, broker_on_intake, self);
    cf_loop_add_socket(self->loop, self->workers, broker_on_workers, self);
    cf_loop_add_timer(self->loop, self->heartbeat_ms / 2 > 0 ? self->heartbeat_ms / 2 : 1,
                      broker_on_heartbeat, self);
    if (self->control)
        cf_broker_control_start(self);
    return self;
}

/* While stopping: ends the loop once every job is answered, or the grace
   time is over (what is left was never acked: its producers resend). */
static int broker_on_stopping(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    cf_broker_t *self = arg;
    if (cf_broker_queued(self, cf_jobq_jobs) + cf_roster_inflight(self->roster) == 0)
        return -1;
    return cf_clock_ms() - self->stopping_since > BROKER_STOP_GRACE_MS ? -1 : 0;
}

int cf_broker_run(cf_broker_t *self, volatile sig_atomic_t *stop)
{
    assert(self);
    cf_loop_set_stop_flag(self->loop, stop);
    if (cf_loop_run(self->loop) < 0)
        return -1;
    /* Stop: new events are answered busy, workers finish what they hold. */
    self->stopping_since = cf_clock_ms();
    CF_LOG(CF_LOG_INFO, "broker stopping", "queued_jobs=%zu inflight_jobs=%zu",
           cf_broker_queued(self, cf_jobq_jobs), cf_roster_inflight(self->roster));
    cf_loop_set_stop_flag(self->loop, NULL);
    cf_loop_add_timer(self->loop, 20, broker_on_stopping, self);
    int rc = cf_loop_run(self->loop);
    if (cf_broker_queued(self, cf_jobq_jobs) + cf_roster_inflight(self->roster) > 0)
        CF_LOG(CF_LOG_WARN, "jobs left unanswered", "queued_jobs=%zu inflight_jobs=%zu",
               cf_broker_queued(self, cf_jobq_jobs), cf_roster_inflight(self->roster));
    return rc;
}

void cf_broker_destroy(cf_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_broker_t *self = *self_p;
    cf_loop_destroy(&self->loop);
    cf_broker_notify_stop(self);
    if (self->intake)
        zmq_close(self->intake);
    if (self->workers)
        zmq_close(self->workers);
    if (self->control)
        zmq_close(self->control);
    cf_multipart_destroy(&self->control_parts);
    cf_roster_destroy(&self->roster);
    cf_jobq_destroy(&self->queue);
    cf_broker_route_stop(self);
    cf_ratelimit_destroy(&self->rates);
    cf_ratelimit_destroy(&self->snapshot_rates);
    cf_multipart_destroy(&self->intake_parts);
    cf_multipart_destroy(&self->worker_parts);
    msgpack_sbuffer_destroy(&self->sbuf);
    cf_broker_secure_stop(self);
    cf_zmq_ctx_term(&self->ctx);
    free(self);
    *self_p = NULL;
}
