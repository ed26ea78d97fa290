/*  cf_store_shards: every process of a deployment must split the state into
    the same number of shards (the setting `shards`): a worker that put a
    case in shard 5 of 64 and another that looks for it in shard 5 of 8 would
    each see half of it. The first process to connect records its count in
    Redis (cf:shards): the daemons that write the shards (workers, broker)
    record it when none is; every connection compares its own with it and
    refuses to go on when they differ (docs/storage.md, "Shards"). Tools
    (caseflow-ctl, caseflow-web) only compare: their Redis users may not
    write the key, and a refused command would fill Redis's ACL LOG.       */
#include "caseflow/cf_keys.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

/* What reply says of the record: 0 it agrees (or none was there), -1 with
   why. */
static int shards_compare(const redisReply *reply, unsigned shards, char *err, size_t size)
{
    if (reply->type == REDIS_REPLY_NIL)
        return 0;
    if (reply->type != REDIS_REPLY_STRING) {
        snprintf(err, size, "reading %s: %s", CF_KEYS_SHARDS,
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        return -1;
    }
    char *end;
    unsigned long recorded = strtoul(reply->str, &end, 10);
    if (end != reply->str && *end == '\0' && recorded == shards)
        return 0;
    snprintf(err, size, "shards: this process is set to %u shards, but this Redis holds data "
             "split into %.24s (%s): every process of a deployment must have the same `shards` "
             "setting, and changing it needs an empty Redis (docs/storage.md)", shards,
             reply->str, CF_KEYS_SHARDS);
    return -1;
}

int cf_store_shards_agree(redisContext *c, unsigned shards, bool record, char *err,
                          size_t size)
{
    assert(c && shards >= 1 && shards <= CF_SHARD_MAX);
    /* SET NX GET records it unless recorded, answering what was there */
    redisReply *reply = record ? redisCommand(c, "SET " CF_KEYS_SHARDS " %u NX GET", shards)
                               : redisCommand(c, "GET " CF_KEYS_SHARDS);
    if (!reply) {
        snprintf(err, size, "reading %s: %s", CF_KEYS_SHARDS, c->errstr);
        return -1;
    }
    int rc = shards_compare(reply, shards, err, size);
    freeReplyObject(reply);
    return rc;
}
