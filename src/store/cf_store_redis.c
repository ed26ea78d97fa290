/*  cf_store_redis: how the store speaks to Redis, one server or a cluster
    (cf_redis_cluster): every command routed to the node of its slot (a
    shard's keys share one), on a cluster over several lanes (contexts of
    their own, each with a connection per node, their batches written before
    any reply is read), replies that turn a cluster's redirection into an
    outage (the store never follows one mid-transaction: the batch is given
    up and tried again with the new map), where a WATCH may be left, and a
    call on every master. See cf_store_internal.h.                          */
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

int cf_store_slot(const cf_store_t *self, unsigned shard)
{
    assert(shard < self->shards);
    return self->cluster ? self->slots[shard] : -1;
}

/* The context of the current lane, the command about to be appended noted
   in the lanes' order of replies. */
static cf_redis_cluster_t *store_lane(cf_store_t *self)
{
    if (self->nlanes == 1)
        return self->redis;
    if (self->fifo_tail == self->fifo_capacity) {
        if (self->fifo_head > 0) {  /* what was answered is gone: move the rest down */
            memmove(self->fifo, self->fifo + self->fifo_head, self->fifo_tail - self->fifo_head);
            self->fifo_tail -= self->fifo_head;
            self->fifo_head = 0;
        } else {
            self->fifo = cf_grow(self->fifo, &self->fifo_capacity, self->fifo_tail + 1, 1);
        }
    }
    self->fifo[self->fifo_tail++] = (unsigned char) self->lane;
    self->unflushed = true;
    return self->lanes[self->lane];
}

void cf_store_append_argv(cf_store_t *self, int key_arg, int slot, size_t argc,
                          const char **argv, const size_t *argvlen)
{
    cf_redis_cluster_t *redis = store_lane(self);
    int rc = key_arg >= 0
           ? cf_redis_cluster_append_argv(redis, key_arg, (int) argc, argv, argvlen)
           : cf_redis_cluster_append_slot(redis, self->cluster ? slot : -1, (int) argc,
                                          argv, argvlen);
    if (rc < 0)
        abort();                    /* hiredis could not format it: could not allocate */
}

static void store_vappend(cf_store_t *self, const char *key, const char *fmt, va_list args)
{
    if (cf_redis_cluster_vappend(store_lane(self), key, fmt, args) < 0)
        abort();                    /* hiredis could not format it: could not allocate */
}

/* The context the next reply comes from: with lanes, every lane's batch is
   written first, so that their round trips overlap; NULL after an I/O
   error (the error set). */
static cf_redis_cluster_t *store_reply_lane(cf_store_t *self, const char *what)
{
    if (self->nlanes == 1)
        return self->redis;
    assert(self->fifo_head < self->fifo_tail);     /* a reply to no command */
    if (self->unflushed) {
        self->unflushed = false;
        for (unsigned l = 0; l < self->nlanes; l++)
            if (cf_redis_cluster_flush(self->lanes[l]) < 0) {
                snprintf(self->redirected, sizeof self->redirected, "%s",
                         cf_redis_cluster_error(self->lanes[l]));
                cf_store_fail_io(self, what);
                return NULL;
            }
    }
    return self->lanes[self->fifo[self->fifo_head++]];
}

void cf_store_appendf(cf_store_t *self, const char *key, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    store_vappend(self, key, fmt, args);
    va_end(args);
}

int cf_store_get_reply(cf_store_t *self, redisReply **reply, const char *what)
{
    *reply = NULL;
    cf_redis_cluster_t *redis = store_reply_lane(self, what);
    if (!redis)
        return -1;
    if (cf_redis_cluster_get_reply(redis, reply) < 0) {
        snprintf(self->redirected, sizeof self->redirected, "%s", cf_redis_cluster_error(redis));
        return cf_store_fail_io(self, what);
    }
    if (self->cluster && cf_redis_cluster_redirected(*reply)) {
        /* a slot moved, mid-way through what may be a transaction: given
           up whole, and started again on a connection with the new map */
        snprintf(self->redirected, sizeof self->redirected, "%.120s (the cluster's slots "
                 "moved: tried again)", (*reply)->str);
        freeReplyObject(*reply);
        *reply = NULL;
        return cf_store_fail_io(self, what);
    }
    return 0;
}

redisReply *cf_store_command(cf_store_t *self, const char *key, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    store_vappend(self, key, fmt, args);
    va_end(args);
    redisReply *reply = NULL;
    return cf_store_get_reply(self, &reply, fmt) < 0 ? NULL : reply;
}

void cf_store_note_watch(cf_store_t *self, int slot)
{
    for (size_t i = 0; i < self->nwatched; i++)
        if (self->watched[i].slot == slot && self->watched[i].lane == self->lane)
            return;
    if (self->nwatched < self->shards + 1)
        self->watched[self->nwatched++] = (cf_store_watch_t) { slot, self->lane };
}

void cf_store_note_exec(cf_store_t *self, int slot)
{
    for (size_t i = 0; i < self->nwatched; i++)
        if (self->watched[i].slot == slot && self->watched[i].lane == self->lane) {
            self->watched[i] = self->watched[--self->nwatched];
            return;
        }
}

/* Runs fn on each master's connection: a cluster's masters each hold their
   own function library (FUNCTION LOAD is not replicated between masters)
   and their own persistence; one server is its only master. 0, or -1 with
   the error set: an I/O error drops the connection, any other failure is
   fn's why with the code err. */
int cf_store_each_master(cf_store_t *self, cf_store_master_fn *fn, void *arg,
                             cf_store_err_t err)
{
    int slots[CF_STORE_MASTERS_MAX];
    int n = cf_redis_cluster_master_slots(self->redis, slots, CF_STORE_MASTERS_MAX);
    if (n < 0)
        return cf_store_fail_io(self, "the cluster's masters");
    char why[600];
    for (int m = 0; m < n; m++) {
        redisContext *c = cf_redis_cluster_context(self->redis, slots[m]);
        if (!c)
            return cf_store_fail_io(self, "connect");
        if (fn(self, c, arg, why, sizeof why) < 0)
            return c->err ? cf_store_fail_io(self, why) : cf_store_fail(self, err, "%s", why);
    }
    return 0;
}
