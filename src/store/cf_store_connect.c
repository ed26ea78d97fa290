/*  cf_store_connect: the store's connection to Redis (one server or a
    cluster) and its error channel, which decides the connection's fate.
    The connection is opened on demand (cf_store_ensure), and the shard
    count and, for a store that writes, the function library are checked on
    it. Any I/O error drops the connection (a hiredis context is unusable
    after one), and the next call opens a new one; an error reply leaves it
    open, since every pipelined reply is still read; a Redis still loading
    its data after a restart is an outage, not a refusal.                    */
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_redis_slot.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <hiredis/hiredis.h>

#define STORE_COMMAND_TIMEOUT_S     10

void cf_store_disconnect(cf_store_t *self)
{
    /* the context stays, closed: it remembers the cluster's nodes, so that
       a store whose seed node died finds the others */
    for (unsigned l = 0; l < self->nlanes; l++)
        cf_redis_cluster_reset(self->lanes[l]);
    self->fifo_head = self->fifo_tail = 0;  /* their replies went with the connections */
    self->unflushed = false;
    self->lane = 0;
    self->connected = false;
    self->nwatched = 0;             /* a new connection watches nothing */
    self->wrote = false;            /* nor wrote anything */
    if (self->claimed)              /* and has claimed no owner record yet */
        memset(self->claimed, 0, self->shards * sizeof *self->claimed);
    /* and may reach a Redis that lost writes (restarted from an older
       snapshot, a lagging replica promoted) with the owner records intact:
       what the owner's cache says of it is not known any more */
    if (self->cache)
        cf_commit_cache_clear(self->cache);
}

const char *cf_store_error(const cf_store_t *self)
{
    assert(self);
    return self->errstr;
}

cf_store_err_t cf_store_error_code(const cf_store_t *self)
{
    assert(self);
    return self->err;
}

/* The error reply of a Redis that is still reading its data after a
   restart: it refuses every command for a second or so, and then serves. */
#define STORE_LOADING_REPLY "LOADING Redis is loading"

int cf_store_fail(cf_store_t *self, cf_store_err_t err, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->errstr, sizeof self->errstr, fmt, args);
    va_end(args);
    /* not a refusal of what we sent but an outage, so the caller retries
       as for one (a worker would otherwise redo the job event by event) */
    if (err == CF_STORE_ERR_REDIS && strstr(self->errstr, STORE_LOADING_REPLY))
        err = CF_STORE_ERR_IO;
    self->err = err;
    if (err == CF_STORE_ERR_IO || err == CF_STORE_ERR_REDIS || err == CF_STORE_ERR_PROTOCOL)
        cf_metric_inc(self->errors);
    return -1;
}

void cf_store_clear_error(cf_store_t *self)
{
    self->err = CF_STORE_OK;
    self->errstr[0] = '\0';
}

int cf_store_fail_io(cf_store_t *self, const char *what)
{
    const char *why = self->redirected[0] ? self->redirected
                    : self->redis && cf_redis_cluster_error(self->redis)[0]
                    ? cf_redis_cluster_error(self->redis) : "connection lost";
    cf_store_fail(self, CF_STORE_ERR_IO, "%s: %s", what, why);
    self->redirected[0] = '\0';
    cf_store_disconnect(self);
    return -1;
}

/* ---- connection ----------------------------------------------------------- */

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
    return cf_store_check_library(self);
}

int cf_store_ensure(cf_store_t *self, int need_library)
{
    if (!self->connected && store_open(self) < 0)
        return -1;
    if (!need_library || self->library_ok)
        return 0;
    if (cf_store_read_library(self) < 0)
        return -1;
    return cf_store_check_library(self);
}
