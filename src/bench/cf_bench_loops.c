/*  cf_bench: the closed and the open loop, through the producer library;
    see cf_bench.h. Every producer thread owns its cf_client (its own ZeroMQ
    context and socket), since a client is not thread-safe; the main thread
    only watches the progress. In the closed loop a case's events all go to
    one producer, in their order, as one intake system would send them. The
    open loop is one thread and one client that it drives a pass at a time
    (cf_client_poll): it adds each request's events when the request is due
    and polls for ACKs in between, so requests go out on the schedule
    however many are still waiting for their ACK.                           */
#include "cf_bench_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_client.h"
#include "caseflow/cf_loop.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOOP_DEADLINE_MS    60000   /* a run without progress this long gives up */
#define LOOP_WARMUP_S       0.2     /* sockets connect before the open loop starts */

_Static_assert(CF_BENCH_OPEN_WINDOW <= CF_CLIENT_MAX_WINDOW, "the open loop's window is a client's");
_Static_assert(CF_CLIENT_MAX_BATCH <= UINT16_MAX, "loop_open_t.left counts a request's events");

typedef struct {
    cf_bench_t *bench;
    cf_client_t *client;
    cf_bench_stats_t *latency;      /* open loop */
    atomic_size_t *done;            /* final events, summed over the threads */
    atomic_uint *running;
    size_t reported;                /* what this thread added to *done */
    double finished;
    int rc;
} loop_thread_t;

/* The open loop: its schedule, and what became of each request. */
typedef struct {
    loop_thread_t thread;
    cf_bench_gen_t *gen;
    size_t events, requests, batch;
    double start, interval;         /* request k is due at start + k * interval */
    uint16_t *left;                 /* events of request k not final yet */
    size_t due, answered;           /* requests added to the client, and answered whole */
    size_t in_flight_max;           /* of due - answered */
    bool window_full;               /* some request waited for a slot */
} loop_open_t;

static void loop_on_progress(const cf_client_stats_t *stats, void *arg)
{
    loop_thread_t *t = arg;
    size_t final = stats->accepted + stats->duplicate + stats->rejected + stats->unacked;
    atomic_fetch_add(t->done, final - t->reported);
    t->reported = final;
}

static cf_client_t *loop_client(cf_bench_t *self, unsigned batch, unsigned window)
{
    cf_client_t *client = cf_client_new(self->config->intake);
    cf_client_set_batch(client, batch);
    cf_client_set_window(client, window);
    cf_client_set_deadline(client, LOOP_DEADLINE_MS);
    if (self->config->curve)
        cf_client_set_curve(client, self->config->curve);
    if (cf_client_connect(client) < 0) {
        cf_bench_fail(self, "%s", cf_client_error(client));
        cf_client_destroy(&client);
    }
    return client;
}

/* Starts fn on each of n threads, watches them and joins them. */
static void loop_run_threads(cf_bench_t *self, const char *phase, void *threads, size_t size,
                             unsigned n, void *(*fn)(void *), atomic_size_t *done, size_t total,
                             atomic_uint *running, double started)
{
    pthread_t *ids = cf_calloc(n, sizeof *ids);
    atomic_store(running, n);
    for (unsigned i = 0; i < n; i++)
        if (pthread_create(&ids[i], NULL, fn, (char *) threads + i * size) != 0)
            abort();
    cf_bench_watch(self, phase, done, total, running, started);
    for (unsigned i = 0; i < n; i++)
        pthread_join(ids[i], NULL);
    free(ids);
}

/* ---- closed loop -------------------------------------------------------- */

static void *loop_closed_thread(void *arg)
{
    loop_thread_t *t = arg;
    t->rc = cf_client_run(t->client, loop_on_progress, t);
    t->finished = cf_bench_now();
    atomic_fetch_sub(t->running, 1);
    return NULL;
}

