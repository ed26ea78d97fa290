/*  cf_store_durability: what an `accepted` ack means on this Redis, read
    from the server's own persistence settings (CONFIG GET appendonly,
    appendfsync, save) so that the worker can log the guarantee in force at
    start-up (docs/operations.md has the table).                             */
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <hiredis/hiredis.h>

/* The value of one setting, "" when Redis did not give it. */
static int store_config(cf_store_t *self, const char *name, char *value, size_t size)
{
    redisReply *reply = redisCommand(self->ctx, "CONFIG GET %s", name);
    if (!reply)
        return cf_store_fail_io(self, "CONFIG GET");
    int rc = 0;
    value[0] = '\0';
    if (reply->type == REDIS_REPLY_ERROR)
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "CONFIG GET %s: %s", name, reply->str);
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
             && reply->element[1]->type == REDIS_REPLY_STRING)
        snprintf(value, size, "%s", reply->element[1]->str);
    freeReplyObject(reply);
    return rc;
}

int cf_store_durability(cf_store_t *self, cf_store_durability_t *mode, char *text, size_t size)
{
    assert(self && mode && text);
    char aof[16], fsync[16], save[128];
    if (cf_store_ensure(self, 0) < 0 || store_config(self, "appendonly", aof, sizeof aof) < 0
        || store_config(self, "appendfsync", fsync, sizeof fsync) < 0
        || store_config(self, "save", save, sizeof save) < 0)
        return -1;
    if (strcmp(aof, "yes") == 0 && strcmp(fsync, "always") == 0) {
        *mode = CF_STORE_DURABLE_STRICT;
        snprintf(text, size, "appendonly yes, appendfsync always: an accepted event survives "
                 "a crash of redis-server or of the machine");
    } else if (strcmp(aof, "yes") == 0) {
        *mode = CF_STORE_DURABLE_SECOND;
        snprintf(text, size, "appendonly yes, appendfsync %s: an accepted event survives a crash "
                 "of redis-server; a machine crash may lose about the last second", fsync);
    } else {
        *mode = CF_STORE_DURABLE_NONE;
        snprintf(text, size, "appendonly no (save '%s'): a crash of redis-server loses the "
                 "events accepted since the last snapshot", save);
    }
    return 0;
}
