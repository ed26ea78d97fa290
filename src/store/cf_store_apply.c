/*  cf_store_apply: a batch of validated events, applied: the worker computes,
    Redis stores (docs/storage.md, "The apply path"). Per shard (a group):
      1. read   under WATCH, the states of the batch's cases and routes, the
                events' dedupe markers and, for a fenced shard, its owner's
                epoch (one pipelined round trip for every shard, with Redis's
                clock for the markers' generation; a store's first call asks
                the clock first);
      2. fold   the events over them in C (cf_fold): new states, merged counter
                deltas, notifications, deadlines;
      3. commit the result as plain commands (cf_store_commit.c): a check
                round trip (the counters' values under WATCH, the types of
                keys only written), then one MULTI/EXEC of every shard's
                writes, whole or not at all.
    WATCH stands where guards stood: EXEC writes nothing when a key read
    changed in between (another worker committed the same case, or a retry
    after a lost reply finds its own first attempt), and the groups are read
    and folded again. The markers are watched through the states: every
    event applied to a case changes its state (cf_fold counts them); only
    events without a state of their own (funding, flows) have their marker
    buckets watched. So the common case costs three round trips, no Lua, and
    nothing is counted twice.                                                */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_fold.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#define APPLY_ATTEMPTS  16      /* commits of one shard before giving up */
#define APPLY_BACKOFF_US 2000   /* the most a retry waits, after a few collisions */
#define APPLY_EXPIRY_FORGET_MS 60000    /* the buckets known to have their expiry: forgotten */

/* ---- grouping ------------------------------------------------------------------ */

/* Groups event indexes by shard (a counting sort keeps each shard's order):
   group g is the events order[start[g] .. start[g + 1]) of shard
   group_shard[g], the groups in shard order. Everything per shard of a
   batch below is indexed by its group, so that a batch costs what its own
   shards cost, whatever the deployment's count. */
static void apply_group(cf_store_t *self, const cf_event_t *events, size_t count)
{
    if (count > self->order_capacity) {
        self->order = cf_realloc(self->order, count * sizeof *self->order);
        self->shard = cf_realloc(self->shard, count * sizeof *self->shard);
        self->unique = cf_realloc(self->unique, count * sizeof *self->unique);
        self->digests = cf_realloc(self->digests, count * sizeof *self->digests);
        self->buckets = cf_realloc(self->buckets, count * sizeof *self->buckets);
        self->start = cf_realloc(self->start, (count + 1) * sizeof *self->start);
        self->group_shard = cf_realloc(self->group_shard, count * sizeof *self->group_shard);
        self->cases = cf_realloc(self->cases, count * sizeof *self->cases);
        self->routes = cf_realloc(self->routes, count * sizeof *self->routes);
        self->read_start = cf_realloc(self->read_start, (count + 1) * sizeof *self->read_start);
        self->by_bucket = cf_realloc(self->by_bucket, count * sizeof *self->by_bucket);
        self->marker_at = cf_realloc(self->marker_at, count * sizeof *self->marker_at);
        self->marker_pos = cf_realloc(self->marker_pos, count * sizeof *self->marker_pos);
        self->pending = cf_realloc(self->pending, count * sizeof *self->pending);
        self->fenced = cf_realloc(self->fenced, count * sizeof *self->fenced);
        self->commit_state = cf_realloc(self->commit_state, count * sizeof *self->commit_state);
        self->order_capacity = count;
    }
    unsigned *shard_of = self->shard;
    size_t *at = self->shard_at;            /* per shard: its count, then where it goes */
    memset(at, 0, (self->shards + 1) * sizeof *at);
    for (size_t i = 0; i < count; i++) {
        shard_of[i] = cf_store_shard_of(self, &events[i]);
        at[shard_of[i] + 1]++;
        self->buckets[i] = cf_keys_eid_digest(events[i].event_id, self->digests[i]);
    }
    size_t total = 0;
    self->groups = 0;
    for (unsigned s = 0; s < self->shards; s++) {
        size_t n = at[s + 1];
        at[s] = total;
        if (n) {
            self->group_shard[self->groups] = s;
            self->start[self->groups++] = total;
        }
        total += n;
    }
    self->start[self->groups] = total;
    for (size_t i = 0; i < count; i++)
        self->order[at[shard_of[i]]++] = i;
    if (self->groups > self->commits_capacity) {
        self->commits = cf_realloc(self->commits, self->groups * sizeof *self->commits);
        for (size_t g = self->commits_capacity; g < self->groups; g++)
            self->commits[g] = cf_commit_new();
        self->commits_capacity = self->groups;
    }
}

