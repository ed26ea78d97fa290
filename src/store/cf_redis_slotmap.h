/*  cf_redis_slotmap: which node of a Redis Cluster serves each hash slot,
    read from a CLUSTER SLOTS reply. No I/O: the caller sends the command
    and hands the reply tree here, so the parsing is tested on recorded
    replies. Nodes are numbered in the order they were first seen; a
    replica is kept (with its master) but never owns a slot: caseflow
    reads and writes on masters only.                                      */
#ifndef CF_REDIS_SLOTMAP_H
#define CF_REDIS_SLOTMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct _cf_redis_slotmap_t cf_redis_slotmap_t;
typedef struct redisReply redisReply;

/*  An empty map: no node, no slot owned. Never NULL.                      */
cf_redis_slotmap_t *cf_redis_slotmap_new(void);

/*  Frees and nulls *self_p; accepts NULL.                                  */
void cf_redis_slotmap_destroy(cf_redis_slotmap_t **self_p);

/*  Replaces the map with the one a CLUSTER SLOTS reply describes:
    [[start, end, [host, port, id...], [replica host, port, id...]...]...].
    An empty host stands for seed_host, the node that answered. Returns 0,
    or -1 with the reason in err (the map is then left as it was): not
    that shape, a slot outside 0..16383, a port outside 1..65535.          */
int cf_redis_slotmap_load(cf_redis_slotmap_t *self, const redisReply *reply, const char *seed_host,
                          char *err, size_t err_size);

/*  The node that owns slot, or -1 when no node does.                       */
int cf_redis_slotmap_owner(const cf_redis_slotmap_t *self, int slot);

/*  Makes node (a master now, whatever it was) the owner of slot: what a
    MOVED says, before the next CLUSTER SLOTS confirms it.                  */
void cf_redis_slotmap_set_owner(cf_redis_slotmap_t *self, int slot, int node);

/*  The index of host:port, added as a master when new.                     */
int cf_redis_slotmap_node(cf_redis_slotmap_t *self, const char *host, int port);

/*  The index of host:port, or -1 when the map does not know it.            */
int cf_redis_slotmap_find(const cf_redis_slotmap_t *self, const char *host, int port);

/*  How many nodes the map knows, and each one's address and role; the
    master of a replica (-1 for a master).                                  */
size_t cf_redis_slotmap_nodes(const cf_redis_slotmap_t *self);
const char *cf_redis_slotmap_host(const cf_redis_slotmap_t *self, int node);
int cf_redis_slotmap_port(const cf_redis_slotmap_t *self, int node);
int cf_redis_slotmap_master_of(const cf_redis_slotmap_t *self, int node);

/*  How many slots have no owner (0 for a cluster whose state is ok).      */
size_t cf_redis_slotmap_unowned(const cf_redis_slotmap_t *self);

#endif
