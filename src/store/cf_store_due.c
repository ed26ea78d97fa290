/*  cf_store_due: the overdue timer's side of the store. The apply script
    keeps each shard's deadlines in cf:{sN}:due; here a timer reads the ones
    due by now and has the library's caseflow_fire_due (lua/fire_due.lua) fire them, shard by shard (its keys
    named in the call, as Redis Cluster wants). The clock is the wall clock
    unless an operator set cf:clock (replays of past events, tests).        */
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "caseflow/cf_alloc.h"
#include "cf_store_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#define DUE_BATCH       "100"       /* alerts fired per shard and call */
#define DUE_CLOCK_KEY   CF_KEYS_CLOCK

/* The fire script's call for the members of one shard's ZRANGEBYSCORE. */
static int due_fire_shard(cf_store_t *self, unsigned shard, const redisReply *members,
                          const char *now, unsigned *fired)
{
    size_t n = members->elements, argc = 7 + 2 * n;     /* FCALL fn numkeys, 2 + n keys, version, 1 + n args */
    const char **argv = cf_calloc(argc, sizeof *argv);
    size_t *argvlen = cf_calloc(argc, sizeof *argvlen);
    char (*keys)[CF_KEYS_MAX] = cf_calloc(n + 2, sizeof *keys);
    char numkeys[16];
    cf_keys_fixed(keys[0], CF_KEYS_MAX, shard, CF_KEYS_DUE);
    cf_keys_fixed(keys[1], CF_KEYS_MAX, shard, CF_KEYS_OUTBOX);
    argv[0] = "FCALL", argv[1] = CF_STORE_FN_FIRE;
    snprintf(numkeys, sizeof numkeys, "%zu", n + 2);
    argv[2] = numkeys;
    argv[3] = keys[0], argv[4] = keys[1];
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = members->element[i];
        const char *bar = memchr(m->str, '|', m->len);
        cf_keys_case(keys[2 + i], CF_KEYS_MAX, shard, m->str, bar ? (size_t) (bar - m->str) : 0);
        argv[5 + i] = keys[2 + i];
        argv[7 + n + i] = m->str, argvlen[7 + n + i] = m->len;
    }
    argv[5 + n] = self->version;
    argv[6 + n] = now;
    for (size_t i = 0; i < argc; i++)
        if (!argvlen[i])
            argvlen[i] = strlen(argv[i]);
    redisReply *reply = redisCommandArgv(self->ctx, (int) argc, argv, argvlen);
    free(argv), free(argvlen), free(keys);
    if (!reply)
        return cf_store_fail_io(self, "FCALL " CF_STORE_FN_FIRE);
    int rc = 0;
    if (reply->type == REDIS_REPLY_INTEGER)
        *fired += (unsigned) reply->integer;
    else
        rc = cf_store_fail_call(self, CF_STORE_FN_FIRE, reply->type == REDIS_REPLY_ERROR
                                                        ? reply->str : "unexpected reply");
    freeReplyObject(reply);
    return rc;
}

int cf_store_fire_due(cf_store_t *self, int64_t now_ms, unsigned *fired)
{
    assert(self && fired);
    cf_store_clear_error(self);
    *fired = 0;
    if (cf_store_ensure(self, 1) < 0)
        return -1;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long) now_ms);
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++) {
        char due[CF_KEYS_MAX];
        cf_keys_fixed(due, sizeof due, s, CF_KEYS_DUE);
        redisReply *members = redisCommand(self->ctx, "ZRANGEBYSCORE %s -inf %s LIMIT 0 "
                                           DUE_BATCH, due, now);
        if (!members)
            return cf_store_fail_io(self, "ZRANGEBYSCORE");
        int rc = 0;
        if (members->type != REDIS_REPLY_ARRAY)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "ZRANGEBYSCORE: %s",
                               members->type == REDIS_REPLY_ERROR ? members->str : "unexpected");
        else if (members->elements)
            rc = due_fire_shard(self, s, members, now, fired);
        freeReplyObject(members);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int cf_store_clock(cf_store_t *self, int64_t *ms)
{
    assert(self && ms);
    cf_store_clear_error(self);
    *ms = -1;
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    redisReply *reply = redisCommand(self->ctx, "GET " DUE_CLOCK_KEY);
    if (!reply)
        return cf_store_fail_io(self, "GET " DUE_CLOCK_KEY);
    int rc = 0;
    if (reply->type == REDIS_REPLY_STRING)
        *ms = strtoll(reply->str, NULL, 10);
    else if (reply->type != REDIS_REPLY_NIL)
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "GET " DUE_CLOCK_KEY ": unexpected reply");
    freeReplyObject(reply);
    return rc;
}

int cf_store_set_clock(cf_store_t *self, int64_t ms)
{
    assert(self);
    cf_store_clear_error(self);
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    redisReply *reply = ms < 0 ? redisCommand(self->ctx, "DEL " DUE_CLOCK_KEY)
                               : redisCommand(self->ctx, "SET " DUE_CLOCK_KEY " %lld",
                                              (long long) ms);
    if (!reply)
        return cf_store_fail_io(self, "clock");
    int rc = reply->type == REDIS_REPLY_ERROR
           ? cf_store_fail(self, CF_STORE_ERR_REDIS, "clock: %s", reply->str) : 0;
    freeReplyObject(reply);
    return rc;
}
