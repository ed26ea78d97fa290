/*  cf_store_apply: a batch of validated events, applied: the worker computes,
    Redis stores (docs/storage.md, "The apply path"). Per shard (a group):
      1. read   under WATCH, the states of the batch's cases and routes, the
                events' dedupe markers and, for a fenced shard, its owner's
                epoch (one pipelined round trip for every shard, with Redis's
                clock for the markers' generation: cf_store_read.c);
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
    buckets watched. A fenced shard watches its owner record alone, which
    every other writer of the shard writes (docs/storage.md, "The owner
    record is the fenced shard's one watch"). So the common case costs
    three round trips, no Lua, and nothing is counted twice.                */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"
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

/* ---- 2. fold ------------------------------------------------------------------- */

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

/* The type probes at the end of the group's reads (cf_store_read.c,
   apply_append_probes): one refused (a key of another type, written
   behind the owner's back) drops the shard's cache, so that its commit
   checks everything and refuses the batch whole. */
static void apply_probed(cf_store_t *self, size_t g)
{
    size_t end = self->read_start[g + 1];
    for (size_t r = end - self->probes[g]; r < end; r++)
        if (self->reads[r]->type == REDIS_REPLY_ERROR) {
            cf_commit_cache_drop(self->cache, self->group_shard[g]);
            return;
        }
}

