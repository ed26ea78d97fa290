/*  cf_store_replicas: the acks that wait for replicas (the worker's setting
    ack-replicas; docs/reliability.md, "Durability modes"). Redis replicates
    asynchronously: a batch committed on the master and acked can be lost
    when a replica that had not received it is promoted. With ack-replicas
    n, a batch's call ends with WAIT n <timeout>, which returns once n
    replicas acknowledged every write this connection made; fewer within the
    timeout fail the call as an outage (nothing is acked: the worker keeps
    the job and tries again, and the retry finds the batch applied and waits
    again). WAIT counts the writes of its own connection only, but the
    replication stream is ordered, so any write of this connection also
    covers what an earlier connection wrote: a connection that has written
    nothing yet (a retry after a reconnect that finds every event applied)
    claims an owner record first (HINCRBY claims, as cf_store_apply.c does
    before its first fenced commit of a shard).                             */
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"

#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

void cf_store_set_ack_replicas(cf_store_t *self, unsigned replicas, int timeout_ms)
{
    assert(self && replicas <= CF_STORE_ACK_REPLICAS_MAX && timeout_ms > 0);
    self->ack_replicas = replicas;
    self->ack_timeout_ms = timeout_ms;
}

/* Appends, toward shard's node, its claim when needed and the WAIT; how
   many replies they will get. */
static size_t replicas_append(cf_store_t *self, unsigned shard)
{
    size_t replies = 1;
    if (!self->wrote || self->cluster) {    /* a cluster's node may not have seen this batch */
        cf_store_append_claim(self, shard);
        replies++;
    }
    char replicas[16], timeout[16];
    snprintf(replicas, sizeof replicas, "%u", self->ack_replicas);
    snprintf(timeout, sizeof timeout, "%d", self->ack_timeout_ms);
    const char *argv[] = { "WAIT", replicas, timeout };
    const size_t argvlen[] = { 4, strlen(replicas), strlen(timeout) };
    cf_store_append_argv(self, -1, cf_store_slot(self, shard), 3, argv, argvlen);
    return replies;
}

/* Reads one node's claim (when there is one) and WAIT: how many replicas
   acknowledged, or -1 with the error set. */
static long long replicas_take(cf_store_t *self, size_t replies)
{
    long long acked = -1;
    int rc = 0;
    for (size_t i = 0; i < replies; i++) {
        redisReply *reply = NULL;
        if (cf_store_get_reply(self, &reply, i + 1 < replies ? "HINCRBY claims" : "WAIT") < 0)
            return -1;
        if (reply->type == REDIS_REPLY_ERROR && rc == 0)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "%s: %s",
                               i + 1 < replies ? "HINCRBY claims" : "WAIT", reply->str);
        else if (i + 1 < replies)
            self->wrote = true;
        else if (reply->type == REDIS_REPLY_INTEGER)
            acked = reply->integer;
        freeReplyObject(reply);
    }
    if (rc < 0)
        return -1;
    if (acked < 0)
        return cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "WAIT: unexpected reply");
    return acked;
}

int cf_store_wait_replicas(cf_store_t *self)
{
    cf_store_batch_t *batch = self->batch;
    if (!self->ack_replicas || batch->groups == 0)
        return 0;
    /* one WAIT per node the batch's shards are on: a WAIT counts the
       writes of its own connection */
    unsigned *shards = cf_calloc(batch->groups, sizeof *shards);
    size_t *replies = cf_calloc(batch->groups, sizeof *replies), nodes = 0;
    int *node_of = cf_calloc(batch->groups, sizeof *node_of);
    int rc = 0;
    for (size_t g = 0; g < batch->groups && rc == 0; g++) {
        int node = self->cluster
                 ? cf_redis_cluster_slot_node(self->redis,
                                              cf_store_slot(self, batch->group_shard[g])) : 0;
        if (node < 0)
            rc = cf_store_fail_io(self, "the cluster's map");
        bool seen = false;
        for (size_t k = 0; k < nodes && !seen; k++)
            seen = node_of[k] == node;
        if (rc == 0 && !seen) {
            node_of[nodes] = node;
            shards[nodes] = batch->group_shard[g];
            replies[nodes] = replicas_append(self, shards[nodes]);
            nodes++;
        }
    }
    for (size_t k = 0; k < nodes && self->connected; k++) {   /* every reply read, or none */
        long long acked = replicas_take(self, replies[k]);
        if (acked < 0)
            rc = -1;
        else if (rc == 0 && acked < (long long) self->ack_replicas)
            /* an outage, not a refusal: the batch is kept and tried again */
            rc = cf_store_fail(self, CF_STORE_ERR_IO, "WAIT: %lld of %u replicas acknowledged "
                               "the batch's writes within %d ms (ack-replicas)", acked,
                               self->ack_replicas, self->ack_timeout_ms);
    }
    free(shards), free(replies), free(node_of);
    return rc;
}
