/*  cf_bench: what held Redis's thread during a phase (cf_bench_latency,
    cf_bench_slowlog; cf_bench_internal.h), on every master. The latency
    monitor's longest event of each kind that LATENCY HISTORY holds for the
    phase's seconds (`aof-fsync-always`: an fdatasync of the AOF that the
    main thread waited for; `command`: a slow command; `fast-command`: an
    O(1) one, slow only when the thread lost its core meanwhile), and the
    commands the slow log recorded in them, by name. With `appendfsync
    always` a disk that stalls stalls every reply, and an open loop's p99
    then says more about the disk than about the stack: this is how a run
    says so; and the slow log says whether what held it was a command's own
    work (a large one) or a machine that took the core from small ones. The
    bench's own Redis runs with latency-monitor-threshold
    CF_BENCH_STACK_LATENCY_MS and slowlog-log-slower-than
    CF_BENCH_STACK_SLOWLOG_US; a running stack's Redis with whatever it has
    (the monitor off, or the log: its figures are unknown). Read once, after
    the phase: the monitor keeps the longest event of each second, 160
    seconds of them, the log its last slowlog-max-len commands.            */
#include "cf_bench_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Setting `name` of the node of context c, or -1 when it cannot be read
   (CONFIG refused by an ACL). */
static double latency_setting(redisContext *c, const char *name)
{
    redisReply *r = redisCommand(c, "CONFIG GET %s", name);
    double value = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && r->element[1]->type == REDIS_REPLY_STRING)
        value = atof(r->element[1]->str);
    if (r)
        freeReplyObject(r);
    return value;
}

/* Keeps ms as the longest of event name in out, and counts it (count so
   far, at most CF_BENCH_MAX_LATENCY kinds). */
static void latency_keep(cf_bench_latency_t *out, size_t *count, const char *name, double ms)
{
    size_t i = 0;
    while (i < *count && strcmp(out[i].name, name) != 0)
        i++;
    if (i == *count) {
        if (*count == CF_BENCH_MAX_LATENCY)
            return;
        snprintf(out[i].name, sizeof out[i].name, "%s", name);
        out[i].max_ms = 0;
        out[i].count = 0;
        (*count)++;
    }
    out[i].max_ms = ms > out[i].max_ms ? ms : out[i].max_ms;
    out[i].count++;
}

/* One node's events between from_s and to_s (Unix seconds, inclusive);
   -1 when LATENCY is refused. */
static int latency_node(redisContext *c, int64_t from_s, int64_t to_s, cf_bench_latency_t *out,
                        size_t *count)
{
    redisReply *latest = redisCommand(c, "LATENCY LATEST");
    int rc = latest && latest->type == REDIS_REPLY_ARRAY ? 0 : -1;
    for (size_t i = 0; latest && latest->type == REDIS_REPLY_ARRAY && i < latest->elements; i++) {
        const redisReply *e = latest->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 1
            || e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const char *name = e->element[0]->str;
        redisReply *h = redisCommand(c, "LATENCY HISTORY %s", name);
        for (size_t j = 0; h && h->type == REDIS_REPLY_ARRAY && j < h->elements; j++) {
            const redisReply *s = h->element[j];
            if (s->type == REDIS_REPLY_ARRAY && s->elements == 2
                && s->element[0]->type == REDIS_REPLY_INTEGER
                && s->element[1]->type == REDIS_REPLY_INTEGER
                && s->element[0]->integer >= from_s && s->element[0]->integer <= to_s)
                latency_keep(out, count, name, (double) s->element[1]->integer);
        }
        if (h)
            freeReplyObject(h);
    }
    if (latest)
        freeReplyObject(latest);
    return rc;
}

/* One node's slow commands between from_s and to_s: each entry of SLOWLOG
   GET is [id, time (s), duration (us), [command, args...], ...]. -1 when
   SLOWLOG is refused (an ACL that lets CONFIG GET through). */
static int slowlog_node(redisContext *c, int64_t from_s, int64_t to_s, cf_bench_latency_t *out,
                        size_t *count)
{
    redisReply *log = redisCommand(c, "SLOWLOG GET 1024");
    int rc = log && log->type == REDIS_REPLY_ARRAY ? 0 : -1;
    for (size_t i = 0; log && log->type == REDIS_REPLY_ARRAY && i < log->elements; i++) {
        const redisReply *e = log->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 4
            || e->element[1]->type != REDIS_REPLY_INTEGER
            || e->element[2]->type != REDIS_REPLY_INTEGER
            || e->element[3]->type != REDIS_REPLY_ARRAY || e->element[3]->elements < 1
            || e->element[3]->element[0]->type != REDIS_REPLY_STRING
            || e->element[1]->integer < from_s || e->element[1]->integer > to_s)
            continue;
        char name[sizeof out->name];
        snprintf(name, sizeof name, "%s", e->element[3]->element[0]->str);
        for (char *p = name; *p; p++)
            *p = (char) tolower((unsigned char) *p);
        latency_keep(out, count, name, (double) e->element[2]->integer / 1000);
    }
    if (log)
        freeReplyObject(log);
    return rc;
}

typedef int latency_node_fn(redisContext *c, int64_t from_s, int64_t to_s,
                            cf_bench_latency_t *out, size_t *count);

/* What read_node finds on every master, when each has `setting` at 0 or
   more (at more than 0 with positive_only) and read_node can read it; the
   largest setting over scale, or -1 and nothing. */
static double latency_masters(cf_bench_t *self, const char *setting, bool positive_only,
                              double scale, latency_node_fn *read_node, int64_t from_s,
                              int64_t to_s, cf_bench_latency_t *out, size_t *count)
{
    *count = 0;
    int slots[CF_BENCH_NODES];
    int n = cf_bench_masters(self, slots, CF_BENCH_NODES);
    double threshold = n > 0 ? 0 : -1;
    for (int i = 0; i < n && threshold >= 0; i++) {
        redisContext *c = cf_redis_cluster_context(cf_bench_cluster(self), slots[i]);
        double value = c ? latency_setting(c, setting) : -1;
        bool on = positive_only ? value > 0 : value >= 0;
        threshold = !on ? -1 : value / scale > threshold ? value / scale : threshold;
        if (on && read_node(c, from_s, to_s, out, count) < 0)
            threshold = -1;
        if (c && c->err)            /* the next phase's batch connects again */
            cf_redis_cluster_reset(cf_bench_cluster(self));
    }
    if (threshold < 0)
        *count = 0;
    return threshold;
}

double cf_bench_latency(cf_bench_t *self, int64_t from_s, int64_t to_s, cf_bench_latency_t *out,
                        size_t *count)
{
    return latency_masters(self, "latency-monitor-threshold", true, 1, latency_node, from_s, to_s,
                           out, count);
}

double cf_bench_slowlog(cf_bench_t *self, int64_t from_s, int64_t to_s, cf_bench_latency_t *out,
                        size_t *count)
{
    return latency_masters(self, "slowlog-log-slower-than", false, 1000, slowlog_node, from_s,
                           to_s, out, count);
}
