/*  cf_redis_cluster: a batch of commands over a Redis Cluster or a single
    server; see cf_redis_cluster.h. A batch runs in rounds: every command
    still without a reply is written to its node (all nodes first, so they
    work in parallel), then the replies are read back in the same order;
    redirected commands go into the next round. Connections and the slot
    map are in cf_redis_cluster_node.c.                                     */
#include "cf_redis_cluster_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#define TRYAGAIN_WAIT_MS    20      /* a migration moves a slot's keys in a few ms */
#define REDIRECT_WAIT_MS    10      /* the first wait of a batch redirected again, doubled */
#define REDIRECT_WAIT_MAX   200     /* each round after, up to this */

cf_redis_cluster_t *cf_redis_cluster_new(const char *host, int port, const cf_redis_auth_t *auth,
                                         cf_redis_mode_t mode, int timeout_ms)
{
    assert(host && port > 0 && timeout_ms > 0);
    cf_redis_cluster_t *self = cf_calloc(1, sizeof *self);
    self->seed_host = cf_strdup(host);
    self->seed_port = port;
    self->auth = cf_redis_auth_dup(auth);
    self->timeout = (struct timeval) { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    self->mode = mode;
    self->map = cf_redis_slotmap_new();
    self->pipe = cf_redis_pipe_new();
    return self;
}

void cf_redis_cluster_destroy(cf_redis_cluster_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_redis_cluster_t *self = *self_p;
    cf_redis_cluster_disconnect(self);
    free(self->conns);
    cf_redis_slotmap_destroy(&self->map);
    cf_redis_pipe_destroy(&self->pipe);
    cf_redis_auth_destroy(&self->auth);
    free(self->seed_host);
    free(self);
    *self_p = NULL;
}

int cf_redis_cluster_connect(cf_redis_cluster_t *self)
{
    assert(self);
    self->code = CF_REDIS_CLUSTER_OK;
    self->err[0] = '\0';
    return cf_redis_cluster_start(self);
}

bool cf_redis_cluster_is_cluster(const cf_redis_cluster_t *self)
{
    assert(self);
    return self->ready && self->cluster;
}

/* Commands queued and not yet answered to the caller. */
static size_t cluster_pending(const cf_redis_cluster_t *self)
{
    return cf_redis_pipe_size(self->pipe) + self->direct;
}

/* A connected single server with nothing left in the pipe takes commands
   straight on its connection, as a plain hiredis context: no routing, no
   redirection, so no bookkeeping (the apply path's hot loop). */
static bool cluster_direct(const cf_redis_cluster_t *self)
{
    return self->ready && !self->cluster && self->conns_size > 0 && self->conns[0]
        && cf_redis_pipe_size(self->pipe) == 0;
}

static int cluster_queue(cf_redis_cluster_t *self, int slot, char *cmd, int len)
{
    if (len < 0)
        return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EPROTO, "a command that cannot be "
                                     "formatted");
    assert(!self->written);         /* nothing queued between a flush and its replies */
    if (cluster_direct(self)) {
        if (redisAppendFormattedCommand(self->conns[0], cmd, (size_t) len) != REDIS_OK)
            abort();                /* hiredis could not allocate */
        free(cmd);
        self->direct++;
        return 0;
    }
    cf_redis_pipe_add(self->pipe, slot, cmd, (size_t) len);
    return 0;
}

int cf_redis_cluster_vappend(cf_redis_cluster_t *self, const char *key, const char *fmt,
                             va_list args)
{
    assert(self && fmt);
    char *cmd = NULL;
    int len = redisvFormatCommand(&cmd, fmt, args);
    return cluster_queue(self, key ? cf_redis_slot(key, strlen(key)) : -1, cmd, len);
}

int cf_redis_cluster_append(cf_redis_cluster_t *self, const char *key, const char *fmt, ...)
{
    assert(self && fmt);
    va_list args;
    va_start(args, fmt);
    int rc = cf_redis_cluster_vappend(self, key, fmt, args);
    va_end(args);
    return rc;
}

/* Appends "<mark><n>\r\n" at at; returns the end. */
static char *cluster_resp_head(char *at, char mark, size_t n)
{
    *at++ = mark;
    at += cf_fmt_u64(at, n);
    *at++ = '\r';
    *at++ = '\n';
    return at;
}