/* The name an event's case or route has in its shard's read: the case_id,
   or the route of a flow with one; NULL for neither. */
static const char *apply_name(const cf_event_t *e, bool *is_case)
{
    *is_case = cf_event_is_case_event(e->type);
    if (*is_case)
        return e->case_id;
    if (e->type == CF_EV_FLOW_OBSERVED && e->route[0])
        return e->route;
    return NULL;
}

/* Cases before routes, then by name; arg is the events (qsort_r: the store
   may run in several threads, one store each). */
static int apply_compare_names(const void *x, const void *y, void *arg)
{
    const cf_event_t *events = arg;
    bool ca, cb;
    const char *a = apply_name(&events[*(const size_t *) x], &ca);
    const char *b = apply_name(&events[*(const size_t *) y], &cb);
    if (ca != cb)
        return ca ? -1 : 1;
    return strcmp(a, b);
}

/* The shard's distinct cases then distinct routes, as event indexes (one
   event of each) in self->unique[start..], their counts in *cases and
   *routes. */
static void apply_distinct(cf_store_t *self, const cf_event_t *events, size_t g,
                           size_t *cases, size_t *routes)
{
    size_t from = self->start[g], n = 0;
    for (size_t j = from; j < self->start[g + 1]; j++) {
        bool is_case;
        if (apply_name(&events[self->order[j]], &is_case))
            self->unique[from + n++] = self->order[j];
    }
    qsort_r(self->unique + from, n, sizeof *self->unique, apply_compare_names,
            (void *) events);
    size_t kept = 0;
    *cases = *routes = 0;
    for (size_t j = 0; j < n; j++) {
        if (kept && apply_compare_names(&self->unique[from + kept - 1], &self->unique[from + j],
                                        (void *) events) == 0)
            continue;
        bool is_case;
        apply_name(&events[self->unique[from + j]], &is_case);
        *(is_case ? cases : routes) += 1;
        self->unique[from + kept++] = self->unique[from + j];
    }
}

/* ---- 1. read --------------------------------------------------------------------- */

/* Order positions by their event's marker bucket; arg is the store. */
static int apply_compare_buckets(const void *x, const void *y, void *arg)
{
    const cf_store_t *self = arg;
    unsigned a = self->buckets[self->order[*(const size_t *) x]];
    unsigned b = self->buckets[self->order[*(const size_t *) y]];
    return (a > b) - (a < b);
}

/* The next run of the group's positions (self->by_bucket[from..to)) that
   share a bucket, from *at; its end. */
static size_t apply_bucket_run(const cf_store_t *self, size_t at, size_t to)
{
    size_t end = at + 1;
    while (end < to && self->buckets[self->order[self->by_bucket[end]]]
                       == self->buckets[self->order[self->by_bucket[at]]])
        end++;
    return end;
}

/* One pipelined command of argc arguments. */
static void apply_append(cf_store_t *self, size_t argc, const char **argv, const size_t *argvlen)
{
    if (redisAppendCommandArgv(self->ctx, (int) argc, argv, argvlen) != REDIS_OK)
        abort();                    /* hiredis could not allocate */
}

/* Appends the shard's reads, after a WATCH of every key they read that the
   fold depends on (its case states, its routes' hash, the marker buckets
   of its events without a state, its owner record): HGET of its owner's
   epoch and last unfenced commit's stamp when it is fenced, MGET of its case states, HMGET of its route
   states, then per marker bucket an HMGET of the events' fields in this
   generation and the one before. base is the
   index its first reply will have; returns how many it will get. */
