/*  cf_redis_cluster's rounds: a queued batch run to its replies; see
    cf_redis_cluster.h. A batch runs in rounds: every command still
    without a reply is written to its node (all nodes first, so they work
    in parallel), then the replies are read back in the same order;
    redirected commands (MOVED, ASK, TRYAGAIN) go into the next round. The
    queue is in cf_redis_cluster.c.                                         */
#include "cf_redis_cluster_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#define TRYAGAIN_WAIT_MS    20      /* a migration moves a slot's keys in a few ms */
#define REDIRECT_WAIT_MS    10      /* the first wait of a batch redirected again, doubled */
#define REDIRECT_WAIT_MAX   200     /* each round after, up to this */

bool cf_redis_cluster_redirected(const redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ERROR)
        return false;
    cf_redis_redirect_t redirect;
    return cf_redis_redirect_parse(reply->str, reply->len, &redirect) != CF_REDIS_REDIRECT_NONE
        || (reply->len >= 11 && !strncmp(reply->str, "CLUSTERDOWN", 11));
}

/* The pipe's route: the slot's owner; anything to the seed of a single server. */
static int cluster_route(void *arg, int slot)
{
    cf_redis_cluster_t *self = arg;
    if (!self->cluster)
        return 0;
    return cf_redis_slotmap_owner(self->map, slot < 0 ? 0 : slot);
}

/* Writes the round: each command to its node's buffer, then every buffer out. */
static int round_write(cf_redis_cluster_t *self)
{
    for (long i = cf_redis_pipe_following(self->pipe, -1); i >= 0;
         i = cf_redis_pipe_following(self->pipe, i)) {
        redisContext *c = cf_redis_cluster_conn(self, cf_redis_pipe_node(self->pipe, i));
        if (!c)
            return -1;
        size_t len;
        const char *cmd = cf_redis_pipe_command(self->pipe, i, &len);
        if ((cf_redis_pipe_asking(self->pipe, i) && redisAppendCommand(c, "ASKING") != REDIS_OK)
            || redisAppendFormattedCommand(c, cmd, len) != REDIS_OK)
            abort();                /* hiredis could not allocate */
    }
    for (size_t n = 0; n < self->conns_size; n++) {
        int done = 0;
        while (self->conns[n] && !done)
            if (redisBufferWrite(self->conns[n], &done) != REDIS_OK)
                return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_ECONN, "redis %s:%d: %s",
                                             cf_redis_slotmap_host(self->map, (int) n),
                                             cf_redis_slotmap_port(self->map, (int) n),
                                             self->conns[n]->errstr);
    }
    return 0;
}

/* The next reply on node's connection; NULL with the error set. */
static redisReply *round_reply(cf_redis_cluster_t *self, int node)
{
    void *reply = NULL;
    if (redisGetReply(self->conns[node], &reply) != REDIS_OK || !reply) {
        cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_ECONN, "redis %s:%d: %s",
                              cf_redis_slotmap_host(self->map, node),
                              cf_redis_slotmap_port(self->map, node), self->conns[node]->errstr);
        return NULL;
    }
    return reply;
}

/* Follows a redirection of command i, which node answered. */
static void round_redirect(cf_redis_cluster_t *self, long i, int node, cf_redis_redirect_t *r,
                           bool *wait)
{
    if (r->kind == CF_REDIS_REDIRECT_TRYAGAIN) {
        self->stats.tryagain++;
        cf_redis_pipe_resend(self->pipe, i, node, false);
        *wait = true;
        return;
    }
    /* an address without host is the answering node's host */
    const char *host = r->host[0] ? r->host : cf_redis_slotmap_host(self->map, node);
    int target = cf_redis_slotmap_node(self->map, host, r->port);
    if (r->kind == CF_REDIS_REDIRECT_MOVED) {
        self->stats.moved++;
        cf_redis_slotmap_set_owner(self->map, r->slot, target);
        self->refresh = true;       /* other slots may have moved too */
    } else {
        self->stats.ask++;
    }
    cf_redis_pipe_resend(self->pipe, i, target, r->kind == CF_REDIS_REDIRECT_ASK);
}

/* Reads the round's replies in the order written; sets *wait after a TRYAGAIN. */
static int round_read(cf_redis_cluster_t *self, bool *wait)
{
    for (long i = cf_redis_pipe_following(self->pipe, -1); i >= 0;
         i = cf_redis_pipe_following(self->pipe, i)) {
        int node = cf_redis_pipe_node(self->pipe, i);
        if (cf_redis_pipe_asking(self->pipe, i)) {
            redisReply *ok = round_reply(self, node);
            if (!ok)
                return -1;
            bool refused = ok->type == REDIS_REPLY_ERROR;
            freeReplyObject(ok);
            if (refused)
                return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EPROTO, "ASKING refused "
                                             "(the Redis user needs +asking)");
        }
        redisReply *reply = round_reply(self, node);
        if (!reply)
            return -1;
        cf_redis_redirect_t redirect;
        if (self->stay && self->cluster && cf_redis_cluster_redirected(reply))
            self->refresh = true;   /* given back as it is; the map has changed */
        if (cf_redis_pipe_deliver(self->pipe, i, reply, self->cluster && !self->stay, &redirect)
            != CF_REDIS_REDIRECT_NONE)
            round_redirect(self, i, node, &redirect, wait);
    }
    return 0;
}

