/*  cf_worker: the worker's sockets, heartbeats, job queue and Redis retry,
    and its Prometheus series (docs/operations.md, "Metrics"); the work on
    each job itself is cf_apply. See cf_worker.h.                           */
#include "caseflow/cf_worker.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_endpoints.h"
#include "caseflow/cf_handshake.h"
#include "cf_apply.h"
#include "caseflow/cf_event.h"
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
#define WORKER_FIRE_EVERY_MS 1000   /* how often a round of overdue deadlines starts */
#define WORKER_FIRE_STEP_MS 1       /* between a round's steps, when jobs may run */
#define WORKER_SWEEP_EVERY_MS 1000  /* how often a step of the markers' sweep runs */

typedef struct {
    cf_metric_t *jobs[2];           /* answered, by run: [0] batch, [1] careful */
    cf_metric_t *alerts_fired;
    cf_metric_t *markers_swept;     /* expired dedupe markers deleted */
    cf_metric_t *conflicts;         /* commits refused by a guard and redone */
    cf_metric_t *fenced;            /* jobs a fence refused, handed back */
    uint64_t conflicts_seen;        /* cf_store_conflicts() when last added */
    uint64_t alerts_fired_seen;     /* cf_store_alerts_fired() when last added */
} worker_metrics_t;

typedef struct {
    uint64_t id;
    bool careful;               /* REDO, or Redis refused it: event by event */
    size_t link;                /* the broker it came from, and its DONE goes to */
    cf_multipart_t *parts;      /* [CF01, JOB or REDO, id, request id, fences, events...] */
} worker_job_t;

/* One broker's connection: a worker serves every broker of its list, each
   through its own DEALER, handshake, credit and heartbeats. */
typedef struct {
    char *endpoint;
    void *socket;
    cf_handshake_t *handshake;      /* the socket's handshake outcomes */
    bool refusal_logged;            /* since the broker last answered */
    int64_t last_heard, last_sent;
    size_t jobs;                    /* of the queued jobs, how many came from it */
} worker_link_t;

struct _cf_worker_t {
    cf_worker_config_t config;
    void *ctx;
    worker_link_t *links;           /* one per broker endpoint */
    size_t nlinks;
    cf_loop_t *loop;
    cf_pseudo_t *pseudo;
    cf_store_t *store;
    cf_apply_t *apply;
    cf_rules_t *rules;
    worker_job_t *jobs;             /* FIFO ring of config.credit jobs per broker */
    size_t job_head, job_count, job_slots;
    cf_multipart_t *inbox;          /* receives; swapped into a job slot */
    cf_msg_job_t job;               /* the job being run, as parsed */
    int64_t retry_at, fired_at;
    int64_t fire_clock;             /* the round's now, by the clock in force */
    unsigned fire_shard;            /* where the round's next step looks */
    int64_t swept_at;               /* the last step of the markers' sweep */
    unsigned sweep_cursor;          /* where its next step reads */
    int fire_timer;                 /* the round's steps (0: no round) */
    int retry_ms;
    bool redis_down;                /* the last Redis call failed */
    uint64_t events_done;
    worker_metrics_t metrics;
    msgpack_sbuffer sbuf;
};

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

/* ---- Redis outages ---------------------------------------------------- */

/* One line when a Redis call fails (a job kept for retry, or the overdue
   timer) and one when Redis answers again, whichever call sees it first;
   the retries between them log at debug only. */
static void worker_redis_failed(cf_worker_t *self, const char *what, const char *error,
                                int retry_in_ms)
{
    CF_LOG(self->redis_down ? CF_LOG_DEBUG : CF_LOG_WARN, what, "error=%s retry_in_ms=%d",
           CF_LOG_QUOTE(error), retry_in_ms);
    self->redis_down = true;
}

static void worker_redis_ok(cf_worker_t *self)
{
    if (self->redis_down)
        CF_LOG(CF_LOG_INFO, "redis back", "%s", "");
    self->redis_down = false;
}

/* ---- jobs ------------------------------------------------------------- */

/* The index-th notification of the job just run, for its DONE. */
static void worker_notice(const void *apply, size_t index, const char **topic,
                          size_t *topic_len, const char **body, size_t *body_len)
{
    cf_apply_notification(apply, index, topic, topic_len, body, body_len);
}


/* Adds to metric what a count kept over the store's life grew by since
   *seen, its value at the last look. */
static void worker_count_since(cf_metric_t *metric, uint64_t now, uint64_t *seen)
{
    cf_metric_add(metric, now - *seen);
    *seen = now;
}

/* Adds the commits the store redid and the overdue alerts its apply path
   fired since the last look to the metrics; the timer's alerts are added
   as it fires them. */