static size_t apply_append_reads(cf_store_t *self, const cf_event_t *events, size_t g,
                                 size_t base)
{
    unsigned s = self->group_shard[g];
    size_t cases, routes, from = self->start[g], to = self->start[g + 1], replies = 0;
    apply_distinct(self, events, g, &cases, &routes);
    self->cases[g] = cases;
    self->routes[g] = routes;
    for (size_t j = from; j < to; j++)
        self->by_bucket[j] = j;
    qsort_r(self->by_bucket + from, to - from, sizeof *self->by_bucket, apply_compare_buckets,
            self);
    size_t n = to - from, most = 4 + cases + routes + 3 * n;
    const char **argv = cf_calloc(most, sizeof *argv);
    size_t *argvlen = cf_calloc(most, sizeof *argvlen);
    char (*keys)[CF_KEYS_MAX] = cf_calloc(cases + 2 + 3 * n, sizeof *keys);
    size_t argc = 0, nkeys = 0;
#define APPLY_KEY(len_expr) (argv[argc] = keys[nkeys], argvlen[argc++] = (len_expr), nkeys++)
    argv[argc] = "WATCH", argvlen[argc++] = 5;
    for (size_t j = 0; j < cases; j++) {
        const cf_event_t *e = &events[self->unique[from + j]];
        APPLY_KEY(cf_keys_case(keys[nkeys], CF_KEYS_MAX, s, e->case_id, strlen(e->case_id)));
    }
    size_t spike = nkeys, owner = nkeys + (routes > 0);
    if (routes)
        APPLY_KEY(cf_keys_fixed(keys[nkeys], CF_KEYS_MAX, s, CF_KEYS_SPIKE));
    if (self->fence[s])
        APPLY_KEY(cf_keys_fixed(keys[nkeys], CF_KEYS_MAX, s, CF_KEYS_OWNER));
    /* the buckets of events without a state: this generation's, the one
       before (read), and the next (a marker another worker names for it
       while this one commits: docs/storage.md, "The markers' generation") */
    for (size_t at = from, end; at < to; at = end) {
        end = apply_bucket_run(self, at, to);
        bool stateless = false;
        for (size_t k = at; k < end; k++)
            stateless |= !cf_event_is_case_event(events[self->order[self->by_bucket[k]]].type);
        for (long long gen = self->eid_generation - 1; stateless && gen <= self->eid_generation + 1;
             gen++)
            if (gen >= 0)
                APPLY_KEY(cf_keys_eid(keys[nkeys], CF_KEYS_MAX, s, gen,
                                      self->buckets[self->order[self->by_bucket[at]]]));
    }
#undef APPLY_KEY
    assert(argc > 1);               /* every event has a case or a bucket watched */
    apply_append(self, argc, argv, argvlen);
    replies++;
    if (self->fence[s]) {           /* apart: argv keeps the case keys for the MGET */
        const char *hmget[] = { "HMGET", keys[owner], "epoch", "unfenced" };
        const size_t hmgetlen[] = { 5, strlen(keys[owner]), 5, 8 };
        apply_append(self, 4, hmget, hmgetlen);
        replies++;
    }
    if (cases) {                    /* the case keys are the WATCH's first */
        argv[0] = "MGET", argvlen[0] = 4;
        apply_append(self, 1 + cases, argv, argvlen);
        replies++;
    }
    if (routes) {
        argv[0] = "HMGET", argvlen[0] = 5;
        argv[1] = keys[spike], argvlen[1] = strlen(keys[spike]);
        for (size_t j = 0; j < routes; j++) {
            argv[2 + j] = events[self->unique[from + cases + j]].route;
            argvlen[2 + j] = strlen(argv[2 + j]);
        }
        apply_append(self, 2 + routes, argv, argvlen);
        replies++;
    }
    /* per bucket: the markers of both generations */
    char bucket[CF_KEYS_MAX];
    for (size_t at = from, end; at < to; at = end) {
        end = apply_bucket_run(self, at, to);
        unsigned b = self->buckets[self->order[self->by_bucket[at]]];
        argv[0] = "HMGET", argvlen[0] = 5;
        argv[1] = bucket;
        argvlen[1] = cf_keys_eid(bucket, sizeof bucket, s, self->eid_generation, b);
        for (size_t k = at; k < end; k++) {
            size_t j = self->by_bucket[k];
            argv[2 + k - at] = (const char *) self->digests[self->order[j]];
            argvlen[2 + k - at] = CF_KEYS_EID_DIGEST;
            self->marker_at[j] = base + replies;
            self->marker_pos[j] = (unsigned) (k - at);
        }
        apply_append(self, 2 + end - at, argv, argvlen);
        argvlen[1] = cf_keys_eid(bucket, sizeof bucket, s, self->eid_generation - 1, b);
        apply_append(self, 2 + end - at, argv, argvlen);
        replies += 2;
    }
    free(argv), free(argvlen), free(keys);
    return replies;
}

/* Redis's clock over --eid-ttl: the generation the markers are named for. */
static int apply_take_time(cf_store_t *self, const redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR)   /* NOPERM: Redis's own words */
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "TIME: %s", reply->str);
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING)
        return cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "TIME: unexpected reply");
    self->eid_generation = strtoll(reply->element[0]->str, NULL, 10) / (long long) self->eid_ttl;
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
static size_t apply_append_claims(cf_store_t *self)
{
    size_t claims = 0;
    for (size_t g = 0; g < self->groups; g++) {
        unsigned s = self->group_shard[g];
        if (!self->pending[g] || !self->fence[s] || self->claimed[s])
            continue;
        char key[CF_KEYS_MAX];
        cf_keys_fixed(key, sizeof key, s, CF_KEYS_OWNER);
        if (redisAppendCommand(self->ctx, "HINCRBY %s claims 1", key) != REDIS_OK)
            abort();
        self->claimed[s] = 2;       /* sent: apply_take_claims reads its reply */
        claims++;
    }
    return claims;
}

