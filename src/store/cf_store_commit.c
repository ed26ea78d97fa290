/*  cf_store_commit: the commit of what the fold computed, shared by the apply
    path (cf_store_apply.c) and the overdue timer (cf_store_due.c), as plain
    commands (docs/storage.md, "The commit"): the fold's output as a
    cf_commit's writes, then two pipelined round trips for any number of
    shards' commits:
      checks  WATCH and HMGET of the counter hashes written, TYPE of the keys
              only written (cf_commit_checks); for a fenced shard, no WATCH
              and only what the owner's cache does not know
              (cf_commit_cache); a commit they refuse is left out, nothing
              of it written;
      writes  MULTI, every commit left, EXEC. EXEC answers nil when a key
              watched (here or in the caller's reads) changed since: nothing
              was written and every commit of it is to be read and computed
              again.
    On a Redis Cluster a transaction holds the keys of one slot, so each
    commit is its own MULTI/EXEC, sent to its shard's node (the caller
    sends at most one shard's per node at a time: cf_store_apply.c); on one
    server every commit is in one.
    A connection keeps its WATCH until EXEC; the WATCHes of a caller that
    sends no EXEC stay noted (cf_store_note_watch), and the next reads start
    with UNWATCH (cf_store_append_unwatch).                                 */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_fold.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

size_t cf_store_commit_fixed(cf_store_t *self, cf_commit_t *c, unsigned s, int key)
{
    char name[CF_KEYS_MAX];
    size_t k = cf_commit_key(c, name, cf_keys_fixed(name, sizeof name, s, key));
    const char *type = cf_keys_fixed_type(key);
    self->build_written |= UINT32_C(1) << key;
    if (self->build_unprobed >> key & 1)    /* the cache vouches, the read round did not probe */
        cf_commit_type_checked(c, k, type);
    else if (strcmp(type, "hash") != 0)     /* a hash is checked by its counters' HMGET, or read */
        cf_commit_type(c, k, type);
    if (key < CF_FAMILY_COUNT)      /* its rows' measures in one field each (cf_tuple) */
        cf_commit_family(c, k, key);
    return k;
}

void cf_store_commit_stamp(cf_store_t *self, cf_commit_t *c, unsigned s, const char *field)
{
    char key[CF_KEYS_MAX];
    size_t owner = cf_commit_key(c, key, cf_keys_fixed(key, sizeof key, s, CF_KEYS_OWNER));
    cf_commit_type(c, owner, "hash");       /* the HSET, checked first as every write */
    char stamp[48];                         /* this store's, and its count of them */
    int len = snprintf(stamp, sizeof stamp, "%016llx-%llu", (unsigned long long) self->stamp_id,
                       (unsigned long long) ++self->stamps);
    cf_commit_hset(c, owner, field, strlen(field), stamp, (size_t) len);
}

void cf_store_build_writes(cf_store_t *self, cf_commit_t *c, unsigned s)
{
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
        cf_commit_hset(c, cf_store_commit_fixed(self, c, s, CF_KEYS_SPIKE), route, strlen(route),
                       state, len);
    }
    for (size_t j = 0; j < cf_fold_counters(fold); j++) {
        int family;
        const char *field;
        size_t len;
        int64_t delta;
        cf_fold_counter(fold, j, &family, &field, &len, &delta);
        cf_commit_incr(c, cf_store_commit_fixed(self, c, s, family), field, len, delta);
    }
    for (size_t j = 0; j < cf_fold_route_days(fold); j++) {
        const char *field;
        size_t len;
        int64_t delta;
        cf_fold_route_day(fold, j, &field, &len, &delta);
        cf_commit_incr(c, cf_store_commit_fixed(self, c, s, CF_KEYS_ROUTE_DAY), field, len, delta);
    }
    for (size_t j = 0; j < cf_fold_deadlines(fold); j++) {
        const char *member;
        size_t len;
        int64_t due;
        cf_fold_deadline(fold, j, &member, &len, &due);
        size_t k = cf_store_commit_fixed(self, c, s, CF_KEYS_DUE);
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
        cf_commit_xadd(c, cf_store_commit_fixed(self, c, s, CF_KEYS_OUTBOX), topic, strlen(topic),
                       body, len);
    }
}

