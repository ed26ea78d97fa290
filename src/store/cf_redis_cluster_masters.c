/*  cf_redis_cluster's commands meant for a node rather than a key: to each
    master in turn (INFO, SCAN: what a node answers for itself alone), and
    the address of the master that serves a key, for a caller that keeps a
    one-slot transaction (WATCH ... EXEC) on a connection of its own. See
    cf_redis_cluster.h.                                                     */
#include "cf_redis_cluster_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <string.h>
#include <hiredis/hiredis.h>

/* Connected, with the map read again if a redirection or a failure asked for it. */
static int masters_ready(cf_redis_cluster_t *self)
{
    if (!self->ready && cf_redis_cluster_start(self) < 0)
        return -1;
    if (self->cluster && self->refresh && cf_redis_cluster_refresh(self) < 0)
        return -1;
    return 0;
}

size_t cf_redis_cluster_masters(cf_redis_cluster_t *self)
{
    assert(self);
    if (masters_ready(self) < 0)
        return 0;
    return self->cluster ? cf_redis_slotmap_masters(self->map) : 1;
}

int cf_redis_cluster_append_master(cf_redis_cluster_t *self, size_t master, const char *fmt, ...)
{
    assert(self && fmt);
    if (masters_ready(self) < 0)
        return -1;
    int slot = -1;                  /* a single server: its one connection */
    if (self->cluster && (slot = cf_redis_slotmap_master_slot(self->map, master)) < 0)
        return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP, "no master %zu (the map has "
                                     "%zu)", master, cf_redis_slotmap_masters(self->map));
    assert(self->cluster || master == 0);
    char *cmd = NULL;
    va_list args;
    va_start(args, fmt);
    int len = redisvFormatCommand(&cmd, fmt, args);
    va_end(args);
    if (len < 0)
        return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EPROTO, "a command that cannot be "
                                     "formatted");
    cf_redis_pipe_add(self->pipe, slot, cmd, (size_t) len);
    return 0;
}

int cf_redis_cluster_key_master(cf_redis_cluster_t *self, const char *key, const char **host,
                                int *port)
{
    assert(self && key && host && port);
    if (masters_ready(self) < 0)
        return -1;
    int node = self->cluster ? cf_redis_slotmap_owner(self->map, cf_redis_slot(key, strlen(key)))
                             : 0;
    if (node < 0)
        return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP, "the slot of %s has no node",
                                     key);
    *host = cf_redis_slotmap_host(self->map, node);
    *port = cf_redis_slotmap_port(self->map, node);
    return 0;
}

redisContext *cf_redis_cluster_key_connect(cf_redis_cluster_t *self, const char *key)
{
    assert(self && key);
    const char *host;
    int port;
    if (cf_redis_cluster_key_master(self, key, &host, &port) < 0)
        return NULL;
    return cf_redis_cluster_node_connect(self, host, port);
}
