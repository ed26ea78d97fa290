/*  cf_redis_cluster: the context and its command queue; see
    cf_redis_cluster.h. Commands are formatted (RESP) and queued with the
    slot of their key; a single server with nothing else queued takes them
    straight on its connection. The rounds that run a queued batch across
    the nodes are in cf_redis_cluster_round.c; connections and the slot map
    are in cf_redis_cluster_node.c.                                         */
#include "cf_redis_cluster_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

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

size_t cf_redis_cluster_pending(const cf_redis_cluster_t *self)
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

redisContext *cf_redis_cluster_context(cf_redis_cluster_t *self, int slot)
{
    assert(self && cf_redis_cluster_pending(self) == 0);
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
    if (cf_redis_cluster_ready(self) < 0)
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