uint64_t cf_store_conflicts(const cf_store_t *self)
{
    assert(self);
    return self->conflicts;
}

uint64_t cf_store_alerts_fired(const cf_store_t *self)
{
    assert(self);
    return self->alerts_fired;
}

/* cf_commit's callback: appends the command to the pipeline, toward the
   node of the commit being emitted (self->emit_slot). */
static void commit_emit(void *arg, size_t argc, const char **argv, const size_t *argvlen)
{
    cf_store_t *self = arg;
    cf_store_append_argv(self, -1, self->emit_slot, argc, argv, argvlen);
}

/* A command without arguments (MULTI, EXEC, UNWATCH) to slot's node. */
static void commit_bare(cf_store_t *self, int slot, const char *command)
{
    size_t len = strlen(command);
    cf_store_append_argv(self, -1, slot, 1, &command, &len);
}

size_t cf_store_append_unwatch(cf_store_t *self)
{
    size_t n = self->nwatched;
    for (size_t i = 0; i < n; i++) {
        self->lane = self->watched[i].lane;
        commit_bare(self, self->watched[i].slot, "UNWATCH");
    }
    self->lane = 0;
    self->nwatched = 0;
    return n;
}

/* The refusals of one cf_store_commit_run: the first one's reason, and
   which commit it was. */
typedef struct {
    char *why;
    size_t size;
    const unsigned *shards;
    size_t first;               /* index + 1 of the first refused, 0 none */
} commit_refusals_t;

/* Refuses commit i: nothing of it is sent, or it failed. */
static void commit_refuse(commit_refusals_t *r, unsigned char *state, size_t i,
                          const char *reason)
{
    if (!r->first) {
        snprintf(r->why, r->size, "shard %u: %s", r->shards[i], reason);
        r->first = i + 1;
    }
    state[i] = CF_STORE_COMMIT_REFUSED;
}

/* How a run's commits use their shards' caches (docs/storage.md, "The
   owner's cache"). */
typedef enum {
    COMMIT_UNFENCED,    /* the full check round; each shard's cache is dropped */
    COMMIT_FENCED,      /* the owner's: the cache spares what it knows, keeps what it wrote */
    COMMIT_BESIDE       /* the overdue timer's: writes no counter, changes no key's type,
                           so it neither uses nor drops a cache (as another worker's) */
} commit_use_t;

/* The check round of the commits to send: the ones refused are marked so.
   A fenced shard's commit checks only what its cache does not know. */
static int commit_checks(cf_store_t *self, cf_commit_t **commits, size_t n, unsigned char *state,
                         commit_use_t use, commit_refusals_t *r)
{
    size_t *counts = cf_calloc(n ? n : 1, sizeof *counts);
    for (size_t i = 0; i < n; i++) {
        if (state[i] != CF_STORE_COMMIT_SEND)
            continue;
        unsigned s = r->shards[i];
        const cf_commit_cache_t *cache = use == COMMIT_BESIDE ? NULL
            : cf_commit_cache_begin(self->cache, s, use == COMMIT_FENCED ? self->fence[s] : 0);
        self->emit_slot = cf_store_slot(self, s);
        self->lane = self->commit_lanes ? self->commit_lanes[i] : 0;
        counts[i] = cf_commit_checks(commits[i], cache, s, commit_emit, self);
        if (counts[i])
            cf_store_note_watch(self, self->emit_slot);
        self->lane = 0;
        if (cf_commit_refusal(commits[i]))
            commit_refuse(r, state, i, cf_commit_refusal(commits[i]));
    }
    char reason[300];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        for (size_t c = 0; c < counts[i]; c++) {
            redisReply *reply = NULL;
            if (cf_store_get_reply(self, &reply, "the commit's checks") < 0) {
                rc = -1;
                break;
            }
            if (state[i] == CF_STORE_COMMIT_SEND
                && cf_commit_check(commits[i], reply, reason, sizeof reason) < 0)
                commit_refuse(r, state, i, reason);
            freeReplyObject(reply);
        }
    free(counts);
    /* the first refusal a hash of another type: which type, as the error
       says for the other keys (the error path only: one more round trip) */
    const char *key = rc == 0 && r->first ? cf_commit_wrong_hash(commits[r->first - 1]) : NULL;
    if (key) {
        redisReply *type = cf_store_command(self, key, "TYPE %s", key);
        if (!type)
            return -1;
        if (type->type == REDIS_REPLY_STATUS) {
            cf_commit_wrong_type(reason, sizeof reason, key, type->str, "hash");
            snprintf(r->why, r->size, "shard %u: %s", r->shards[r->first - 1], reason);
        }
        freeReplyObject(type);
    }
    return rc;
}

