/*  cf_broker's intake: what a producer's PUSH must pass to be queued as a
    job (a key still in its allow-list, the producers' role, its frames,
    then admission: not stopping, not paused, within the producer's rate,
    the queue's bounds and the producer's share of bytes) and the answers it
    gets when it does not (ERROR for a revoked key or a malformed request,
    every event busy for one that must wait). A producer is its CURVE key,
    so that its connections share one rate and one share (plain: its
    connection). A SNAPSHOT request goes on to cf_broker_snapshot.c.
    Separate from cf_broker.c, which hands the jobs out after each read.    */
#include "cf_broker_internal.h"
#include "caseflow/cf_alloc.h"
#include "cf_jobq.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* Answers every event of a request with the same status and reason. */
static void broker_send_all(cf_broker_t *self, const zmq_msg_t *producer, const void *request_id,
                            size_t request_id_len, size_t count, cf_ack_status_t status,
                            const char *reason)
{
    cf_ack_t *acks = cf_calloc(count, sizeof *acks);
    if (status == CF_ACK_BUSY)
        self->events_busy += count;
    for (size_t i = 0; i < count; i++)
        acks[i] = (cf_ack_t) { status, NULL, 0, reason, strlen(reason) };
    msgpack_sbuffer_clear(&self->sbuf);
    cf_msg_pack_acks(&self->sbuf, acks, count);
    free(acks);
    cf_metric_add(self->metrics.events[status], count);
    cf_msg_send_ack(self->intake, ZMQ_DONTWAIT, zmq_msg_data((zmq_msg_t *) producer),
                    zmq_msg_size((zmq_msg_t *) producer), request_id, request_id_len,
                    self->sbuf.data, self->sbuf.size);
}

/* Who the producer of a well-formed PUSH is, for its quotas: its CURVE key
   (Z85, from the metadata of frame 1), or plain its routing id. */
typedef struct {
    const void *id;
    size_t len;
} broker_producer_t;

static broker_producer_t broker_producer(cf_broker_t *self, cf_multipart_t *parts)
{
    const char *key = self->plain ? NULL : cf_zap_key_of(cf_multipart_at(parts, 1));
    if (key)
        return (broker_producer_t) { key, strlen(key) };
    return (broker_producer_t) { cf_multipart_data(parts, 0), cf_multipart_len(parts, 0) };
}

/* The busy reason of a new producer while producers_max are tracked. */
static const char *broker_producers_full(cf_broker_t *self, char *reason, size_t reason_size)
{
    snprintf(reason, reason_size, "producers: %zu producers active, send again later",
             self->producers_max);
    return reason;
}

/* Why a well-formed PUSH of events must wait (its busy reason, in reason
   or a constant), or NULL when it may be queued, its bytes added to the
   producer's share: the broker is stopping or paused, the producer is over
   its rate, the queue is full, or the producer holds its share of bytes. */
static const char *broker_admit(cf_broker_t *self, cf_multipart_t *parts,
                                broker_producer_t producer, size_t events, char *reason,
                                size_t reason_size)
{
    if (self->stopping_since)
        return "broker: shutting down, send again later";
    if (self->paused)
        return "broker: intake paused by an operator, send again later";
    switch (cf_ratelimit_take(self->rates, producer.id, producer.len, events, cf_clock_ms())) {
    case CF_RATELIMIT_OVER:
        snprintf(reason, reason_size, "rate: over %.0f events/s for this producer, "
                 "send again later", self->producer_rate);
        return reason;
    case CF_RATELIMIT_FULL:
        return broker_producers_full(self, reason, reason_size);
    default:
        break;
    }
    if (cf_broker_queued(self, cf_jobq_events) + events > self->queue_limit) {
        snprintf(reason, reason_size, "queue: broker queue is full (%zu events)",
                 self->queue_limit);
        return reason;
    }
    if (cf_broker_queued(self, cf_jobq_bytes) + cf_msg_push_bytes(parts) > self->queue_bytes) {
        snprintf(reason, reason_size, "queue: broker queue is full (%zu bytes)",
                 self->queue_bytes);
        return reason;
    }
    switch (cf_ratelimit_hold(self->rates, producer.id, producer.len, cf_msg_push_bytes(parts),
                              self->producer_bytes, cf_clock_ms())) {
    case CF_RATELIMIT_OVER:
        snprintf(reason, reason_size, "queue: this producer's share is full (%zu bytes), "
                 "send again later", self->producer_bytes);
        return reason;
    case CF_RATELIMIT_FULL:
        return broker_producers_full(self, reason, reason_size);
    default:
        return NULL;
    }
}

static void broker_on_push(cf_broker_t *self, cf_multipart_t *parts)
{
    zmq_msg_t *producer = cf_multipart_at(parts, 0);
    size_t count = cf_multipart_size(parts);
    cf_metric_inc(self->metrics.requests);
    const void *rid;
    size_t rid_len;
    cf_msg_request_id(parts, &rid, &rid_len);
    /* frame 1 carries the connection's metadata (the routing id, made by the
       ROUTER, none): a key removed on SIGHUP is served no more */
    if (count > 1 && !cf_zap_current(self->zap, cf_multipart_at(parts, 1))) {
        cf_msg_send_error(self->intake, ZMQ_DONTWAIT, zmq_msg_data(producer),
                          zmq_msg_size(producer), rid, rid_len, BROKER_REVOKED);
        return;
    }
    if (cf_msg_is_snapshot(parts)) {
        cf_broker_snapshot_request(self, parts);
        return;
    }
    char reason[128];
    /* the role first: a subscriber's message is not looked into, but for a
       SNAPSHOT of the wrong shape, which has its own reason */
    const char *error = NULL;
    if (cf_multipart_size(parts) > 1 && cf_msg_intake_command(parts) != CF_MSG_SNAPSHOT
        && !cf_broker_secure_may(self, cf_multipart_at(parts, 1), CF_ZAP_PRODUCERS))
        error = "auth: this key may not push (it is not in the producers' allow-list)";
    else
        error = cf_msg_check_push(parts, reason, sizeof reason);
    if (error) {
        cf_msg_send_error(self->intake, ZMQ_DONTWAIT, zmq_msg_data(producer),
                          zmq_msg_size(producer), rid, rid_len, error);
        return;
    }
    size_t events = count - 4;
    broker_producer_t who = broker_producer(self, parts);
    const char *busy = broker_admit(self, parts, who, events, reason, sizeof reason);
    if (busy) {
        broker_send_all(self, producer, rid, rid_len, events, CF_ACK_BUSY, busy);
        return;
    }
    self->events_in += events;
    cf_job_t *job = cf_job_new(++self->next_job_id, events);
    cf_job_charge(job, self->rates, who.id, who.len, cf_msg_push_bytes(parts));
    zmq_msg_move(&job->producer, producer);
    zmq_msg_move(&job->request_id, cf_multipart_at(parts, 3));
    for (size_t i = 0; i < events; i++)
        zmq_msg_move(&job->events[i], cf_multipart_at(parts, 4 + i));
    cf_broker_route_shards(self, job);
    cf_jobq_push(self->queue, job);
}

void cf_broker_intake_read(cf_broker_t *self, void *socket)
{
    for (int i = 0; i < BROKER_DRAIN_MAX && cf_multipart_recv(self->intake_parts, socket) == 0;
         i++)
        broker_on_push(self, self->intake_parts);
}

