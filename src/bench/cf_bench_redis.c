/*  cf_bench: the bench's Redis connection, INFO snapshots and the drain;
    see cf_bench_internal.h. The connection is a cf_redis_cluster, so the
    bench measures a Redis Cluster (given any node as --redis) as it
    measures one server: INFO and SCAN go to every master and their figures
    are summed, each key's command goes to its master. The replicas cost
    CPU too (on one machine, the same cores): their INFO is read apart, on
    a plain connection of their own, from the addresses their masters list.
    Every figure of one node is kept by its port, for the per-node report. */
#include "cf_bench_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_SETTLE_POLL_MS    100
#define BENCH_SETTLE_IDLE_S     2.0     /* above a worker's look at the deadlines (1 s) */
#define BENCH_SETTLE_MAX_S      120.0
#define BENCH_REDIS_TIMEOUT_MS  30000

static int bench_connect(cf_bench_t *self)
{
    if (self->redis)
        return 0;
    const cf_bench_config_t *c = self->config;
    self->redis = cf_redis_cluster_new(c->redis_host, c->redis_port, c->redis_auth,
                                       CF_REDIS_MODE_AUTO, BENCH_REDIS_TIMEOUT_MS);
    if (cf_redis_cluster_connect(self->redis) == 0) {
        self->result.redis_cluster = cf_redis_cluster_is_cluster(self->redis);
        return 0;
    }
    cf_bench_fail(self, "redis %s:%d: %s", c->redis_host, c->redis_port,
                  cf_redis_cluster_error(self->redis));
    cf_redis_cluster_destroy(&self->redis);
    return -1;
}

cf_redis_cluster_t *cf_bench_cluster(cf_bench_t *self)
{
    return bench_connect(self) == 0 ? self->redis : NULL;
}

int cf_bench_reply(cf_bench_t *self, redisReply **reply)
{
    *reply = NULL;
    redisReply *r;
    if (cf_redis_cluster_get_reply(self->redis, &r) < 0)
        return cf_bench_fail(self, "redis: %s", cf_redis_cluster_error(self->redis));
    if (r->type == REDIS_REPLY_ERROR) {
        cf_bench_fail(self, "redis: %s", r->str);
        freeReplyObject(r);
        return -1;
    }
    *reply = r;
    return 0;
}

int cf_bench_redis(cf_bench_t *self, redisReply **reply, const char *key, const char *fmt, ...)
{
    if (reply)
        *reply = NULL;
    if (bench_connect(self) < 0)
        return -1;
    va_list args;
    va_start(args, fmt);
    int rc = cf_redis_cluster_vappend(self->redis, key, fmt, args);
    va_end(args);
    redisReply *r;
    if (rc < 0)
        return cf_bench_fail(self, "redis: %s", cf_redis_cluster_error(self->redis));
    if (cf_bench_reply(self, &r) < 0)
        return -1;
    if (reply)
        *reply = r;
    else
        freeReplyObject(r);
    return 0;
}

int cf_bench_masters(cf_bench_t *self, int *slots, size_t size)
{
    if (bench_connect(self) < 0)
        return -1;
    int n = cf_redis_cluster_master_slots(self->redis, slots, size);
    return n < 0 ? cf_bench_fail(self, "redis: %s", cf_redis_cluster_error(self->redis)) : n;
}

/* Adds one node's INFO (server, cpu, commandstats; memory, stats and
   replication for a master) to snap. */
static int bench_add_node(cf_bench_t *self, bench_snapshot_t *snap, const char *info,
                          bool replica)
{
    double sys = 0, user = 0, memory = 0, port = 0, forks = 0;
    if (cf_bench_info_number(info, "used_cpu_sys", &sys) < 0
        || cf_bench_info_number(info, "used_cpu_user", &user) < 0
        || cf_bench_info_number(info, "tcp_port", &port) < 0
        || (!replica && (cf_bench_info_number(info, "used_memory", &memory) < 0
                         || cf_bench_info_number(info, "total_forks", &forks) < 0)))
        return cf_bench_fail(self, "redis: INFO without used_cpu_sys/user, tcp_port, "
                             "used_memory or total_forks");
    cf_bench_command_t *commands = cf_calloc(BENCH_SNAPSHOT_COMMANDS, sizeof *commands);
    size_t count = cf_bench_info_commands(info, commands, BENCH_SNAPSHOT_COMMANDS);
    if (snap->node_count < CF_BENCH_NODES)
        snap->nodes[snap->node_count++] = (cf_bench_node_t) {
            .port = (int) port, .replica = replica, .cpu_s = sys + user,
            .calls = (double) cf_bench_commands_calls(commands, count) };
    if (replica) {
        snap->replicas_cpu_s += sys + user;
    } else {
        snap->count = cf_bench_commands_add(snap->commands, snap->count,
                                            BENCH_SNAPSHOT_COMMANDS, commands, count);
        snap->cpu_s += sys + user;
        snap->used_memory += memory;
        snap->forks += forks;
        size_t room = BENCH_NODES_MAX - snap->replica_count;
        snap->replica_count += cf_bench_info_replicas(info, snap->replicas + snap->replica_count,
                                                      room);
        if (!self->result.redis_version[0])
            cf_bench_info_text(info, "redis_version", self->result.redis_version,
                               sizeof self->result.redis_version);
    }
    free(commands);
    return 0;
}

