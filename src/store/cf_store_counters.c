/*  cf_store_counters: the counter commands of cf_store outside the apply
    script: the quality counters of rejected events (the library's
    caseflow_count_rejection, lua/count_rejection.lua, one pipelined call
    per rejection) and the read of one family summed
    over the shards (one pipelined HGETALL per shard, which need no script, so a
    reporting tool can read without the scripts directory), each row's tuple
    expanded into its measures' fields (cf_tuple).                           */
#include "caseflow/cf_keys.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_store.h"
#include "caseflow/cf_tuple.h"
#include "cf_store_internal.h"

#include <assert.h>
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
        redisReply *reply = NULL;
        if (cf_store_get_reply(self, &reply, what) < 0)
            return -1;
        if (rc == 0 && reply->type == REDIS_REPLY_ERROR)
            rc = cf_store_fail_call(self, what, reply->str);
        else if (rc == 0 && reply->type != want)
            rc = cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "%s: unexpected reply", what);
        else if (rc == 0 && take)
            rc = take(self, reply, arg);
        freeReplyObject(reply);
    }
    return rc;
}

/* Appends the count_rejection.lua call of one rejection (docs in the
   script): its shard is the counter's, so that the marker sits in the
   same cluster slot as the hash it guards. */
static void store_append_rejection(cf_store_t *self, const cf_store_rejection_t *rejection)
{
    char counter[160], marker[CF_KEYS_REJECTION_MAX], ttl[16];
    int len = snprintf(counter, sizeof counter, "rejected|%s", rejection->field);
    for (char *p = counter + 9; *p; p++)
        *p = *p == '|' ? '_' : *p;              /* keep the field grammar */
    size_t counter_len = len < (int) sizeof counter ? (size_t) len : sizeof counter - 1;
    unsigned shard = cf_shard_pick(cf_shard_hash(counter, counter_len), self->shards);
    char quality[CF_KEYS_MAX];
    cf_keys_fixed(quality, sizeof quality, shard, CF_FAMILY_QUALITY);
    bool has_id = rejection->event_id && *rejection->event_id;
    cf_keys_rejection(marker, sizeof marker, shard, has_id ? rejection->event_id : "", counter + 9);
    snprintf(ttl, sizeof ttl, "%u", self->eid_ttl);
    const char *argv[] = { "FCALL", CF_STORE_FN_REJECT, has_id ? "2" : "1", quality,
                           has_id ? marker : self->version, has_id ? self->version : counter,
                           has_id ? counter : ttl, ttl };
    size_t argvlen[] = { 5, strlen(CF_STORE_FN_REJECT), 1, strlen(quality),
                         has_id ? strlen(marker) : CF_STORE_VERSION_LEN,
                         has_id ? CF_STORE_VERSION_LEN : counter_len,
                         has_id ? counter_len : strlen(ttl), strlen(ttl) };
    cf_store_append_argv(self, 3, -1, has_id ? 8 : 7, argv, argvlen);
}

/* Takes one script reply: whether that rejection counted now. */
static int store_take_counted(cf_store_t *self, const redisReply *reply, void *arg)
{
    (void) self;
    bool **counted = arg;
    if (*counted)
        *(*counted)++ = reply->integer == 1;
    return 0;
}

int cf_store_count_rejections(cf_store_t *self, const cf_store_rejection_t *rejections,
                              size_t count, bool *counted)
{
    assert(self && (count == 0 || rejections));
    cf_store_clear_error(self);
    if (count == 0)
        return 0;
    if (cf_store_ensure(self, 1) < 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        store_append_rejection(self, &rejections[i]);
    return store_read_replies(self, count, REDIS_REPLY_INTEGER, CF_STORE_FN_REJECT,
                              store_take_counted, &counted);
}

/* What one family's hashes are summed into. */
typedef struct {
    cf_counts_t *counts;
    int family;
} store_sum_t;

static void store_sum_field(void *arg, const char *field, size_t len, int64_t value)
{
    cf_counts_add(arg, field, len, value);
}

static int store_sum_hash(cf_store_t *self, const redisReply *reply, void *arg)
{
    const store_sum_t *sum = arg;
    for (size_t j = 0; j + 1 < reply->elements; j += 2) {
        const redisReply *name = reply->element[j], *value = reply->element[j + 1];
        if (name->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING
            || cf_tuple_expand(sum->family, name->str, name->len, value->str, value->len,
                               store_sum_field, sum->counts) < 0)
            return cf_store_fail(self, CF_STORE_ERR_PROTOCOL,
                                 "HGETALL: a counter is not an integer (nor a row's tuple)");
    }
    return 0;
}

int cf_store_read_family(cf_store_t *self, const char *family, cf_counts_t **counts)
{
    assert(self && family && counts);
    cf_store_clear_error(self);
    *counts = NULL;
    int known = cf_vocab_family_find(family, strlen(family));
    if (known < 0)
        return cf_store_fail(self, CF_STORE_ERR_INPUT, "unknown family '%.32s'", family);
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    for (unsigned s = 0; s < self->shards; s++) {
        char key[CF_KEYS_MAX];
        cf_keys_fixed(key, sizeof key, s, known);
        cf_store_appendf(self, key, "HGETALL %s", key);
    }
    *counts = cf_counts_new();
    store_sum_t sum = { *counts, known };
    if (store_read_replies(self, self->shards, REDIS_REPLY_ARRAY, "HGETALL",
                           store_sum_hash, &sum) < 0) {
        cf_counts_destroy(counts);
        return -1;
    }
    return 0;
}
