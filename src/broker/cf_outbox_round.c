/*  cf_outbox_round: what the outbox reader's thread (cf_outbox_reader.c)
    does once a poll has handed its entries over: the packs sent to the
    loop, the commit of the cursors and the batch (cf_outbox_commit), now
    and then a trim of what was read long ago, and the snapshot requests
    the loop passed on, answered between batches. Each poll ends here
    (cf_outbox_poll_done); nothing here polls.                             */
#include "cf_outbox.h"
#include "cf_outbox_internal.h"
#include "caseflow/cf_redis_cluster.h"

#include <errno.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>
#include <zmq.h>

#define OUTBOX_TRIM_EVERY_S 10
#define OUTBOX_SNAPSHOTS_BUSY 1     /* snapshots answered after a batch of entries */

/* Sends one frame, waiting while the loop lags (the pair's high-water
   mark); gives up only when the broker is stopping. */
static int outbox_send(outbox_reader_t *r, const char *data, size_t len, int more)
{
    while (zmq_send(r->pair, data, len, more ? ZMQ_SNDMORE : 0) < 0)
        if (zmq_errno() != EAGAIN || atomic_load(&r->self->stop))
            return -1;
    return 0;
}

/* Sends the entries packed so far to the loop, if any; -1 when the broker
   is stopping. */
int cf_outbox_flush(outbox_reader_t *r)
{
    if (r->packed == 0)
        return 0;
    int rc = outbox_send(r, r->pack.data, r->pack.size, 0);
    msgpack_sbuffer_clear(&r->pack);
    r->packed = 0;
    return rc;
}

/* Saves the cursors, the batch's returns (milestones) and its change to the
   snapshot state in one MULTI/EXEC (cf_outbox_commit). When another reader
   saved first, the batch is its: reading goes on from its cursors. */
static int outbox_commit(outbox_reader_t *r)
{
    pthread_mutex_lock(&r->self->lock);
    int rc = cf_outbox_commit(r->redis, r->streams, (const char (*)[12]) r->fields,
                              (const char (*)[48]) r->cursor, r->saved, &r->batch,
                              r->self->marks);
    pthread_mutex_unlock(&r->self->lock);
    if (rc == -2)
        memcpy(r->cursor, r->saved, r->streams * sizeof *r->cursor);
    cf_outbox_batch_clear(&r->batch);
    return rc < -1 ? 0 : rc;
}

/* Answers at most max of the snapshot requests the loop passed on:
   [SNAPSHOT, who, request id] gets [SNAPSHOT, who, request id, body].
   Between batches, so that the state read is that of the cursors saved;
   a few at a time, so that the batches (notifications) keep going. */
int cf_outbox_serve_snapshots(outbox_reader_t *r, int max)
{
    zmq_msg_t part[3];
    for (int served = 0; served < max; served++) {
        int n = 0, more = 1;
        for (; more && n < 3; n++) {
            zmq_msg_init(&part[n]);
            if (zmq_msg_recv(&part[n], r->pair, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&part[n]);
                for (int i = 0; i < n; i++)
                    zmq_msg_close(&part[i]);
                return 0;           /* no request waiting */
            }
            more = zmq_msg_more(&part[n]);
        }
        msgpack_sbuffer body;
        msgpack_sbuffer_init(&body);
        int rc = n == 3 ? cf_outbox_snapshot(r->redis, &body) : 0;
        if (rc == 0 && n == 3) {
            outbox_send(r, CF_OUTBOX_SNAPSHOT, strlen(CF_OUTBOX_SNAPSHOT), 1);
            outbox_send(r, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), 1);
            outbox_send(r, zmq_msg_data(&part[2]), zmq_msg_size(&part[2]), 1);
            outbox_send(r, body.data, body.size, 0);
        }
        msgpack_sbuffer_destroy(&body);
        for (int i = 0; i < n; i++)
            zmq_msg_close(&part[i]);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Whether stream s is read through the cluster's context: a shard's outbox
   on a cluster. */
static bool outbox_clustered(const outbox_reader_t *r, unsigned s)
{
    return r->cluster && s + 1 < r->streams;
}

/* Now and then trims what was read long ago. */
static int outbox_trim(outbox_reader_t *r)
{
    time_t now = time(NULL);
    if (now - r->trimmed_at < OUTBOX_TRIM_EVERY_S)
        return 0;
    r->trimmed_at = now;
    for (unsigned s = 0; s < r->streams; s++) {
        long long read_ms = strtoll(r->cursor[s], NULL, 10) - CF_OUTBOX_RETENTION_MS;
        char minid[32];
        snprintf(minid, sizeof minid, "%lld-0", read_ms > 0 ? read_ms : 0);
        if (outbox_clustered(r, s))
            cf_redis_cluster_append(r->cluster, r->keys[s], "XTRIM %s MINID ~ %s", r->keys[s],
                                    minid);
        else
            redisAppendCommand(r->redis, "XTRIM %s MINID ~ %s", r->keys[s], minid);
    }
    int rc = 0;
    for (unsigned s = 0; s < r->streams; s++) {
        redisReply *reply = NULL;
        if (outbox_clustered(r, s) ? cf_redis_cluster_get_reply(r->cluster, &reply) < 0
                                   : redisGetReply(r->redis, (void **) &reply) != REDIS_OK)
            return -1;
        if (!reply)
            return -1;
        rc |= reply->type == REDIS_REPLY_ERROR ? -1 : 0;
        freeReplyObject(reply);
    }
    return rc;
}

/* After a poll handed over what it read: the commit, now and then a trim,
   and the snapshots waiting; -1 on a Redis error. */
int cf_outbox_poll_done(outbox_reader_t *r, long handed)
{
    if (handed > 0 && cf_outbox_flush(r) < 0)
        handed = -1;
    if (handed <= 0) {
        cf_outbox_batch_clear(&r->batch);
        return handed < 0 ? 0 : cf_outbox_serve_snapshots(r, OUTBOX_SNAPSHOTS_IDLE);
    }
    return outbox_commit(r) < 0 || outbox_trim(r) < 0
        || cf_outbox_serve_snapshots(r, OUTBOX_SNAPSHOTS_BUSY) < 0 ? -1 : 0;
}
