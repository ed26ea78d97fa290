/*  cf_store_fold: the apply path's work on one group, one shard's events,
    between its read round (cf_store_read.c) and its commit
    (cf_store_commit.c), for each attempt that cf_store_apply.c runs: the
    owner's fence and the type probes checked, the states read loaded into
    cf_fold, each event's dedupe decided by its marker and folded, and the
    group's commit built from the fold's output and the new markers. No
    I/O: it reads the replies the read round left in the store.             */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_fold.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <hiredis/hiredis.h>

/* ---- 2. fold ------------------------------------------------------------------- */

/* Whether the group's shard is fenced off: its owner record holds another
   epoch than the one the worker was given (the broker gave the shard to
   another worker since), so that it writes nothing. 1, 0, -1. A shard not
   fenced off whose record holds another stamp of an unfenced commit than
   last read (cf_store_fold_build) had its counters written by another
   worker: the owner's cache of them is dropped. */
int cf_store_fold_fenced(cf_store_t *self, size_t g)
{
    cf_store_batch_t *batch = self->batch;
    unsigned s = batch->group_shard[g];
    const redisReply *watch = batch->reads[batch->read_start[g]];
    if (watch->type == REDIS_REPLY_ERROR)
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: WATCH: %s", s, watch->str);
    if (!self->fence[s])
        return 0;
    const redisReply *owner = batch->reads[batch->read_start[g] + 1];
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

/* The type probes at the end of the group's reads (cf_store_read.c,
   apply_append_probes): one refused (a key of another type, written
   behind the owner's back) drops the shard's cache, so that its commit
   checks everything and refuses the batch whole. */
void cf_store_fold_probed(cf_store_t *self, size_t g)
{
    cf_store_batch_t *batch = self->batch;
    size_t end = batch->read_start[g + 1];
    for (size_t r = end - batch->probes[g]; r < end; r++)
        if (batch->reads[r]->type == REDIS_REPLY_ERROR) {
            cf_commit_cache_drop(self->cache, batch->group_shard[g]);
            return;
        }
}

/* Loads the states the shard's reads returned into the fold. */
static int apply_load(cf_store_t *self, const cf_event_t *events, size_t g)
{
    unsigned s = self->batch->group_shard[g];
    size_t r = cf_store_read_states_at(self, g);
    const redisReply *states[2] = { NULL, NULL };
    for (int part = 0; part < 2; part++) {
        size_t n = cf_store_read_count(self, g, part);
        if (!n)
            continue;
        const redisReply *reply = self->batch->reads[r];
        r += part == 0 ? 1u + self->batch->exists[g] : 1u;  /* EXISTS: cf_store_fold_build's */
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != n)
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: reading %s: %s", s,
                                 part == 0 ? "case states" : "route states",
                                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        states[part] = reply;
    }
    for (int part = 0; part < 2; part++) {
        size_t n = cf_store_read_count(self, g, part);
        for (size_t j = 0; j < n; j++) {
            const cf_event_t *e = cf_store_read_event(self, events, g, part, j);
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
   (event i): *seen 0 none (or expired: written before the generation
   before this one), 1 its request's, 2 another's (any, when the event
   serves no request). -1 when Redis refused the read (a bucket of another
   type) or the marker is not one. */
static int apply_marker(cf_store_t *self, size_t g, size_t j, size_t i, int *seen)
{
    cf_store_batch_t *batch = self->batch;
    *seen = 0;
    const redisReply *markers = batch->reads[batch->marker_at[j]];
    if (markers->type != REDIS_REPLY_ARRAY || markers->elements <= batch->marker_pos[j])
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: reading dedupe markers: %s",
                             batch->group_shard[g], markers->type == REDIS_REPLY_ERROR
                                                   ? markers->str : "unexpected reply");
    const redisReply *v = markers->element[batch->marker_pos[j]];
    if (v->type != REDIS_REPLY_STRING)
        return 0;
    long long generation, tag;
    if (cf_keys_eid_value_parse(v->str, v->len, &generation, &tag) < 0)
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: a dedupe marker is not one "
                             "(its value: '%.*s')", batch->group_shard[g],
                             (int) (v->len < 40 ? v->len : 40), v->str);
    if (generation + 1 < batch->eid_generation)
        return 0;                   /* expired: the sweeper has yet to delete it */
    long long mine = cf_store_tag(self, i);
    *seen = mine && tag == mine ? 1 : 2;
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
    self->seen = cf_table_clear(self->seen, &self->seen_slots, n, sizeof *self->seen);
}

/* Folds the shard's events into the fold, filling their statuses. */
int cf_store_fold(cf_store_t *self, const cf_event_t *events, size_t g,
                  cf_ack_status_t *statuses)
{
    cf_store_batch_t *batch = self->batch;
    cf_fold_reset(self->fold);
    cf_fold_set_clock(self->fold, batch->apply_clock);
    if (apply_load(self, events, g) < 0)
        return -1;
    size_t n = batch->start[g + 1] - batch->start[g];
    apply_seen_clear(self, n);
    for (size_t j = batch->start[g]; j < batch->start[g + 1]; j++) {
        size_t i = batch->order[j];
        bool repeat = apply_seen(self, batch->digests[i]);
        int marker;
        if (apply_marker(self, g, j, i, &marker) < 0)
            return -1;
        batch->fresh[j] = !repeat && marker == 0;
        statuses[i] = batch->fresh[j] || (!repeat && marker == 1) ? CF_ACK_ACCEPTED
                                                                  : CF_ACK_DUPLICATE;
        /* a repeat within the request whose marker is the request's own was
           counted by the commit that set the marker (the same shard-batch of
           the same request): an attempt again, after a fence or an error,
           counts it no more */
        if (batch->fresh[j] || (statuses[i] == CF_ACK_DUPLICATE && marker != 1))
            cf_fold_apply(self->fold, &events[i], batch->fresh[j]);
    }
    cf_fold_finish(self->fold);
    const char *why = cf_fold_error(self->fold);
    if (why && *why)
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: %s", batch->group_shard[g],
                             cf_fold_error(self->fold));
    return 0;
}