int cf_bench_snapshot(cf_bench_t *self, bench_snapshot_t *snap)
{
    memset(snap, 0, sizeof *snap);
    int slots[BENCH_NODES_MAX];
    int n = cf_bench_masters(self, slots, BENCH_NODES_MAX);
    static const char *argv[] = { "INFO", "server", "replication", "cpu", "memory", "stats",
                                  "commandstats" };
    for (int i = 0; i < n; i++)
        if (cf_redis_cluster_append_slot(self->redis, slots[i], 7, argv, NULL) < 0)
            return cf_bench_fail(self, "redis: %s", cf_redis_cluster_error(self->redis));
    int rc = n < 0 ? -1 : 0;
    for (int i = 0; i < n; i++) {       /* every reply taken, even after an error */
        redisReply *r;
        if (cf_bench_reply(self, &r) < 0) {
            rc = -1;
            continue;
        }
        if (rc == 0 && r->type != REDIS_REPLY_STRING)
            rc = cf_bench_fail(self, "redis: INFO: not a text reply");
        if (rc == 0)
            rc = bench_add_node(self, snap, r->str, false);
        freeReplyObject(r);
    }
    return rc;
}

void cf_bench_snapshot_replicas(cf_bench_t *self, bench_snapshot_t *snap)
{
    for (size_t i = 0; i < snap->replica_count; i++) {
        struct timeval tv = { 2, 0 };
        redisContext *c = redisConnectWithTimeout(snap->replicas[i].host,
                                                  snap->replicas[i].port, tv);
        if (!c)
            abort();
        char why[300];
        redisReply *r = NULL;
        if (!c->err && cf_redis_auth_send(self->config->redis_auth, c, why, sizeof why) == 0)
            r = redisCommand(c, "INFO server cpu commandstats");
        if (!r || r->type != REDIS_REPLY_STRING
            || bench_add_node(self, snap, r->str, true) < 0)
            snap->replicas_unknown = true;      /* a replica gone: its CPU is not the bench's to fail on */
        if (r)
            freeReplyObject(r);
        redisFree(c);
    }
}

void cf_bench_nodes_between(const bench_snapshot_t *before, const bench_snapshot_t *after,
                            cf_bench_node_t *out, size_t *count)
{
    *count = 0;
    for (size_t i = 0; i < after->node_count; i++) {
        const cf_bench_node_t *b = NULL, *a = &after->nodes[i];
        for (size_t j = 0; j < before->node_count && !b; j++)
            if (before->nodes[j].port == a->port && before->nodes[j].replica == a->replica)
                b = &before->nodes[j];
        if (!b)                 /* a node that changed role meanwhile (a failover) */
            continue;
        out[(*count)++] = (cf_bench_node_t) { .port = a->port, .replica = a->replica,
                                              .cpu_s = a->cpu_s - b->cpu_s,
                                              .calls = a->calls - b->calls };
    }
}

/* What the stack still owes: into *pending the shards whose outbox the
   publisher has not read to its last entry, plus the deadlines due by now;
   into progress (size bytes) a text that changes whenever either moves (a
   hash of every shard's cursor and count). One round trip for every
   master: each command goes to its key's. */
static int bench_pending(cf_bench_t *self, size_t *pending, char *progress, size_t size)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long now_ms = (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
    unsigned shards = BENCH_SHARDS(self->config);
    const char *cursors = cf_keys_pub(CF_KEYS_PUB_CURSOR);
    *pending = 0;
    progress[0] = '\0';
    if (bench_connect(self) < 0)
        return -1;
    for (unsigned s = 0; s < shards; s++) {
        char outbox[CF_KEYS_MAX], due[CF_KEYS_MAX];
        cf_keys_fixed(outbox, sizeof outbox, s, CF_KEYS_OUTBOX);
        cf_keys_fixed(due, sizeof due, s, CF_KEYS_DUE);
        if (cf_redis_cluster_append(self->redis, outbox, "XREVRANGE %s + - COUNT 1", outbox) < 0
            || cf_redis_cluster_append(self->redis, cursors, "HGET %s s%u", cursors, s) < 0
            || cf_redis_cluster_append(self->redis, due, "ZCOUNT %s -inf %lld", due, now_ms) < 0)
            abort();
    }
    redisReply **r = cf_calloc(3 * (size_t) shards, sizeof *r);
    int rc = 0;
    for (size_t k = 0; k < 3 * (size_t) shards; k++)
        if (cf_bench_reply(self, &r[k]) < 0)
            rc = -1;
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