int cf_redis_format_argv(char **cmd, int argc, const char **argv, const size_t *argvlen)
{
    assert(cmd && argc > 0 && argv);
    size_t head = 1 + CF_FMT_INT_MAX + 2, most = head;    /* room for any count or length */
    for (int i = 0; i < argc; i++)
        most += head + (argvlen ? argvlen[i] : strlen(argv[i])) + 2;
    *cmd = NULL;
    if (most > INT_MAX)
        return -1;
    char *at = *cmd = cf_malloc(most);
    at = cluster_resp_head(at, '*', (size_t) argc);
    for (int i = 0; i < argc; i++) {
        size_t len = argvlen ? argvlen[i] : strlen(argv[i]);
        at = cluster_resp_head(at, '$', len);
        memcpy(at, argv[i], len);
        at += len;
        *at++ = '\r';
        *at++ = '\n';
    }
    return (int) (at - *cmd);
}

int cf_redis_cluster_append_argv(cf_redis_cluster_t *self, int key_arg, int argc,
                                 const char **argv, const size_t *argvlen)
{
    assert(self && argc > 0 && argv && key_arg >= -1 && key_arg < argc);
    char *cmd;
    int len = cf_redis_format_argv(&cmd, argc, argv, argvlen);
    int slot = -1;
    if (key_arg >= 0)
        slot = cf_redis_slot(argv[key_arg], argvlen ? argvlen[key_arg] : strlen(argv[key_arg]));
    return cluster_queue(self, slot, cmd, len);
}

int cf_redis_cluster_append_slot(cf_redis_cluster_t *self, int slot, int argc,
                                 const char **argv, const size_t *argvlen)
{
    assert(self && argc > 0 && argv && slot >= -1 && slot < CF_REDIS_SLOTS);
    char *cmd;
    int len = cf_redis_format_argv(&cmd, argc, argv, argvlen);
    return cluster_queue(self, slot, cmd, len);
}

void cf_redis_cluster_set_follow(cf_redis_cluster_t *self, bool follow)
{
    assert(self);
    self->stay = !follow;
}

/* Connected, with a map that is up to date. */
static int cluster_ready(cf_redis_cluster_t *self)
{
    self->code = CF_REDIS_CLUSTER_OK;
    self->err[0] = '\0';
    if (!self->ready && cf_redis_cluster_start(self) < 0)
        return -1;
    if (self->cluster && self->refresh && cf_redis_cluster_refresh(self) < 0)
        return -1;
    return 0;
}

int cf_redis_cluster_slot_node(cf_redis_cluster_t *self, int slot)
{
    assert(self && slot >= -1 && slot < CF_REDIS_SLOTS);
    if (cluster_ready(self) < 0)
        return -1;
    if (!self->cluster)
        return 0;
    int node = cf_redis_slotmap_owner(self->map, slot < 0 ? 0 : slot);
    if (node < 0)
        return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP, "slot %d has no node", slot);
    return node;
}

redisContext *cf_redis_cluster_context(cf_redis_cluster_t *self, int slot)
{
    assert(self && cluster_pending(self) == 0);
    int node = cf_redis_cluster_slot_node(self, slot);
    return node < 0 ? NULL : cf_redis_cluster_conn(self, node);
}

void cf_redis_cluster_reset(cf_redis_cluster_t *self)
{
    assert(self);
    cf_redis_pipe_clear(self->pipe);
    cf_redis_cluster_disconnect(self);
    self->ready = false;
}

int cf_redis_cluster_master_slots(cf_redis_cluster_t *self, int *slots, size_t size)
{
    assert(self && slots && size > 0);
    if (cluster_ready(self) < 0)
        return -1;
    if (!self->cluster) {
        slots[0] = -1;
        return 1;
    }
    size_t nodes = cf_redis_slotmap_nodes(self->map), count = 0;
    bool *seen = cf_calloc(nodes ? nodes : 1, sizeof *seen);
    for (int slot = 0; slot < CF_REDIS_SLOTS && count < size; slot++) {
        int node = cf_redis_slotmap_owner(self->map, slot);
        if (node >= 0 && !seen[node]) {
            seen[node] = true;
            slots[count++] = slot;
        }
    }
    free(seen);
    return (int) count;
}

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
    if (cluster_ready(self) < 0)
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
    if (cluster_ready(self) < 0
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
    assert(cluster_pending(self) > 0);      /* a reply to no command */
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
    while (cluster_pending(self) > 0) {
        if (reply)
            freeReplyObject(reply);
        if (cf_redis_cluster_get_reply(self, &reply) < 0)
            return NULL;
    }
    return reply;
}

cf_redis_cluster_err_t cf_redis_cluster_errcode(const cf_redis_cluster_t *self)
{
    assert(self);
    return self->code;
}

const char *cf_redis_cluster_error(const cf_redis_cluster_t *self)
{
    assert(self);
    return self->err;
}

void cf_redis_cluster_stats(const cf_redis_cluster_t *self, cf_redis_cluster_stats_t *stats)
{
    assert(self && stats);
    *stats = self->stats;
}
