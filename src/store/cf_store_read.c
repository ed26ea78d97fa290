/*  cf_store_read: the apply path's first step (cf_store_apply.c): for a
    batch grouped by shard (cf_store_group.c), one pipelined round trip that
    reads, under WATCH, what the fold needs of every shard pending: its case
    states, its route states, the dedupe markers of its events, and for a
    fenced shard its owner record (after the connection's claim on it), with
    Redis's clock for the markers' generation (docs/storage.md, "The apply
    path"; the markers' buckets hold every generation: "Dedupe markers"). */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit_cache.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

/* ---- 1. read --------------------------------------------------------------------- */

/* Order positions by their event's marker bucket; arg is the batch. */
static int apply_compare_buckets(const void *x, const void *y, void *arg)
{
    const cf_store_batch_t *batch = arg;
    unsigned a = batch->buckets[batch->order[*(const size_t *) x]];
    unsigned b = batch->buckets[batch->order[*(const size_t *) y]];
    return (a > b) - (a < b);
}

/* The next run of the group's positions (the batch's by_bucket[from..to)) that
   share a bucket, from *at; its end. */
static size_t apply_bucket_run(const cf_store_t *self, size_t at, size_t to)
{
    cf_store_batch_t *batch = self->batch;
    size_t end = at + 1;
    while (end < to && batch->buckets[batch->order[batch->by_bucket[end]]]
                       == batch->buckets[batch->order[batch->by_bucket[at]]])
        end++;
    return end;
}

/* One pipelined command of argc arguments, to shard s's node. */
static void apply_append(cf_store_t *self, unsigned s, size_t argc, const char **argv,
                         const size_t *argvlen)
{
    cf_store_append_argv(self, -1, cf_store_slot(self, s), argc, argv, argvlen);
}

/* Whether group g holds a registration: a new case, most likely. */
static bool apply_registers(const cf_store_t *self, const cf_event_t *events, size_t g)
{
    const cf_store_batch_t *batch = self->batch;
    for (size_t j = batch->start[g]; j < batch->start[g + 1]; j++)
        if (events[batch->order[j]].type == CF_EV_CASE_REGISTERED)
            return true;
    return false;
}

/* Appends the shard's reads, after a WATCH of every key they read that the
   fold depends on (its case states, its routes' hash, the marker buckets
   of its events without a state), or of its owner record alone when it is
   fenced (docs/reliability.md, "Ownership and fencing"): HGET of its owner's
   epoch and last unfenced commit's stamp when it is fenced, MGET of its
   case states (and their EXISTS when it holds a registration), HMGET of
   its route states, then per marker bucket an HMGET of the events'
   fields. base is the index its first reply will have; returns how many
   it will get. */
