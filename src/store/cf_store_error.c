/*  cf_store_error: the store's error channel (a code and a message on the
    object, as hiredis keeps them on its context), which decides the
    connection's fate: any I/O error drops the connection (a hiredis context
    is unusable after one), and the next call opens a new one
    (cf_store_connect.c); an error reply leaves it open, since every
    pipelined reply is still read; a Redis still loading its data after a
    restart is an outage, not a refusal. Below every other file of the
    store: it calls none of them.                                           */
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit_cache.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
