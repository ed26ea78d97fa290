/*  cf_store_due: the overdue timer's side of the store. The apply path
    keeps each shard's deadlines in cf:{sN}:due; here a timer reads the ones
    due by now and fires them as the apply path applies events: the fold
    (cf_fold_fire) computes, one commit (cf_store_commit.c) writes, under
    WATCH of the states read, shard by shard, a shard a step: the worker
    runs its jobs between steps, so that a round of many alerts does not
    hold them up (docs/performance.md, "The stalls of the open loop"). A
    shard's owner fires its deadlines; another worker only those the owner
    leaves for CF_STORE_DUE_GRACE_MS (docs/notifications.md, "Who fires
    them"), so that two workers do not both fire, and refuse each other's
    commits, all the time. The clock is the wall clock unless an operator
    set cf:clock (replays of past events, tests).                            */
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "caseflow/cf_alloc.h"
#include "cf_store_internal.h"
#include "cf_commit.h"
#include "caseflow/cf_fold.h"
#include "caseflow/cf_shard.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#define DUE_BATCH       "100"       /* alerts fired per shard and call */
#define DUE_LOOK        16          /* shards a step looks at for one with alerts due */
#define DUE_CLOCK_KEY   CF_KEYS_CLOCK

/* The case_id of member "<case_id>|<limit>" into id, and its limit (-1 when
   the member is not one). */
static int due_member(const redisReply *m, char id[CF_PSEUDONYM_LEN + 1])
{
    const char *bar = memchr(m->str, '|', m->len);
    size_t len = bar ? (size_t) (bar - m->str) : 0;
    if (!bar || len != CF_PSEUDONYM_LEN)
        return -1;
    memcpy(id, m->str, len);
    id[len] = '\0';
    return cf_vocab_limit_find(bar + 1, m->len - len - 1);
}

/* Fires the due members of one shard (ZRANGEBYSCORE ... WITHSCORES): reads
   their cases' states under WATCH, has the fold fire each deadline that the
   state still holds, and commits the alerts, the states and the deadlines
   in one MULTI/EXEC. A member whose case no longer has that deadline is
   removed. Another worker's commit in between (EXEC refused) leaves them to
   the next tick. */
static int due_fire_shard(cf_store_t *self, unsigned shard, const redisReply *members,
                          int64_t now, unsigned *fired)
{
    size_t n = members->elements / 2;
    const char **argv = cf_calloc(n + 1, sizeof *argv);
    size_t *argvlen = cf_calloc(n + 1, sizeof *argvlen);
    char (*keys)[CF_KEYS_MAX] = cf_calloc(n, sizeof *keys);
    char (*ids)[CF_PSEUDONYM_LEN + 1] = cf_calloc(n, sizeof *ids);
    int *limits = cf_calloc(n, sizeof *limits);
    for (size_t i = 0; i < n; i++) {
        limits[i] = due_member(members->element[2 * i], ids[i]);
        argv[1 + i] = keys[i];
        argvlen[1 + i] = cf_keys_case(keys[i], CF_KEYS_MAX, shard, ids[i], strlen(ids[i]));
    }
    /* UNWATCH (when an earlier call left a WATCH), WATCH, MGET: one round trip */
    size_t replies = cf_store_append_unwatch(self) + 2;
    argv[0] = "WATCH", argvlen[0] = 5;
    cf_store_append_argv(self, 1, -1, n + 1, argv, argvlen);
    argv[0] = "MGET", argvlen[0] = 4;
    cf_store_append_argv(self, 1, -1, n + 1, argv, argvlen);
    cf_store_note_watch(self, cf_store_slot(self, shard));
    redisReply *states = NULL;
    int rc = 0;
    for (size_t r = 0; r < replies && rc == 0; r++) {
        redisReply *reply = NULL;
        if (cf_store_get_reply(self, &reply, "MGET") < 0)
            rc = -1;
        else if (r + 1 < replies)
            freeReplyObject(reply);     /* UNWATCH's and WATCH's: MGET says the same */
        else
            states = reply;
    }
    if (rc < 0)
        ;
    else if (states->type != REDIS_REPLY_ARRAY || states->elements != n)
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: reading case states: %s", shard,
                           states->type == REDIS_REPLY_ERROR ? states->str : "unexpected reply");
    cf_fold_reset(self->fold);
    cf_commit_reset(self->commit);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool loaded = limits[i] < 0;
        for (size_t j = 0; j < i && !loaded; j++)
            loaded = limits[j] >= 0 && strcmp(ids[i], ids[j]) == 0;
        if (loaded)
            continue;
        const redisReply *v = states->element[i];
        const char *old = v->type == REDIS_REPLY_STRING ? v->str : NULL;
        if (cf_fold_load_case(self->fold, ids[i], old, old ? v->len : 0) < 0)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: case %s: %s", shard, ids[i],
                               cf_fold_error(self->fold));
        if (!old)                   /* nil: absent, or of another type */
            cf_commit_type(self->commit, cf_commit_key(self->commit, keys[i], argvlen[1 + i]),
                           "string");
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const redisReply *m = members->element[2 * i];
        int64_t due = strtoll(members->element[2 * i + 1]->str, NULL, 10);
        if (limits[i] < 0 || !cf_fold_fire(self->fold, ids[i], limits[i], due, now))
            cf_commit_zrem(self->commit, cf_store_commit_fixed(self, self->commit, shard,
                                                               CF_KEYS_DUE), m->str, m->len);
    }
    if (rc == 0) {
        cf_fold_finish(self->fold);
        /* unfenced (another worker fires what the owner leaves): a counter
           written here would go behind its owner's cache (docs/storage.md,
           "The owner's cache"); firing counts nothing */
        assert(cf_fold_counters(self->fold) == 0 && cf_fold_route_days(self->fold) == 0);
        cf_store_build_writes(self, self->commit, shard);
        /* the owner's transactions watch its record, not the states this
           writes (cf_store_read.c): a stamp in it refuses one that read
           them before, whoever fires (a firing counts nothing, so the
           owner keeps its cache: another field than an apply's) */
        if (cf_commit_writes(self->commit))
            cf_store_commit_stamp(self, self->commit, shard, "touched");
        rc = cf_store_commit_send(self, shard, fired);
    }
    if (states)
        freeReplyObject(states);
    free(argv), free(argvlen), free(keys), free(ids), free(limits);
    return rc;
}