static size_t apply_append_reads(cf_store_t *self, const cf_event_t *events, size_t g,
                                 size_t base)
{
    cf_store_batch_t *batch = self->batch;
    unsigned s = batch->group_shard[g];
    size_t cases, routes, from = batch->start[g], to = batch->start[g + 1], replies = 0;
    cf_store_distinct(self, events, g, &cases, &routes);
    batch->cases[g] = cases;
    batch->routes[g] = routes;
    for (size_t j = from; j < to; j++)
        batch->by_bucket[j] = j;
    qsort_r(batch->by_bucket + from, to - from, sizeof *batch->by_bucket, apply_compare_buckets,
            batch);
    size_t n = to - from, most = 4 + cases + routes + n;
    const char **argv = cf_calloc(most, sizeof *argv);
    size_t *argvlen = cf_calloc(most, sizeof *argvlen);
    char (*keys)[CF_KEYS_MAX] = cf_calloc(cases + 2 + n, sizeof *keys);
    size_t argc = 0, nkeys = 0;
#define APPLY_KEY(len_expr) (argv[argc] = keys[nkeys], argvlen[argc++] = (len_expr), nkeys++)
    argv[argc] = "WATCH", argvlen[argc++] = 5;
    for (size_t j = 0; j < cases; j++) {
        const cf_event_t *e = &events[batch->unique[from + j]];
        APPLY_KEY(cf_keys_case(keys[nkeys], CF_KEYS_MAX, s, e->case_id, strlen(e->case_id)));
    }
    size_t spike = nkeys, owner = nkeys + (routes > 0);
    if (routes)
        APPLY_KEY(cf_keys_fixed(keys[nkeys], CF_KEYS_MAX, s, CF_KEYS_SPIKE));
    if (self->fence[s])
        APPLY_KEY(cf_keys_fixed(keys[nkeys], CF_KEYS_MAX, s, CF_KEYS_OWNER));
    /* the buckets of events without a state (a case event's marker is
       watched through its case's state, which every event applied changes);
       a fenced shard watches its owner record instead, below */
    for (size_t at = from, end; !self->fence[s] && at < to; at = end) {
        end = apply_bucket_run(self, at, to);
        bool stateless = false;
        for (size_t k = at; k < end; k++)
            stateless |= !cf_event_is_case_event(events[batch->order[batch->by_bucket[k]]].type);
        if (stateless)
            APPLY_KEY(cf_keys_eid(keys[nkeys], CF_KEYS_MAX, s,
                                  batch->buckets[batch->order[batch->by_bucket[at]]]));
    }
#undef APPLY_KEY
    assert(argc > 1);               /* every event has a case or a bucket watched */
    if (self->fence[s]) {
        /* the owner record alone: every other writer of the shard writes it
           (an unfenced commit, the overdue timer, this owner's transaction
           on a lost connection through the claim), and Redis 7.0 looks
           through all the keys a connection watches for each key it adds,
           so that watching a job's every case cost about as much Redis
           time as the commit's HSETs (docs/performance.md) */
        const char *watch[] = { "WATCH", keys[owner] };
        const size_t watchlen[] = { 5, strlen(keys[owner]) };
        apply_append(self, s, 2, watch, watchlen);
    } else {
        apply_append(self, s, argc, argv, argvlen);
    }
    cf_store_note_watch(self, cf_store_slot(self, s));
    replies++;
    if (self->fence[s]) {           /* apart: argv keeps the case keys for the MGET */
        const char *hmget[] = { "HMGET", keys[owner], "epoch", "unfenced" };
        const size_t hmgetlen[] = { 5, strlen(keys[owner]), 5, 8 };
        apply_append(self, s, 4, hmget, hmgetlen);
        replies++;
    }
    batch->exists[g] = cases && apply_registers(self, events, g);
    if (cases) {                    /* the case keys are the WATCH's first */
        argv[0] = "MGET", argvlen[0] = 4;
        apply_append(self, s, 1 + cases, argv, argvlen);
        replies++;
    }
    if (batch->exists[g]) {
        /* how many of them exist: when as many as MGET found, every nil is
           absent, not a key of another type (which MGET answers nil too),
           and the commit needs no TYPE check of them (a round trip); asked
           only with a registration, which expects a new case: any other
           event's case is there (an absent one, which an event before its
           registration meets, has its key's TYPE checked by the commit) */
        argv[0] = "EXISTS", argvlen[0] = 6;
        apply_append(self, s, 1 + cases, argv, argvlen);
        replies++;
    }
    if (routes) {
        argv[0] = "HMGET", argvlen[0] = 5;
        argv[1] = keys[spike], argvlen[1] = strlen(keys[spike]);
        for (size_t j = 0; j < routes; j++) {
            argv[2 + j] = events[batch->unique[from + cases + j]].route;
            argvlen[2 + j] = strlen(argv[2 + j]);
        }
        apply_append(self, s, 2 + routes, argv, argvlen);
        replies++;
    }
    /* per bucket: the markers */
    char bucket[CF_KEYS_MAX];
    for (size_t at = from, end; at < to; at = end) {
        end = apply_bucket_run(self, at, to);
        unsigned b = batch->buckets[batch->order[batch->by_bucket[at]]];
        argv[0] = "HMGET", argvlen[0] = 5;
        argv[1] = bucket;
        argvlen[1] = cf_keys_eid(bucket, sizeof bucket, s, b);
        for (size_t k = at; k < end; k++) {
            size_t j = batch->by_bucket[k];
            argv[2 + k - at] = (const char *) batch->digests[batch->order[j]];
            argvlen[2 + k - at] = CF_KEYS_EID_DIGEST;
            batch->marker_at[j] = base + replies;
            batch->marker_pos[j] = (unsigned) (k - at);
        }
        apply_append(self, s, 2 + end - at, argv, argvlen);
        replies++;
    }
    free(argv), free(argvlen), free(keys);
    batch->probes[g] = (unsigned char) cf_store_append_probes(self, events, g);
    return replies + batch->probes[g];
}

