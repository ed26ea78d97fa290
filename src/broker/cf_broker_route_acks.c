/*  cf_broker_route_acks: what the workers send back for the parts that
    cf_broker_route.c sent them. A DONE's acks go, each, into its request's
    place (made when the request was first split), and a request is answered
    with its one ACK, in event order, once every event has its ack. An ack
    that is a fence's busy ("fenced:"), or missing, is not the producer's to
    see: its event goes back to the head of the queue to be routed again,
    and when its holder still owns the shard, the shard's epoch is recorded
    again first (cf_broker_epochs.c). The core hands each DONE here; this
    file calls into cf_broker_route.c to take parts back, never the other
    way.                                                                     */
#include "cf_broker_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_unpack.h"

#include <string.h>

/* Whether an ack (a map) is a fence's busy: not the producer's to see. */
static bool route_fenced(const msgpack_object *ack)
{
    const msgpack_object *status = cf_unpack_get(ack, "status");
    const msgpack_object *reason = cf_unpack_get(ack, "reason");
    size_t prefix = strlen(CF_MSG_FENCED_PREFIX);
    return status && cf_unpack_str_equals(status, "busy") && reason
        && reason->type == MSGPACK_OBJECT_STR && reason->via.str.size >= prefix
        && memcmp(reason->via.str.ptr, CF_MSG_FENCED_PREFIX, prefix) == 0;
}

/* Every event of the request has its ack: the one ACK, in event order. */
static void route_answer(cf_broker_t *self, cf_job_t *request)
{
    msgpack_sbuffer_clear(&self->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, (uint32_t) request->event_count);
    for (size_t i = 0; i < request->event_count; i++)
        msgpack_sbuffer_write(&self->sbuf, request->ack_buf + request->ack_at[i],
                              request->ack_len[i]);
    cf_broker_metrics_acks(self, self->sbuf.data, self->sbuf.size);
    cf_msg_send_ack(self->intake, ZMQ_DONTWAIT, zmq_msg_data(&request->producer),
                    zmq_msg_size(&request->producer), zmq_msg_data(&request->request_id),
                    zmq_msg_size(&request->request_id), self->sbuf.data,
                    self->sbuf.size);       /* a producer that left will resend */
    if (request->open_prev)
        request->open_prev->open_next = request->open_next;
    else
        self->open = request->open_next;
    if (request->open_next)
        request->open_next->open_prev = request->open_prev;
    cf_job_destroy(&request);
}

/* A fence refused the commit of a part's events that holder still owns
   the shards of, under the epoch this broker recorded last: the owner record
   is not what it recorded (Redis lost it, emptied or restarted without its
   data, or someone else raised it). Those epochs are recorded again now,
   before the events go out again, so that they are not fenced again. A
   part sent under an older epoch (one recorded again since) only goes
   out again: recording it again would fence every part in flight, in a
   cascade. */
static void route_record_again(cf_broker_t *self, const cf_member_t *holder, const cf_job_t *part,
                               const size_t *back, size_t nback)
{
    unsigned list[CF_MSG_MAX_JOB_EVENTS];
    size_t n = 0;
    for (size_t j = 0; j < nback; j++) {
        int32_t s = part->shard[back[j]];
        if (s < 0 || self->owner[s] != holder || !self->epoch[s]
            || part->epoch[back[j]] != self->epoch[s])
            continue;
        bool listed = false;
        for (size_t k = 0; k < n && !listed; k++)
            listed = list[k] == (unsigned) s;
        if (!listed)
            list[n++] = (unsigned) s;
    }
    if (n == 0)
        return;
    cf_broker_epochs_record(self, list, n, true);
    for (size_t k = 0; k < n; k++)
        if (self->owner[list[k]] != holder) {
            /* the record named another worker, which this broker follows
               (cf_broker_epochs.c): what waits for holder is split again,
               so that none of that shard's parts goes to holder under the
               epoch of its new owner */
            for (size_t i = 0; i < cf_roster_size(self->roster); i++)
                cf_broker_route_take_back(self, cf_roster_at(self->roster, i)->backlog);
            return;
        }
}

/* msgpack's write callback for a request's acks: appends to its ack_buf. */
static int route_ack_write(void *data, const char *buf, size_t len)
{
    cf_job_t *request = data;
    request->ack_buf = cf_grow(request->ack_buf, &request->ack_cap, request->ack_used + len, 1);
    memcpy(request->ack_buf + request->ack_used, buf, len);
    request->ack_used += len;
    return 0;
}

void cf_broker_route_done(cf_broker_t *self, cf_member_t *holder, cf_job_t *part,
                          const void *acks, size_t size)
{
    cf_job_t *answered[CF_MSG_MAX_JOB_EVENTS];  /* the requests whose last ack this was */
    size_t nanswered = 0;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    bool whole = cf_unpack(&result, acks, size) == 0 && result.data.type == MSGPACK_OBJECT_ARRAY
              && result.data.via.array.size == part->event_count;
    size_t back[CF_MSG_MAX_JOB_EVENTS], nback = 0;
    for (size_t i = 0; i < part->event_count; i++) {
        const msgpack_object *ack = whole ? &result.data.via.array.ptr[i] : NULL;
        cf_job_t *request = part->parent[i];
        size_t at = part->index[i];
        if (!ack || ack->type != MSGPACK_OBJECT_MAP || route_fenced(ack)) {
            back[nback++] = i;      /* to its shard's owner now */
            continue;
        }
        if (request->ack_len[at])
            continue;
        /* packed again rather than copied: the ACK carries each ack as
           msgpack-c packs it, whatever encoding the worker chose */
        msgpack_packer pk;
        msgpack_packer_init(&pk, request, route_ack_write);
        request->ack_at[at] = request->ack_used;
        msgpack_pack_object(&pk, *ack);
        request->ack_len[at] = request->ack_used - request->ack_at[at];
        self->events_acked++;
        if (--request->pending == 0)
            answered[nanswered++] = request;
    }
    msgpack_unpacked_destroy(&result);
    if (nback) {
        route_record_again(self, holder, part, back, nback);
        cf_job_t *again = cf_job_new_part(++self->next_job_id, part->parent[back[0]], nback);
        again->attempts = part->attempts;
        for (size_t j = 0; j < nback; j++) {
            zmq_msg_copy(&again->events[j], &part->events[back[j]]);
            again->shard[j] = part->shard[back[j]];
            again->parent[j] = part->parent[back[j]];
            again->index[j] = part->index[back[j]];
        }
        cf_jobq_push_front(self->queue, again);
    }
    for (size_t r = 0; r < nanswered; r++)
        route_answer(self, answered[r]);
}