/* The claims' replies; a claim refused is a shard not committed now (its
   mark taken back, so that the next attempt claims it again). */
static int apply_take_claims(cf_store_t *self, size_t claims)
{
    int rc = 0;
    for (size_t g = 0, c = 0; c < claims && g < self->groups; g++) {
        unsigned s = self->group_shard[g];
        if (!self->pending[g] || self->claimed[s] != 2)
            continue;
        void *reply = NULL;
        if (redisGetReply(self->ctx, &reply) != REDIS_OK || !reply)
            return cf_store_fail_io(self, "HINCRBY claims");
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

/* Sends the reads of the groups pending and keeps their replies
   (self->reads, from self->read_start[g]). */
static int apply_read_round(cf_store_t *self, const cf_event_t *events)
{
    void *reply = NULL;
    if (self->eid_generation < 0) {         /* the first call: markers need a generation */
        if (redisAppendCommand(self->ctx, "TIME") != REDIS_OK)
            abort();
        if (redisGetReply(self->ctx, &reply) != REDIS_OK || !reply)
            return cf_store_fail_io(self, "TIME");
        int rc = apply_take_time(self, reply);
        freeReplyObject(reply);
        if (rc < 0)
            return -1;
    }
    self->read_generation = self->eid_generation;
    /* a WATCH left by an attempt that sent no EXEC would refuse this one's
       EXEC for keys it no longer reads */
    size_t unwatch = cf_store_append_unwatch(self);
    size_t claims = apply_append_claims(self);
    /* TIME again, in the same round trip as the reads, which name the
       markers for the generation last seen: apply_read reads again when it
       moved. */
    if (redisAppendCommand(self->ctx, "TIME") != REDIS_OK)
        abort();
    size_t total = 0;
    for (size_t g = 0; g < self->groups; g++) {
        self->read_start[g] = total;
        if (self->pending[g])
            total += apply_append_reads(self, events, g, total);
    }
    self->read_start[self->groups] = total;
    self->watching = true;
    self->reads = cf_grow(self->reads, &self->reads_capacity, total ? total : 1,
                          sizeof *self->reads);
    for (size_t u = 0; u < unwatch; u++) {
        if (redisGetReply(self->ctx, &reply) != REDIS_OK || !reply)
            return cf_store_fail_io(self, "UNWATCH");
        freeReplyObject(reply);
    }
    int claimed = apply_take_claims(self, claims);
    if (!self->ctx)                 /* lost: cf_store_fail_io disconnected */
        return -1;
    if (redisGetReply(self->ctx, &reply) != REDIS_OK || !reply)
        return cf_store_fail_io(self, "TIME");
    int rc = apply_take_time(self, reply);
    freeReplyObject(reply);
    for (size_t r = 0; r < total; r++) {
        reply = NULL;
        if (redisGetReply(self->ctx, &reply) != REDIS_OK || !reply) {
            self->nreads = r;
            return cf_store_fail_io(self, "reading the batch's states");
        }
        self->reads[r] = reply;
        self->nreads = r + 1;
    }
    return claimed < 0 ? -1 : rc;
}

static void apply_free_reads(cf_store_t *self)
{
    for (size_t r = 0; r < self->nreads; r++)
        freeReplyObject(self->reads[r]);
    self->nreads = 0;
}

/* The read round, again when the markers' generation moved under it (the
   markers read were those of the generation before: a marker written in
   the new one would be missed, and a state read after it would count its
   event twice). */
static int apply_read(cf_store_t *self, const cf_event_t *events)
{
    for (int round = 0; round < 3; round++) {
        if (apply_read_round(self, events) < 0)
            return -1;
        if (self->read_generation == self->eid_generation)
            return 0;
        apply_free_reads(self);
    }
    return cf_store_fail(self, CF_STORE_ERR_REDIS, "the markers' generation keeps changing");
}

/* The states a shard's read round asked for: part 0 its cases, part 1 its
   routes, in the order of apply_distinct; and the event (one of each)
   that names state j of a part. */
static size_t apply_states(const cf_store_t *self, size_t g, int part)
{
    return part == 0 ? self->cases[g] : self->routes[g];
}

static const cf_event_t *apply_state_event(const cf_store_t *self, const cf_event_t *events,
                                           size_t g, int part, size_t j)
{
    return &events[self->unique[self->start[g] + (part ? self->cases[g] : 0) + j]];
}

/* ---- 2. fold ------------------------------------------------------------------- */

/* The first reply of group g's states: after its WATCH and its owner's
   epoch. */
static size_t apply_states_read(const cf_store_t *self, size_t g)
{
    return self->read_start[g] + 1 + (self->fence[self->group_shard[g]] != 0);
}

/* Whether the group's shard is fenced off: its owner record holds another
   epoch than the one the worker was given (the broker gave the shard to
   another worker since), so that it writes nothing. 1, 0, -1. A shard not
   fenced off whose record holds another stamp of an unfenced commit than
   last read (apply_build) had its counters written by another worker:
   the owner's cache of them is dropped. */
static int apply_fenced(cf_store_t *self, size_t g)
{
    unsigned s = self->group_shard[g];
    const redisReply *watch = self->reads[self->read_start[g]];
    if (watch->type == REDIS_REPLY_ERROR)
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: WATCH: %s", s, watch->str);
    if (!self->fence[s])
        return 0;
    const redisReply *owner = self->reads[self->read_start[g] + 1];
    if (owner->type != REDIS_REPLY_ARRAY || owner->elements != 2)
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: reading its owner: %s", s,
                             owner->type == REDIS_REPLY_ERROR ? owner->str : "unexpected reply");
    const redisReply *epoch = owner->element[0], *stamp = owner->element[1];
    char want[24];
    snprintf(want, sizeof want, "%llu", (unsigned long long) self->fence[s]);
    if (epoch->type != REDIS_REPLY_STRING || strcmp(epoch->str, want) != 0)
        return 1;
    uint64_t seen = stamp->type == REDIS_REPLY_STRING ? cf_shard_hash(stamp->str, stamp->len) : 0;
    if (seen != self->unfenced_seen[s]) {
        cf_commit_cache_drop(self->cache, s);
        self->unfenced_seen[s] = seen;
    }
    return 0;
}

/* Loads the states the shard's reads returned into the fold. */
static int apply_load(cf_store_t *self, const cf_event_t *events, size_t g)
{
    unsigned s = self->group_shard[g];
    size_t r = apply_states_read(self, g);
    const redisReply *states[2] = { NULL, NULL };
    for (int part = 0; part < 2; part++) {
        size_t n = apply_states(self, g, part);
        if (!n)
            continue;
        const redisReply *reply = self->reads[r++];
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != n)
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: reading %s: %s", s,
                                 part == 0 ? "case states" : "route states",
                                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        states[part] = reply;
    }
    for (int part = 0; part < 2; part++) {
        size_t n = apply_states(self, g, part);
        for (size_t j = 0; j < n; j++) {
            const cf_event_t *e = apply_state_event(self, events, g, part, j);
            const redisReply *v = states[part]->element[j];
            const char *data = v->type == REDIS_REPLY_STRING ? v->str : NULL;
            size_t len = data ? v->len : 0;
            if (v->type != REDIS_REPLY_STRING && v->type != REDIS_REPLY_NIL)
                return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: a state is not a string", s);
            int rc = part == 0 ? cf_fold_load_case(self->fold, e->case_id, data, len)
                               : cf_fold_load_route(self->fold, e->route, data, len);
            if (rc < 0)
                return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: %s %s: %s", s,
                                     part == 0 ? "case" : "route", part == 0 ? e->case_id : e->route,
                                     cf_fold_error(self->fold));
        }
    }
    return 0;
}