static void worker_count_store(cf_worker_t *self)
{
    worker_count_since(self->metrics.conflicts, cf_store_conflicts(self->store),
                       &self->metrics.conflicts_seen);
    worker_count_since(self->metrics.alerts_fired, cf_store_alerts_fired(self->store),
                       &self->metrics.alerts_fired_seen);
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
    worker_count_store(self);
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
            worker_redis_failed(self, "redis failed, job kept", cf_apply_error(self->apply),
                                self->retry_ms);
            return;
        }
        worker_redis_ok(self);
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

/* The round of overdue alerts is over (done, or Redis failed). */
static void worker_fire_end(cf_worker_t *self)
{
    cf_loop_remove_timer(self->loop, self->fire_timer);
    self->fire_timer = 0;
}

/* One step of the round: the due alerts of a few shards, about 256 at most
   (cf_store_fire_due_step). The loop reads the broker's socket before each
   step, so a job that came meanwhile runs first and waits for one step's
   commit at most, not for the round (which, with many alerts due, takes a
   while). */
static int worker_on_fire_step(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    cf_worker_t *self = arg;
    unsigned fired = 0;
    if (self->retry_at) {
        worker_fire_end(self);          /* Redis is failing: the jobs come first */
        return 0;
    }
    if (cf_store_fire_due_step(self->store, self->fire_clock, cf_clock_ms(), &self->fire_shard,
                               &fired) < 0) {
        worker_redis_failed(self, "redis failed, overdue timer", cf_store_error(self->store),
                            WORKER_FIRE_EVERY_MS);
        worker_fire_end(self);
        return 0;
    }
    worker_redis_ok(self);
    cf_metric_add(self->metrics.alerts_fired, fired);
    if (fired)
        CF_LOG(CF_LOG_DEBUG, "overdue alerts fired", "count=%u", fired);
    if (self->fire_shard >= cf_store_shards(self->store))
        worker_fire_end(self);
    return 0;
}

/* Starts a round of the overdue alerts whose time has come, by the clock
   an operator set, else the wall clock, once a second. Every worker does
   it, for the shards it owns (the fences of its jobs), and for the others'
   alerts they leave past a grace (cf_store_fire_due); each alert fires
   once. */
static void worker_fire_due(cf_worker_t *self, int64_t now)
{
    if (self->fire_timer || now - self->fired_at < WORKER_FIRE_EVERY_MS || self->retry_at)
        return;             /* a round under way, not yet, or Redis is failing */
    self->fired_at = now;
    int64_t clock;
    if (cf_store_clock(self->store, &clock) < 0) {
        worker_redis_failed(self, "redis failed, overdue timer", cf_store_error(self->store),
                            WORKER_FIRE_EVERY_MS);
        return;
    }
    worker_redis_ok(self);
    self->fire_clock = clock >= 0 ? clock : cf_wall_ms();
    self->fire_shard = 0;
    self->fire_timer = cf_loop_add_timer(self->loop, WORKER_FIRE_STEP_MS, worker_on_fire_step,
                                         self);
    if (self->fire_timer < 0)
        self->fire_timer = 0;       /* no free timer: cannot happen (two of CF_LOOP_MAX_TIMERS) */
}

/* One step of the sweep of expired dedupe markers (cf_store_sweep_step), once
   a second: a few buckets read in one round trip, so a job waits little. */
static void worker_sweep_markers(cf_worker_t *self, int64_t now)
{
    if (now - self->swept_at < WORKER_SWEEP_EVERY_MS || self->retry_at || self->fire_timer)
        return;             /* not yet, Redis is failing, or the alerts' round is on */
    self->swept_at = now;
    unsigned removed = 0;
    if (cf_store_sweep_step(self->store, &self->sweep_cursor, &removed) < 0) {
        if (cf_store_error_code(self->store) == CF_STORE_ERR_IO)
            worker_redis_failed(self, "redis failed, markers' sweep", cf_store_error(self->store),
                                WORKER_SWEEP_EVERY_MS);
        else                /* a key of another type where a bucket should be: passed */
            CF_LOG(CF_LOG_WARN, "markers' sweep refused", "error=%s",
                   CF_LOG_QUOTE(cf_store_error(self->store)));
        return;
    }
    worker_redis_ok(self);
    cf_metric_add(self->metrics.markers_swept, removed);
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
    worker_fire_due(self, now);
    worker_sweep_markers(self, now);
    return 0;
}

/* ---- life cycle ------------------------------------------------------- */

/* Seconds, from 0.5 ms to 5 s. */
static const double s_redis_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1, 0.25, 0.5, 1, 2.5, 5 };

/* Creates every series of a worker in registry (NULL: none, and *out is
   all NULL): events by type and outcome and dead letters (counted by
   cf_apply), Redis latency and errors (cf_store), jobs and overdue alerts
   (here), and hands apply and store theirs. */
static void worker_metrics_new(cf_metrics_t *registry, cf_apply_t *apply, cf_store_t *store,
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
    worker_metrics_new(self->config.metrics, self->apply, self->store, &self->metrics);
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
