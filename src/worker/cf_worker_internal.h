/*  cf_worker internals: the worker object, which cf_worker.c (its links
    to the brokers), cf_worker_jobs.c (its queue of jobs),
    cf_worker_timers.c (its work between jobs), cf_worker_redis.c (its
    outage lines) and cf_worker_metrics.c (its series) share. Not
    installed.                                                              */
#ifndef CF_WORKER_INTERNAL_H
#define CF_WORKER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_pseudo.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_store.h"
#include "caseflow/cf_worker.h"
#include "cf_apply.h"

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
    cf_msg_job_t job;               /* the job being gathered, as parsed */
    const void **run_frames;        /* the run's events, the jobs' one after another */
    size_t *run_sizes;
    uint64_t *run_requests;         /* and their requests */
    size_t *run_events;             /* per job of the run (job_slots): its events */
    size_t run_alone;               /* jobs to run one by one: a run of them Redis refused */
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

/*  The queue of jobs (cf_worker_jobs.c). cf_worker_on_broker is each
    link's socket handler (cf_worker.c registers it): it queues the JOBs
    and REDOs that came and runs what it can; -1 after an EXIT ends the
    loop. cf_worker_process runs the queued jobs, or waits for the retry
    after a Redis failure. cf_worker_drop_jobs forgets the jobs that came
    from link, before it reconnects (its broker redelivers them).          */
int cf_worker_on_broker(cf_loop_t *loop, void *socket, void *arg);
void cf_worker_process(cf_worker_t *self);
void cf_worker_drop_jobs(cf_worker_t *self, size_t link);

/*  One line when a Redis call fails (a job kept for retry, or the overdue
    timer) and one when Redis answers again, whichever call sees it first;
    the retries between them log at debug only (cf_worker_redis.c).        */
void cf_worker_redis_failed(cf_worker_t *self, const char *what, const char *error,
                            int retry_in_ms);
void cf_worker_redis_ok(cf_worker_t *self);

/*  Starts a round of the overdue alerts when one is due, once a second
    (cf_worker_timers.c).                                                   */
void cf_worker_fire_due(cf_worker_t *self, int64_t now);

/*  One step of the sweep of expired dedupe markers, once a second
    (cf_worker_timers.c).                                                   */
void cf_worker_sweep_markers(cf_worker_t *self, int64_t now);

/*  Creates every series of a worker in registry (NULL: none, and *out is
    all NULL): events by type and outcome and dead letters (counted by
    cf_apply), Redis latency and errors (cf_store), jobs and overdue alerts
    (the worker), and hands apply and store theirs (cf_worker_metrics.c).  */
void cf_worker_metrics_new(cf_metrics_t *registry, cf_apply_t *apply, cf_store_t *store,
                           worker_metrics_t *out);

/*  Adds the commits the store redid and the overdue alerts its apply path
    fired since the last look to the metrics; the timer's alerts are added
    as it fires them.                                                       */
void cf_worker_metrics_count_store(worker_metrics_t *metrics, const cf_store_t *store);

#endif
