/*  cf_store_connect: the store's connection to Redis (one server or a
    cluster), opened on demand (cf_store_ensure), with the shard count and,
    for a store that writes, the function library checked on it (on every
    master: cf_store_each_master). Its errors and its dropping are
    cf_store_error.c's.                                                      */
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "caseflow/cf_redis_slot.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <hiredis/hiredis.h>

#define STORE_COMMAND_TIMEOUT_S     10

int cf_store_read_library(cf_store_t *self)
{
    if (!self->script_dir)
        return cf_store_fail(self, CF_STORE_ERR_SCRIPT,
                             "no script directory: this store can only read");
    if (self->library)
        return 0;
    char err[4200];
    if (cf_store_script_library(self->script_dir, &self->library, &self->library_len,
                                self->version, err, sizeof err) < 0)
        return cf_store_fail(self, CF_STORE_ERR_SCRIPT, "%.250s", err);
    return 0;
}

/* A failed check or load of the library: an I/O error drops the
   connection; anything else (missing and not ours to load) is an outage
   until an admin loads it. */
int cf_store_fail_call(cf_store_t *self, const char *what, const char *error_reply)
{
    if (!cf_store_library_gone(error_reply))
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "%s: %s", what, error_reply);
    self->library_ok = false;
    return cf_store_fail(self, CF_STORE_ERR_IO, "%s: %s", what, error_reply);
}

static int store_ensure_library(cf_store_t *self, redisContext *c, void *arg, char *why,
                                size_t size)
{
    (void) arg;
    return cf_store_library_ensure(c, self->library, self->library_len, self->version, why, size);
}

/* Makes sure Redis holds the library of this store's version, loading it
   when this user may (cf_store_library_ensure). 0 / -1. */
static int store_check_library(cf_store_t *self)
{
    /* missing, and not ours to load: an outage until an admin loads it */
    if (cf_store_each_master(self, store_ensure_library, NULL, CF_STORE_ERR_IO) < 0)
        return -1;
    self->library_ok = true;
    return 0;
}

/* A context for this store: a redirection is given back, not followed (a
   command resent to another node would run outside its MULTI:
   cf_store_get_reply). */
static cf_redis_cluster_t *store_context(cf_store_t *self, cf_redis_mode_t mode)
{
    cf_redis_cluster_t *redis = cf_redis_cluster_new(self->host, self->port, self->auth, mode,
                                                     STORE_COMMAND_TIMEOUT_S * 1000);
    cf_redis_cluster_set_follow(redis, false);
    return redis;
}

/* Opens a new connection; the library is checked on it again. */
static int store_open(cf_store_t *self)
{
    cf_store_disconnect(self);
    self->library_ok = false;
    if (!self->redis) {
        self->redis = self->lanes[0] = store_context(self, CF_REDIS_MODE_AUTO);
        self->nlanes = 1;
    }
    if (cf_redis_cluster_connect(self->redis) < 0) {
        bool refused = cf_redis_cluster_errcode(self->redis) == CF_REDIS_CLUSTER_EAUTH;
        cf_store_fail(self, refused ? CF_STORE_ERR_REDIS : CF_STORE_ERR_IO, "connect: %s",
                      cf_redis_cluster_error(self->redis));
        cf_store_disconnect(self);  /* never left open unauthenticated */
        return -1;
    }
    self->cluster = cf_redis_cluster_is_cluster(self->redis);
    for (; !self->cluster && self->nlanes > 1; self->nlanes--)   /* no longer a cluster */
        cf_redis_cluster_destroy(&self->lanes[self->nlanes - 1]);
    /* a cluster's lanes connect on their first command */
    for (; self->cluster && self->nlanes < CF_STORE_LANES; self->nlanes++)
        self->lanes[self->nlanes] = store_context(self, CF_REDIS_MODE_CLUSTER);
    self->connected = true;
    char why[300];
    redisContext *c = cf_redis_cluster_context(self->redis,
                                               cf_redis_slot(CF_KEYS_SHARDS,
                                                             strlen(CF_KEYS_SHARDS)));
    if (!c)
        return cf_store_fail_io(self, "connect");
    if (cf_store_shards_agree(c, self->shards, self->shards_record, why, sizeof why) < 0) {
        /* another count is an outage until an operator sets this one right:
           the worker keeps its jobs rather than setting events aside */
        cf_store_fail(self, CF_STORE_ERR_IO, "%s", why);
        cf_store_disconnect(self);
        return -1;
    }
    return 0;
}

int cf_store_connect(cf_store_t *self)
{
    assert(self);
    cf_store_clear_error(self);
    if (!self->script_dir)
        return store_open(self);    /* a reader: counters need no library */
    if (cf_store_read_library(self) < 0 || store_open(self) < 0)
        return -1;
    return store_check_library(self);
}

int cf_store_ensure(cf_store_t *self, int need_library)
{
    if (!self->connected && store_open(self) < 0)
        return -1;
    if (!need_library || self->library_ok)
        return 0;
    if (cf_store_read_library(self) < 0)
        return -1;
    return store_check_library(self);
}