int cf_store_take_generation(cf_store_t *self, const redisReply *reply, long long *generation)
{
    if (reply->type == REDIS_REPLY_ERROR)   /* NOPERM: Redis's own words */
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "TIME: %s", reply->str);
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING)
        return cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "TIME: unexpected reply");
    *generation = strtoll(reply->element[0]->str, NULL, 10) / (long long) self->eid_ttl;
    return 0;
}

/* A connection's claim on the owner records of the fenced shards it is
   about to commit: HINCRBY of the record's field "claims", appended before
   any WATCH of the connection, once per connection and shard. A fenced
   commit leaves its counter hashes unwatched (the owner record fences
   them), so without it a transaction of this owner sent on a connection
   since lost (a reply timed out while Redis stalled) could still reach
   Redis after this connection read the counters, and its EXEC, under the
   same epoch, would set them to values computed before this commit's own:
   a marker set whose counts are lost. The old transaction watched the
   owner record, so the claim refuses its EXEC if it comes later; if it
   came before, this connection's reads see what it wrote. Returns how
   many were appended (their shards' self->claimed 2 until the reply). */
void cf_store_append_claim(cf_store_t *self, unsigned shard)
{
    char key[CF_KEYS_MAX];
    cf_keys_fixed(key, sizeof key, shard, CF_KEYS_OWNER);
    cf_store_appendf(self, key, "HINCRBY %s claims 1", key);
}

static size_t apply_append_claims(cf_store_t *self)
{
    cf_store_batch_t *batch = self->batch;
    size_t claims = 0;
    for (size_t g = 0; g < batch->groups; g++) {
        unsigned s = batch->group_shard[g];
        if (!batch->pending[g] || !self->fence[s] || self->claimed[s])
            continue;
        self->lane = batch->group_lane[g];
        cf_store_append_claim(self, s);
        self->claimed[s] = 2;       /* sent: apply_take_claims reads its reply */
        claims++;
    }
    return claims;
}

/* The claims' replies; a claim refused is a shard not committed now (its
   mark taken back, so that the next attempt claims it again). */
static int apply_take_claims(cf_store_t *self, size_t claims)
{
    cf_store_batch_t *batch = self->batch;
    int rc = 0;
    for (size_t g = 0, c = 0; c < claims && g < batch->groups; g++) {
        unsigned s = batch->group_shard[g];
        if (!batch->pending[g] || self->claimed[s] != 2)
            continue;
        redisReply *reply = NULL;
        if (cf_store_get_reply(self, &reply, "HINCRBY claims") < 0)
            return -1;
        const redisReply *r = reply;
        self->claimed[s] = 1;
        self->wrote = true;
        if (r->type != REDIS_REPLY_INTEGER) {
            self->claimed[s] = 0;
            if (rc == 0)
                rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: HINCRBY claims: %s", s,
                                   r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        }
        freeReplyObject(reply);
        c++;
    }
    return rc;
}

/* Sends the read round of the groups pending: the UNWATCH a former attempt
   may need, the connection's claims, Redis's clocks and each group's reads
   (apply_read_take reads the replies back). Appends only: nothing is
   read, so that something else can be sent behind it. */
