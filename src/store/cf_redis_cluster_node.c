/*  cf_redis_cluster's connections and slot map; see
    cf_redis_cluster_internal.h. Connections are indexed like the map's
    nodes; when a new map numbers the nodes differently, each connection
    follows its host:port and those of nodes that left are closed.         */
#include "cf_redis_cluster_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

int cf_redis_cluster_fail(cf_redis_cluster_t *self, cf_redis_cluster_err_t code, const char *fmt,
                          ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->err, sizeof self->err, fmt, args);
    va_end(args);
    self->code = code;
    return -1;
}

/* A connection to host:port, authenticated; NULL with the error set. */
static redisContext *node_connect(cf_redis_cluster_t *self, const char *host, int port)
{
    redisContext *c = redisConnectWithTimeout(host, port, self->timeout);
    if (!c)
        abort();                    /* hiredis could not allocate */
    char why[200];
    if (c->err || redisSetTimeout(c, self->timeout) != REDIS_OK) {
        cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_ECONN, "redis %s:%d: %s", host, port,
                              c->errstr);
    } else if (cf_redis_auth_send(self->auth, c, why, sizeof why) < 0) {
        cf_redis_cluster_fail(self, c->err ? CF_REDIS_CLUSTER_ECONN : CF_REDIS_CLUSTER_EAUTH,
                              "redis %s:%d: %s", host, port, why);
    } else {
        redisEnableKeepAlive(c);    /* a peer gone silent is found, not waited for */
        return c;
    }
    redisFree(c);
    return NULL;
}

/* Grows conns to the map's node count (a MOVED or ASK may add a node). */
static void conns_fit(cf_redis_cluster_t *self)
{
    size_t nodes = cf_redis_slotmap_nodes(self->map);
    if (self->conns_size >= nodes)
        return;
    self->conns = cf_realloc(self->conns, nodes * sizeof *self->conns);
    memset(self->conns + self->conns_size, 0, (nodes - self->conns_size) * sizeof *self->conns);
    self->conns_size = nodes;
}

redisContext *cf_redis_cluster_conn(cf_redis_cluster_t *self, int node)
{
    assert(self && node >= 0 && (size_t) node < cf_redis_slotmap_nodes(self->map));
    conns_fit(self);
    if (!self->conns[node])
        self->conns[node] = node_connect(self, cf_redis_slotmap_host(self->map, node),
                                         cf_redis_slotmap_port(self->map, node));
    return self->conns[node];
}

void cf_redis_cluster_disconnect(cf_redis_cluster_t *self)
{
    assert(self);
    self->direct = 0;               /* their replies went with the connection */
    self->written = false;
    for (size_t i = 0; i < self->conns_size; i++)
        if (self->conns[i]) {
            redisFree(self->conns[i]);
            self->conns[i] = NULL;
        }
    self->refresh = true;
}

/* Loads the map from c's CLUSTER SLOTS (c answers for host). */
static int map_load(cf_redis_cluster_t *self, redisContext *c, const char *host)
{
    redisReply *reply = redisCommand(c, "CLUSTER SLOTS");
    if (!reply)
        return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_ECONN, "CLUSTER SLOTS: %s",
                                     c->errstr);
    char why[200];
    int rc = 0;
    if (cf_redis_slotmap_load(self->map, reply, host, why, sizeof why) < 0)
        rc = cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP, "%s", why);
    else if (cf_redis_slotmap_unowned(self->map) > 0)
        /* a cluster still being made, or one that lost a master without replica */
        rc = cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP, "%zu slots have no node",
                                   cf_redis_slotmap_unowned(self->map));
    freeReplyObject(reply);
    self->stats.refreshes += rc == 0;
    return rc;
}

/* Puts each old connection (of old_map's nodes) where its host:port is in
   the new map, and closes those of nodes that left. */
static void conns_follow(cf_redis_cluster_t *self, cf_redis_slotmap_t *old_map,
                         redisContext **old, size_t old_size)
{
    self->conns = NULL;
    self->conns_size = 0;
    conns_fit(self);
    for (size_t i = 0; i < old_size; i++) {
        if (!old[i])
            continue;
        const char *host = cf_redis_slotmap_host(old_map, (int) i);
        int port = cf_redis_slotmap_port(old_map, (int) i);
        int node = cf_redis_slotmap_find(self->map, host, port);
        if (node >= 0 && !self->conns[node])
            self->conns[node] = old[i];
        else
            redisFree(old[i]);
    }
    free(old);
}

