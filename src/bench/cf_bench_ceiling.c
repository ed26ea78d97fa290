/*  cf_bench: the ceiling and Redis's memory figures; see cf_bench.h. The
    events are decoded and pseudonymised before the clock starts, so the
    ceiling is what Redis and the store code can do, with nothing of the
    worker's decoding and nothing of ZeroMQ. The memory figures that follow
    it are cf_bench_memory.c. Each thread owns the shards s with
    s % threads == its index and takes the events of those shards, as the
    broker routes each shard's events to its owner (so that the ceiling
    measures the store, not two stores' conflicts on one shard's keys); it
    takes them in order, in batches as large as the broker's largest jobs
    (so that the ceiling is the store's best: a commit's cost per event falls
    with the events it holds of each shard), and serves each as a request
    of its own, as a worker serves a job, under the default rules of a worker
    (deadlines and alerts included).                                         */
#include "cf_bench_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pseudo.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cf_bench_t *bench;
    cf_store_t *store;
    cf_event_t *events;
    size_t count, batch, accepted;
    uint64_t requests;              /* its requests' first tag */
    atomic_size_t next, *done;
    atomic_uint *running;
    cf_ack_status_t statuses[CF_MSG_MAX_JOB_EVENTS];
    char error[256];
    int rc;
} ceiling_thread_t;

static void *ceiling_thread(void *arg)
{
    ceiling_thread_t *t = arg;
    for (size_t k; t->rc == 0 && (k = atomic_fetch_add(&t->next, 1)) * t->batch < t->count;) {
        size_t from = k * t->batch, n = t->count - from < t->batch ? t->count - from : t->batch;
        /* a request per batch, as the worker serves each job as the
           broker's request: the markers then hold what live ones hold */
        uint64_t request = t->requests + k + 1;
        cf_store_set_request(t->store, &request, sizeof request);
        t->rc = cf_store_apply(t->store, t->events + from, n, t->statuses);
        if (t->rc < 0)
            snprintf(t->error, sizeof t->error, "%s", cf_store_error(t->store));
        for (size_t i = 0; t->rc == 0 && i < n; i++)
            t->accepted += t->statuses[i] == CF_ACK_ACCEPTED;
        atomic_fetch_add(t->done, n);
    }
    atomic_fetch_sub(t->running, 1);
    return NULL;
}

/* The ceiling's events, decoded and pseudonymised, and its cases. */
static int ceiling_prepare(cf_bench_t *self, cf_event_t *events, bench_case_t **cases_p)
{
    const cf_bench_config_t *c = self->config;
    char err[512];
    cf_pseudo_t *pseudo = cf_pseudo_new(c->key_file, err, sizeof err);
    if (!pseudo)
        return cf_bench_fail(self, "%s", err);
    cf_bench_gen_t *gen = cf_bench_gen_new(c->seed, BENCH_NS(c, BENCH_NS_CEILING));
    cf_bench_gen_fill(gen, c->events);
    bench_case_t *cases = cf_calloc(cf_bench_gen_cases(gen) + 1, sizeof *cases);
    int rc = 0;
    for (size_t i = 0; i < c->events && rc == 0; i++) {
        size_t size;
        const void *data = cf_bench_gen_data(gen, i, &size);
        if (cf_event_decode(&events[i], data, size, err, sizeof err) < 0) {
            rc = cf_bench_fail(self, "generated event %zu is invalid: %s", i, err);
            break;
        }
        uint32_t of = cf_bench_gen_case_of(gen, i);
        if (of == CF_BENCH_NO_CASE)
            continue;
        cf_pseudo_apply(pseudo, events[i].case_ref, strlen(events[i].case_ref), events[i].case_id);
        memset(events[i].case_ref, 0, sizeof events[i].case_ref);
        memcpy(cases[of].case_id, events[i].case_id, sizeof cases[of].case_id);
        cases[of].shard = cf_shard_pick(events[i].shard_hash, BENCH_SHARDS(c));
        cases[of].closed |= events[i].type == CF_EV_CASE_CLOSED;
    }
    *cases_p = cases;
    self->result.open_cases = 0;
    for (size_t i = 0; i < cf_bench_gen_cases(gen); i++)
        self->result.open_cases += !cases[i].closed;
    self->result.closed_cases = cf_bench_gen_cases(gen) - self->result.open_cases;
    cf_bench_gen_destroy(&gen);
    cf_pseudo_destroy(&pseudo);
    return rc;
}

/* Puts each thread's events together, in their order: thread t's are
   events[first[t] .. first[t + 1]), those of the shards s with
   s % threads == t (cf_shard_pick, as the store and the broker pick). In
   place: the events are big. */
