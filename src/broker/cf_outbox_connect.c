/*  cf_outbox_connect: the outbox reader's connections (cf_outbox.c): the
    one for the {pub} keys (cursors, commit, snapshot, lease), checked
    as the broker's start-up checks them (credentials, the shard count, the
    function library), and on a Redis Cluster the context that reads the
    shards' outboxes on their masters.                                      */
#include "cf_outbox_internal.h"
#include "caseflow/cf_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <hiredis/hiredis.h>

/* A connection to host:port, authenticated; with shards, agreeing on the
   shard count (cf:shards is there); with library, on which Redis holds the
   function library (cf_store_library_ensure). NULL with why, and *answered
   set when Redis refused (credentials, no library) rather than could not be
   reached. */
static redisContext *outbox_open_at(cf_outbox_t *self, const char *host, int port, bool shards,
                                    bool library, char *why, size_t size, bool *answered)
{
    struct timeval connect_timeout = { 2, 0 }, command_timeout = { 5, 0 };
    redisContext *c = redisConnectWithTimeout(host, port, connect_timeout);
    if (!c)
        abort();                    /* hiredis could not allocate */
    snprintf(why, size, "%s", c->errstr);
    if (c->err || redisSetTimeout(c, command_timeout) != REDIS_OK
        || cf_redis_auth_send(self->auth, c, why, size) < 0
        || (shards && cf_store_shards_agree(c, self->shards, true, why, size) < 0)
        || (library && cf_store_library_ensure(c, self->library, self->library_len,
                                               self->version, why, size) < 0)) {
        *answered = !c->err;
        redisFree(c);
        return NULL;
    }
    return c;
}

/* On a cluster: the connection to the {pub} keys' master, after checking
   the shard count on cf:shards's. NULL as outbox_open_at. */
static redisContext *outbox_open_cluster(cf_outbox_t *self, cf_redis_cluster_t *cluster,
                                         char *why, size_t size, bool *answered)
{
    const char *host;
    int port;
    redisContext *c = NULL;
    if (cf_redis_cluster_key_master(cluster, CF_KEYS_SHARDS, &host, &port) == 0
        && (c = outbox_open_at(self, host, port, true, false, why, size, answered))) {
        redisFree(c);
        c = NULL;
        if (cf_redis_cluster_key_master(cluster, cf_keys_pub(CF_KEYS_PUB_CURSOR), &host,
                                        &port) == 0)
            return outbox_open_at(self, host, port, false, true, why, size, answered);
    }
    if (cf_redis_cluster_errcode(cluster) != CF_REDIS_CLUSTER_OK) {
        snprintf(why, size, "%s", cf_redis_cluster_error(cluster));
        *answered = cf_redis_cluster_errcode(cluster) != CF_REDIS_CLUSTER_ECONN;
    }
    return NULL;
}

redisContext *cf_outbox_open(cf_outbox_t *self, cf_redis_cluster_t **cluster, char *why,
                              size_t size, bool *answered)
{
    *cluster = cf_redis_cluster_new(self->host, self->port, self->auth, CF_REDIS_MODE_AUTO,
                                    5000);
    if (cf_redis_cluster_connect(*cluster) < 0) {
        snprintf(why, size, "%s", cf_redis_cluster_error(*cluster));
        *answered = cf_redis_cluster_errcode(*cluster) != CF_REDIS_CLUSTER_ECONN;
        cf_redis_cluster_destroy(cluster);
        return NULL;
    }
    if (!cf_redis_cluster_is_cluster(*cluster)) {
        cf_redis_cluster_destroy(cluster);
        return outbox_open_at(self, self->host, self->port, true, true, why, size, answered);
    }
    redisContext *c = outbox_open_cluster(self, *cluster, why, size, answered);
    if (!c)
        cf_redis_cluster_destroy(cluster);
    return c;
}
