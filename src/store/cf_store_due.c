/*  cf_store_due: the overdue timer's side of the store. The apply path
    keeps each shard's deadlines in cf:{sN}:due; here a timer reads the ones
    due by now and fires them as the apply path applies events: the fold
    (cf_fold_fire) computes, one commit (cf_store_commit.c) writes, under
    WATCH of the states read, in steps: a step looks at 16 shards and fires
    as many of them as hold 256 alerts (one shard at least, at most 100
    alerts of each), in four round trips whatever their number; the worker
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

#define DUE_BATCH       "100"       /* alerts fired per shard and step */
#define DUE_STEP_ALERTS 256         /* a step fires shards until it holds this many alerts */
#define DUE_CLOCK_KEY   CF_KEYS_CLOCK

/* One shard a step fires: its due members (ZRANGEBYSCORE ... WITHSCORES),
   their cases' keys and ids, each member's limit (-1: not one), and the
   cases' states (MGET). */
typedef struct {
    unsigned shard;
    const redisReply *members;
    size_t n;
    char (*keys)[CF_KEYS_MAX];
    size_t *key_len;
    char (*ids)[CF_PSEUDONYM_LEN + 1];
    int *limits;
    redisReply *states;
} due_shard_t;

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

/* The members' cases, for each shard: ids, limits and keys. */
static void due_shard_cases(due_shard_t *d)
{
    d->keys = cf_calloc(d->n ? d->n : 1, sizeof *d->keys);
    d->key_len = cf_calloc(d->n ? d->n : 1, sizeof *d->key_len);
    d->ids = cf_calloc(d->n ? d->n : 1, sizeof *d->ids);
    d->limits = cf_calloc(d->n ? d->n : 1, sizeof *d->limits);
    for (size_t i = 0; i < d->n; i++) {
        d->limits[i] = due_member(d->members->element[2 * i], d->ids[i]);
        d->key_len[i] = cf_keys_case(d->keys[i], CF_KEYS_MAX, d->shard, d->ids[i],
                                     strlen(d->ids[i]));
    }
}

static void due_shard_free(due_shard_t *d)
{
    free(d->keys), free(d->key_len), free(d->ids), free(d->limits);
    if (d->states)
        freeReplyObject(d->states);
}

/* Reads the states of every shard's cases under WATCH: UNWATCH (when an
   earlier call left a WATCH), then WATCH and MGET of each shard's, in one
   round trip. */
static int due_read_states(cf_store_t *self, due_shard_t *shards, size_t k)
{
    size_t replies = cf_store_append_unwatch(self) + 2 * k;
    for (size_t d = 0; d < k; d++) {
        due_shard_t *ds = &shards[d];
        const char **argv = cf_calloc(ds->n + 1, sizeof *argv);
        size_t *argvlen = cf_calloc(ds->n + 1, sizeof *argvlen);
        for (size_t i = 0; i < ds->n; i++)
            argv[1 + i] = ds->keys[i], argvlen[1 + i] = ds->key_len[i];
        argv[0] = "WATCH", argvlen[0] = 5;
        cf_store_append_argv(self, 1, -1, ds->n + 1, argv, argvlen);
        argv[0] = "MGET", argvlen[0] = 4;
        cf_store_append_argv(self, 1, -1, ds->n + 1, argv, argvlen);
        cf_store_note_watch(self, cf_store_slot(self, ds->shard));
        free(argv), free(argvlen);
    }
    size_t first = replies - 2 * k;     /* UNWATCH's come first */
    int rc = 0;
    for (size_t r = 0; r < replies; r++) {
        redisReply *reply = NULL;
        if (cf_store_get_reply(self, &reply, "MGET") < 0)
            return -1;                  /* the connection is dropped */
        if (r >= first && (r - first) % 2 == 1)
            shards[(r - first) / 2].states = reply;
        else
            freeReplyObject(reply);     /* UNWATCH's and WATCH's: MGET says the same */
    }
    for (size_t d = 0; d < k && rc == 0; d++) {
        const redisReply *states = shards[d].states;
        if (states->type != REDIS_REPLY_ARRAY || states->elements != shards[d].n)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: reading case states: %s",
                               shards[d].shard, states->type == REDIS_REPLY_ERROR ? states->str
                                                                         : "unexpected reply");
    }
    return rc;
}