/* What the read round says of the marker of the event at order position j
   (event i): *seen 0 none, 1 its request's, 2 another's (any, when the event
   serves no request). -1 when Redis refused the read (a bucket of another
   type). */
static int apply_marker(cf_store_t *self, size_t g, size_t j, size_t i, int *seen)
{
    size_t len;
    const char *tag = cf_store_tag(self, i, &len);
    *seen = 0;
    for (size_t gen = 1; gen <= 2; gen++) {
        const redisReply *markers = self->reads[self->marker_at[j] + gen - 1];
        if (markers->type != REDIS_REPLY_ARRAY || markers->elements <= self->marker_pos[j])
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: reading dedupe markers: %s",
                                 self->group_shard[g], markers->type == REDIS_REPLY_ERROR
                                                       ? markers->str : "unexpected reply");
        const redisReply *v = markers->element[self->marker_pos[j]];
        if (v->type != REDIS_REPLY_STRING || *seen)
            continue;
        *seen = len && v->len == len && memcmp(v->str, tag, len) == 0 ? 1 : 2;
    }
    return 0;
}

/* Whether digest was seen before in this shard's batch (an open-addressing
   set over the digests, cleared per shard). */
static bool apply_seen(cf_store_t *self, const unsigned char *digest)
{
    size_t mask = self->seen_slots - 1, at;
    memcpy(&at, digest, sizeof at);
    for (at &= mask; self->seen[at]; at = (at + 1) & mask)
        if (memcmp(self->seen[at], digest, CF_KEYS_EID_DIGEST) == 0)
            return true;
    self->seen[at] = digest;
    return false;
}

