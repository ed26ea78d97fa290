/*  cf_store_apply: a batch of validated events, applied: the worker computes,
    Redis stores (docs/storage.md, "The apply path"). Per shard:
      1. read   the states of the batch's cases and routes (one pipelined
                round trip for every shard, with Redis's clock for the dedupe
                markers' generation; a store's first call asks the clock
                first);
      2. fold   the events over them in C (cf_fold): new states, merged counter
                deltas, notifications, deadlines;
      3. commit the result with one call of caseflow_commit (lua/commit.lua,
                cf_commit), guarded by what was read, whole or not at all.
    The read round reads each event's dedupe marker with plain commands,
    outside the commit: the commit's guard on each case's state stands for
    the markers of that case's events, since every event applied to a case
    changes its state (cf_fold counts them); only events without a state of
    their own (funding, flows) have their markers guarded in the commit. A
    case another worker changed in between fails the guard (CFSTALE), and
    the shard is read and folded again. So the common case costs two round
    trips, and a retry after a lost reply finds its own markers and changes
    nothing.                                                                 */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit.h"
#include "caseflow/cf_fold.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#define APPLY_ATTEMPTS  16      /* commits of one shard before giving up */
#define APPLY_BACKOFF_US 2000   /* the most a retry waits, after a few collisions */

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
        self->marker_reads = cf_realloc(self->marker_reads, count * sizeof *self->marker_reads);
        self->pending = cf_realloc(self->pending, count * sizeof *self->pending);
        self->fenced = cf_realloc(self->fenced, count * sizeof *self->fenced);
        self->sent = cf_realloc(self->sent, count * sizeof *self->sent);
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

/* Appends the shard's reads: MGET of its case states, HMGET of its route
   states, and each event's markers (HGET of its field in
   this generation's bucket and the previous one). Returns the replies it
   will get. */
static size_t apply_append_reads(cf_store_t *self, const cf_event_t *events, size_t g)
{
    unsigned s = self->group_shard[g];
    size_t cases, routes, from = self->start[g], replies = 0;
    apply_distinct(self, events, g, &cases, &routes);
    self->cases[g] = cases;
    self->routes[g] = routes;
    size_t most = 2 + cases + routes;
    const char **argv = cf_calloc(most, sizeof *argv);
    size_t *argvlen = cf_calloc(most, sizeof *argvlen);
    char (*keys)[CF_KEYS_MAX] = cf_calloc(cases + 1, sizeof *keys);
    if (cases) {
        argv[0] = "MGET", argvlen[0] = 4;
        for (size_t j = 0; j < cases; j++) {
            const cf_event_t *e = &events[self->unique[from + j]];
            argv[1 + j] = keys[j];
            argvlen[1 + j] = cf_keys_case(keys[j], CF_KEYS_MAX, s, e->case_id, strlen(e->case_id));
        }
        if (redisAppendCommandArgv(self->ctx, (int) (1 + cases), argv, argvlen) != REDIS_OK)
            abort();
        replies++;
    }
    if (routes) {
        argv[0] = "HMGET", argvlen[0] = 5;
        argvlen[1] = cf_keys_fixed(keys[0], CF_KEYS_MAX, s, CF_KEYS_SPIKE);
        argv[1] = keys[0];
        for (size_t j = 0; j < routes; j++) {
            argv[2 + j] = events[self->unique[from + cases + j]].route;
            argvlen[2 + j] = strlen(argv[2 + j]);
        }
        if (redisAppendCommandArgv(self->ctx, (int) (2 + routes), argv, argvlen) != REDIS_OK)
            abort();
        replies++;
    }
    /* each event's bucket's expiry, so that the commit sets it only on a
       bucket that has none yet (most buckets have it: one per shard and
       bucket, and each gets it once) */
    for (size_t j = from; j < self->start[g + 1]; j++) {
        cf_keys_eid(keys[0], CF_KEYS_MAX, s, self->eid_generation, self->buckets[self->order[j]]);
        if (redisAppendCommand(self->ctx, "EXPIRETIME %s", keys[0]) != REDIS_OK)
            abort();
        replies++;
    }
    for (size_t j = from; j < self->start[g + 1]; j++) {
        size_t i = self->order[j];
        for (long long gen = self->eid_generation; gen >= self->eid_generation - 1; gen--) {
            cf_keys_eid(keys[0], CF_KEYS_MAX, s, gen, self->buckets[i]);
            if (redisAppendCommand(self->ctx, "HGET %s %b", keys[0], self->digests[i],
                                   (size_t) CF_KEYS_EID_DIGEST) != REDIS_OK)
                abort();
            replies++;
        }
    }
    free(argv), free(argvlen), free(keys);
    return replies;
}