static void ceiling_partition(cf_event_t *events, size_t count, unsigned threads,
                              unsigned shards, size_t *first)
{
    size_t *to = cf_calloc(count ? count : 1, sizeof *to);     /* where event i goes */
    memset(first, 0, (threads + 1) * sizeof *first);
    for (size_t i = 0; i < count; i++)
        first[cf_shard_pick(events[i].shard_hash, shards) % threads + 1]++;
    for (unsigned t = 0; t < threads; t++)
        first[t + 1] += first[t];
    size_t *at = cf_calloc(threads, sizeof *at);
    memcpy(at, first, threads * sizeof *at);
    for (size_t i = 0; i < count; i++)
        to[i] = at[cf_shard_pick(events[i].shard_hash, shards) % threads]++;
    for (size_t i = 0; i < count; i++)
        while (to[i] != i) {        /* the event at i to its place, following the cycle */
            size_t j = to[i];
            cf_event_t moved = events[j];
            events[j] = events[i];
            events[i] = moved;
            to[i] = to[j];
            to[j] = j;
        }
    free(at);
    free(to);
}

static const char *ceiling_durability(cf_store_t *store, char *out, size_t size)
{
    static const char *const names[] = { "strict", "second", "none" };
    cf_store_durability_t mode;
    char text[256];
    snprintf(out, size, "%s", cf_store_durability(store, &mode, text, sizeof text) == 0
                              ? names[mode] : "unknown");
    return out;
}

int cf_bench_ceiling(cf_bench_t *self)
{
    assert(self);
    const cf_bench_config_t *c = self->config;
    cf_bench_result_t *r = &self->result;
    cf_bench_speed_measure(&r->speed[1]);   /* after the loops: the spell they ran in */
    unsigned n = c->ceiling_threads;
    cf_event_t *events = cf_calloc(c->events, sizeof *events);
    ceiling_thread_t *threads = cf_calloc(n, sizeof *threads);
    bench_snapshot_t *snap = cf_calloc(2, sizeof *snap);
    bench_case_t *cases = NULL;
    size_t *first = cf_calloc(n + 1, sizeof *first);
    atomic_size_t done = 0;
    atomic_uint running = 0;
    /* the default rules, as a worker started without a rules file has: the
       script keeps deadlines and writes alerts as the workers' do */
    cf_rules_t *rules = cf_rules_new();
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(rules, &packed);
    cf_rules_destroy(&rules);
    int rc = ceiling_prepare(self, events, &cases);
    if (rc == 0)
        ceiling_partition(events, c->events, n, BENCH_SHARDS(c), first);
    for (unsigned i = 0; i < n && rc == 0; i++) {
        threads[i] = (ceiling_thread_t) { .bench = self, .events = events + first[i],
            .count = first[i + 1] - first[i], .batch = CF_MSG_MAX_JOB_EVENTS, .done = &done,
            .running = &running, .requests = (uint64_t) i << 40,
            .store = cf_store_new(c->redis_host, c->redis_port, c->script_dir) };
        atomic_init(&threads[i].next, 0);
        cf_store_set_auth(threads[i].store, c->redis_auth);
        cf_store_set_shards(threads[i].store, BENCH_SHARDS(c), false);
        cf_store_set_rules(threads[i].store, packed.data, packed.size);
        if (cf_store_connect(threads[i].store) < 0)
            rc = cf_bench_fail(self, "ceiling: %s", cf_store_error(threads[i].store));
    }
    if (rc == 0) {
        ceiling_durability(threads[0].store, r->durability, sizeof r->durability);
        /* the stack quiet first: what the loops left is not the ceiling's */
        rc = cf_bench_settle(self, NULL);
    }
    if (rc == 0)
        rc = cf_bench_snapshot(self, &snap[0]);
    double started = cf_bench_now();
    if (rc == 0) {
        pthread_t ids[64];
        atomic_store(&running, n);
        for (unsigned i = 0; i < n; i++)
            if (pthread_create(&ids[i], NULL, ceiling_thread, &threads[i]) != 0)
                abort();
        cf_bench_watch(self, "ceiling", &done, c->events, &running, started);
        for (unsigned i = 0; i < n; i++)
            pthread_join(ids[i], NULL);
    }
    r->ceiling_seconds = cf_bench_now() - started;
    size_t accepted = 0;
    for (unsigned i = 0; i < n; i++) {
        if (rc == 0 && threads[i].rc < 0)
            rc = cf_bench_fail(self, "ceiling: %s", threads[i].error);
        accepted += threads[i].accepted;
        cf_store_destroy(&threads[i].store);
    }
    if (rc == 0 && accepted != c->events)
        rc = cf_bench_fail(self, "ceiling: %zu of %zu events accepted", accepted, c->events);
    if (rc == 0 && (rc = cf_bench_snapshot(self, &snap[1])) == 0) {
        r->ceiling_events = c->events;
        r->ceiling_events_per_s = (double) c->events / r->ceiling_seconds;
        r->ceiling_redis_cpu_s = snap[1].cpu_s - snap[0].cpu_s;
        r->ceiling_commands_per_event = cf_bench_commands_per_event(&snap[0], &snap[1],
                                                                    c->events, NULL, NULL);
        rc = cf_bench_memory(self, events, cases);
    }
    msgpack_sbuffer_destroy(&packed);
    free(snap);
    free(cases);
    free(threads);
    free(first);
    free(events);
    return rc;
}