static void apply_seen_clear(cf_store_t *self, size_t n)
{
    size_t want = 16;
    while (want < 2 * n)
        want *= 2;
    if (want > self->seen_slots) {
        free(self->seen);
        self->seen = cf_calloc(want, sizeof *self->seen);
        self->seen_slots = want;
    }
    memset(self->seen, 0, self->seen_slots * sizeof *self->seen);
}

/* Folds the shard's events into the fold, filling their statuses. */
static int apply_fold(cf_store_t *self, const cf_event_t *events, size_t g,
                      cf_ack_status_t *statuses)
{
    cf_fold_reset(self->fold);
    if (apply_load(self, events, g) < 0)
        return -1;
    size_t n = self->start[g + 1] - self->start[g];
    apply_seen_clear(self, n);
    for (size_t j = self->start[g]; j < self->start[g + 1]; j++) {
        size_t i = self->order[j];
        bool repeat = apply_seen(self, self->digests[i]);
        int marker;
        if (apply_marker(self, g, j, i, &marker) < 0)
            return -1;
        self->fresh[j] = !repeat && marker == 0;
        statuses[i] = self->fresh[j] || (!repeat && marker == 1) ? CF_ACK_ACCEPTED
                                                                  : CF_ACK_DUPLICATE;
        /* a repeat within the request whose marker is the request's own was
           counted by the commit that set the marker (the same shard-batch of
           the same request): an attempt again, after a fence or an error,
           counts it no more */
        if (self->fresh[j] || (statuses[i] == CF_ACK_DUPLICATE && marker != 1))
            cf_fold_apply(self->fold, &events[i], self->fresh[j]);
    }
    cf_fold_finish(self->fold);
    const char *why = cf_fold_error(self->fold);
    if (why && *why)
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: %s", self->group_shard[g],
                             cf_fold_error(self->fold));
    return 0;
}

/* ---- 3. commit ----------------------------------------------------------------- */

/* The marker buckets whose expiry this store set in the current generation,
   a bit per shard and bucket: a bucket gets its EXPIREAT from the first
   commit of this store that writes it in a generation, and no read asks
   whether it has one (with ownership, one store writes a shard's buckets;
   another store's EXPIREAT of the same bucket sets the same time). The
   bits are forgotten when the generation moves, whenever a commit ends
   otherwise than written (a bucket emptied behind the store's back, as by
   a FLUSHALL, also fences the owner's next commit), and every
   APPLY_EXPIRY_FORGET_MS, so that a bucket that lost its expiry some
   other way (a PERSIST, a Redis restored from an old file) gets it back
   with its next marker. */
static void apply_expiry_clear(cf_store_t *self)
{
    size_t words = ((size_t) self->shards * CF_KEYS_EID_BUCKETS + 63) / 64;
    self->expiry_bits = cf_grow(self->expiry_bits, &self->expiry_words, words,
                                sizeof *self->expiry_bits);
    memset(self->expiry_bits, 0, words * sizeof *self->expiry_bits);
    self->expiry_generation = self->eid_generation;
    self->expiry_cleared_at = cf_clock_ms();
}

static bool apply_expiry_known(cf_store_t *self, unsigned s, unsigned bucket)
{
    if (!self->expiry_bits || self->expiry_generation != self->eid_generation
        || cf_clock_ms() - self->expiry_cleared_at > APPLY_EXPIRY_FORGET_MS)
        apply_expiry_clear(self);
    size_t bit = (size_t) s * CF_KEYS_EID_BUCKETS + bucket;
    return self->expiry_bits[bit / 64] >> (bit % 64) & 1;
}

/* After the commit: the buckets of the groups written have their expiry;
   any other ending forgets every bucket. */