/* Redis's clock over --eid-ttl: the generation the markers are named for. */
static int apply_take_time(cf_store_t *self, const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING)
        return cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "TIME: unexpected reply");
    self->eid_generation = strtoll(reply->element[0]->str, NULL, 10) / (long long) self->eid_ttl;
    return 0;
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
    /* TIME again, in the same round trip as the reads, which name the
       markers for the generation last seen: apply_read reads again when it
       moved. */
    if (redisAppendCommand(self->ctx, "TIME") != REDIS_OK)
        abort();
    size_t total = 0;
    for (size_t g = 0; g < self->groups; g++) {
        self->read_start[g] = total;
        if (self->pending[g])
            total += apply_append_reads(self, events, g);
    }
    self->read_start[self->groups] = total;
    self->reads = cf_grow(self->reads, &self->reads_capacity, total ? total : 1,
                          sizeof *self->reads);
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
    return rc;
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

/* Loads the states the shard's reads returned into the fold. */
static int apply_load(cf_store_t *self, const cf_event_t *events, size_t g)
{
    unsigned s = self->group_shard[g];
    size_t r = self->read_start[g];
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
    self->marker_reads[g] = r;
    return 0;
}

/* What the read round says of event i's marker: 0 none, 1 this request's,
   2 another's (any, when the call serves no request). */