/* Whether this store fires shard s's deadlines now, first (ZRANGEBYSCORE
   ... WITHSCORES LIMIT 0 1: its first deadline due and its time, or none)
   seen at seen_ms. Its owner fires them (and a store that never held a
   fence: a lone worker, or no ownership recorded); another store only
   when it has seen the same first deadline due for the grace, the owner
   not firing; after it fired them, it notes the next one with the time it
   began waiting, so that if the owner leaves that one too it fires again
   at its next look. */
static bool due_ours(cf_store_t *self, unsigned s, const redisReply *first, int64_t seen_ms)
{
    cf_store_due_seen_t *seen = &self->due_seen[s];
    if (first->elements < 2) {
        *seen = (cf_store_due_seen_t) { 0 };
        return false;
    }
    if (self->owned[s] || !self->fenced_once)
        return true;
    const redisReply *m = first->element[0], *score = first->element[1];
    uint64_t hash = cf_shard_hash(m->str, m->len) ^ cf_shard_hash(score->str, score->len);
    hash += hash == 0;              /* 0: none */
    if (seen->fired) {              /* since: when it began waiting for its owner */
        seen->fired = false;
        seen->first = hash;
        return false;
    }
    if (seen->first != hash) {
        seen->first = hash;
        seen->since = seen_ms;
        return false;
    }
    return seen_ms - seen->since >= CF_STORE_DUE_GRACE_MS;
}

/* Of the shards [from, from + n), the first with a deadline due by now that
   this store fires (due_ours; one deadline each asked for, one round trip
   for all n; ZRANGEBYSCORE, which the worker's ACL allows already), or
   from + n when none has. */
static int due_find(cf_store_t *self, unsigned from, unsigned n, const char *now,
                    int64_t seen_ms, unsigned *found)
{
    for (unsigned s = from; s < from + n; s++) {
        char due[CF_KEYS_MAX];
        cf_keys_fixed(due, sizeof due, s, CF_KEYS_DUE);
        cf_store_appendf(self, due, "ZRANGEBYSCORE %s -inf %s WITHSCORES LIMIT 0 1", due, now);
    }
    *found = from + n;
    int rc = 0;
    for (unsigned s = from; s < from + n; s++) {
        redisReply *reply = NULL;
        if (cf_store_get_reply(self, &reply, "ZRANGEBYSCORE") < 0)
            return -1;                  /* the connection is dropped */
        if (rc == 0 && reply->type != REDIS_REPLY_ARRAY)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "ZRANGEBYSCORE: %s",
                               reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected");
        else if (rc == 0 && *found == from + n && due_ours(self, s, reply, seen_ms))
            *found = s;
        freeReplyObject(reply);
    }
    return rc;
}

