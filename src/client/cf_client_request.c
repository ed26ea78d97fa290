/*  cf_client (the requests): the window of PUSH requests and the replies
    to them; see cf_client.h. Queued events go out in requests of up to
    batch events, as many in flight as allowed (the window, halved by a busy
    ack and grown back one by one). A request's attempts go out as
    "<n>.<attempt>" with n a counter that is never reused: an ACK to any
    attempt of a request still open answers it (the first one wins), and a
    reply to a request already answered matches nothing and is ignored. A
    reply finishes (or requeues, when busy) the events of its request and
    refills the window at once. The loop is cf_client_run.c.                 */
#include "cf_client_internal.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ---- sending ---------------------------------------------------------- */

/* The ACK timeout after a send that follows `timeouts` timed-out ones:
   doubling, capped. */
static int64_t client_backoff(const cf_client_t *self, int timeouts)
{
    int64_t ms = self->timeout_ms;
    for (int i = 0; i < timeouts && ms < CF_CLIENT_MAX_TIMEOUT_MS; i++)
        ms = ms * 2 < CF_CLIENT_MAX_TIMEOUT_MS ? ms * 2 : CF_CLIENT_MAX_TIMEOUT_MS;
    return ms;
}

/* Sends (or resends) request r. A full queue (EAGAIN) counts as a send that
   got lost: the timeout resends it. 0, or -1 with the error set. */
int cf_client_send(cf_client_t *self, client_request_t *r, int64_t now)
{
    r->sends++;
    r->due = now + client_backoff(self, r->timeouts);
    self->stats.requests++;
    for (uint32_t i = 0; i < r->count; i++) {
        client_event_t *event = &self->events[r->events[i]];
        self->stats.resent += event->sends > 0;
        event->sends += event->sends < UINT8_MAX;
        event->flags &= (uint8_t) ~CLIENT_WAS_BUSY;     /* what it gets now is news */
    }
    char id[40];
    int id_len = snprintf(id, sizeof id, "%" PRIu64 ".%d", r->id, r->sends);
    const void *events[CF_MSG_MAX_EVENTS];
    size_t sizes[CF_MSG_MAX_EVENTS];
    for (uint32_t i = 0; i < r->count; i++) {
        events[i] = cf_client_event_data(self, r->events[i]);
        sizes[i] = self->events[r->events[i]].size;
    }
    if (cf_msg_send_push(self->socket, ZMQ_DONTWAIT, id, (size_t) id_len, events, sizes,
                         r->count) < 0)
        return errno == EAGAIN ? 0 : cf_client_fail(self, CF_CLIENT_ERR_SOCKET, "send: %s",
                                                    zmq_strerror(errno));
    return 0;
}

/* Fills free slots with queued events, unless a busy pause holds them. */
int cf_client_fill(cf_client_t *self, int64_t now)
{
    if (now < self->busy_until)
        return 0;
    for (unsigned s = 0; s < self->window && self->in_flight < self->allowed
                         && self->head != CLIENT_NONE; s++) {
        client_request_t *r = &self->slots[s];
        if (r->id)
            continue;
        *r = (client_request_t) { ++self->last_id, r->events, 0, 0, 0, 0 };
        while (r->count < self->batch && self->head != CLIENT_NONE)
            r->events[r->count++] = cf_client_queue_pop(self);
        self->in_flight++;
        if (cf_client_send(self, r, now) < 0)
            return -1;
    }
    return 0;
}

/* ---- replies ---------------------------------------------------------- */

/* The open request that request id "<n>.<attempt>" belongs to, or NULL. */
static client_request_t *client_find(cf_client_t *self, const char *id, size_t len)
{
    char text[40];
    if (len == 0 || len >= sizeof text)
        return NULL;
    memcpy(text, id, len);
    text[len] = '\0';
    char *dot, *end = text;
    uint64_t n = strtoull(text, &dot, 10);
    long attempt = *dot == '.' ? strtol(dot + 1, &end, 10) : 0;
    if (n == 0 || attempt < 1 || *end != '\0')
        return NULL;
    for (unsigned s = 0; s < self->window; s++)
        if (self->slots[s].id == n && attempt <= self->slots[s].sends)
            return &self->slots[s];
    return NULL;
}

void cf_client_release(cf_client_t *self, client_request_t *r)
{
    r->id = 0;
    self->in_flight--;
}

/* A whole request refused by ERROR: resending it unchanged cannot help. */
static void client_on_error(cf_client_t *self, client_request_t *r, const cf_msg_reply_t *reply)
{
    const char *text = "(no reason given)";
    int len = (int) strlen(text);
    if (reply->body_len > 0) {
        text = reply->body;
        len = reply->body_len < 200 ? (int) reply->body_len : 200;
    }
    char reason[256];
    snprintf(reason, sizeof reason, "request refused by the broker: %.*s", len, text);
    for (uint32_t i = 0; i < r->count; i++)
        cf_client_finish(self, r->events[i], CF_CLIENT_UNACKED, reason, strlen(reason));
    cf_client_release(self, r);
}

