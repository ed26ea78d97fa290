/*  cf_worker: the worker's sockets, heartbeats, job queue and Redis retry;
    its Prometheus series are cf_worker_metrics.c (docs/operations.md,
    "Metrics"), its work between jobs (overdue alerts, the markers' sweep)
    cf_worker_timers.c, what it logs of Redis's outages cf_worker_redis.c,
    and the work on each job itself cf_apply. See cf_worker.h.              */
#include "caseflow/cf_worker.h"
#include "cf_worker_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_endpoints.h"
#include "caseflow/cf_handshake.h"
#include "cf_apply.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_store.h"
#include "caseflow/cf_zmq.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define WORKER_RETRY_MIN_MS 100
#define WORKER_RETRY_MAX_MS 1000   /* a Redis back is used within a second */

static cf_loop_socket_fn worker_on_broker;

/* ---- the broker connection -------------------------------------------- */

/* What the worker sends on its own: HEARTBEAT and BYE. */
static void worker_send_command(worker_link_t *link, cf_msg_command_t command)
{
    if ((command == CF_MSG_BYE ? cf_msg_send_bye(link->socket, 0)
                               : cf_msg_send_heartbeat(link->socket, 0, NULL, 0)) == 0)
        link->last_sent = cf_clock_ms();
}

static worker_job_t *worker_job_at(cf_worker_t *self, size_t i)
{
    return &self->jobs[(self->job_head + i) % self->job_slots];
}

/* Forgets the queued jobs that came from link (its broker redelivers them),
   keeping the others in their order; their buffers stay in the ring. */
static void worker_drop_jobs(cf_worker_t *self, size_t link)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->job_count; i++) {
        worker_job_t *job = worker_job_at(self, i);
        if (job->link == link)
            continue;
        worker_job_t *to = worker_job_at(self, kept++);
        if (to != job) {
            worker_job_t swap = *to;
            *to = *job;
            *job = swap;
        }
    }
    self->job_count = kept;
    self->links[link].jobs = 0;
}

/* A new socket (and so a new identity) and a READY: after a reconnect the
   broker treats us as a new worker and redelivers what we held from it.
   The other brokers' connections and jobs are not touched. */