/* A store that owned shard s (its last fence) and finds another epoch in
   the shard's owner record lost it to another worker: it stops firing the
   shard's deadlines at once. */
static void due_disown(cf_store_t *self, unsigned s, const redisReply *epoch)
{
    if (epoch->type == REDIS_REPLY_STRING
        && strtoull(epoch->str, NULL, 10) == self->owned[s])
        return;
    self->owned[s] = 0;
    self->due_seen[s] = (cf_store_due_seen_t) { 0 };
}

int cf_store_fire_due_step(cf_store_t *self, int64_t now_ms, int64_t seen_ms, unsigned *shard,
                           unsigned *fired)
{
    assert(self && shard && fired);
    cf_store_clear_error(self);
    *fired = 0;
    if (*shard >= self->shards)
        return 0;
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long) now_ms);
    unsigned n = self->shards - *shard < DUE_LOOK ? self->shards - *shard
                                                             : DUE_LOOK;
    unsigned from = *shard, s;
    if (due_find(self, from, n, now, seen_ms, &s) < 0)
        return -1;
    *shard = s < from + n ? s + 1 : s;  /* past the one fired now, or every one looked at */
    if (s == from + n)
        return 0;
    /* the owner checks that it still is, in the same round trip */
    char owner_key[CF_KEYS_MAX], due[CF_KEYS_MAX];
    bool owner = self->owned[s] != 0;
    cf_keys_fixed(owner_key, sizeof owner_key, s, CF_KEYS_OWNER);
    if (owner)
        cf_store_appendf(self, owner_key, "HGET %s epoch", owner_key);
    cf_keys_fixed(due, sizeof due, s, CF_KEYS_DUE);
    cf_store_appendf(self, due, "ZRANGEBYSCORE %s -inf %s WITHSCORES LIMIT 0 " DUE_BATCH, due,
                     now);
    redisReply *epoch = NULL, *members = NULL;
    if (owner && cf_store_get_reply(self, &epoch, "HGET") < 0)
        return -1;
    if (cf_store_get_reply(self, &members, "ZRANGEBYSCORE") < 0) {
        if (epoch)
            freeReplyObject(epoch);
        return -1;
    }
    int rc = 0;
    if (epoch && epoch->type == REDIS_REPLY_ERROR)
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "HGET %s: %s", owner_key, epoch->str);
    else if (members->type != REDIS_REPLY_ARRAY || members->elements % 2)
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "ZRANGEBYSCORE: %s",
                           members->type == REDIS_REPLY_ERROR ? members->str : "unexpected");
    else if (epoch && (due_disown(self, s, epoch), !self->owned[s]))
        ;                           /* not ours any more: as another's from the next round on */
    else if (members->elements) {
        rc = due_fire_shard(self, s, members, now_ms, fired);
        self->due_seen[s].fired = !owner && self->fenced_once;     /* in the owner's stead */
    }
    if (epoch)
        freeReplyObject(epoch);
    freeReplyObject(members);
    return rc;
}

int cf_store_fire_due(cf_store_t *self, int64_t now_ms, int64_t seen_ms, unsigned *fired)
{
    assert(self && fired);
    *fired = 0;
    unsigned shard = 0, step;
    int rc = 0;
    while (rc == 0 && shard < cf_store_shards(self)) {
        rc = cf_store_fire_due_step(self, now_ms, seen_ms, &shard, &step);
        *fired += step;
    }
    return rc;
}

int cf_store_clock(cf_store_t *self, int64_t *ms)
{
    assert(self && ms);
    cf_store_clear_error(self);
    *ms = -1;
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    redisReply *reply = cf_store_command(self, DUE_CLOCK_KEY, "GET " DUE_CLOCK_KEY);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_STRING)
        *ms = strtoll(reply->str, NULL, 10);
    else if (reply->type != REDIS_REPLY_NIL)     /* a refusal (NOPERM, WRONGTYPE) says which */
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "GET " DUE_CLOCK_KEY ": %s",
                           reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    freeReplyObject(reply);
    return rc;
}

int cf_store_set_clock(cf_store_t *self, int64_t ms)
{
    assert(self);
    cf_store_clear_error(self);
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    redisReply *reply = ms < 0 ? cf_store_command(self, DUE_CLOCK_KEY, "DEL " DUE_CLOCK_KEY)
                               : cf_store_command(self, DUE_CLOCK_KEY, "SET " DUE_CLOCK_KEY
                                                  " %lld", (long long) ms);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_ERROR
           ? cf_store_fail(self, CF_STORE_ERR_REDIS, "clock: %s", reply->str) : 0;
    freeReplyObject(reply);
    return rc;
}