/* Has the fold fire each of the shard's deadlines that its case's state
   still holds, and builds the commit: the alerts, the states and the
   deadlines; a member whose case no longer has that deadline is removed.
   Returns whether it writes anything, or -1. */
static int due_fold_shard(cf_store_t *self, const due_shard_t *d, cf_commit_t *c, int64_t now)
{
    cf_fold_reset(self->fold);
    cf_commit_reset(c);
    for (size_t i = 0; i < d->n; i++) {
        bool loaded = d->limits[i] < 0;
        for (size_t j = 0; j < i && !loaded; j++)
            loaded = d->limits[j] >= 0 && strcmp(d->ids[i], d->ids[j]) == 0;
        if (loaded)
            continue;
        const redisReply *v = d->states->element[i];
        const char *old = v->type == REDIS_REPLY_STRING ? v->str : NULL;
        if (cf_fold_load_case(self->fold, d->ids[i], old, old ? v->len : 0) < 0)
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: case %s: %s", d->shard,
                                 d->ids[i], cf_fold_error(self->fold));
        if (!old)                   /* nil: absent, or of another type */
            cf_commit_type(c, cf_commit_key(c, d->keys[i], d->key_len[i]), "string");
    }
    for (size_t i = 0; i < d->n; i++) {
        const redisReply *m = d->members->element[2 * i];
        int64_t due = strtoll(d->members->element[2 * i + 1]->str, NULL, 10);
        if (d->limits[i] < 0 || !cf_fold_fire(self->fold, d->ids[i], d->limits[i], due, now))
            cf_commit_zrem(c, cf_store_commit_fixed(self, c, d->shard, CF_KEYS_DUE), m->str,
                           m->len);
    }
    cf_fold_finish(self->fold);
    /* unfenced (another worker fires what the owner leaves): a counter
       written here would go behind its owner's cache (docs/storage.md,
       "The owner's cache"); firing counts nothing */
    assert(cf_fold_counters(self->fold) == 0 && cf_fold_route_days(self->fold) == 0);
    cf_store_build_writes(self, c, d->shard);
    /* the owner's transactions watch its record, not the states this
       writes (cf_store_read.c): a stamp in it refuses one that read them
       before, whoever fires (a firing counts nothing, so the owner keeps
       its cache: another field than an apply's) */
    if (cf_commit_writes(c))
        cf_store_commit_stamp(self, c, d->shard, "touched");
    return cf_commit_writes(c) ? 1 : 0;
}

/* Fires the due members of the k shards: reads their cases' states under
   WATCH, folds, and commits every shard's in one MULTI/EXEC (on a Redis
   Cluster k is 1: a connection's WATCHes end at its first EXEC). Another
   worker's commit in between (EXEC refused) leaves them to the next
   round. */
