/*  cf_bench: the closed and the open loop, through the producer library;
    see cf_bench.h. Every producer thread owns its cf_client (its own ZeroMQ
    context and socket), since a client is not thread-safe; the main thread
    only watches the progress. In the closed loop a case's events all go to
    one producer, in their order, as one intake system would send them.    */
#include "cf_bench_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_client.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOOP_DEADLINE_MS    60000   /* a run without progress this long gives up */
#define LOOP_WARMUP_S       0.2     /* sockets connect before the open loop starts */

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

/* The open loop's schedule, shared by its senders. */
typedef struct {
    cf_bench_gen_t *gen;
    atomic_size_t next;             /* the next request to send */
    size_t requests, batch;
    double start, interval;         /* request k is due at start + k * interval */
} loop_schedule_t;

typedef struct {
    loop_thread_t thread;
    loop_schedule_t *schedule;
} loop_sender_t;

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
    if (rc == 0)
        rc = cf_bench_snapshot(self, before);
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
        r->rejected += s.rejected, r->unacked += s.unacked;
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
    if (rc == 0 && (rc = cf_bench_snapshot(self, drained)) == 0)
        r->redis_cpu_drained_s = drained->cpu_s - before->cpu_s;
    free(before);
    free(threads);
    return rc;
}

/* ---- open loop ---------------------------------------------------------- */

static void loop_sleep_until(double when)
{
    struct timespec ts = { (time_t) when, (long) ((when - floor(when)) * 1e9) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
        ;
}

static void *loop_open_thread(void *arg)
{
    loop_sender_t *s = arg;
    loop_thread_t *t = &s->thread;
    loop_schedule_t *plan = s->schedule;
    size_t events = cf_bench_gen_size(plan->gen);
    for (size_t k; t->rc == 0 && (k = atomic_fetch_add(&plan->next, 1)) < plan->requests;) {
        double due = plan->start + (double) k * plan->interval;
        loop_sleep_until(due);
        size_t from = k * plan->batch, to = from + plan->batch < events ? from + plan->batch : events;
        for (size_t i = from; i < to; i++) {
            size_t size;
            const void *data = cf_bench_gen_data(plan->gen, i, &size);
            cf_client_add(t->client, data, size, cf_bench_gen_event_id(plan->gen, i));
        }
        t->rc = cf_client_run(t->client, loop_on_progress, t);
        t->finished = cf_bench_now();
        cf_bench_stats_add(t->latency, (uint64_t) llround((t->finished - due) * 1e6),
                           (uint32_t) (to - from));
    }
    atomic_fetch_sub(t->running, 1);
    return NULL;
}

int cf_bench_open(cf_bench_t *self)
{
    assert(self && self->config->rate > 0);
    const cf_bench_config_t *c = self->config;
    cf_bench_result_t *r = &self->result;
    size_t events = (size_t) llround(c->rate * c->open_seconds);
    events = events < c->open_batch ? c->open_batch : events;
    loop_schedule_t plan = { cf_bench_gen_new(c->seed, BENCH_NS(c, BENCH_NS_OPEN)), 0,
                             (events + c->open_batch - 1) / c->open_batch, c->open_batch, 0,
                             c->open_batch / c->rate };
    cf_bench_gen_fill(plan.gen, events);
    unsigned n = c->open_senders;
    loop_sender_t *senders = cf_calloc(n, sizeof *senders);
    atomic_size_t done = 0;
    atomic_uint running = 0;
    int rc = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        senders[i] = (loop_sender_t) { { self, loop_client(self, c->open_batch, 1),
                                         cf_bench_stats_new(), &done, &running, 0, 0, 0 }, &plan };
        rc = senders[i].thread.client ? 0 : -1;
    }
    plan.start = cf_bench_now() + LOOP_WARMUP_S;
    if (rc == 0)
        loop_run_threads(self, "open", senders, sizeof *senders, n, loop_open_thread, &done,
                         events, &running, plan.start);
    cf_bench_stats_t *latency = cf_bench_stats_new();
    double finished = plan.start;
    for (unsigned i = 0; i < n; i++) {
        loop_thread_t *t = &senders[i].thread;
        if (!t->client) {
            cf_bench_stats_destroy(&t->latency);
            continue;
        }
        cf_client_stats_t s;
        cf_client_stats(t->client, &s);
        r->open_failed += s.events - s.accepted - s.duplicate;
        cf_bench_stats_merge(latency, t->latency);
        finished = t->finished > finished ? t->finished : finished;
        if (rc == 0 && t->rc < 0)
            rc = cf_bench_fail(self, "open-loop producer %u: %s", i + 1, cf_client_error(t->client));
        cf_client_destroy(&t->client);
        cf_bench_stats_destroy(&t->latency);
    }
    r->open_events = events;
    r->open_rate = c->rate;
    r->open_seconds = finished - plan.start;
    r->open_events_per_s = r->open_seconds > 0 ? (double) events / r->open_seconds : 0;
    r->p50_ms = (double) cf_bench_stats_quantile(latency, 0.50) / 1000;
    r->p99_ms = (double) cf_bench_stats_quantile(latency, 0.99) / 1000;
    r->p999_ms = (double) cf_bench_stats_quantile(latency, 0.999) / 1000;
    r->max_ms = (double) cf_bench_stats_max(latency) / 1000;
    r->mean_ms = cf_bench_stats_mean(latency) / 1000;
    cf_bench_stats_destroy(&latency);
    cf_bench_gen_destroy(&plan.gen);
    free(senders);
    return rc;
}
