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

#include <assert.h>
#include <stdlib.h>
#include <hiredis/hiredis.h>

void cf_store_set_ack_replicas(cf_store_t *self, unsigned replicas, int timeout_ms)
{
    assert(self && replicas <= CF_STORE_ACK_REPLICAS_MAX && timeout_ms > 0);
    self->ack_replicas = replicas;
    self->ack_timeout_ms = timeout_ms;
}

int cf_store_wait_replicas(cf_store_t *self, unsigned shard)
{
    if (!self->ack_replicas)
        return 0;
    size_t replies = 1;
    if (!self->wrote) {
        cf_store_append_claim(self, shard);
        replies++;
    }
    if (redisAppendCommand(self->ctx, "WAIT %u %d", self->ack_replicas, self->ack_timeout_ms)
        != REDIS_OK)
        abort();
    long long acked = -1;
    int rc = 0;
    for (size_t i = 0; i < replies; i++) {
        redisReply *reply = NULL;
        if (redisGetReply(self->ctx, (void **) &reply) != REDIS_OK || !reply)
            return cf_store_fail_io(self, i + 1 < replies ? "HINCRBY claims" : "WAIT");
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
    if (acked < (long long) self->ack_replicas)
        /* an outage, not a refusal: the batch is kept and tried again */
        return cf_store_fail(self, CF_STORE_ERR_IO, "WAIT: %lld of %u replicas acknowledged the "
                             "batch's writes within %d ms (ack-replicas)", acked,
                             self->ack_replicas, self->ack_timeout_ms);
    return 0;
}
