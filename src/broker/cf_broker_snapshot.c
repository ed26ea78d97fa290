/*  cf_broker's SNAPSHOT requests: a late subscriber's request for the state
    it starts from. Answering one reads the whole {pub} state from Redis and
    sends it (megabytes on a busy system), so a request must pass bounds
    first: a request id as a PUSH's, one request pending per connection, a
    few pending in all (the outbox reader serves them between its batches,
    so that notifications keep flowing), and a rate per connection. What passes goes to the outbox reader; its answer comes
    back through cf_broker_notify.c and goes out here.                      */
#include "cf_broker_internal.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

_Static_assert(BROKER_SNAPSHOT_PENDING_MS > 0, "a lost request frees its place");

/* The pending request of the connection id, or NULL. Requests pending past
   BROKER_SNAPSHOT_PENDING_MS (the reader lost them: Redis went away) are
   forgotten first, so that they cannot hold the places for ever. */
static broker_snapshot_t *snapshot_pending(cf_broker_t *self, const void *id, size_t len)
{
    int64_t now = cf_clock_ms();
    broker_snapshot_t *found = NULL;
    for (size_t i = 0; i < BROKER_SNAPSHOTS_PENDING; i++) {
        broker_snapshot_t *p = &self->snapshots[i];
        if (p->since && now - p->since > BROKER_SNAPSHOT_PENDING_MS)
            p->since = 0;
        if (p->since && p->id_len == len && memcmp(p->id, id, len) == 0)
            found = p;
    }
    return found;
}

/* A free place, or NULL when BROKER_SNAPSHOTS_PENDING requests are pending. */
static broker_snapshot_t *snapshot_place(cf_broker_t *self)
{
    for (size_t i = 0; i < BROKER_SNAPSHOTS_PENDING; i++)
        if (!self->snapshots[i].since)
            return &self->snapshots[i];
    return NULL;
}

/* Why this request must wait, in reason, or NULL when it may be served. */
static const char *snapshot_admit(cf_broker_t *self, zmq_msg_t *who, char *reason,
                                  size_t reason_size)
{
    if (snapshot_pending(self, zmq_msg_data(who), zmq_msg_size(who)))
        return "snapshot: this connection has a request pending, ask again after its answer";
    if (!snapshot_place(self)) {
        snprintf(reason, reason_size, "snapshot: %d requests pending, ask again later",
                 BROKER_SNAPSHOTS_PENDING);
        return reason;
    }
    switch (cf_ratelimit_take(self->snapshot_rates, zmq_msg_data(who), zmq_msg_size(who), 1,
                              cf_clock_ms())) {
    case CF_RATELIMIT_OVER:
        snprintf(reason, reason_size, "snapshot: over one request every %d s for this "
                 "connection, ask again later", BROKER_SNAPSHOT_EVERY_S);
        return reason;
    case CF_RATELIMIT_FULL:
        return "snapshot: too many subscribers asking, ask again later";
    default:
        return NULL;
    }
}

void cf_broker_snapshot_request(cf_broker_t *self, cf_multipart_t *parts)
{
    zmq_msg_t *who = cf_multipart_at(parts, 0);
    const void *rid;
    size_t rid_len;
    cf_msg_request_id(parts, &rid, &rid_len);
    char reason[128];
    const char *error = cf_msg_check_snapshot(parts);
    if (!error)
        error = snapshot_admit(self, who, reason, sizeof reason);
    if (error) {
        cf_msg_send_error(self->intake, ZMQ_DONTWAIT, zmq_msg_data(who), zmq_msg_size(who), rid,
                          rid_len, error);
        return;
    }
    broker_snapshot_t *place = snapshot_place(self);
    if (zmq_msg_size(who) > sizeof place->id)
        return;     /* libzmq's routing ids are at most 255 bytes */
    memcpy(place->id, zmq_msg_data(who), zmq_msg_size(who));
    place->id_len = zmq_msg_size(who);
    place->since = cf_clock_ms();
    void *pair = cf_outbox_socket(self->outbox);
    zmq_send(pair, CF_OUTBOX_SNAPSHOT, strlen(CF_OUTBOX_SNAPSHOT), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(pair, zmq_msg_data(who), zmq_msg_size(who), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(pair, rid, rid_len, ZMQ_DONTWAIT);
}

void cf_broker_snapshot_reply(cf_broker_t *self, cf_multipart_t *parts)
{
    broker_snapshot_t *pending = snapshot_pending(self, cf_multipart_data(parts, 1),
                                                  cf_multipart_len(parts, 1));
    if (pending)
        pending->since = 0;
    /* a subscriber that left asks again */
    cf_msg_send_snapshot(self->intake, ZMQ_DONTWAIT, cf_multipart_data(parts, 1),
                         cf_multipart_len(parts, 1), cf_multipart_data(parts, 2),
                         cf_multipart_len(parts, 2), cf_multipart_data(parts, 3),
                         cf_multipart_len(parts, 3));
}
