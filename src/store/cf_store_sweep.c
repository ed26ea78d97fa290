/*  cf_store_sweep: deletes the dedupe markers that expired (docs/storage.md,
    "Dedupe markers"). A marker holds the generation it was written in; the
    lookups ignore one written before the generation before the current one,
    and the sweeper deletes it, so that a bucket holds about two generations
    of ids and needs no expiry of its own (one key per bucket serves every
    generation: one lookup per bucket, no EXPIREAT on the apply path).

    A step reads a few buckets at once (HGETALL, one round trip with Redis's
    clock); a bucket with an expired marker is read again under WATCH and
    its expired fields deleted in a MULTI/EXEC, so that a marker written
    again meanwhile (the same event applied anew after its marker expired)
    is never deleted: EXEC refuses, and the next pass comes back to it. */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#define SWEEP_BUCKETS   64      /* buckets read per step */

/* Whether a bucket's HGETALL reply holds a marker expired by generation
   now; adds its expired fields to argv from *argc (NULL: only whether). A
   value that is not a marker is left alone (the apply path reports it). */
static bool sweep_expired(const redisReply *all, long long now, const char **argv,
                          size_t *argvlen, size_t *argc)
{
    bool any = false;
    for (size_t f = 0; f + 1 < all->elements; f += 2) {
        const redisReply *v = all->element[f + 1];
        long long generation, tag;
        if (v->type != REDIS_REPLY_STRING
            || cf_keys_eid_value_parse(v->str, v->len, &generation, &tag) < 0
            || generation + 1 >= now)
            continue;
        any = true;
        if (argv) {
            argv[*argc] = all->element[f]->str;
            argvlen[(*argc)++] = all->element[f]->len;
        }
    }
    return any;
}

/* One bucket, under WATCH: its expired fields deleted. Adds how many to
   *removed. */
static int sweep_bucket(cf_store_t *self, const char *key, long long now, unsigned *removed)
{
    if (redisAppendCommand(self->ctx, "WATCH %s", key) != REDIS_OK
        || redisAppendCommand(self->ctx, "HGETALL %s", key) != REDIS_OK)
        abort();                    /* hiredis could not allocate */
    redisReply *watch = NULL, *all = NULL;
    if (redisGetReply(self->ctx, (void **) &watch) != REDIS_OK || !watch
        || redisGetReply(self->ctx, (void **) &all) != REDIS_OK || !all) {
        if (watch)
            freeReplyObject(watch);
        return cf_store_fail_io(self, "HGETALL");
    }
    freeReplyObject(watch);
    int rc = 0;
    size_t argc = 2;
    const char **argv = NULL;
    size_t *argvlen = NULL;
    if (all->type != REDIS_REPLY_ARRAY) {
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "sweeping %s: %s", key,
                           all->type == REDIS_REPLY_ERROR ? all->str : "unexpected reply");
    } else {
        argv = cf_calloc(all->elements / 2 + 2, sizeof *argv);
        argvlen = cf_calloc(all->elements / 2 + 2, sizeof *argvlen);
        argv[0] = "HDEL", argvlen[0] = 4;
        argv[1] = key, argvlen[1] = strlen(key);
        sweep_expired(all, now, argv, argvlen, &argc);
    }
    if (rc == 0 && argc > 2) {
        if (redisAppendCommand(self->ctx, "MULTI") != REDIS_OK
            || redisAppendCommandArgv(self->ctx, (int) argc, argv, argvlen) != REDIS_OK
            || redisAppendCommand(self->ctx, "EXEC") != REDIS_OK)
            abort();
        redisReply *replies[3] = { NULL, NULL, NULL };
        for (int r = 0; r < 3 && rc == 0; r++)
            if (redisGetReply(self->ctx, (void **) &replies[r]) != REDIS_OK || !replies[r])
                rc = cf_store_fail_io(self, "HDEL");
        const redisReply *exec = replies[2];
        if (rc == 0 && exec->type == REDIS_REPLY_ARRAY && exec->elements == 1
            && exec->element[0]->type == REDIS_REPLY_INTEGER)
            *removed += (unsigned) exec->element[0]->integer;
        else if (rc == 0 && exec->type != REDIS_REPLY_NIL)    /* nil: written meanwhile */
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "sweeping %s: %s", key,
                               exec->type == REDIS_REPLY_ERROR ? exec->str : "unexpected reply");
        for (int r = 0; r < 3; r++)
            if (replies[r])
                freeReplyObject(replies[r]);
    } else if (self->ctx && redisAppendCommand(self->ctx, "UNWATCH") == REDIS_OK) {
        redisReply *unwatch = NULL;
        if (redisGetReply(self->ctx, (void **) &unwatch) != REDIS_OK || !unwatch)
            rc = cf_store_fail_io(self, "UNWATCH");
        else
            freeReplyObject(unwatch);
    }
    free(argv), free(argvlen);
    freeReplyObject(all);
    return rc;
}

int cf_store_sweep_step(cf_store_t *self, unsigned *cursor, unsigned *removed)
{
    assert(self && cursor && removed);
    cf_store_clear_error(self);
    *removed = 0;
    unsigned total = self->shards * CF_KEYS_EID_BUCKETS;
    if (*cursor >= total)
        *cursor = 0;
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    unsigned from = *cursor, n = total - from < SWEEP_BUCKETS ? total - from : SWEEP_BUCKETS;
    char keys[SWEEP_BUCKETS][CF_KEYS_MAX];
    if (redisAppendCommand(self->ctx, "TIME") != REDIS_OK)
        abort();
    for (unsigned k = 0; k < n; k++) {
        cf_keys_eid(keys[k], sizeof keys[k], (from + k) / CF_KEYS_EID_BUCKETS,
                    (from + k) % CF_KEYS_EID_BUCKETS);
        if (redisAppendCommand(self->ctx, "HGETALL %s", keys[k]) != REDIS_OK)
            abort();
    }
    redisReply *replies[SWEEP_BUCKETS + 1] = { NULL };
    int rc = 0;
    for (unsigned r = 0; r <= n; r++)
        if (redisGetReply(self->ctx, (void **) &replies[r]) != REDIS_OK || !replies[r]) {
            rc = cf_store_fail_io(self, "HGETALL");
            break;
        }
    long long now = 0;
    if (rc == 0)
        rc = cf_store_take_generation(self, replies[0], &now);
    for (unsigned k = 0; rc == 0 && k < n; k++) {
        const redisReply *all = replies[k + 1];
        if (all->type == REDIS_REPLY_ERROR)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "sweeping %s: %s", keys[k], all->str);
        else if (all->type == REDIS_REPLY_ARRAY && sweep_expired(all, now, NULL, NULL, NULL))
            rc = sweep_bucket(self, keys[k], now, removed);
    }
    for (unsigned r = 0; r <= n; r++)
        if (replies[r])
            freeReplyObject(replies[r]);
    if (rc == 0 || self->err != CF_STORE_ERR_IO)   /* a bucket refused: past it, next time */
        *cursor = from + n < total ? from + n : 0;
    return rc;
}