static void apply_read_send(cf_store_t *self, const cf_event_t *events)
{
    cf_store_batch_t *batch = self->batch;
    /* a WATCH left by an attempt that sent no EXEC would refuse this one's
       EXEC for keys it no longer reads */
    batch->read_unwatch = cf_store_append_unwatch(self);
    batch->read_claims = apply_append_claims(self);
    /* Redis's clock, in the same round trip as the reads: the generation
       the markers read are judged by and the commit's are written in; and
       the overdue timer's clock, by which the fold fires the deadlines a
       batch leaves already due (cf_fold_set_clock) */
    self->lane = 0;
    cf_store_appendf(self, NULL, "TIME");
    cf_store_appendf(self, CF_KEYS_CLOCK, "GET " CF_KEYS_CLOCK);
    size_t total = 0;
    for (size_t g = 0; g < batch->groups; g++) {
        batch->read_start[g] = total;
        if (batch->pending[g]) {
            self->lane = batch->group_lane[g];
            total += apply_append_reads(self, events, g, total);
        }
    }
    self->lane = 0;
    batch->read_start[batch->groups] = total;
    batch->reads = cf_grow(batch->reads, &batch->reads_capacity, total ? total : 1,
                           sizeof *batch->reads);
}

/* Reads back the replies of the read round apply_read_send sent and
   keeps the reads (the batch's reads, from its read_start[g]). 0 / -1. */
static int apply_read_take(cf_store_t *self)
{
    cf_store_batch_t *batch = self->batch;
    redisReply *reply = NULL;
    for (size_t u = 0; u < batch->read_unwatch; u++) {
        if (cf_store_get_reply(self, &reply, "UNWATCH") < 0)
            return -1;
        freeReplyObject(reply);
    }
    int claimed = apply_take_claims(self, batch->read_claims);
    if (!self->connected)           /* lost: cf_store_fail_io disconnected */
        return -1;
    if (cf_store_get_reply(self, &reply, "TIME") < 0)
        return -1;
    int rc = cf_store_take_generation(self, reply, &batch->eid_generation);
    freeReplyObject(reply);
    if (cf_store_get_reply(self, &reply, "GET " CF_KEYS_CLOCK) < 0)
        return -1;
    /* a clock Redis refuses (NOPERM, WRONGTYPE) is no event's fault: an
       outage, so that the worker keeps the job and retries, and sets no
       good event aside */
    int64_t clock;
    if (cf_store_take_clock(self, reply, CF_STORE_ERR_IO, &clock) < 0)
        rc = -1;
    else
        batch->apply_clock = clock >= 0 ? clock : cf_wall_ms();
    freeReplyObject(reply);
    size_t total = batch->read_start[batch->groups];
    for (size_t r = 0; r < total; r++) {
        if (cf_store_get_reply(self, &reply, "reading the batch's states") < 0) {
            batch->nreads = r;
            return -1;
        }
        batch->reads[r] = reply;
        batch->nreads = r + 1;
    }
    return claimed < 0 ? -1 : rc;
}

/* The two halves apart, so that the next batch's round can one day be sent
   behind this batch's EXEC (docs/performance.md, "What would cut it"). */
int cf_store_read(cf_store_t *self, const cf_event_t *events)
{
    apply_read_send(self, events);
    return apply_read_take(self);
}

void cf_store_free_reads(cf_store_t *self)
{
    cf_store_batch_t *batch = self->batch;
    for (size_t r = 0; r < batch->nreads; r++)
        freeReplyObject(batch->reads[r]);
    batch->nreads = 0;
}

/* The states a shard's read round asked for: part 0 its cases, part 1 its
   routes, in the order of cf_store_distinct; and the event (one of each)
   that names state j of a part. */
size_t cf_store_read_count(const cf_store_t *self, size_t g, int part)
{
    return part == 0 ? self->batch->cases[g] : self->batch->routes[g];
}

const cf_event_t *cf_store_read_event(const cf_store_t *self, const cf_event_t *events,
                                      size_t g, int part, size_t j)
{
    cf_store_batch_t *batch = self->batch;
    return &events[batch->unique[batch->start[g] + (part ? batch->cases[g] : 0) + j]];
}

/* The first reply of group g's states: after its WATCH and its owner's
   record; its case states' MGET (when it has cases) is followed by their
   EXISTS (when batch->exists[g]), then its route states' HMGET (when it has
   routes). */
size_t cf_store_read_states_at(const cf_store_t *self, size_t g)
{
    return self->batch->read_start[g] + 1 + (self->fence[self->batch->group_shard[g]] != 0);
}
