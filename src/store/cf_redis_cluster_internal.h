/*  cf_redis_cluster's private parts, shared by its three files:
    cf_redis_cluster.c (the context and its queue), cf_redis_cluster_round.c
    (the rounds of a batch, redirections) and cf_redis_cluster_node.c
    (connections, mode, slot map).                                          */
#ifndef CF_REDIS_CLUSTER_INTERNAL_H
#define CF_REDIS_CLUSTER_INTERNAL_H

#include "caseflow/cf_redis_cluster.h"
#include "cf_redis_pipe.h"
#include "cf_redis_slotmap.h"

#include <sys/time.h>

typedef struct redisContext redisContext;

struct _cf_redis_cluster_t {
    char *seed_host;
    int seed_port;
    cf_redis_auth_t *auth;          /* NULL: no AUTH */
    struct timeval timeout;
    cf_redis_mode_t mode;           /* as asked */
    bool ready;                     /* connected, mode settled, map read */
    bool cluster;                   /* settled mode */
    bool refresh;                   /* read the map before the next batch */
    bool stay;                      /* redirections are replies (cf_redis_cluster_set_follow) */
    cf_redis_slotmap_t *map;        /* single mode: one node, the seed */
    redisContext **conns;           /* by map node; NULL: not connected */
    size_t conns_size;
    cf_redis_pipe_t *pipe;
    bool written;                   /* the batch's first round is written (cf_redis_cluster_flush) */
    size_t direct;                  /* commands written straight to a single server's
                                       connection (no pipe), their replies not yet read */
    cf_redis_cluster_stats_t stats;
    cf_redis_cluster_err_t code;
    char err[256];
};

/*  Sets the error code and message; returns -1.                            */
int cf_redis_cluster_fail(cf_redis_cluster_t *self, cf_redis_cluster_err_t code,
                          const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*  The connection to map node, made (and authenticated) when missing;
    NULL with the error set.                                                */
redisContext *cf_redis_cluster_conn(cf_redis_cluster_t *self, int node);

/*  Closes every connection (their replies in flight are then lost, which is
    what a failed batch needs) and asks for a new map.                      */
void cf_redis_cluster_disconnect(cf_redis_cluster_t *self);

/*  Reads the slot map again from any node that answers (the known ones
    first, then the seed), keeping the connections of nodes still in it.
    0, or -1 with the error set.                                            */
int cf_redis_cluster_refresh(cf_redis_cluster_t *self);

/*  Settles the mode and reads the first map (cf_redis_cluster_connect).    */
int cf_redis_cluster_start(cf_redis_cluster_t *self);

/*  Connected, with a map up to date (the error cleared first): 0, or -1.
    Before any command goes out (cf_redis_cluster_node.c, like the above). */
int cf_redis_cluster_ready(cf_redis_cluster_t *self);

/*  Commands queued and not yet answered to the caller (cf_redis_cluster.c). */
size_t cf_redis_cluster_pending(const cf_redis_cluster_t *self);

#endif