static int apply_marker(cf_store_t *self, size_t *r)
{
    int seen = 0;
    for (int g = 0; g < 2; g++) {
        const redisReply *v = self->reads[(*r)++];
        if (v->type != REDIS_REPLY_STRING || seen)
            continue;
        seen = self->request_len && v->len == self->request_len
             && memcmp(v->str, self->request, v->len) == 0 ? 1 : 2;
    }
    return seen;
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
    size_t expiry = self->marker_reads[g], r = expiry + n;
    int64_t expire_at = (self->eid_generation + 2) * (int64_t) self->eid_ttl;
    apply_seen_clear(self, n);
    for (size_t j = self->start[g]; j < self->start[g + 1]; j++) {
        size_t i = self->order[j];
        const redisReply *e = self->reads[expiry++];
        self->expiry_set[j] = self->read_generation == self->eid_generation
                            && e->type == REDIS_REPLY_INTEGER && e->integer >= expire_at;
        bool repeat = apply_seen(self, self->digests[i]);
        int marker = apply_marker(self, &r);
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

size_t cf_store_commit_fixed(cf_store_t *self, unsigned s, int key)
{
    char name[CF_KEYS_MAX];
    size_t k = cf_commit_key(self->commit, name, cf_keys_fixed(name, sizeof name, s, key));
    const char *type = cf_keys_fixed_type(key);
    if (strcmp(type, "hash") != 0)  /* a hash is read by its guard or its counters first */
        cf_commit_guard_type(self->commit, k, type);
    return k;
}

/* The guards: every state the fold read, and each new event's marker absent
   in both generations; then the markers to set. */
static void apply_build_guards(cf_store_t *self, const cf_event_t *events, size_t g)
{
    cf_commit_t *c = self->commit;
    char key[CF_KEYS_MAX];
    unsigned s = self->group_shard[g];
    size_t from = self->start[g], r = self->read_start[g];
    for (int part = 0; part < 2; part++) {
        size_t n = apply_states(self, g, part);
        if (!n)
            continue;
        const redisReply *states = self->reads[r++];
        size_t spike = part == 1 ? cf_commit_key(c, key, cf_keys_fixed(key, sizeof key, s,
                                                                       CF_KEYS_SPIKE)) : 0;
        for (size_t j = 0; j < n; j++) {
            const cf_event_t *e = apply_state_event(self, events, g, part, j);
            const redisReply *v = states->element[j];
            const char *old = v->type == REDIS_REPLY_STRING ? v->str : NULL;
            if (part == 0)
                cf_commit_guard_value(c, cf_commit_key(c, key, cf_keys_case(key, sizeof key, s,
                                      e->case_id, strlen(e->case_id))), old, old ? v->len : 0);
            else
                cf_commit_guard_field(c, spike, e->route, strlen(e->route), old, old ? v->len : 0);
        }
    }
    const char *tag = self->request_len ? self->request : "0";
    int64_t expire_at = (self->eid_generation + 2) * (int64_t) self->eid_ttl;
    for (size_t j = from; j < self->start[g + 1]; j++) {
        if (!self->fresh[j])
            continue;
        size_t i = self->order[j];
        size_t now = cf_commit_key(c, key, cf_keys_eid(key, sizeof key, s, self->eid_generation,
                                                       self->buckets[i]));
        size_t before = cf_commit_key(c, key, cf_keys_eid(key, sizeof key, s,
                                                          self->eid_generation - 1,
                                                          self->buckets[i]));
        if (!cf_event_is_case_event(events[i].type)) {     /* no state stands for it */
            cf_commit_guard_absent(c, now, self->digests[i], CF_KEYS_EID_DIGEST);
            cf_commit_guard_absent(c, before, self->digests[i], CF_KEYS_EID_DIGEST);
        }
        cf_commit_hset(c, now, self->digests[i], CF_KEYS_EID_DIGEST, tag, strlen(tag));
        if (!self->expiry_set[j])
            cf_commit_expireat(c, now, expire_at);
    }
}

void cf_store_build_writes(cf_store_t *self, unsigned s)
{
    cf_commit_t *c = self->commit;
    const cf_fold_t *fold = self->fold;
    char key[CF_KEYS_MAX];
    for (size_t j = 0; j < cf_fold_cases(fold); j++) {
        const char *id;
        const void *state;
        size_t len;
        bool closed;
        cf_fold_case(fold, j, &id, &state, &len, &closed);
        cf_commit_set(c, cf_commit_key(c, key, cf_keys_case(key, sizeof key, s, id, strlen(id))),
                      state, len, closed ? self->case_ttl : 0);
    }
    for (size_t j = 0; j < cf_fold_routes(fold); j++) {
        const char *route;
        const void *state;
        size_t len;
        cf_fold_route(fold, j, &route, &state, &len);
        cf_commit_hset(c, cf_store_commit_fixed(self, s, CF_KEYS_SPIKE), route, strlen(route), state, len);
    }
    for (size_t j = 0; j < cf_fold_counters(fold); j++) {
        int family;
        const char *field;
        size_t len;
        int64_t delta;
        cf_fold_counter(fold, j, &family, &field, &len, &delta);
        cf_commit_incr(c, cf_store_commit_fixed(self, s, family), field, len, delta);
    }
    for (size_t j = 0; j < cf_fold_route_days(fold); j++) {
        const char *field;
        size_t len;
        int64_t delta;
        cf_fold_route_day(fold, j, &field, &len, &delta);
        cf_commit_incr(c, cf_store_commit_fixed(self, s, CF_KEYS_ROUTE_DAY), field, len, delta);
    }
    for (size_t j = 0; j < cf_fold_deadlines(fold); j++) {
        const char *member;
        size_t len;
        int64_t due;
        cf_fold_deadline(fold, j, &member, &len, &due);
        size_t k = cf_store_commit_fixed(self, s, CF_KEYS_DUE);
        if (due >= 0)
            cf_commit_zadd(c, k, due, member, len);
        else
            cf_commit_zrem(c, k, member, len);
    }
    for (size_t j = 0; j < cf_fold_notes(fold); j++) {
        const char *topic;
        const void *body;
        size_t len;
        cf_fold_note(fold, j, &topic, &body, &len);
        cf_commit_xadd(c, cf_store_commit_fixed(self, s, CF_KEYS_OUTBOX), topic, strlen(topic), body, len);
    }
}

uint64_t cf_store_conflicts(const cf_store_t *self)
{
    assert(self);
    return self->conflicts;
}

int cf_store_commit_send(cf_store_t *self, const char *generation, unsigned *notes)
{
    if (!cf_commit_writes(self->commit))
        return 0;
    const char **argv;
    const size_t *argvlen;
    size_t argc;
    cf_commit_argv(self->commit, CF_STORE_FN_COMMIT, self->version, generation, self->eid_ttl,
                   &argv, &argvlen, &argc);
    redisReply *reply = redisCommandArgv(self->ctx, (int) argc, argv, argvlen);
    if (!reply)
        return cf_store_fail_io(self, "FCALL " CF_STORE_FN_COMMIT);
    int rc = 0;
    if (reply->type == REDIS_REPLY_INTEGER)
        *notes += (unsigned) reply->integer;
    else if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "CFSTALE ", 8) == 0)
        self->conflicts++;
    else
        rc = cf_store_fail_call(self, CF_STORE_FN_COMMIT, reply->type == REDIS_REPLY_ERROR
                                                          ? reply->str : "unexpected reply");
    freeReplyObject(reply);
    return rc;
}