/* Loads the states the shard's reads returned into the fold. */
static int apply_load(cf_store_t *self, const cf_event_t *events, size_t g)
{
    unsigned s = self->group_shard[g];
    size_t r = cf_store_read_states_at(self, g);
    const redisReply *states[2] = { NULL, NULL };
    for (int part = 0; part < 2; part++) {
        size_t n = cf_store_read_count(self, g, part);
        if (!n)
            continue;
        const redisReply *reply = self->reads[r];
        r += part == 0 ? 2 : 1;     /* the case states' EXISTS: apply_build's */
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
    *seen = 0;
    const redisReply *markers = self->reads[self->marker_at[j]];
    if (markers->type != REDIS_REPLY_ARRAY || markers->elements <= self->marker_pos[j])
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: reading dedupe markers: %s",
                             self->group_shard[g], markers->type == REDIS_REPLY_ERROR
                                                   ? markers->str : "unexpected reply");
    const redisReply *v = markers->element[self->marker_pos[j]];
    if (v->type != REDIS_REPLY_STRING)
        return 0;
    long long generation, tag;
    if (cf_keys_eid_value_parse(v->str, v->len, &generation, &tag) < 0)
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: a dedupe marker is not one "
                             "(its value: '%.*s')", self->group_shard[g],
                             (int) (v->len < 40 ? v->len : 40), v->str);
    if (generation + 1 < self->eid_generation)
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
static int apply_fold(cf_store_t *self, const cf_event_t *events, size_t g,
                      cf_ack_status_t *statuses)
{
    cf_fold_reset(self->fold);
    cf_fold_set_clock(self->fold, self->apply_clock);
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

/* Builds group g's commit: the fold's writes, each new event's marker
   (its value: this generation and the request's tag; the sweeper deletes
   it once expired: cf_store_sweep.c) and, when the read round's EXISTS
   counted more case keys than MGET found states, a type check of each
   case key read absent (MGET answers nil for a key of another type too);
   unfenced, a new stamp in the shard's owner record (field "unfenced"): a
   fenced transaction of the shard watches the record and nothing else of
   the shard (neither its cases' states nor its counters), so it is
   refused if it comes later (it would set back what this commit wrote);
   and the owner's next commit reads the stamp and drops its cache.
   Returns whether it writes anything. */
static bool apply_build(cf_store_t *self, const cf_event_t *events, size_t g)
{
    cf_commit_t *c = self->commits[g];
    cf_commit_reset(c);
    char key[CF_KEYS_MAX];
    unsigned s = self->group_shard[g];
    if (self->cases[g]) {
        const redisReply *states = self->reads[cf_store_read_states_at(self, g)];
        const redisReply *exists = self->reads[cf_store_read_states_at(self, g) + 1];
        long long found = 0;
        for (size_t j = 0; j < self->cases[g]; j++)
            found += states->element[j]->type != REDIS_REPLY_NIL;
        for (size_t j = 0; j < self->cases[g]; j++) {
            if (states->element[j]->type != REDIS_REPLY_NIL
                || (exists->type == REDIS_REPLY_INTEGER && exists->integer == found))
                continue;           /* a state, or nothing there */
            const cf_event_t *e = cf_store_read_event(self, events, g, 0, j);
            cf_commit_type(c, cf_commit_key(c, key, cf_keys_case(key, sizeof key, s,
                           e->case_id, strlen(e->case_id))), "string");
        }
    }
    for (size_t j = self->start[g]; j < self->start[g + 1]; j++) {
        if (!self->fresh[j])
            continue;
        size_t i = self->order[j];
        size_t bucket = cf_commit_key(c, key, cf_keys_eid(key, sizeof key, s, self->buckets[i]));
        char value[CF_FMT_INT_MAX];
        size_t len = cf_fmt_i64(value, cf_keys_eid_value(self->eid_generation,
                                                             cf_store_tag(self, i)));
        cf_commit_hset(c, bucket, self->digests[i], CF_KEYS_EID_DIGEST, value, len);
    }
    cf_store_build_writes(self, c, s);
    if (!self->fence[s] && cf_commit_writes(c))
        cf_store_commit_stamp(self, c, s, "unfenced");
    return cf_commit_writes(c);
}

/* One attempt for the groups pending: read, fold, commit. Leaves pending
   the groups to run again (EXEC found a key read changed); returns how
   many in *left. */
static int apply_attempt(cf_store_t *self, const cf_event_t *events, cf_ack_status_t *statuses,
                         size_t *left)
{
    int rc = cf_store_read(self, events);
    size_t send = 0;
    for (size_t g = 0; g < self->groups; g++) {
        self->commit_state[g] = CF_STORE_COMMIT_NONE;
        if (!self->pending[g])
            continue;
        int fenced = rc < 0 ? -1 : apply_fenced(self, g);
        if (fenced != 0) {          /* not ours any more: not tried again */
            cf_commit_cache_drop(self->cache, self->group_shard[g]);   /* nor known */
            self->fenced[g] = fenced > 0;
            rc = fenced < 0 ? -1 : 0;
            continue;
        }
        apply_probed(self, g);
        rc = apply_fold(self, events, g, statuses);
        if (rc == 0 && apply_build(self, events, g)) {
            self->commit_state[g] = CF_STORE_COMMIT_SEND;
            self->group_alerts[g] = cf_fold_overdue_fired(self->fold);
            send++;
        }
    }
    memset(self->pending, 0, self->groups * sizeof *self->pending);
    if (send) {
        char why[400];
        self->commit_lanes = self->group_lane;
        int run = cf_store_commit_run(self, self->commits, self->groups, self->commit_state,
                                      self->group_shard, true, NULL, why, sizeof why);
        self->commit_lanes = NULL;
        if (run < 0)
            rc = -1;
        else if (run > 0 && rc == 0)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "%s", why);
        for (size_t g = 0; g < self->groups; g++) {
            self->pending[g] = self->commit_state[g] == CF_STORE_COMMIT_CONFLICT;
            if (self->commit_state[g] == CF_STORE_COMMIT_DONE)
                self->alerts_fired += self->group_alerts[g];
        }
    }
    cf_store_free_reads(self);
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

/* Marks pending the next groups to run (a wave), out of those waiting:
   every one on a single server; on a cluster at most one per node and
   lane, since a connection's WATCHes belong to the transaction of its next
   EXEC and a transaction holds the keys of one slot (cf_store_commit.c):
   the groups of one node take lanes 0, 1, ... (self->group_lane). 0 / -1. */
static int apply_wave(cf_store_t *self, size_t *pending)
{
    *pending = 0;
    int *taken = self->cluster ? cf_calloc(self->groups, sizeof *taken) : NULL;
    unsigned *used = self->cluster ? cf_calloc(self->groups, sizeof *used) : NULL;
    size_t ntaken = 0;
    for (size_t g = 0; g < self->groups; g++) {
        if (!self->waiting[g])
            continue;
        if (self->cluster) {
            int node = cf_redis_cluster_slot_node(self->redis,
                                                  cf_store_slot(self, self->group_shard[g]));
            if (node < 0) {
                free(taken), free(used);
                return cf_store_fail_io(self, "the cluster's map");
            }
            size_t k = 0;
            while (k < ntaken && taken[k] != node)
                k++;
            if (k == ntaken)
                taken[ntaken++] = node;
            if (used[k] == self->nlanes)
                continue;           /* every lane of its node is busy: the next wave */
            self->group_lane[g] = (unsigned char) used[k]++;
        } else {
            self->group_lane[g] = 0;
        }
        self->waiting[g] = 0;
        self->pending[g] = 1;
        (*pending)++;
    }
    free(taken), free(used);
    return 0;
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
    cf_store_group(self, events, count);
    self->fresh = cf_grow(self->fresh, &self->fresh_capacity, count, sizeof *self->fresh);
    memset(self->waiting, 1, self->groups * sizeof *self->waiting);
    memset(self->pending, 0, self->groups * sizeof *self->pending);
    memset(self->fenced, 0, self->groups * sizeof *self->fenced);
    self->fenced_events = 0;
    size_t pending;
    if (apply_wave(self, &pending) < 0)
        return -1;
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
        if (pending == 0) {         /* this wave is written: the next one, with its own tries */
            if (apply_wave(self, &pending) < 0)
                return -1;
            attempt = -1;
        }
    }
    /* nothing acked before the replicas hold it, with ack-replicas */
    if (cf_store_wait_replicas(self) < 0)
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