int cf_bench_closed(cf_bench_t *self)
{
    assert(self);
    const cf_bench_config_t *c = self->config;
    cf_bench_result_t *r = &self->result;
    cf_bench_speed_measure(&r->speed[0]);
    unsigned n = c->producers;
    loop_thread_t *threads = cf_calloc(n, sizeof *threads);
    atomic_size_t done = 0;
    atomic_uint running = 0;
    int rc = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        threads[i] = (loop_thread_t) { self, loop_client(self, c->batch, c->window), NULL, &done,
                                       &running, 0, 0, 0 };
        rc = threads[i].client ? 0 : -1;
    }
    cf_bench_gen_t *gen = cf_bench_gen_new(c->seed, BENCH_NS(c, BENCH_NS_CLOSED));
    cf_bench_gen_fill(gen, c->events);
    for (size_t i = 0; i < c->events && rc == 0; i++) {
        uint32_t of = cf_bench_gen_case_of(gen, i);
        size_t size;
        const void *data = cf_bench_gen_data(gen, i, &size);
        cf_client_add(threads[(of == CF_BENCH_NO_CASE ? i : of) % n].client, data, size,
                      cf_bench_gen_event_id(gen, i));
    }
    cf_bench_gen_destroy(&gen);
    bench_snapshot_t *before = cf_calloc(3, sizeof *before), *after = before + 1;
    bench_snapshot_t *drained = before + 2;
    if (rc == 0 && (rc = cf_bench_snapshot(self, before)) == 0)
        cf_bench_snapshot_replicas(self, before);
    double started = cf_bench_now(), finished = started;
    if (rc == 0) {
        cf_bench_cpu_start(&r->cpu);
        loop_run_threads(self, "closed", threads, sizeof *threads, n, loop_closed_thread, &done,
                         c->events, &running, started);
    }
    for (unsigned i = 0; i < n && threads[i].client; i++) {
        cf_client_stats_t s;
        cf_client_stats(threads[i].client, &s);
        r->accepted += s.accepted, r->duplicate += s.duplicate;
        r->rejected += s.rejected, r->unacked += s.unacked, r->busy += s.busy;
        finished = threads[i].finished > finished ? threads[i].finished : finished;
        if (rc == 0 && threads[i].rc < 0)
            rc = cf_bench_fail(self, "producer %u: %s", i + 1, cf_client_error(threads[i].client));
        cf_client_destroy(&threads[i].client);
    }
    if (rc == 0 && (rc = cf_bench_snapshot(self, after)) == 0) {
        r->events = c->events;
        r->seconds = finished - started;
        r->events_per_s = r->seconds > 0 ? (double) (r->accepted + r->duplicate) / r->seconds : 0;
        r->redis_commands_per_event = cf_bench_commands_per_event(before, after, c->events,
                                                                  r->commands, &r->command_count);
        r->redis_cpu_s = after->cpu_s - before->cpu_s;
        /* every process's CPU runs on until the work the events caused
           after their acks (publishing, overdue alerts) is done */
        rc = cf_bench_settle(self, &r->drain_seconds);
        cf_bench_cpu_stop(&r->cpu);
    }
    if (rc == 0 && (rc = cf_bench_snapshot(self, drained)) == 0) {
        cf_bench_snapshot_replicas(self, drained);
        r->redis_cpu_drained_s = drained->cpu_s - before->cpu_s;
        r->redis_forks = drained->forks - before->forks;
        r->redis_replicas_cpu_s = before->replicas_unknown || drained->replicas_unknown
                                ? -1 : drained->replicas_cpu_s - before->replicas_cpu_s;
        cf_bench_nodes_between(before, drained, r->redis_nodes, &r->redis_node_count);
    }
    free(before);
    free(threads);
    return rc;
}

/* ---- open loop ---------------------------------------------------------- */

static double loop_open_due(const loop_open_t *o, size_t k)
{
    return o->start + (double) k * o->interval;
}

/* An event is final: its request's latency, from when it was due, once the
   request's last event is. */
