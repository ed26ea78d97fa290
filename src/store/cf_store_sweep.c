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
    cf_store_appendf(self, key, "WATCH %s", key);
    cf_store_appendf(self, key, "HGETALL %s", key);
    redisReply *watch = NULL, *all = NULL;
    if (cf_store_get_reply(self, &watch, "WATCH") < 0)
        return -1;
    if (cf_store_get_reply(self, &all, "HGETALL") < 0) {
        freeReplyObject(watch);
        return -1;
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
        cf_store_appendf(self, key, "MULTI");       /* to the key's node */
        cf_store_append_argv(self, 1, -1, argc, argv, argvlen);
        cf_store_appendf(self, key, "EXEC");
        redisReply *replies[3] = { NULL, NULL, NULL };
        for (int r = 0; r < 3 && rc == 0; r++)
            rc = cf_store_get_reply(self, &replies[r], "HDEL");
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
    } else if (self->connected) {
        cf_store_appendf(self, key, "UNWATCH");
        redisReply *unwatch = NULL;
        if (cf_store_get_reply(self, &unwatch, "UNWATCH") == 0)
            freeReplyObject(unwatch);
        else
            rc = -1;
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
    cf_store_appendf(self, NULL, "TIME");
    for (unsigned k = 0; k < n; k++) {
        cf_keys_eid(keys[k], sizeof keys[k], (from + k) / CF_KEYS_EID_BUCKETS,
                    (from + k) % CF_KEYS_EID_BUCKETS);
        cf_store_appendf(self, keys[k], "HGETALL %s", keys[k]);
    }
    redisReply *replies[SWEEP_BUCKETS + 1] = { NULL };
    int rc = 0;
    for (unsigned r = 0; r <= n; r++)
        if (cf_store_get_reply(self, &replies[r], "HGETALL") < 0) {
            rc = -1;
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