static void apply_expiry_learn(cf_store_t *self)
{
    for (size_t g = 0; g < self->groups; g++)
        if (self->commit_state[g] != CF_STORE_COMMIT_NONE
            && self->commit_state[g] != CF_STORE_COMMIT_DONE) {
            apply_expiry_clear(self);
            return;
        }
    for (size_t g = 0; g < self->groups; g++)
        for (size_t j = self->start[g];
             self->commit_state[g] == CF_STORE_COMMIT_DONE && j < self->start[g + 1]; j++)
            if (self->fresh[j]) {
                size_t bit = (size_t) self->group_shard[g] * CF_KEYS_EID_BUCKETS
                           + self->buckets[self->order[j]];
                self->expiry_bits[bit / 64] |= UINT64_C(1) << (bit % 64);
            }
}

/* Builds group g's commit: the fold's writes, each new event's marker (in
   this generation's bucket, with the bucket's expiry when this store did
   not set it yet in this generation)
   and a type check of each case key read absent (MGET answers nil for a
   key of another type too); unfenced, a new stamp in the shard's owner
   record (field "unfenced"): a fenced transaction of the shard watches the
   record, and computed its counters without watching them, so it is
   refused if it comes later (it would set back what this commit counts);
   and the owner's next commit reads the stamp and drops its cache.
   Returns whether it writes anything. */
static bool apply_build(cf_store_t *self, const cf_event_t *events, size_t g)
{
    cf_commit_t *c = self->commits[g];
    cf_commit_reset(c);
    char key[CF_KEYS_MAX];
    unsigned s = self->group_shard[g];
    if (self->cases[g]) {
        const redisReply *states = self->reads[apply_states_read(self, g)];
        for (size_t j = 0; j < self->cases[g]; j++) {
            const cf_event_t *e = apply_state_event(self, events, g, 0, j);
            if (states->element[j]->type == REDIS_REPLY_NIL)
                cf_commit_type(c, cf_commit_key(c, key, cf_keys_case(key, sizeof key, s,
                               e->case_id, strlen(e->case_id))), "string");
        }
    }
    int64_t expire_at = (self->eid_generation + 2) * (int64_t) self->eid_ttl;
    for (size_t j = self->start[g]; j < self->start[g + 1]; j++) {
        if (!self->fresh[j])
            continue;
        size_t i = self->order[j];
        size_t now = cf_commit_key(c, key, cf_keys_eid(key, sizeof key, s, self->eid_generation,
                                                       self->buckets[i]));
        size_t len;
        const char *tag = cf_store_tag(self, i, &len);
        cf_commit_hset(c, now, self->digests[i], CF_KEYS_EID_DIGEST, len ? tag : "0",
                       len ? len : 1);
        if (!apply_expiry_known(self, s, self->buckets[i]))
            cf_commit_expireat(c, now, expire_at);
    }
    cf_store_build_writes(self, c, s);
    if (!self->fence[s] && cf_commit_writes(c)) {
        size_t owner = cf_commit_key(c, key, cf_keys_fixed(key, sizeof key, s, CF_KEYS_OWNER));
        cf_commit_type(c, owner, "hash");   /* the HSET, checked first as every write */
        char stamp[48];                     /* this store's, and its count of them */
        int len = snprintf(stamp, sizeof stamp, "%016llx-%llu",
                           (unsigned long long) self->stamp_id,
                           (unsigned long long) ++self->unfenced_writes);
        cf_commit_hset(c, owner, "unfenced", 8, stamp, (size_t) len);
    }
    return cf_commit_writes(c);
}

/* One attempt for the groups pending: read, fold, commit. Leaves pending
   the groups to run again (EXEC found a key read changed); returns how
   many in *left. */
static int apply_attempt(cf_store_t *self, const cf_event_t *events, cf_ack_status_t *statuses,
                         size_t *left)
{
    int rc = apply_read(self, events);
    size_t send = 0;
    for (size_t g = 0; g < self->groups; g++) {
        self->commit_state[g] = CF_STORE_COMMIT_NONE;
        if (!self->pending[g])
            continue;
        int fenced = rc < 0 ? -1 : apply_fenced(self, g);
        if (fenced != 0) {          /* not ours any more: not tried again */
            cf_commit_cache_drop(self->cache, self->group_shard[g]);   /* nor known */
            self->fenced[g] = fenced > 0;
            apply_expiry_clear(self);   /* the owner record moved or was lost */
            rc = fenced < 0 ? -1 : 0;
            continue;
        }
        rc = apply_fold(self, events, g, statuses);
        if (rc == 0 && apply_build(self, events, g)) {
            self->commit_state[g] = CF_STORE_COMMIT_SEND;
            send++;
        }
    }
    memset(self->pending, 0, self->groups * sizeof *self->pending);
    if (send) {
        char why[400];
        int run = cf_store_commit_run(self, self->commits, self->groups, self->commit_state,
                                      self->group_shard, true, NULL, why, sizeof why);
        if (run < 0)
            rc = -1;
        else if (run > 0 && rc == 0)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "%s", why);
        for (size_t g = 0; g < self->groups; g++)
            self->pending[g] = self->commit_state[g] == CF_STORE_COMMIT_CONFLICT;
        if (run < 0)
            apply_expiry_clear(self);   /* an unknown outcome */
        else
            apply_expiry_learn(self);
    }
    apply_free_reads(self);
    *left = 0;
    for (size_t g = 0; g < self->groups; g++)
        *left += self->pending[g];
    return rc;
}