static void loop_open_final(size_t index, cf_client_status_t status, void *arg)
{
    (void) status;
    loop_open_t *o = arg;
    atomic_fetch_add(o->thread.done, 1);
    size_t k = index / o->batch;
    if (--o->left[k] > 0)
        return;
    double now = cf_bench_now();
    size_t from = k * o->batch, to = from + o->batch < o->events ? from + o->batch : o->events;
    cf_bench_stats_add(o->thread.latency, (uint64_t) llround((now - loop_open_due(o, k)) * 1e6),
                       (uint32_t) (to - from));
    o->answered++;
    o->thread.finished = now;
}

/* Adds the events of every request due by now; the next poll sends them. */
static void loop_open_add_due(loop_open_t *o, double now)
{
    for (; o->due < o->requests && loop_open_due(o, o->due) <= now; o->due++) {
        size_t from = o->due * o->batch;
        size_t to = from + o->batch < o->events ? from + o->batch : o->events;
        o->left[o->due] = (uint16_t) (to - from);
        for (size_t i = from; i < to; i++) {
            size_t size;
            const void *data = cf_bench_gen_data(o->gen, i, &size);
            cf_client_add(o->thread.client, data, size, cf_bench_gen_event_id(o->gen, i));
        }
    }
    size_t in_flight = o->due - o->answered;
    o->in_flight_max = in_flight > o->in_flight_max ? in_flight : o->in_flight_max;
}

/* Until the next request is due, takes the ACKs that come, as they come
   (a wait to the microsecond), so that an ACK's time is when it came and a
   request goes out within a few microseconds of its time. Until the ninth
   stop of issue 14 the wait counted in milliseconds and slept through the
   last fraction, reading the ACKs that came in it up to a millisecond late.
   0, 1 (the client gave up) or -1. */
static int loop_open_wait(loop_open_t *o, double due)
{
    double now = cf_bench_now();
    return now < due ? cf_client_poll_us(o->thread.client, (int64_t) ((due - now) * 1e6)) : 0;
}

static void *loop_open_thread(void *arg)
{
    loop_open_t *o = arg;
    int rc = 0;
    while (rc == 0 && o->due < o->requests) {
        double now = cf_bench_now();
        if (now < loop_open_due(o, o->due)) {
            rc = loop_open_wait(o, loop_open_due(o, o->due));
            continue;
        }
        loop_open_add_due(o, now);
        rc = cf_client_poll(o->thread.client, 0);
        o->window_full |= cf_client_queued(o->thread.client) > 0;
    }
    while (rc == 0 && o->answered < o->requests)
        rc = cf_client_poll(o->thread.client, 100);
    /* a client that gave up (1) leaves its events unacked, which the
       counts say; only a socket error fails the phase */
    o->thread.rc = rc < 0 ? -1 : 0;
    if (cf_client_poll_end(o->thread.client) < 0)
        o->thread.rc = -1;
    atomic_fetch_sub(o->thread.running, 1);
    return NULL;
}

