/*  cf_worker_timers: what a worker does between jobs, in steps short
    enough that a job that comes meanwhile waits little: the rounds of the
    overdue alerts due (cf_store_fire_due_step; docs/notifications.md, "Who
    fires them") and the sweep of expired dedupe markers
    (cf_store_sweep_step; docs/storage.md, "Dedupe markers").              */
#include "cf_worker_internal.h"
#include "caseflow/cf_log.h"

#define WORKER_FIRE_EVERY_MS 1000   /* how often a round of overdue deadlines starts */
#define WORKER_FIRE_STEP_MS 1       /* between a round's steps, when jobs may run */
#define WORKER_SWEEP_EVERY_MS 1000  /* how often a step of the markers' sweep runs */

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
        cf_worker_redis_failed(self, "redis failed, overdue timer", cf_store_error(self->store),
                            WORKER_FIRE_EVERY_MS);
        worker_fire_end(self);
        return 0;
    }
    cf_worker_redis_ok(self);
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
void cf_worker_fire_due(cf_worker_t *self, int64_t now)
{
    if (self->fire_timer || now - self->fired_at < WORKER_FIRE_EVERY_MS || self->retry_at)
        return;             /* a round under way, not yet, or Redis is failing */
    self->fired_at = now;
    int64_t clock;
    if (cf_store_clock(self->store, &clock) < 0) {
        cf_worker_redis_failed(self, "redis failed, overdue timer", cf_store_error(self->store),
                            WORKER_FIRE_EVERY_MS);
        return;
    }
    cf_worker_redis_ok(self);
    self->fire_clock = clock >= 0 ? clock : cf_wall_ms();
    self->fire_shard = 0;
    self->fire_timer = cf_loop_add_timer(self->loop, WORKER_FIRE_STEP_MS, worker_on_fire_step,
                                         self);
    if (self->fire_timer < 0)
        self->fire_timer = 0;       /* no free timer: cannot happen (two of CF_LOOP_MAX_TIMERS) */
}

/* One step of the sweep of expired dedupe markers (cf_store_sweep_step), once
   a second: a few buckets read in one round trip, so a job waits little. */
void cf_worker_sweep_markers(cf_worker_t *self, int64_t now)
{
    if (now - self->swept_at < WORKER_SWEEP_EVERY_MS || self->retry_at || self->fire_timer)
        return;             /* not yet, Redis is failing, or the alerts' round is on */
    self->swept_at = now;
    unsigned removed = 0;
    if (cf_store_sweep_step(self->store, &self->sweep_cursor, &removed) < 0) {
        if (cf_store_error_code(self->store) == CF_STORE_ERR_IO)
            cf_worker_redis_failed(self, "redis failed, markers' sweep", cf_store_error(self->store),
                                WORKER_SWEEP_EVERY_MS);
        else                /* a key of another type where a bucket should be: passed */
            CF_LOG(CF_LOG_WARN, "markers' sweep refused", "error=%s",
                   CF_LOG_QUOTE(cf_store_error(self->store)));
        return;
    }
    cf_worker_redis_ok(self);
    cf_metric_add(self->metrics.markers_swept, removed);
}
