/*  cf_bench: what Redis's latency monitor saw during a phase
    (cf_bench_latency, cf_bench_internal.h): the longest event of each kind
    (`aof-fsync-always`: an fdatasync of the AOF that the main thread waited
    for; `command`: a slow command; ...) that LATENCY HISTORY holds for the
    phase's seconds, on every master. With `appendfsync always` a disk that
    stalls stalls every reply, and an open loop's p99 then says more about
    the disk than about the stack: this is how a run says so. The bench's
    own Redis runs with latency-monitor-threshold CF_BENCH_STACK_LATENCY_MS; a
    running stack's Redis with whatever it has (0: the monitor is off, and
    the figures are unknown). Read once, after the phase: the monitor keeps
    the longest event of each second, 160 seconds of them.                   */
#include "cf_bench_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The monitor's threshold on the node of context c (ms), or -1 when it is
   off or cannot be read (CONFIG refused by an ACL). */
static double latency_threshold(redisContext *c)
{
    redisReply *r = redisCommand(c, "CONFIG GET latency-monitor-threshold");
    double ms = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && r->element[1]->type == REDIS_REPLY_STRING)
        ms = atof(r->element[1]->str);
    if (r)
        freeReplyObject(r);
    return ms > 0 ? ms : -1;
}

/* Keeps ms as the longest of event name in out (count so far, at most
   CF_BENCH_MAX_LATENCY kinds). */
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
        (*count)++;
    }
    out[i].max_ms = ms > out[i].max_ms ? ms : out[i].max_ms;
}

/* One node's events between from_s and to_s (Unix seconds, inclusive). */
static void latency_node(redisContext *c, int64_t from_s, int64_t to_s, cf_bench_latency_t *out,
                         size_t *count)
{
    redisReply *latest = redisCommand(c, "LATENCY LATEST");
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
}

double cf_bench_latency(cf_bench_t *self, int64_t from_s, int64_t to_s, cf_bench_latency_t *out,
                        size_t *count)
{
    *count = 0;
    int slots[CF_BENCH_NODES];
    int n = cf_bench_masters(self, slots, CF_BENCH_NODES);
    double threshold = n > 0 ? 0 : -1;
    for (int i = 0; i < n && threshold >= 0; i++) {
        redisContext *c = cf_redis_cluster_context(cf_bench_cluster(self), slots[i]);
        double ms = c ? latency_threshold(c) : -1;
        threshold = ms < 0 ? -1 : ms > threshold ? ms : threshold;
        if (ms >= 0)
            latency_node(c, from_s, to_s, out, count);
        if (c && c->err)            /* the next phase's batch connects again */
            cf_redis_cluster_reset(cf_bench_cluster(self));
    }
    if (threshold < 0)
        *count = 0;
    return threshold;
}