/* The shards still pending, "3, 17, ..." into buf. */
static const char *apply_pending_names(const cf_store_t *self, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t g = 0; g < self->groups && used + 16 < size; g++)
        if (self->pending[g])
            used += (size_t) snprintf(buf + used, size - used, "%s%u", used ? ", " : "",
                                      self->group_shard[g]);
    return buf;
}

/* Waits a random while, longer with each attempt, up to APPLY_BACKOFF_US,
   so that two stores whose commits keep refusing each other's stop
   meeting. */
static void apply_backoff(cf_store_t *self, int attempt)
{
    self->backoff_seed = self->backoff_seed * 6364136223846793005u + 1442695040888963407u;
    unsigned most = 100u << (attempt < 6 ? attempt : 6);
    if (most > APPLY_BACKOFF_US)
        most = APPLY_BACKOFF_US;
    struct timespec wait = { 0, (long) ((self->backoff_seed >> 33) % most) * 1000 };
    nanosleep(&wait, NULL);
}

static int apply_batch(cf_store_t *self, cf_event_t *events, size_t count,
                       cf_ack_status_t *statuses)
{
    assert(self && (count == 0 || (events && statuses)));
    cf_store_clear_error(self);
    if (count == 0)
        return 0;
    char why[160];
    if (cf_store_check_events(events, count, why, sizeof why) < 0)
        return cf_store_fail(self, CF_STORE_ERR_INPUT, "%s", why);
    if (self->rules_error[0])
        return cf_store_fail(self, CF_STORE_ERR_INPUT, "rules: %s", self->rules_error);
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    apply_group(self, events, count);
    self->fresh = cf_grow(self->fresh, &self->fresh_capacity, count, sizeof *self->fresh);
    memset(self->pending, 1, self->groups * sizeof *self->pending);
    memset(self->fenced, 0, self->groups * sizeof *self->fenced);
    self->fenced_events = 0;
    size_t pending = self->groups;
    for (int attempt = 0; pending; attempt++) {
        if (attempt == APPLY_ATTEMPTS)
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "the states of shards %s keep "
                                 "changing while they are committed",
                                 apply_pending_names(self, why, sizeof why));
        if (attempt >= 2)           /* two workers that keep colliding on one case: apart */
            apply_backoff(self, attempt);
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        if (apply_attempt(self, events, statuses, &pending) < 0)
            return -1;
        clock_gettime(CLOCK_MONOTONIC, &end);
        cf_metric_observe(self->latency, (double) (end.tv_sec - start.tv_sec)
                                         + (double) (end.tv_nsec - start.tv_nsec) / 1e9);
    }
    /* nothing acked before the replicas hold it, with ack-replicas */
    if (cf_store_wait_replicas(self, self->group_shard[0]) < 0)
        return -1;
    /* a fenced shard wrote nothing: its events stay unapplied, busy, for the
       broker to send to the shard's owner now; the others' stand */
    for (size_t g = 0; g < self->groups; g++)
        for (size_t k = self->start[g]; self->fenced[g] && k < self->start[g + 1]; k++) {
            statuses[self->order[k]] = CF_ACK_BUSY;
            self->fenced_events++;
        }
    return 0;
}

int cf_store_apply(cf_store_t *self, cf_event_t *events, size_t count,
                   cf_ack_status_t *statuses)
{
    assert(self);
    size_t tags = self->event_tag_count;
    int rc = tags && tags != count
           ? cf_store_fail(self, CF_STORE_ERR_INPUT, "%zu events but %zu requests set for them",
                           count, tags)
           : apply_batch(self, events, count, statuses);
    self->event_tag_count = 0;              /* cf_store_set_requests: for this call only */
    return rc;
}
