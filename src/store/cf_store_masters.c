/*  cf_store_masters: what caseflow-ctl and a worker's start ask of every
    master: the function library of this build loaded (a cluster's masters
    each hold their own, FUNCTION LOAD is not copied between them), which
    version it holds, and what its persistence makes of an `accepted` ack
    (the weakest master's, on a cluster). Over cf_store_library.c's calls
    on a bare connection, one master at a time (cf_store_each_master). The
    check made on each new connection is cf_store_connect.c's.              */
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

static int store_load_library(cf_store_t *self, redisContext *c, void *arg, char *why,
                              size_t size)
{
    (void) arg;
    return cf_store_library_load(c, self->library, self->library_len, self->version, why, size);
}

int cf_store_load_library(cf_store_t *self, char *version)
{
    assert(self && version);
    cf_store_clear_error(self);
    if (cf_store_read_library(self) < 0 || cf_store_ensure(self, 0) < 0)
        return -1;
    if (cf_store_each_master(self, store_load_library, NULL, CF_STORE_ERR_REDIS) < 0)
        return -1;
    self->library_ok = true;
    memcpy(version, self->version, sizeof self->version);
    return 0;
}

int cf_store_library_version(cf_store_t *self, char *version)
{
    assert(self && version);
    cf_store_clear_error(self);
    if (cf_store_read_library(self) < 0)
        return -1;
    memcpy(version, self->version, sizeof self->version);
    return 0;
}

/* The first master's library; another master that holds another version
   (none: "") gives its own, so that a check finds it to load. */
static int store_library_info(cf_store_t *self, redisContext *c, void *arg, char *why,
                              size_t size)
{
    (void) self;
    cf_store_library_info_t *info = ((void **) arg)[0], other;
    bool *first = ((void **) arg)[1];
    if (cf_store_library_info(c, *first ? info : &other, why, size) < 0)
        return -1;
    if (!*first && strcmp(other.version, info->version) != 0)
        *info = other;
    *first = false;
    return 0;
}

int cf_store_library_held(cf_store_t *self, cf_store_library_info_t *info)
{
    assert(self && info);
    cf_store_clear_error(self);
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    bool first = true;
    void *arg[] = { info, &first };
    return cf_store_each_master(self, store_library_info, arg, CF_STORE_ERR_REDIS);
}

/* ---- durability ----------------------------------------------------------- */

/* What an `accepted` ack means is read from the server's persistence: the
   AOF from INFO persistence (now), appendfsync and save from the record
   the library's loader took (CONFIG GET is the admin's alone: it shows
   secrets such as the replication password), so that the worker can log
   the guarantee in force at start-up (docs/operations.md has the table). */

/* aof_enabled from one master's INFO persistence into *(int *) arg: the
   weakest of them, a cluster's. */
static int store_aof_enabled(cf_store_t *self, redisContext *c, void *arg, char *why,
                             size_t size)
{
    (void) self;
    int *aof = arg;
    redisReply *reply = redisCommand(c, "INFO persistence");
    if (!reply)
        return snprintf(why, size, "INFO persistence: %s", c->errstr), -1;
    const char *line = reply->type == REDIS_REPLY_STRING
                     ? strstr(reply->str, "aof_enabled:") : NULL;
    int rc = 0;
    if (reply->type == REDIS_REPLY_ERROR)
        rc = -1, snprintf(why, size, "INFO persistence: %s", reply->str);
    else if (!line)
        rc = -1, snprintf(why, size, "INFO persistence: no aof_enabled");
    else if (line[12] != '1')
        *aof = 0;
    freeReplyObject(reply);
    return rc;
}

int cf_store_durability(cf_store_t *self, cf_store_durability_t *mode, char *text, size_t size)
{
    assert(self && mode && text);
    cf_store_library_info_t info;
    if (cf_store_library_held(self, &info) < 0)
        return -1;
    int aof = 1;
    if (cf_store_each_master(self, store_aof_enabled, &aof, CF_STORE_ERR_REDIS) < 0)
        return -1;
    const char *fsync = info.appendfsync;
    if (aof && strcmp(fsync, "always") == 0) {
        *mode = CF_STORE_DURABLE_STRICT;
        snprintf(text, size, "appendonly yes, appendfsync always: an accepted event survives "
                 "a crash of redis-server or of the machine");
    } else if (aof && fsync[0]) {
        *mode = CF_STORE_DURABLE_SECOND;
        snprintf(text, size, "appendonly yes, appendfsync %s: an accepted event survives a crash "
                 "of redis-server; a machine crash may lose about the last second", fsync);
    } else if (aof) {
        *mode = CF_STORE_DURABLE_SECOND;
        snprintf(text, size, "appendonly yes, appendfsync unknown (recorded when the function "
                 "library is loaded: caseflow-ctl functions load): an accepted event survives a "
                 "crash of redis-server; a machine crash may lose about the last second");
    } else {
        *mode = CF_STORE_DURABLE_NONE;
        snprintf(text, size, "appendonly no (save '%s'): a crash of redis-server loses the "
                 "events accepted since the last snapshot", info.save[0] ? info.save : "unknown");
    }
    return 0;
}
