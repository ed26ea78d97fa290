/*  cf_bench: the object, its Redis connection and INFO snapshots, and the
    progress watch; see cf_bench.h. The phases are in cf_bench_loops.c and
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
#define BENCH_SETTLE_POLL_MS    100
#define BENCH_SETTLE_IDLE_S     2.0     /* above a worker's look at the deadlines (1 s) */
#define BENCH_SETTLE_MAX_S      120.0

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
    if ((*self_p)->redis)
        redisFree((*self_p)->redis);
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

/* ---- Redis -------------------------------------------------------------- */

static int bench_connect(cf_bench_t *self)
{
    if (self->redis && !self->redis->err)
        return 0;
    if (self->redis)
        redisFree(self->redis);
    struct timeval tv = { 2, 0 };
    self->redis = redisConnectWithTimeout(self->config->redis_host, self->config->redis_port, tv);
    if (!self->redis)
        abort();
    if (self->redis->err)
        return cf_bench_fail(self, "redis %s:%d: %s", self->config->redis_host,
                             self->config->redis_port, self->redis->errstr);
    tv.tv_sec = 30;
    redisSetTimeout(self->redis, tv);
    char why[300];
    if (cf_redis_auth_send(self->config->redis_auth, self->redis, why, sizeof why) < 0) {
        redisFree(self->redis);
        self->redis = NULL;
        return cf_bench_fail(self, "redis %s:%d: %s", self->config->redis_host,
                             self->config->redis_port, why);
    }
    return 0;
}

int cf_bench_redis(cf_bench_t *self, redisReply **reply, const char *fmt, ...)
{
    if (reply)
        *reply = NULL;
    if (bench_connect(self) < 0)
        return -1;
    va_list args;
    va_start(args, fmt);
    redisReply *r = redisvCommand(self->redis, fmt, args);
    va_end(args);
    if (!r)
        return cf_bench_fail(self, "redis: %s", self->redis->errstr);
    if (r->type == REDIS_REPLY_ERROR) {
        cf_bench_fail(self, "redis: %s", r->str);
        freeReplyObject(r);
        return -1;
    }
    if (reply)
        *reply = r;
    else
        freeReplyObject(r);
    return 0;
}

static int bench_info(cf_bench_t *self, const char *section, redisReply **reply)
{
    if (cf_bench_redis(self, reply, "INFO %s", section) < 0)
        return -1;
    if ((*reply)->type != REDIS_REPLY_STRING) {
        freeReplyObject(*reply);
        return cf_bench_fail(self, "redis: INFO %s: not a text reply", section);
    }
    return 0;
}

int cf_bench_snapshot(cf_bench_t *self, bench_snapshot_t *snap)
{
    redisReply *stats, *cpu, *memory, *server;
    if (bench_info(self, "commandstats", &stats) < 0)
        return -1;
    snap->count = cf_bench_info_commands(stats->str, snap->commands, BENCH_SNAPSHOT_COMMANDS);
    freeReplyObject(stats);
    if (bench_info(self, "cpu", &cpu) < 0)
        return -1;
    double sys = 0, user = 0;
    int rc = cf_bench_info_number(cpu->str, "used_cpu_sys", &sys) < 0
          || cf_bench_info_number(cpu->str, "used_cpu_user", &user) < 0;
    freeReplyObject(cpu);
    snap->cpu_s = sys + user;
    if (rc || bench_info(self, "memory", &memory) < 0)
        return rc ? cf_bench_fail(self, "redis: INFO cpu without used_cpu_sys/user") : -1;
    rc = cf_bench_info_number(memory->str, "used_memory", &snap->used_memory);
    freeReplyObject(memory);
    if (rc < 0)
        return cf_bench_fail(self, "redis: INFO memory without used_memory");
    if (!self->result.redis_version[0] && bench_info(self, "server", &server) == 0) {
        const char *v = strstr(server->str, "redis_version:");
        if (v)
            sscanf(v + 14, "%31[^\r\n]", self->result.redis_version);
        freeReplyObject(server);
    }
    return 0;
}