/* Appends group g's commit; false when it has nothing to write. */
static bool apply_append_commit(cf_store_t *self, const cf_event_t *events, size_t g)
{
    cf_commit_reset(self->commit);
    unsigned s = self->group_shard[g];
    if (self->fence[s]) {           /* first: a refusal answers CFSTALE 1 */
        char key[CF_KEYS_MAX], epoch[24];
        size_t k = cf_commit_key(self->commit, key, cf_keys_fixed(key, sizeof key, s,
                                                                 CF_KEYS_OWNER));
        int len = snprintf(epoch, sizeof epoch, "%llu", (unsigned long long) self->fence[s]);
        cf_commit_fence(self->commit, k, "epoch", 5, epoch, (size_t) len);
    }
    apply_build_guards(self, events, g);
    cf_store_build_writes(self, self->group_shard[g]);
    if (!cf_commit_writes(self->commit))
        return false;
    char generation[24];
    snprintf(generation, sizeof generation, "%lld", self->eid_generation);
    const char **argv;
    const size_t *argvlen;
    size_t argc;
    cf_commit_argv(self->commit, CF_STORE_FN_COMMIT, self->version, generation,
                   self->eid_ttl, &argv, &argvlen, &argc);
    if (redisAppendCommandArgv(self->ctx, (int) argc, argv, argvlen) != REDIS_OK)
        abort();                    /* hiredis could not allocate */
    return true;
}

/* Reads the replies of the commits sent (self->sent). The groups to run
   again are left pending: a guard failed, the markers' generation moved, or
   the library is gone (*gone). */