static void client_finish_acked(cf_client_t *self, uint32_t index, const cf_ack_t *ack)
{
    if (ack->status == CF_ACK_REJECTED && ack->reason && ack->reason_len)
        cf_client_finish(self, index, CF_CLIENT_REJECTED, ack->reason, ack->reason_len);
    else if (ack->status == CF_ACK_REJECTED)
        cf_client_finish(self, index, CF_CLIENT_REJECTED, "(no reason given)", 17);
    else
        cf_client_finish(self, index, ack->status == CF_ACK_ACCEPTED ? CF_CLIENT_ACCEPTED
                                                                     : CF_CLIENT_DUPLICATE, NULL, 0);
}

/* Notes a busy ack: the event goes back to the queue (by the caller). */
static void client_note_busy(cf_client_t *self, uint32_t index, const cf_ack_t *ack)
{
    self->events[index].flags |= CLIENT_WAS_BUSY;
    int len = ack->reason_len < 100 ? (int) ack->reason_len : 100;
    snprintf(self->busy_reason, sizeof self->busy_reason, "%.*s", len,
             ack->reason ? ack->reason : "");
    self->stats.busy++;
}

/* Applies an ACK to the events of r. An ACK that does not fit the request
   is ignored: the request stays in flight and its timeout resends it. */
static void client_on_ack(cf_client_t *self, client_request_t *r, const cf_msg_reply_t *reply,
                          int64_t now)
{
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int n = cf_msg_unpack_acks(&result, reply->body, reply->body_len, self->acks, r->count);
    if (n == (int) r->count) {
        uint32_t busy = 0;
        for (uint32_t i = 0; i < r->count; i++)
            if (self->acks[i].status == CF_ACK_BUSY && self->busy_final) {
                client_note_busy(self, r->events[i], &self->acks[i]);
                cf_client_finish(self, r->events[i], CF_CLIENT_BUSY, self->busy_reason,
                                 strlen(self->busy_reason));
            } else if (self->acks[i].status == CF_ACK_BUSY) {
                client_note_busy(self, r->events[i], &self->acks[i]);
                self->busy[busy++] = r->events[i];
            } else {
                client_finish_acked(self, r->events[i], &self->acks[i]);
            }
        for (uint32_t i = busy; i > 0; i--)     /* to the front of the queue, in order */
            cf_client_queue_push(self, self->busy[i - 1], true);
        cf_client_release(self, r);
        /* Slow down as TCP does: a busy answer halves the requests in flight
           and pauses (doubling only when the broker is still busy after the
           last pause, not for every reply of the same wave); a request taken
           whole lets one more go. */
        if (busy) {
            self->allowed = self->allowed > 1 ? self->allowed / 2 : 1;
            if (now >= self->busy_until) {
                self->busy_until = now + self->busy_pause_ms;
                self->busy_pause_ms = self->busy_pause_ms * 2 < CLIENT_BUSY_PAUSE_MAX_MS
                                    ? self->busy_pause_ms * 2 : CLIENT_BUSY_PAUSE_MAX_MS;
            }
        } else {
            self->busy_pause_ms = CLIENT_BUSY_PAUSE_MS;
            if (self->allowed < self->window)
                self->allowed++;
        }
    }
    msgpack_unpacked_destroy(&result);
}

static void client_on_reply(cf_client_t *self, cf_multipart_t *parts, int64_t now)
{
    cf_msg_reply_t reply;
    if (cf_msg_parse_reply(parts, &reply) < 0)
        return;
    client_request_t *r = client_find(self, reply.request_id, reply.request_id_len);
    if (!r)
        return;                 /* a late reply to a request answered before */
    size_t before = self->final_count;
    if (reply.is_ack)
        client_on_ack(self, r, &reply, now);
    else
        client_on_error(self, r, &reply);
    if (self->final_count != before)
        self->last_progress = now;
}

/* ---- the socket's handler --------------------------------------------- */

bool cf_client_done(const cf_client_t *self)
{
    return self->final_count == self->event_count;
}

int cf_client_on_readable(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    cf_client_t *self = arg;
    int64_t now = cf_clock_ms();
    while (cf_multipart_recv(self->parts, socket) == 0) {
        self->quiet_since = now;            /* the broker in use is alive */
        client_on_reply(self, self->parts, now);
    }
    if (errno != EAGAIN && errno != EINTR)
        return cf_client_fail(self, CF_CLIENT_ERR_SOCKET, "receive: %s", zmq_strerror(errno));
    if (cf_client_fill(self, now) < 0)
        return -1;
    return cf_client_done(self) ? -1 : 0;
}