/* How long to wait before round + 1 of a batch still redirected: nothing
   after the first round (a MOVED of a map that was old: the next node
   answers), then REDIRECT_WAIT_MS doubling up to REDIRECT_WAIT_MAX, about
   2 s over CF_REDIS_CLUSTER_ROUNDS. Redirected again means the nodes
   disagree about a slot, as for a moment after a failover until the new
   master's claim has been gossiped; asking again at once only uses the
   rounds up. */
static long round_patience_ms(const cf_redis_cluster_t *self, int round)
{
    if (round < 1 || cf_redis_pipe_answered(self->pipe))
        return 0;
    long ms = REDIRECT_WAIT_MS;
    for (int r = 1; r < round && ms < REDIRECT_WAIT_MAX; r++)
        ms *= 2;
    return ms < REDIRECT_WAIT_MAX ? ms : REDIRECT_WAIT_MAX;
}

/* Runs the queued batch until every command has its reply. */
static int cluster_run(cf_redis_cluster_t *self)
{
    if (cf_redis_cluster_ready(self) < 0)
        return -1;
    for (int round = 0; !cf_redis_pipe_answered(self->pipe); round++) {
        if (round == CF_REDIS_CLUSTER_ROUNDS)
            return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EREDIRECT, "still redirected "
                                         "after %d rounds", round);
        int slot = -1;
        if (cf_redis_pipe_plan(self->pipe, cluster_route, self, &slot) < 0)
            return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP, "slot %d has no node",
                                         slot);
        bool wait = false;
        bool written = round == 0 && self->written;     /* by cf_redis_cluster_flush */
        self->written = false;
        if ((!written && round_write(self) < 0) || round_read(self, &wait) < 0)
            return -1;
        long ms = wait ? TRYAGAIN_WAIT_MS : round_patience_ms(self, round);
        if (ms)
            nanosleep(&(struct timespec) { ms / 1000, ms % 1000 * 1000000L }, NULL);
    }
    return 0;
}

int cf_redis_cluster_flush(cf_redis_cluster_t *self)
{
    assert(self);
    if (self->written || cf_redis_pipe_size(self->pipe) == 0 || cf_redis_pipe_answered(self->pipe))
        return 0;                   /* direct commands go out with the first read */
    self->code = CF_REDIS_CLUSTER_OK;
    self->err[0] = '\0';
    int slot = -1;
    if (cf_redis_cluster_ready(self) < 0
        || (cf_redis_pipe_plan(self->pipe, cluster_route, self, &slot) < 0
            && cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP, "slot %d has no node", slot))
        || round_write(self) < 0) {
        cf_redis_pipe_clear(self->pipe);
        cf_redis_cluster_disconnect(self);
        return -1;
    }
    self->written = true;
    return 0;
}

int cf_redis_cluster_get_reply(cf_redis_cluster_t *self, redisReply **reply)
{
    assert(self && reply);
    assert(cf_redis_cluster_pending(self) > 0);      /* a reply to no command */
    *reply = NULL;
    self->code = CF_REDIS_CLUSTER_OK;
    self->err[0] = '\0';
    if (cf_redis_pipe_size(self->pipe) == 0) {     /* written straight: read straight */
        void *got = NULL;
        self->direct--;
        if (redisGetReply(self->conns[0], &got) != REDIS_OK || !got) {
            cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_ECONN, "redis %s:%d: %s",
                                  cf_redis_slotmap_host(self->map, 0),
                                  cf_redis_slotmap_port(self->map, 0), self->conns[0]->errstr);
            cf_redis_cluster_disconnect(self);
            return -1;
        }
        *reply = got;
        return 0;
    }
    if (!cf_redis_pipe_answered(self->pipe) && cluster_run(self) < 0) {
        /* replies may still be in flight on any connection: start clean */
        cf_redis_pipe_clear(self->pipe);
        cf_redis_cluster_disconnect(self);
        return -1;
    }
    *reply = cf_redis_pipe_next(self->pipe);
    assert(*reply);
    return 0;
}

redisReply *cf_redis_cluster_command(cf_redis_cluster_t *self, const char *key,
                                     const char *fmt, ...)
{
    assert(self && fmt);
    va_list args;
    va_start(args, fmt);
    int rc = cf_redis_cluster_vappend(self, key, fmt, args);
    va_end(args);
    if (rc < 0)
        return NULL;
    redisReply *reply = NULL;
    while (cf_redis_cluster_pending(self) > 0) {
        if (reply)
            freeReplyObject(reply);
        if (cf_redis_cluster_get_reply(self, &reply) < 0)
            return NULL;
    }
    return reply;
}
