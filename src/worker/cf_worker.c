/*  cf_worker: the worker's links to its brokers (a socket, a handshake and
    heartbeats each, and a new connection to one that fell silent), its
    timer and its life; its queue of jobs and their Redis retry are
    cf_worker_jobs.c, its Prometheus series cf_worker_metrics.c
    (docs/operations.md, "Metrics"), its work between jobs (overdue alerts,
    the markers' sweep) cf_worker_timers.c, what it logs of Redis's outages
    cf_worker_redis.c, and the work on each job itself cf_apply. See
    cf_worker.h.                                                            */
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

/* ---- the broker connection -------------------------------------------- */

/* What the worker sends on its own: HEARTBEAT and BYE. */
static void worker_send_command(worker_link_t *link, cf_msg_command_t command)
{
    if ((command == CF_MSG_BYE ? cf_msg_send_bye(link->socket, 0)
                               : cf_msg_send_heartbeat(link->socket, 0, NULL, 0)) == 0)
        link->last_sent = cf_clock_ms();
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
    cf_worker_drop_jobs(self, index);
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
    cf_loop_add_socket(self->loop, link->socket, cf_worker_on_broker, self);
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

/* ---- the timer -------------------------------------------------------- */

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

static int worker_on_timer(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    cf_worker_t *self = arg;
    if (self->config.reload && *self->config.reload)
        worker_reload(self);
    int64_t now = cf_clock_ms();
    worker_keep_links(self, now);
    cf_worker_process(self);
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
    self->run_frames = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->run_frames);
    self->run_sizes = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->run_sizes);
    self->run_requests = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->run_requests);
    self->run_events = cf_calloc(self->job_slots, sizeof *self->run_events);
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
    cf_worker_process(self);   /* one more try for what we hold */
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
    free(self->run_frames);
    free(self->run_sizes);
    free(self->run_requests);
    free(self->run_events);
    cf_apply_destroy(&self->apply);
    cf_store_destroy(&self->store);
    cf_rules_destroy(&self->rules);
    cf_pseudo_destroy(&self->pseudo);
    msgpack_sbuffer_destroy(&self->sbuf);
    free(self);
    *self_p = NULL;
}