int cf_bench_open(cf_bench_t *self)
{
    assert(self && self->config->rate > 0);
    const cf_bench_config_t *c = self->config;
    cf_bench_result_t *r = &self->result;
    size_t events = (size_t) llround(c->rate * c->open_seconds);
    events = events < c->open_batch ? c->open_batch : events;
    atomic_size_t done = 0;
    atomic_uint running = 0;
    loop_open_t o = { { self, loop_client(self, c->open_batch, CF_BENCH_OPEN_WINDOW),
                        cf_bench_stats_new(), &done, &running, 0, 0, 0 },
                      cf_bench_gen_new(c->seed, BENCH_NS(c, BENCH_NS_OPEN)), events,
                      (events + c->open_batch - 1) / c->open_batch, c->open_batch, 0,
                      c->open_batch / c->rate, NULL, 0, 0, 0, false };
    cf_bench_gen_fill(o.gen, events);
    o.left = cf_calloc(o.requests, sizeof *o.left);
    int rc = o.thread.client ? 0 : -1;
    bench_snapshot_t *snap = cf_calloc(2, sizeof *snap);       /* before and after */
    bool counted = rc == 0 && cf_bench_snapshot(self, &snap[0]) == 0;
    if (counted)
        cf_bench_snapshot_replicas(self, &snap[0]);
    r->open_cpu = r->cpu;                   /* the same processes */
    cf_bench_cpu_start(&r->open_cpu);
    double cpu_from = cf_bench_now();
    o.start = o.thread.finished = cf_bench_now() + LOOP_WARMUP_S;
    int64_t from_s = (cf_wall_ms() + (int64_t) (LOOP_WARMUP_S * 1000)) / 1000;
    if (rc == 0) {
        cf_client_set_on_final(o.thread.client, loop_open_final, &o);
        loop_run_threads(self, "open", &o, sizeof o, 1, loop_open_thread, &done, events,
                         &running, o.start);
        cf_client_stats_t s;
        cf_client_stats(o.thread.client, &s);
        r->open_failed = s.events - s.accepted - s.duplicate;
        r->open_busy = s.busy;
        if (o.thread.rc < 0)
            rc = cf_bench_fail(self, "open loop: %s", cf_client_error(o.thread.client));
    }
    /* what the small requests cost Redis, apart from the closed loop's */
    counted = counted && rc == 0 && cf_bench_snapshot(self, &snap[1]) == 0;
    cf_bench_cpu_stop(&r->open_cpu);
    r->open_cpu_wall_s = cf_bench_now() - cpu_from;
    if (counted)
        cf_bench_snapshot_replicas(self, &snap[1]);
    r->open_redis_cpu_s = counted ? snap[1].cpu_s - snap[0].cpu_s : -1;
    r->open_redis_replicas_cpu_s = counted && !snap[0].replicas_unknown && !snap[1].replicas_unknown
                                 ? snap[1].replicas_cpu_s - snap[0].replicas_cpu_s : -1;
    r->open_redis_forks = counted ? snap[1].forks - snap[0].forks : -1;
    r->open_redis_commands_per_event = counted
        ? cf_bench_commands_per_event(&snap[0], &snap[1], events, r->open_commands,
                                      &r->open_command_count) : -1;
    r->open_redis_cpu_us_per_event = counted ? r->open_redis_cpu_s * 1e6 / (double) events : -1;
    free(snap);
    r->open_latency_threshold_ms = r->open_slowlog_threshold_ms = -1;
    if (rc == 0) {
        int64_t to_s = cf_wall_ms() / 1000;
        r->open_latency_threshold_ms = cf_bench_latency(self, from_s, to_s, r->open_latency,
                                                        &r->open_latency_count);
        r->open_slowlog_threshold_ms = cf_bench_slowlog(self, from_s, to_s, r->open_slow,
                                                        &r->open_slow_count);
    }
    r->open_events = events;
    r->open_rate = c->rate;
    r->open_seconds = o.thread.finished - o.start;
    r->open_events_per_s = r->open_seconds > 0 ? (double) events / r->open_seconds : 0;
    r->open_in_flight_max = o.in_flight_max;
    r->open_window_full = o.window_full;
    cf_bench_stats_t *latency = o.thread.latency;
    r->p50_ms = (double) cf_bench_stats_quantile(latency, 0.50) / 1000;
    r->p99_ms = (double) cf_bench_stats_quantile(latency, 0.99) / 1000;
    r->p999_ms = (double) cf_bench_stats_quantile(latency, 0.999) / 1000;
    r->max_ms = (double) cf_bench_stats_max(latency) / 1000;
    r->mean_ms = cf_bench_stats_mean(latency) / 1000;
    cf_client_destroy(&o.thread.client);
    cf_bench_stats_destroy(&latency);
    cf_bench_gen_destroy(&o.gen);
    free(o.left);
    return rc;
}