/* What the stack still owes: into *pending the shards whose outbox the
   publisher has not read to its last entry, plus the deadlines due by now;
   into progress (size bytes) a text that changes whenever either moves (a
   hash of every shard's cursor and count). One round trip for every shard. */
static int bench_pending(cf_bench_t *self, size_t *pending, char *progress, size_t size)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long now_ms = (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
    unsigned shards = BENCH_SHARDS(self->config);
    *pending = 0;
    progress[0] = '\0';
    if (bench_connect(self) < 0)
        return -1;
    for (unsigned s = 0; s < shards; s++) {
        char outbox[CF_KEYS_MAX], due[CF_KEYS_MAX];
        cf_keys_fixed(outbox, sizeof outbox, s, CF_KEYS_OUTBOX);
        cf_keys_fixed(due, sizeof due, s, CF_KEYS_DUE);
        if (redisAppendCommand(self->redis, "XREVRANGE %s + - COUNT 1", outbox) != REDIS_OK
            || redisAppendCommand(self->redis, "HGET %s s%u", cf_keys_pub(CF_KEYS_PUB_CURSOR),
                                  s) != REDIS_OK
            || redisAppendCommand(self->redis, "ZCOUNT %s -inf %lld", due, now_ms) != REDIS_OK)
            abort();
    }
    redisReply **r = cf_calloc(3 * (size_t) shards, sizeof *r);
    int rc = 0;
    for (size_t k = 0; k < 3 * (size_t) shards; k++) {
        void *reply = NULL;
        if (redisGetReply(self->redis, &reply) != REDIS_OK || !reply) {
            rc = cf_bench_fail(self, "redis: %s", self->redis->errstr);
            break;
        }
        r[k] = reply;
        if (rc == 0 && r[k]->type == REDIS_REPLY_ERROR)
            rc = cf_bench_fail(self, "redis: %s", r[k]->str);
    }
    uint64_t moved = cf_shard_hash(NULL, 0);
    for (unsigned s = 0; rc == 0 && s < shards; s++) {
        const redisReply *last = r[3 * s], *cursor = r[3 * s + 1], *count = r[3 * s + 2];
        const char *last_id = last->type == REDIS_REPLY_ARRAY && last->elements
                            && last->element[0]->type == REDIS_REPLY_ARRAY
                            && last->element[0]->elements ? last->element[0]->element[0]->str : NULL;
        const char *read = cursor->type == REDIS_REPLY_STRING ? cursor->str : "";
        long long due_now = count->type == REDIS_REPLY_INTEGER ? count->integer : 0;
        *pending += (last_id && strcmp(last_id, read) != 0) + (size_t) due_now;
        char part[96];
        int len = snprintf(part, sizeof part, "%s/%lld ", read, due_now);
        moved = (moved ^ cf_shard_hash(part, (size_t) len)) * UINT64_C(1099511628211);
    }
    for (size_t k = 0; k < 3 * (size_t) shards; k++)
        if (r[k])
            freeReplyObject(r[k]);
    free(r);
    snprintf(progress, size, "%016llx", (unsigned long long) moved);
    return rc;
}

int cf_bench_settle(cf_bench_t *self, double *seconds)
{
    double started = cf_bench_now(), moved = started;
    char seen[1024] = "", now[sizeof seen];
    struct timespec tick = { 0, BENCH_SETTLE_POLL_MS * 1000000L };
    for (;;) {
        size_t pending;
        if (bench_pending(self, &pending, now, sizeof now) < 0)
            return -1;
        double t = cf_bench_now();
        if (strcmp(now, seen) != 0) {
            moved = t;
            memcpy(seen, now, sizeof seen);
        }
        if (pending == 0 || t - moved >= BENCH_SETTLE_IDLE_S || t - started >= BENCH_SETTLE_MAX_S)
            break;
        nanosleep(&tick, NULL);
    }
    if (seconds)
        *seconds = cf_bench_now() - started;
    return 0;
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