/* Reads MULTI's and each queued command's replies: an error among them (a
   command Redis would not queue: out of memory, a read-only replica) has
   EXEC refuse the transaction whole; its text into reason. */
static int commit_queued(cf_store_t *self, size_t commands, char *reason, size_t size)
{
    for (size_t q = 0; q <= commands; q++) {
        redisReply *reply = NULL;
        if (cf_store_get_reply(self, &reply, "MULTI") < 0)
            return -1;
        if (reply->type == REDIS_REPLY_ERROR && !reason[0])
            snprintf(reason, size, "%s", reply->str);
        freeReplyObject(reply);
    }
    return 0;
}

/* EXEC's reply: nil, a conflict; an error element, a write that failed
   although the checks passed (a check missing: said loudly). */
static void commit_exec(cf_commit_t **commits, const size_t *members, size_t m,
                        unsigned char *state, const size_t *first, const size_t *count,
                        const redisReply *exec, unsigned *notes, commit_refusals_t *r)
{
    for (size_t k = 0; k < m; k++) {
        size_t i = members[k];
        if (exec->type == REDIS_REPLY_NIL) {
            state[i] = CF_STORE_COMMIT_CONFLICT;
            continue;
        }
        if (exec->type != REDIS_REPLY_ARRAY || exec->elements < first[i] + count[i]) {
            commit_refuse(r, state, i, exec->type == REDIS_REPLY_ERROR ? exec->str
                                                                       : "EXEC: unexpected reply");
            continue;
        }
        state[i] = CF_STORE_COMMIT_DONE;
        for (size_t w = 0; w < count[i]; w++) {
            const redisReply *e = exec->element[first[i] + w];
            if (e->type != REDIS_REPLY_ERROR)
                continue;
            char command[200], reason[400];
            cf_commit_describe(commits[i], w, command, sizeof command);
            snprintf(reason, sizeof reason, "a write failed after its checks passed (a check "
                     "is missing; the rest of the commit was written): %s: %s", command, e->str);
            commit_refuse(r, state, i, reason);
            break;
        }
        if (state[i] == CF_STORE_COMMIT_DONE && notes)
            *notes += (unsigned) cf_commit_notes(commits[i]);
    }
}

/* After a run: each fenced shard's commit written keeps what it wrote in
   the shard's cache (its counters' values, its fixed keys' types); any
   other commit sent (refused, EXEC's nil, an I/O error: not written, or
   not known to be) drops the shard's, but the timer's. */
static void commit_keep(cf_store_t *self, cf_commit_t **commits, size_t n,
                        const unsigned char *state, const unsigned *shards, commit_use_t use,
                        int rc)
{
    if (use == COMMIT_BESIDE)
        return;
    static const int typed[] = { CF_KEYS_OUTBOX, CF_KEYS_DUE };     /* the fixed keys not hashes */
    for (size_t i = 0; i < n; i++) {
        unsigned s = shards[i];
        if (state[i] == CF_STORE_COMMIT_NONE)
            continue;
        if (rc < 0 || use != COMMIT_FENCED || !self->fence[s]
            || state[i] != CF_STORE_COMMIT_DONE) {
            cf_commit_cache_drop(self->cache, s);
            continue;
        }
        cf_commit_remember(commits[i], self->cache, s);
        for (size_t t = 0; t < sizeof typed / sizeof *typed; t++) {
            char key[CF_KEYS_MAX];
            size_t len = cf_keys_fixed(key, sizeof key, s, typed[t]);
            if (cf_commit_find(commits[i], key, len)
                && cf_commit_cache_put_type(self->cache, s, key, len,
                                            cf_keys_fixed_type(typed[t])) < 0)
                break;
        }
    }
}