/* node_connect for the refresh: a node of old_map, by index, or the seed. */
static int refresh_from(cf_redis_cluster_t *self, cf_redis_slotmap_t *old_map, redisContext **old,
                        size_t old_size, long i)
{
    const char *host = i < 0 ? self->seed_host : cf_redis_slotmap_host(old_map, (int) i);
    int port = i < 0 ? self->seed_port : cf_redis_slotmap_port(old_map, (int) i);
    redisContext *c = i >= 0 && (size_t) i < old_size ? old[i] : NULL;
    redisContext *own = c ? NULL : node_connect(self, host, port);
    if (!c && !own)
        return -1;
    int rc = map_load(self, c ? c : own, host);
    if (own)
        redisFree(own);
    if (rc < 0 && c && c->err) {    /* a dead connection: not worth keeping */
        redisFree(c);
        old[i] = NULL;
    }
    return rc;
}

int cf_redis_cluster_refresh(cf_redis_cluster_t *self)
{
    assert(self && self->cluster);
    /* the old map stays readable while the new one loads into self->map */
    cf_redis_slotmap_t *old_map = self->map;
    redisContext **old = self->conns;
    size_t old_size = self->conns_size;
    self->map = cf_redis_slotmap_new();
    int rc = -1;
    /* connected nodes first (no new connection), then the others, then the seed */
    for (int pass = 0; pass < 2 && rc < 0; pass++)
        for (size_t i = 0; i < cf_redis_slotmap_nodes(old_map) && rc < 0; i++)
            if ((pass == 0) == (i < old_size && old[i] != NULL))
                rc = refresh_from(self, old_map, old, old_size, (long) i);
    if (rc < 0)
        rc = refresh_from(self, old_map, old, old_size, -1);
    if (rc < 0) {                   /* keep what we had, to try again later */
        cf_redis_slotmap_destroy(&self->map);
        self->map = old_map;
        return -1;
    }
    conns_follow(self, old_map, old, old_size);
    cf_redis_slotmap_destroy(&old_map);
    self->refresh = false;
    cf_redis_pipe_unroute(self->pipe);
    return 0;
}

/* The mode the seed's INFO cluster states. */
static int mode_of_seed(cf_redis_cluster_t *self, redisContext *c, bool *cluster)
{
    redisReply *reply = redisCommand(c, "INFO cluster");
    if (!reply)
        return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_ECONN, "INFO cluster: %s", c->errstr);
    int rc = 0;
    if (reply->type != REDIS_REPLY_STRING)
        rc = cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP,
                                   "INFO cluster: %.160s (give the mode, or grant +info)",
                                   reply->type == REDIS_REPLY_ERROR ? reply->str : "not a text");
    else
        *cluster = strstr(reply->str, "cluster_enabled:1") != NULL;
    freeReplyObject(reply);
    return rc;
}

int cf_redis_cluster_start(cf_redis_cluster_t *self)
{
    assert(self);
    cf_redis_cluster_disconnect(self);
    /* a cluster known from before (cf_redis_cluster_reset): any node of its
       last map will do, the seed last, since the seed may be the master
       that failed */
    if (self->cluster && cf_redis_slotmap_nodes(self->map) > 1
        && cf_redis_cluster_refresh(self) == 0) {
        self->ready = true;
        return 0;
    }
    redisContext *seed = node_connect(self, self->seed_host, self->seed_port);
    if (!seed)
        return -1;
    bool cluster = self->mode == CF_REDIS_MODE_CLUSTER;
    if (self->mode == CF_REDIS_MODE_AUTO && mode_of_seed(self, seed, &cluster) < 0) {
        redisFree(seed);
        return -1;
    }
    self->cluster = cluster;
    cf_redis_slotmap_destroy(&self->map);
    self->map = cf_redis_slotmap_new();
    /* the seed is node 0 until a map says otherwise; its connection is kept */
    cf_redis_slotmap_node(self->map, self->seed_host, self->seed_port);
    free(self->conns);
    self->conns = NULL;
    self->conns_size = 0;
    conns_fit(self);
    self->conns[0] = seed;
    if (cluster && cf_redis_cluster_refresh(self) < 0)
        return -1;
    self->refresh = false;
    self->ready = true;
    return 0;
}

int cf_redis_cluster_ready(cf_redis_cluster_t *self)
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
    if (cf_redis_cluster_ready(self) < 0)
        return -1;
    if (!self->cluster)
        return 0;
    int node = cf_redis_slotmap_owner(self->map, slot < 0 ? 0 : slot);
    if (node < 0)
        return cf_redis_cluster_fail(self, CF_REDIS_CLUSTER_EMAP, "slot %d has no node", slot);
    return node;
}

int cf_redis_cluster_key_master(cf_redis_cluster_t *self, const char *key, const char **host,
                                int *port)
{
    assert(self && key && host && port);
    int node = cf_redis_cluster_slot_node(self, cf_redis_slot(key, strlen(key)));
    if (node < 0)
        return -1;
    *host = cf_redis_slotmap_host(self->map, node);
    *port = cf_redis_slotmap_port(self->map, node);
    return 0;
}