static void worker_connect(cf_worker_t *self, size_t index)
{
    worker_link_t *link = &self->links[index];
    if (link->socket) {
        cf_loop_remove_socket(self->loop, link->socket);
        cf_handshake_destroy(&link->handshake);
        zmq_close(link->socket);
    }
    worker_drop_jobs(self, index);
    link->socket = zmq_socket(self->ctx, ZMQ_DEALER);
    /* a send never blocks for long: a broker that refused our key (CURVE)
       leaves no peer to queue for, and stopping must still work */
    int linger = 1000, sndtimeo = 1000;
    int64_t max_frame = CF_MSG_MAX_FRAME_BYTES;     /* a larger JOB frame drops the connection */
    zmq_setsockopt(link->socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(link->socket, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    zmq_setsockopt(link->socket, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    if (self->config.curve)
        cf_curve_client(self->config.curve, link->socket);
    link->handshake = cf_handshake_new(self->ctx, link->socket);   /* NULL: not watched */
    zmq_connect(link->socket, link->endpoint);
    cf_msg_ready_t ready = { .credit = self->config.credit, .pid = (unsigned) getpid() };
    gethostname(ready.host, sizeof ready.host - 1);
    if (cf_msg_send_ready(link->socket, 0, &ready) == 0)
        link->last_sent = cf_clock_ms();
    link->last_heard = cf_clock_ms();
    cf_loop_add_socket(self->loop, link->socket, worker_on_broker, self);
}

/* A connection for each broker of the list (cf_endpoints: comma-separated,
   blanks around each dropped, none empty or twice); -1 with err set. */
static int worker_links_new(cf_worker_t *self, const char *list, char *err, size_t err_size)
{
    cf_endpoints_t *endpoints = cf_endpoints_new(list, err, err_size);
    if (!endpoints)
        return -1;
    self->nlinks = cf_endpoints_size(endpoints);
    self->links = cf_calloc(self->nlinks, sizeof *self->links);
    for (size_t i = 0; i < self->nlinks; i++)
        self->links[i].endpoint = cf_strdup(cf_endpoints_at(endpoints, i));
    cf_endpoints_destroy(&endpoints);
    return 0;
}

/* ---- jobs ------------------------------------------------------------- */

/* The index-th notification of the job just run, for its DONE. */
static void worker_notice(const void *apply, size_t index, const char **topic,
                          size_t *topic_len, const char **body, size_t *body_len)
{
    cf_apply_notification(apply, index, topic, topic_len, body, body_len);
}


/* Runs the oldest job and answers DONE. -1 when Redis failed (keep it): a
   job Redis refused (an error reply, not an outage) is run event by event
   next time, so that the event it refuses is found and dead-lettered. */
static int worker_run_job(cf_worker_t *self, worker_job_t *job)
{
    cf_msg_job_t *msg = &self->job;
    if (cf_msg_parse_job(job->parts, msg) < 0)
        return 0;                   /* checked when it came: cannot happen */
    size_t count = msg->events;
    const void *frames[CF_MSG_MAX_JOB_EVENTS];
    size_t sizes[CF_MSG_MAX_JOB_EVENTS];
    for (size_t i = 0; i < count; i++) {
        frames[i] = cf_multipart_data(job->parts, CF_MSG_JOB_FIRST_EVENT + i);
        sizes[i] = cf_multipart_len(job->parts, CF_MSG_JOB_FIRST_EVENT + i);
    }
    /* every attempt of each event's request, here or at the worker a
       redelivery or another part goes to, writes that request's id into
       the markers it sets: its acks stay true (a job may bundle the parts
       of several requests) */
    cf_apply_set_requests(self->apply, msg->request_id, count);
    /* each commit on a shard of the job needs the owner's epoch it came with */
    for (size_t i = 0; i < msg->fences; i++)
        if (msg->fence[i].shard < cf_store_shards(self->store))
            cf_store_set_fence(self->store, msg->fence[i].shard, msg->fence[i].epoch);
    int rc = job->careful ? cf_apply_run_careful(self->apply, frames, sizes, count)
                          : cf_apply_run(self->apply, frames, sizes, count);
    cf_store_clear_fences(self->store);
    if (rc < 0) {
        job->careful |= cf_apply_error_code(self->apply) != CF_STORE_ERR_IO;
        return -1;
    }
    if (cf_apply_count(self->apply, CF_ACK_BUSY)) {
        /* a zombie, or a job that straddled a reassignment: nothing of the
           fenced shards was written; their events go back to the broker,
           acked busy (fenced), the others' acks stand */
        CF_LOG(CF_LOG_INFO, "job fenced", "job=%llu events=%zu", (unsigned long long) job->id,
               cf_apply_count(self->apply, CF_ACK_BUSY));
        cf_metric_inc(self->metrics.fenced);
    }
    const msgpack_sbuffer *acks = cf_apply_acks(self->apply);
    worker_link_t *link = &self->links[job->link];
    if (cf_msg_send_done(link->socket, 0, job->id, acks->data, acks->size,
                         cf_apply_notifications(self->apply), worker_notice, self->apply) < 0)
        return 0;   /* the broker will redeliver; idempotency makes it safe */
    link->last_sent = cf_clock_ms();
    self->events_done += count;
    cf_metric_inc(self->metrics.jobs[job->careful]);
    cf_worker_metrics_count_store(&self->metrics, self->store);
    return 0;
}

/* Works through the queued jobs; on a Redis failure schedules a retry with
   doubling backoff and returns, so heartbeats go on meanwhile. */
static void worker_process(cf_worker_t *self)
{
    if (self->retry_at && cf_clock_ms() < self->retry_at)
        return;
    while (self->job_count > 0) {
        if (worker_run_job(self, worker_job_at(self, 0)) < 0) {
            self->retry_ms = self->retry_ms ? self->retry_ms * 2 : WORKER_RETRY_MIN_MS;
            if (self->retry_ms > WORKER_RETRY_MAX_MS)
                self->retry_ms = WORKER_RETRY_MAX_MS;
            self->retry_at = cf_clock_ms() + self->retry_ms;
            cf_worker_redis_failed(self, "redis failed, job kept", cf_apply_error(self->apply),
                                self->retry_ms);
            return;
        }
        cf_worker_redis_ok(self);
        self->retry_at = 0;
        self->retry_ms = 0;
        self->links[worker_job_at(self, 0)->link].jobs--;
        self->job_head = (self->job_head + 1) % self->job_slots;
        self->job_count--;
    }
}

/* Keeps a JOB: the inbox's buffer becomes the job's and the job slot's
   spare buffer becomes the inbox, so no event is copied. */
static void worker_take_job(cf_worker_t *self, size_t link)
{
    cf_multipart_t *parts = self->inbox;
    if (cf_msg_parse_job(parts, &self->job) < 0 || self->links[link].jobs == self->config.credit)
        return;     /* malformed, or beyond its credit: that broker redelivers */
    worker_job_t *job = worker_job_at(self, self->job_count);
    job->id = self->job.job_id;
    job->careful = self->job.redo;
    job->link = link;
    self->links[link].jobs++;
    self->inbox = job->parts;
    job->parts = parts;
    self->job_count++;
}

/* An EXIT (an operator drained us, and we hold nothing the broker knows
   of) ends the loop: cf_worker_run then leaves as on SIGTERM. */
static int worker_on_broker(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    cf_worker_t *self = arg;
    bool leave = false;
    size_t index = 0;
    while (index < self->nlinks && self->links[index].socket != socket)
        index++;
    assert(index < self->nlinks);
    worker_link_t *link = &self->links[index];
    while (cf_multipart_recv(self->inbox, socket) == 0) {
        link->last_heard = cf_clock_ms();
        link->refusal_logged = false;
        if (cf_msg_is_exit(self->inbox))
            leave = true;
        else    /* anything but a whole JOB or REDO is only a sign of life */
            worker_take_job(self, index);
    }
    worker_process(self);
    if (leave)
        CF_LOG(CF_LOG_INFO, "drained, leaving", "jobs=%zu", self->job_count);
    return leave ? -1 : 0;
}

/* Hands the rules in force to the store, which passes them to the script. */
static void worker_use_rules(cf_worker_t *self)
{
    msgpack_sbuffer_clear(&self->sbuf);
    cf_rules_pack(self->rules, &self->sbuf);
    cf_store_set_rules(self->store, self->sbuf.data, self->sbuf.size);
}

/* SIGHUP: the rules file again; an invalid one changes nothing. */
static void worker_reload(cf_worker_t *self)
{
    *self->config.reload = 0;
    if (!self->config.rules_file)
        return;
    if (cf_rules_load(self->rules, self->config.rules_file) < 0) {
        CF_LOG(CF_LOG_ERROR, "rules not reloaded", "error=%s",
               CF_LOG_QUOTE(cf_rules_error(self->rules)));
        return;
    }
    worker_use_rules(self);
    CF_LOG(CF_LOG_INFO, "rules reloaded", "file=%s", self->config.rules_file);
}

/* Before a reconnect: why the broker is silent, when the socket knows. A
   refusal (its key is not allowed, or the endpoint is at its connection
   limit) is logged at warn once, then at debug until the broker answers. */
static void worker_log_silence(worker_link_t *link)
{
    int refused = link->handshake ? cf_handshake_refused(link->handshake) : 0;
    if (!refused) {
        CF_LOG(CF_LOG_WARN, "broker silent, reconnecting", "endpoint=%s", link->endpoint);
        return;
    }
    CF_LOG(link->refusal_logged ? CF_LOG_DEBUG : CF_LOG_WARN,
           "broker refused the handshake, reconnecting", "endpoint=%s status=%d why=\"%s\"",
           link->endpoint, refused, cf_handshake_explain(refused));
    link->refusal_logged = true;
}

/* A heartbeat to the broker of link when one is due. */
static void worker_heartbeat(cf_worker_t *self, worker_link_t *link, int64_t now)
{
    if (now - link->last_sent >= self->config.heartbeat_ms)
        worker_send_command(link, CF_MSG_HEARTBEAT);
}

/* Between the events of a careful run (cf_apply_set_tick): heartbeats, so
   that a run of seconds does not pass for a lost worker. */
static void worker_tick(void *arg)
{
    cf_worker_t *self = arg;
    int64_t now = cf_clock_ms();
    for (size_t i = 0; i < self->nlinks; i++)
        worker_heartbeat(self, &self->links[i], now);
}

/* Heartbeats to each broker, and a new connection to one that fell silent
   or that libzmq reconnected us to. */
static void worker_keep_links(cf_worker_t *self, int64_t now)
{
    for (size_t i = 0; i < self->nlinks; i++) {
        worker_link_t *link = &self->links[i];
        if (now - link->last_heard > self->config.liveness_ms) {
            worker_log_silence(link);
            worker_connect(self, i);
        } else if (link->handshake && cf_handshake_reconnected(link->handshake)) {
            /* libzmq reconnected us, to a broker that restarted (and knows
               nothing of us) or that lost our connection (and will redeliver
               what we hold): either way, register again now, not after the
               liveness */
            CF_LOG(CF_LOG_WARN, "broker connection back, registering again",
                   "endpoint=%s jobs=%zu", link->endpoint, link->jobs);
            worker_connect(self, i);
        } else {
            worker_heartbeat(self, link, now);
        }
    }
}

static int worker_on_timer(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    cf_worker_t *self = arg;
    if (self->config.reload && *self->config.reload)
        worker_reload(self);
    int64_t now = cf_clock_ms();
    worker_keep_links(self, now);
    worker_process(self);
    cf_worker_fire_due(self, now);
    cf_worker_sweep_markers(self, now);
    return 0;
}

/* ---- life cycle ------------------------------------------------------- */

/* Says at start-up what an `accepted` ack means on this Redis. */
static void worker_log_durability(cf_worker_t *self)
{
    cf_store_durability_t mode;
    char text[256];
    if (cf_store_durability(self->store, &mode, text, sizeof text) < 0)
        CF_LOG(CF_LOG_WARN, "durability unknown", "error=%s",
               CF_LOG_QUOTE(cf_store_error(self->store)));
    else
        CF_LOG(mode == CF_STORE_DURABLE_STRICT ? CF_LOG_INFO : CF_LOG_WARN, "durability",
               "mode=%s guarantee=\"%s\" ack_replicas=%u", mode == CF_STORE_DURABLE_STRICT
               ? "strict" : mode == CF_STORE_DURABLE_SECOND ? "aof" : "none", text,
               self->config.ack_replicas);
}

static int worker_open_store(cf_worker_t *self, char *err, size_t err_size)
{
    char why[256];
    self->pseudo = cf_pseudo_new(self->config.key_file, why, sizeof why);
    if (!self->pseudo) {
        snprintf(err, err_size, "%s", why);
        return -1;
    }
    self->rules = cf_rules_new();
    if (self->config.rules_file && cf_rules_load(self->rules, self->config.rules_file) < 0) {
        snprintf(err, err_size, "%s", cf_rules_error(self->rules));
        return -1;
    }
    self->store = cf_store_new(self->config.redis_host, self->config.redis_port,
                               self->config.script_dir ? self->config.script_dir : CF_SCRIPT_DIR);
    if (self->config.eid_ttl_s)
        cf_store_set_eid_ttl(self->store, self->config.eid_ttl_s);
    cf_store_set_shards(self->store, self->config.shards ? self->config.shards
                                                         : CF_SHARD_DEFAULT, true);
    if (self->config.case_ttl_s)
        cf_store_set_case_ttl(self->store, self->config.case_ttl_s);
    if (self->config.ack_replicas)
        cf_store_set_ack_replicas(self->store, self->config.ack_replicas,
                                  self->config.ack_replica_timeout_ms > 0
                                  ? self->config.ack_replica_timeout_ms : 1000);
    cf_store_set_auth(self->store, self->config.redis_auth);
    if (cf_store_connect(self->store) < 0) {
        snprintf(err, err_size, "redis %s:%d: %s", self->config.redis_host,
                 self->config.redis_port, cf_store_error(self->store));
        return -1;
    }
    worker_use_rules(self);
    self->apply = cf_apply_new(self->pseudo, self->store);
    if (self->config.poison_tries)
        cf_apply_set_poison_tries(self->apply, self->config.poison_tries);
    cf_apply_set_tick(self->apply, worker_tick, self);
    cf_worker_metrics_new(self->config.metrics, self->apply, self->store, &self->metrics);
    worker_log_durability(self);
    return 0;
}

cf_worker_t *cf_worker_new(const cf_worker_config_t *config, char *err, size_t err_size)
{
    assert(config && config->broker_endpoint && config->redis_host && config->key_file);
    cf_worker_t *self = cf_calloc(1, sizeof *self);
    self->config = *config;
    if (!self->config.credit)
        self->config.credit = CF_SETTINGS_CREDIT_DEFAULT;
    if (self->config.heartbeat_ms <= 0)
        self->config.heartbeat_ms = CF_SETTINGS_HEARTBEAT_DEFAULT;
    if (self->config.liveness_ms <= 0)
        self->config.liveness_ms = CF_SETTINGS_LIVENESS_DEFAULT;
    msgpack_sbuffer_init(&self->sbuf);
    if (worker_links_new(self, config->broker_endpoint, err, err_size) < 0) {
        cf_worker_destroy(&self);
        return NULL;
    }
    self->job_slots = self->config.credit * self->nlinks;
    self->jobs = cf_calloc(self->job_slots, sizeof *self->jobs);
    for (size_t i = 0; i < self->job_slots; i++)
        self->jobs[i].parts = cf_multipart_new(CF_MSG_JOB_FIRST_EVENT + CF_MSG_MAX_JOB_EVENTS + 1);
    self->inbox = cf_multipart_new(CF_MSG_JOB_FIRST_EVENT + CF_MSG_MAX_JOB_EVENTS + 1);
    if (worker_open_store(self, err, err_size) < 0) {
        cf_worker_destroy(&self);
        return NULL;
    }
    self->ctx = zmq_ctx_new();
    self->loop = cf_loop_new();
    for (size_t i = 0; i < self->nlinks; i++)
        worker_connect(self, i);
    cf_loop_add_timer(self->loop, self->config.heartbeat_ms / 4 > 0
                                  ? self->config.heartbeat_ms / 4 : 1, worker_on_timer, self);
    return self;
}

int cf_worker_run(cf_worker_t *self, volatile sig_atomic_t *stop)
{
    assert(self);
    cf_loop_set_stop_flag(self->loop, stop);
    int rc = cf_loop_run(self->loop);
    self->retry_at = 0;
    worker_process(self);   /* one more try for what we hold */
    if (self->job_count)
        CF_LOG(CF_LOG_WARN, "leaving jobs to the broker", "jobs=%zu", self->job_count);
    for (size_t i = 0; i < self->nlinks; i++)
        worker_send_command(&self->links[i], CF_MSG_BYE);
    CF_LOG(CF_LOG_INFO, "worker stopped", "events_done=%llu",
           (unsigned long long) self->events_done);
    return rc;
}

void cf_worker_destroy(cf_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_worker_t *self = *self_p;
    cf_loop_destroy(&self->loop);
    for (size_t i = 0; i < self->nlinks; i++) {
        cf_handshake_destroy(&self->links[i].handshake);
        if (self->links[i].socket)
            zmq_close(self->links[i].socket);
        free(self->links[i].endpoint);
    }
    free(self->links);
    cf_zmq_ctx_term(&self->ctx);
    for (size_t i = 0; self->jobs && i < self->job_slots; i++)
        cf_multipart_destroy(&self->jobs[i].parts);
    free(self->jobs);
    cf_multipart_destroy(&self->inbox);
    cf_apply_destroy(&self->apply);
    cf_store_destroy(&self->store);
    cf_rules_destroy(&self->rules);
    cf_pseudo_destroy(&self->pseudo);
    msgpack_sbuffer_destroy(&self->sbuf);
    free(self);
    *self_p = NULL;
}