/* Appends one transaction, to the node of its first commit's shard: MULTI,
   the writes of the commits members[0 .. m), EXEC; each one's first write
   and count into first[] and count[]. Returns how many writes it holds. */
static size_t commit_append_txn(cf_store_t *self, cf_commit_t **commits, const size_t *members,
                                size_t m, const unsigned *shards, size_t *first, size_t *count)
{
    int slot = cf_store_slot(self, shards[members[0]]);
    size_t commands = 0;
    self->lane = self->commit_lanes ? self->commit_lanes[members[0]] : 0;
    commit_bare(self, slot, "MULTI");
    self->emit_slot = slot;
    for (size_t k = 0; k < m; k++) {
        size_t i = members[k];
        first[i] = commands;
        count[i] = cf_commit_emit_writes(commits[i], commit_emit, self);
        commands += count[i];
    }
    commit_bare(self, slot, "EXEC");
    cf_store_note_exec(self, slot);     /* EXEC ends its WATCHes, whatever it answers */
    self->lane = 0;
    return commands;
}

/* cf_store_commit_run, its commits using their caches so. */
static int commit_run(cf_store_t *self, cf_commit_t **commits, size_t n, unsigned char *state,
                      const unsigned *shards, commit_use_t use, unsigned *notes, char *why,
                      size_t size)
{
    assert(self && (n == 0 || (commits && state && shards)) && why);
    commit_refusals_t r = { why, size, shards, 0 };
    why[0] = '\0';
    int rc = commit_checks(self, commits, n, state, use, &r);
    if (rc < 0) {
        commit_keep(self, commits, n, state, shards, use, rc);
        return -1;
    }
    /* the transactions: txn[t] .. txn[t + 1] of members, whose commits
       were sent with commands[t] writes */
    size_t *first = cf_calloc(5 * n + 2, sizeof *first), *count = first + n,
           *members = count + n, *txn = members + n, *commands = txn + n + 1, m = 0, t = 0;
    for (size_t i = 0; i < n; i++)
        if (state[i] == CF_STORE_COMMIT_SEND) {
            if (m == 0 || self->cluster)
                txn[t++] = m;
            members[m++] = i;
        }
    txn[t] = m;
    for (size_t x = 0; x < t; x++)
        commands[x] = commit_append_txn(self, commits, members + txn[x], txn[x + 1] - txn[x],
                                        shards, first, count);
    for (size_t x = 0; x < t && rc == 0; x++) {
        const size_t *these = members + txn[x];
        size_t k = txn[x + 1] - txn[x];
        char reason[300] = "";
        redisReply *exec = NULL;
        if (commit_queued(self, commands[x], reason, sizeof reason) < 0
            || cf_store_get_reply(self, &exec, "EXEC") < 0) {
            rc = -1;
        } else if (reason[0]) {     /* EXECABORT: nothing written */
            for (size_t y = 0; y < k; y++)
                commit_refuse(&r, state, these[y], reason);
        } else {
            if (exec->type == REDIS_REPLY_NIL)
                self->conflicts++;
            else
                self->wrote = true;
            commit_exec(commits, these, k, state, first, count, exec, notes, &r);
        }
        if (exec)
            freeReplyObject(exec);
    }
    free(first);
    commit_keep(self, commits, n, state, shards, use, rc);
    return rc < 0 ? -1 : r.first ? 1 : 0;
}

int cf_store_commit_run(cf_store_t *self, cf_commit_t **commits, size_t n, unsigned char *state,
                        const unsigned *shards, bool fenced, unsigned *notes, char *why,
                        size_t size)
{
    return commit_run(self, commits, n, state, shards, fenced ? COMMIT_FENCED : COMMIT_UNFENCED,
                      notes, why, size);
}

int cf_store_commit_beside(cf_store_t *self, cf_commit_t **commits, size_t n,
                           unsigned char *state, const unsigned *shards, unsigned *notes,
                           char *why, size_t size)
{
    return commit_run(self, commits, n, state, shards, COMMIT_BESIDE, notes, why, size);
}