static int apply_take_commits(cf_store_t *self, bool *gone)
{
    int rc = 0;
    for (size_t g = 0; g < self->groups; g++) {
        if (!self->sent[g])
            continue;
        unsigned s = self->group_shard[g];
        redisReply *reply = NULL;
        if (redisGetReply(self->ctx, (void **) &reply) != REDIS_OK || !reply)
            return cf_store_fail_io(self, "FCALL " CF_STORE_FN_COMMIT);
        long long generation;
        if (reply->type == REDIS_REPLY_INTEGER)
            ;
        else if (reply->type != REDIS_REPLY_ERROR)
            rc = rc ? rc : cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "shard %u: unexpected reply", s);
        else if (strncmp(reply->str, "CFSTALE ", 8) == 0 && self->fence[s]
                 && atoi(reply->str + 8) == CF_COMMIT_FENCE_OP)     /* not ours any more */
            self->fenced[g] = 1;
        else if (strncmp(reply->str, "CFSTALE ", 8) == 0)
            self->pending[g] = 1, self->conflicts++;
        else if (sscanf(reply->str, "CFGEN %lld", &generation) == 1 && generation >= 0)
            self->pending[g] = 1;
        else if (cf_store_library_gone(reply->str))
            self->pending[g] = 1, *gone = true;
        else
            rc = rc ? rc : cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: %s", s, reply->str);
        freeReplyObject(reply);
    }
    return rc;
}

/* One attempt for the groups pending: read, fold, commit. Leaves pending
   the groups to run again; returns how many. */
static int apply_attempt(cf_store_t *self, const cf_event_t *events, bool *gone,
                         cf_ack_status_t *statuses, size_t *left)
{
    int rc = apply_read(self, events);
    size_t sent = 0;
    for (size_t g = 0; g < self->groups; g++) {
        self->sent[g] = 0;
        if (rc < 0 || !self->pending[g])
            continue;
        rc = apply_fold(self, events, g, statuses);
        self->sent[g] = rc == 0 && apply_append_commit(self, events, g);
        sent += self->sent[g];
    }
    memset(self->pending, 0, self->groups * sizeof *self->pending);
    if (sent && apply_take_commits(self, gone) < 0 && rc == 0)
        rc = -1;
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

int cf_store_apply(cf_store_t *self, cf_event_t *events, size_t count,
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
    if (cf_store_ensure(self, 1) < 0)
        return -1;
    apply_group(self, events, count);
    self->fresh = cf_grow(self->fresh, &self->fresh_capacity, count, sizeof *self->fresh);
    self->expiry_set = cf_grow(self->expiry_set, &self->expiry_capacity, count,
                               sizeof *self->expiry_set);
    memset(self->pending, 1, self->groups * sizeof *self->pending);
    memset(self->fenced, 0, self->groups * sizeof *self->fenced);
    self->fenced_events = 0;
    size_t pending = self->groups;
    bool gone = false, checked = false;
    for (int attempt = 0; pending; attempt++) {
        if (gone && checked)
            return cf_store_fail(self, CF_STORE_ERR_IO, "the function library changed again "
                                 "after it was checked");
        if (attempt == APPLY_ATTEMPTS)
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "the states of shards %s keep "
                                 "changing while they are committed",
                                 apply_pending_names(self, why, sizeof why));
        if (gone) {
            if (cf_store_check_library(self) < 0)
                return -1;
            checked = true;
        }
        if (attempt >= 2)           /* two workers that keep colliding on one case: apart */
            apply_backoff(self, attempt);
        gone = false;
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        if (apply_attempt(self, events, &gone, statuses, &pending) < 0)
            return -1;
        clock_gettime(CLOCK_MONOTONIC, &end);
        cf_metric_observe(self->latency, (double) (end.tv_sec - start.tv_sec)
                                         + (double) (end.tv_nsec - start.tv_nsec) / 1e9);
    }
    /* a fenced shard wrote nothing: its events stay unapplied, busy, for the
       broker to send to the shard's owner now; the others' stand */
    for (size_t g = 0; g < self->groups; g++)
        for (size_t k = self->start[g]; self->fenced[g] && k < self->start[g + 1]; k++) {
            statuses[self->order[k]] = CF_ACK_BUSY;
            self->fenced_events++;
        }
    return 0;
}