static int due_fire_shards(cf_store_t *self, due_shard_t *shards, size_t k, int64_t now,
                           unsigned *fired)
{
    int rc = due_read_states(self, shards, k);
    unsigned char state[CF_STORE_DUE_LOOK] = { 0 };
    unsigned which[CF_STORE_DUE_LOOK];
    size_t send = 0;
    for (size_t d = 0; d < k && rc == 0; d++) {
        which[d] = shards[d].shard;
        int writes = due_fold_shard(self, &shards[d], self->due_commits[d], now);
        if (writes < 0)
            rc = -1;
        state[d] = writes > 0 ? CF_STORE_COMMIT_SEND : CF_STORE_COMMIT_NONE;
        send += writes > 0;
    }
    if (rc < 0 || !send)
        return rc;
    char why[400];
    int run = cf_store_commit_beside(self, self->due_commits, k, state, which, fired, why,
                                     sizeof why);
    if (run < 0)
        return -1;
    return run ? cf_store_fail(self, CF_STORE_ERR_REDIS, "%s", why) : 0;
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

/* Reads the due members of the shards [from, from + n) (and, of each this
   store owns, its owner record's epoch), one round trip for all. */
static int due_look(cf_store_t *self, unsigned from, unsigned n, const char *now,
                    redisReply **epochs, redisReply **members)
{
    for (unsigned s = from; s < from + n; s++) {
        char key[CF_KEYS_MAX];
        if (self->owned[s]) {
            cf_keys_fixed(key, sizeof key, s, CF_KEYS_OWNER);
            cf_store_appendf(self, key, "HGET %s epoch", key);
        }
        cf_keys_fixed(key, sizeof key, s, CF_KEYS_DUE);
        cf_store_appendf(self, key, "ZRANGEBYSCORE %s -inf %s WITHSCORES LIMIT 0 " DUE_BATCH,
                         key, now);
    }
    int rc = 0;
    for (unsigned s = from; s < from + n; s++) {
        redisReply **epoch = &epochs[s - from], **due = &members[s - from];
        if ((self->owned[s] && cf_store_get_reply(self, epoch, "HGET") < 0)
            || cf_store_get_reply(self, due, "ZRANGEBYSCORE") < 0)
            return -1;                  /* the connection is dropped */
        if (rc == 0 && *epoch && (*epoch)->type == REDIS_REPLY_ERROR)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "HGET epoch of shard %u: %s", s,
                               (*epoch)->str);
        else if (rc == 0 && ((*due)->type != REDIS_REPLY_ARRAY || (*due)->elements % 2))
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "ZRANGEBYSCORE: %s",
                               (*due)->type == REDIS_REPLY_ERROR ? (*due)->str : "unexpected");
    }
    return rc;
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
    unsigned from = *shard;
    unsigned n = self->shards - from < CF_STORE_DUE_LOOK ? self->shards - from
                                                         : CF_STORE_DUE_LOOK;
    redisReply *epochs[CF_STORE_DUE_LOOK] = { 0 }, *members[CF_STORE_DUE_LOOK] = { 0 };
    due_shard_t fire[CF_STORE_DUE_LOOK];
    size_t k = 0, alerts = 0;
    int rc = due_look(self, from, n, now, epochs, members);
    *shard = from + n;
    for (unsigned s = from; rc == 0 && s < from + n; s++) {
        if (k && (alerts >= DUE_STEP_ALERTS || self->cluster)) {
            *shard = s;             /* the step is full: the rest are looked at again */
            break;
        }
        bool owner = self->owned[s] != 0;
        if (owner && (due_disown(self, s, epochs[s - from]), !self->owned[s]))
            continue;               /* not ours any more: as another's from the next round on */
        if (!due_ours(self, s, members[s - from], seen_ms))
            continue;
        /* in the owner's stead: noted, so that the next one waits the grace */
        self->due_seen[s].fired = !owner && self->fenced_once;
        fire[k] = (due_shard_t) { .shard = s, .members = members[s - from],
                                  .n = members[s - from]->elements / 2 };
        due_shard_cases(&fire[k]);
        alerts += fire[k++].n;
    }
    if (rc == 0 && k)
        rc = due_fire_shards(self, fire, k, now_ms, fired);
    for (size_t d = 0; d < k; d++)
        due_shard_free(&fire[d]);
    for (unsigned i = 0; i < n; i++) {
        if (epochs[i])
            freeReplyObject(epochs[i]);
        if (members[i])
            freeReplyObject(members[i]);
    }
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

int cf_store_take_clock(cf_store_t *self, const redisReply *reply, cf_store_err_t err, int64_t *ms)
{
    *ms = -1;
    if (reply->type == REDIS_REPLY_STRING)
        *ms = strtoll(reply->str, NULL, 10);
    else if (reply->type != REDIS_REPLY_NIL)     /* a refusal (NOPERM, WRONGTYPE) says which */
        return cf_store_fail(self, err, "GET " DUE_CLOCK_KEY ": %s",
                             reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    return 0;
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
    int rc = cf_store_take_clock(self, reply, CF_STORE_ERR_REDIS, ms);
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
