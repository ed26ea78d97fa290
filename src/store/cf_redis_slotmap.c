/*  cf_redis_slotmap: the slot map of a Redis Cluster; see cf_redis_slotmap.h.
    A load parses into a fresh map and swaps it in only when the whole reply
    was good, so a malformed answer never leaves half a map behind.        */
#include "cf_redis_slotmap.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_redis_slot.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

typedef struct {
    char *host;
    int port;
    int master_of;                  /* -1: a master */
    bool owns;                      /* master of a range of the last load */
} slotmap_node_t;

struct _cf_redis_slotmap_t {
    int16_t owner[CF_REDIS_SLOTS];  /* node index, -1: none */
    slotmap_node_t *nodes;
    size_t count, alloc;
};

cf_redis_slotmap_t *cf_redis_slotmap_new(void)
{
    cf_redis_slotmap_t *self = cf_calloc(1, sizeof *self);
    for (int slot = 0; slot < CF_REDIS_SLOTS; slot++)
        self->owner[slot] = -1;
    return self;
}

static void slotmap_clear_nodes(cf_redis_slotmap_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free(self->nodes[i].host);
    free(self->nodes);
    self->nodes = NULL;
    self->count = self->alloc = 0;
}

void cf_redis_slotmap_destroy(cf_redis_slotmap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    slotmap_clear_nodes(*self_p);
    free(*self_p);
    *self_p = NULL;
}

int cf_redis_slotmap_find(const cf_redis_slotmap_t *self, const char *host, int port)
{
    assert(self && host);
    for (size_t i = 0; i < self->count; i++)
        if (self->nodes[i].port == port && strcmp(self->nodes[i].host, host) == 0)
            return (int) i;
    return -1;
}

int cf_redis_slotmap_node(cf_redis_slotmap_t *self, const char *host, int port)
{
    assert(self && host);
    int found = cf_redis_slotmap_find(self, host, port);
    if (found >= 0)
        return found;
    assert(self->count < INT16_MAX);
    if (self->count == self->alloc) {
        self->alloc = self->alloc ? self->alloc * 2 : 8;
        self->nodes = cf_realloc(self->nodes, self->alloc * sizeof *self->nodes);
    }
    self->nodes[self->count] = (slotmap_node_t) { cf_strdup(host), port, -1, false };
    return (int) self->count++;
}

/* [host, port, id...] of a CLUSTER SLOTS range: the node's index, or -1. */
static int slotmap_parse_node(cf_redis_slotmap_t *map, const redisReply *r, const char *seed_host,
                              char *err, size_t err_size)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[1]->type != REDIS_REPLY_INTEGER) {
        snprintf(err, err_size, "CLUSTER SLOTS: a node is not [host, port, ...]");
        return -1;
    }
    const char *host = r->element[0]->len ? r->element[0]->str : seed_host;
    long long port = r->element[1]->integer;
    if (port <= 0 || port > 65535 || strlen(host) >= CF_REDIS_HOST_MAX || strcmp(host, "?") == 0) {
        snprintf(err, err_size, "CLUSTER SLOTS: node %.64s:%lld is not an address", host, port);
        return -1;
    }
    return cf_redis_slotmap_node(map, host, (int) port);
}

static int slotmap_conflict(const cf_redis_slotmap_t *map, int node, char *err, size_t err_size)
{
    snprintf(err, err_size, "CLUSTER SLOTS: node %.64s:%d is listed as a master and as a replica",
             map->nodes[node].host, map->nodes[node].port);
    return -1;
}

/* One range [start, end, master, replicas...] into map. */
static int slotmap_parse_range(cf_redis_slotmap_t *map, const redisReply *r, const char *seed_host,
                               char *err, size_t err_size)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3
        || r->element[0]->type != REDIS_REPLY_INTEGER
        || r->element[1]->type != REDIS_REPLY_INTEGER) {
        snprintf(err, err_size, "CLUSTER SLOTS: a range is not [start, end, master, ...]");
        return -1;
    }
    long long start = r->element[0]->integer, end = r->element[1]->integer;
    if (start < 0 || end < start || end >= CF_REDIS_SLOTS) {
        snprintf(err, err_size, "CLUSTER SLOTS: range %lld-%lld is not within 0-16383", start, end);
        return -1;
    }
    int master = slotmap_parse_node(map, r->element[2], seed_host, err, err_size);
    if (master < 0)
        return -1;
    /* a node is a master or the replica of one master, never both: a reply
       saying otherwise is no map to route by */
    if (map->nodes[master].master_of >= 0)
        return slotmap_conflict(map, master, err, err_size);
    map->nodes[master].owns = true;
    for (size_t i = 3; i < r->elements; i++) {
        int replica = slotmap_parse_node(map, r->element[i], seed_host, err, err_size);
        if (replica < 0)
            return -1;
        slotmap_node_t *node = &map->nodes[replica];
        if (node->owns || (node->master_of >= 0 && node->master_of != master))
            return slotmap_conflict(map, replica, err, err_size);
        node->master_of = master;
    }
    for (long long slot = start; slot <= end; slot++)
        map->owner[slot] = (int16_t) master;
    return 0;
}

int cf_redis_slotmap_load(cf_redis_slotmap_t *self, const redisReply *reply, const char *seed_host,
                          char *err, size_t err_size)
{
    assert(self && seed_host);
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        snprintf(err, err_size, "CLUSTER SLOTS: %s", reply && reply->type == REDIS_REPLY_ERROR
                 ? reply->str : "not an array");
        return -1;
    }
    cf_redis_slotmap_t *fresh = cf_redis_slotmap_new();
    for (size_t i = 0; i < reply->elements; i++)
        if (slotmap_parse_range(fresh, reply->element[i], seed_host, err, err_size) < 0) {
            cf_redis_slotmap_destroy(&fresh);
            return -1;
        }
    slotmap_clear_nodes(self);
    *self = *fresh;
    free(fresh);                    /* its nodes are self's now */
    return 0;
}

int cf_redis_slotmap_owner(const cf_redis_slotmap_t *self, int slot)
{
    assert(self && slot >= 0 && slot < CF_REDIS_SLOTS);
    return self->owner[slot];
}

void cf_redis_slotmap_set_owner(cf_redis_slotmap_t *self, int slot, int node)
{
    assert(self && slot >= 0 && slot < CF_REDIS_SLOTS && node >= 0 && (size_t) node < self->count);
    self->nodes[node].master_of = -1;
    self->owner[slot] = (int16_t) node;
}

size_t cf_redis_slotmap_nodes(const cf_redis_slotmap_t *self)
{
    assert(self);
    return self->count;
}

const char *cf_redis_slotmap_host(const cf_redis_slotmap_t *self, int node)
{
    assert(self && node >= 0 && (size_t) node < self->count);
    return self->nodes[node].host;
}

int cf_redis_slotmap_port(const cf_redis_slotmap_t *self, int node)
{
    assert(self && node >= 0 && (size_t) node < self->count);
    return self->nodes[node].port;
}

int cf_redis_slotmap_master_of(const cf_redis_slotmap_t *self, int node)
{
    assert(self && node >= 0 && (size_t) node < self->count);
    return self->nodes[node].master_of;
}

size_t cf_redis_slotmap_unowned(const cf_redis_slotmap_t *self)
{
    assert(self);
    size_t n = 0;
    for (int slot = 0; slot < CF_REDIS_SLOTS; slot++)
        n += self->owner[slot] < 0;
    return n;
}