/* ---- 3. commit ----------------------------------------------------------------- */

/* Builds group g's commit: the fold's writes, each new event's marker
   (its value: this generation and the request's tag; the sweeper deletes
   it once expired: cf_store_sweep.c) and, unless the read round's EXISTS
   counted as many case keys as MGET found states, a type check of each
   case key read absent (MGET answers nil for a key of another type too);
   unfenced, a new stamp in the shard's owner record (field "unfenced"): a
   fenced transaction of the shard watches the record and nothing else of
   the shard (neither its cases' states nor its counters), so it is
   refused if it comes later (it would set back what this commit wrote);
   and the owner's next commit reads the stamp and drops its cache.
   Returns whether it writes anything. */
bool cf_store_fold_build(cf_store_t *self, const cf_event_t *events, size_t g)
{
    cf_store_batch_t *batch = self->batch;
    cf_commit_t *c = batch->commits[g];
    cf_commit_reset(c);
    char key[CF_KEYS_MAX];
    unsigned s = batch->group_shard[g];
    if (batch->cases[g]) {
        const redisReply *states = batch->reads[cf_store_read_states_at(self, g)];
        const redisReply *exists = batch->exists[g]
                                 ? batch->reads[cf_store_read_states_at(self, g) + 1] : NULL;
        long long found = 0;
        for (size_t j = 0; j < batch->cases[g]; j++)
            found += states->element[j]->type != REDIS_REPLY_NIL;
        for (size_t j = 0; j < batch->cases[g]; j++) {
            if (states->element[j]->type != REDIS_REPLY_NIL
                || (exists && exists->type == REDIS_REPLY_INTEGER && exists->integer == found))
                continue;           /* a state, or nothing there */
            const cf_event_t *e = cf_store_read_event(self, events, g, 0, j);
            cf_commit_type(c, cf_commit_key(c, key, cf_keys_case(key, sizeof key, s,
                           e->case_id, strlen(e->case_id))), "string");
        }
    }
    for (size_t j = batch->start[g]; j < batch->start[g + 1]; j++) {
        if (!batch->fresh[j])
            continue;
        size_t i = batch->order[j];
        size_t bucket = cf_commit_key(c, key, cf_keys_eid(key, sizeof key, s, batch->buckets[i]));
        char value[CF_FMT_INT_MAX];
        size_t len = cf_fmt_i64(value, cf_keys_eid_value(batch->eid_generation,
                                                             cf_store_tag(self, i)));
        cf_commit_hset(c, bucket, batch->digests[i], CF_KEYS_EID_DIGEST, value, len);
    }
    self->build_unprobed = batch->unprobed[g];
    self->build_written = 0;
    cf_store_build_writes(self, c, s);
    self->build_unprobed = 0;               /* the overdue timer's commits: as the cache says */
    cf_store_probes_learn(self, events, g, self->build_written);
    if (!self->fence[s] && cf_commit_writes(c))
        cf_store_commit_stamp(self, c, s, "unfenced");
    return cf_commit_writes(c);
}
