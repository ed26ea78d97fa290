/*  cf_bench: the object, the commands per event between two snapshots and
    the progress watch; see cf_bench.h. Its Redis connection, snapshots and
    drain are in cf_bench_redis.c; the phases in cf_bench_loops.c and
    cf_bench_ceiling.c.                                                      */
#include "cf_bench_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_WATCH_MS  200

cf_bench_t *cf_bench_new(const cf_bench_config_t *config)
{
    assert(config && config->intake && config->redis_host);
    cf_bench_t *self = cf_calloc(1, sizeof *self);
    self->config = config;
    return self;
}

void cf_bench_destroy(cf_bench_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_redis_cluster_destroy(&(*self_p)->redis);
    free(*self_p);
    *self_p = NULL;
}

const cf_bench_result_t *cf_bench_result(const cf_bench_t *self)
{
    assert(self);
    return &self->result;
}

cf_bench_cpu_t *cf_bench_processes(cf_bench_t *self)
{
    assert(self);
    return &self->result.cpu;
}

const char *cf_bench_error(const cf_bench_t *self)
{
    assert(self);
    return self->error;
}

int cf_bench_fail(cf_bench_t *self, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, args);
    va_end(args);
    return -1;
}

double cf_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int bench_rate_order(const void *a, const void *b)
{
    const cf_bench_rate_t *x = a, *y = b;
    return x->per_event > y->per_event ? -1 : x->per_event < y->per_event;
}

double cf_bench_commands_per_event(const bench_snapshot_t *before, const bench_snapshot_t *after,
                                   size_t events, cf_bench_rate_t *out, size_t *out_count)
{
    double total = 0;
    size_t n = 0;
    cf_bench_rate_t all[BENCH_SNAPSHOT_COMMANDS];
    for (size_t i = 0; i < after->count; i++) {
        const char *name = after->commands[i].name;
        const cf_bench_command_t *was = cf_bench_command_find(before->commands, before->count,
                                                              name);
        uint64_t calls = was ? was->calls : 0, usec = was ? was->usec : 0;
        if (strcmp(name, "info") == 0 || after->commands[i].calls <= calls)
            continue;           /* our own snapshots */
        double per = events ? (double) (after->commands[i].calls - calls) / (double) events : 0;
        double us = events && after->commands[i].usec >= usec
                  ? (double) (after->commands[i].usec - usec) / (double) events : 0;
        total += per;
        all[n] = (cf_bench_rate_t) { .per_event = per, .us_per_event = us };
        snprintf(all[n++].name, sizeof all[0].name, "%s", name);
    }
    if (out) {
        qsort(all, n, sizeof *all, bench_rate_order);
        *out_count = n < CF_BENCH_MAX_COMMANDS ? n : CF_BENCH_MAX_COMMANDS;
        memcpy(out, all, *out_count * sizeof *out);
    }
    return total;
}

void cf_bench_watch(cf_bench_t *self, const char *phase, atomic_size_t *done, size_t total,
                    atomic_uint *running, double started)
{
    struct timespec tick = { 0, BENCH_WATCH_MS * 1000000L };
    while (atomic_load(running) > 0) {
        nanosleep(&tick, NULL);
        if (self->config->progress)
            self->config->progress(phase, atomic_load(done), total, cf_bench_now() - started,
                                   self->config->progress_arg);
    }
}
