/*  cf_store_counters: the plain counter commands of cf_store, outside the
    script: the quality counters of rejected events (one pipelined HINCRBY
    per distinct field) and the read of one family summed over the shards
    (eight pipelined HGETALLs). Neither needs the script loaded, so a
    reporting tool can read without the scripts directory.                  */
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

/* Reads count pipelined replies; each must be of type `want`. The replies
   are passed to `take` (which may be NULL) and freed. */
static int store_read_replies(cf_store_t *self, size_t count, int want, const char *what,
                              int (*take)(cf_store_t *, const redisReply *, void *), void *arg)
{
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        void *p = NULL;
        if (redisGetReply(self->ctx, &p) != REDIS_OK || !p)
            return cf_store_fail_io(self, what);
        const redisReply *reply = p;
        if (rc == 0 && reply->type == REDIS_REPLY_ERROR)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "%s: %s", what, reply->str);
        else if (rc == 0 && reply->type != want)
            rc = cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "%s: unexpected reply", what);
        else if (rc == 0 && take)
            rc = take(self, reply, arg);
        freeReplyObject(p);
    }
    return rc;
}

static unsigned store_shard_of_name(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 16777619u;
    return h % CF_STORE_SHARDS;
}

int cf_store_count_rejections(cf_store_t *self, const char *const *fields, size_t count)
{
    assert(self && (count == 0 || fields));
    cf_store_clear_error(self);
    if (count == 0)
        return 0;
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    cf_counts_t *sums = cf_counts_new();       /* one HINCRBY per distinct field */
    char field[160];
    for (size_t i = 0; i < count; i++) {
        int len = snprintf(field, sizeof field, "rejected|%s", fields[i]);
        for (char *p = field + 9; *p; p++)
            *p = *p == '|' ? '_' : *p;          /* keep the field grammar */
        cf_counts_add(sums, field, len < (int) sizeof field ? (size_t) len : sizeof field - 1, 1);
    }
    size_t n = cf_counts_size(sums);
    for (size_t i = 0; i < n; i++) {
        const char *name = cf_counts_name(sums, i);
        if (redisAppendCommand(self->ctx, "HINCRBY cf:{s%u}:quality %s %lld",
                               store_shard_of_name(name), name,
                               (long long) cf_counts_value(sums, i)) != REDIS_OK)
            abort();
    }
    cf_counts_destroy(&sums);
    return store_read_replies(self, n, REDIS_REPLY_INTEGER, "HINCRBY", NULL, NULL);
}

static int store_sum_hash(cf_store_t *self, const redisReply *reply, void *arg)
{
    cf_counts_t *counts = arg;
    for (size_t j = 0; j + 1 < reply->elements; j += 2) {
        const redisReply *name = reply->element[j], *value = reply->element[j + 1];
        char *end;
        errno = 0;
        long long v = value->type == REDIS_REPLY_STRING ? strtoll(value->str, &end, 10) : 0;
        if (name->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING
            || errno || end == value->str || *end)
            return cf_store_fail(self, CF_STORE_ERR_PROTOCOL,
                                 "HGETALL: a counter is not an integer");
        cf_counts_add(counts, name->str, name->len, v);
    }
    return 0;
}

int cf_store_read_family(cf_store_t *self, const char *family, cf_counts_t **counts)
{
    assert(self && family && counts);
    cf_store_clear_error(self);
    *counts = NULL;
    int known = 0;
    for (int f = 0; f < STORE_FAMILIES; f++)
        known |= strcmp(family, cf_store_families[f]) == 0;
    if (!known)
        return cf_store_fail(self, CF_STORE_ERR_INPUT, "unknown family '%.32s'", family);
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++)
        if (redisAppendCommand(self->ctx, "HGETALL cf:{s%u}:%s", s, family) != REDIS_OK)
            abort();
    *counts = cf_counts_new();
    if (store_read_replies(self, CF_STORE_SHARDS, REDIS_REPLY_ARRAY, "HGETALL",
                           store_sum_hash, *counts) < 0) {
        cf_counts_destroy(counts);
        return -1;
    }
    return 0;
}
