/*  cf_client (the socket): requests, replies and timers on a cf_loop; see
    cf_client.h. The loop has two handlers: a reply finishes (or requeues,
    when busy) the events of its request and refills the window at once; a
    tick every CF_CLIENT_TICK_MS resends requests whose timeout passed (or
    every request in flight, when the connection has just come back: a
    restarted broker lost them), sends what a busy pause held back, checks
    the deadline and reports progress. A request's attempts go out as
    "<n>.<attempt>" with n a counter that is never reused: an ACK to any
    attempt of a request still open answers it (the first one wins), and a
    reply to a request already answered matches nothing and is ignored.
    cf_client_run drives the loop until every event is final; a caller with
    a loop of its own drives it a pass at a time instead (cf_client_poll),
    adding events between passes, and ends the run with cf_client_poll_end.  */
#include "cf_client_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define CLIENT_BUSY_PAUSE_MS        100     /* first pause after a busy ack */
#define CLIENT_BUSY_PAUSE_MAX_MS    5000    /* it doubles up to this */
#define CLIENT_REPLY_PARTS          8       /* an ACK or ERROR has 4; more is ignored */

void cf_client_close(cf_client_t *self)
{
    cf_handshake_destroy(&self->handshake);     /* before its socket closes */
    if (self->socket)
        zmq_close(self->socket);
    self->socket = NULL;
}

int cf_client_connect(cf_client_t *self)
{
    assert(self);
    if (self->socket)
        return 0;
    char err[512];
    if (!self->endpoints && !(self->endpoints = cf_endpoints_new(self->endpoint, err, sizeof err)))
        return cf_client_fail(self, CF_CLIENT_ERR_ENDPOINT, "intake endpoints %s", err);
    if (!self->ctx && !(self->ctx = zmq_ctx_new()))
        return cf_client_fail(self, CF_CLIENT_ERR_SOCKET, "zmq_ctx_new: %s", zmq_strerror(errno));
    int linger = 0;
    self->socket = zmq_socket(self->ctx, ZMQ_DEALER);
    if (!self->socket)
        return cf_client_fail(self, CF_CLIENT_ERR_SOCKET, "zmq_socket: %s", zmq_strerror(errno));
    zmq_setsockopt(self->socket, ZMQ_LINGER, &linger, sizeof linger);
    if (self->curve && cf_curve_client(self->curve, self->socket) < 0) {
        cf_client_fail(self, CF_CLIENT_ERR_SOCKET, "CURVE: %s", zmq_strerror(errno));
        cf_client_close(self);
        return -1;
    }
    int64_t max_frame = CF_MSG_MAX_FRAME_BYTES;
    zmq_setsockopt(self->socket, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    self->handshake = cf_handshake_new(self->ctx, self->socket);   /* NULL: not watched */
    if (zmq_connect(self->socket, cf_client_endpoint(self)) < 0) {
        cf_client_fail(self, CF_CLIENT_ERR_ENDPOINT, "intake endpoint '%s': %s",
                       cf_client_endpoint(self), zmq_strerror(errno));
        cf_client_close(self);
        return -1;
    }
    return 0;
}

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
static int client_send(cf_client_t *self, client_request_t *r, int64_t now)
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
static int client_fill(cf_client_t *self, int64_t now)
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
        if (client_send(self, r, now) < 0)
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

static void client_release(cf_client_t *self, client_request_t *r)
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
    client_release(self, r);
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
        client_release(self, r);
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

/* ---- the loop --------------------------------------------------------- */

static bool client_done(const cf_client_t *self)
{
    return self->final_count == self->event_count;
}

static int client_on_readable(cf_loop_t *loop, void *socket, void *arg)
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
    if (client_fill(self, now) < 0)
        return -1;
    return client_done(self) ? -1 : 0;
}

/* The connection came back (libzmq reconnected): a broker that restarted
   lost what it held of ours, and one that only lost the connection has no
   way to answer on it. So every request in flight goes again now, with
   its timeout started afresh, and what held us back before (a busy pause,
   a halved window) was about the connection that is gone. */
static int client_on_reconnect(cf_client_t *self, int64_t now)
{
    self->busy_until = 0;
    self->busy_pause_ms = CLIENT_BUSY_PAUSE_MS;
    self->allowed = self->window;
    for (unsigned s = 0; s < self->window; s++) {
        client_request_t *r = &self->slots[s];
        if (!r->id)
            continue;
        r->timeouts = 0;
        if (client_send(self, r, now) < 0)
            return -1;
    }
    return 0;
}

/* Moves to the next endpoint of the list (after the last, the first): a
   new socket there, in the loop instead of the old one, and every request
   in flight sent again at once, as after a reconnect: what the old broker
   held of ours is as good as lost, and an event applied there already
   comes back duplicate. Replies to the old socket cannot come any more. */
static int client_failover(cf_client_t *self, cf_loop_t *loop, int64_t now)
{
    cf_loop_remove_socket(loop, self->socket);
    cf_client_close(self);
    self->current = (self->current + 1) % cf_endpoints_size(self->endpoints);
    self->stats.failovers++;
    self->quiet_since = self->connect_started = now;
    if (cf_client_connect(self) < 0)
        return -1;
    cf_loop_add_socket(loop, self->socket, client_on_readable, self);
    return client_on_reconnect(self, now);
}

/* Whether the endpoint has answered (refused is an answer) before the
   connect timeout: a ZeroMQ connect to a port where nothing listens is no
   error, libzmq only tries again and again, so without this a producer
   would wait out its whole deadline (60 s) to learn that. With a list, an
   endpoint that does not answer in time hands over to the next, and only
   when none of them has: -1 with the error set. Else 0. */
static int client_check_answered(cf_client_t *self, cf_loop_t *loop, int refused, int64_t now)
{
    if (self->answered || !self->connect_ms || !self->handshake)
        return 0;
    self->answered = refused || cf_handshake_ever_succeeded(self->handshake);
    if (self->answered || now - self->connect_started < self->connect_ms)
        return 0;
    if (++self->tried < cf_endpoints_size(self->endpoints))
        return client_failover(self, loop, now);
    /* with CURVE, a wrong server key looks the same: the broker cannot read
       the client's HELLO and drops the connection without a word */
    return cf_client_fail(self, CF_CLIENT_ERR_UNREACHABLE,
                          "no broker answers at %s: nothing completed a handshake within %g s "
                          "(is the broker running, %s?)", self->endpoint, self->connect_ms / 1000.0,
                          self->curve ? "is this its intake endpoint, and is the server key its "
                                        "public key" : "and is this its intake endpoint");
}

/* Whether the broker in use has gone quiet: requests wait for it and it
   has answered none of ours for the ACK timeout (it died, or it is cut
   off; a broker that is only slow answers something). With a list, that
   is the time to move on; with one endpoint the timeouts resend as ever. */
static int client_check_quiet(cf_client_t *self, cf_loop_t *loop, int64_t now)
{
    if (self->in_flight == 0)
        self->quiet_since = now;
    if (cf_endpoints_size(self->endpoints) < 2 || now - self->quiet_since < self->timeout_ms)
        return 0;
    return client_failover(self, loop, now);
}

static int client_on_tick(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) timer_id;
    cf_client_t *self = arg;
    int64_t now = cf_clock_ms();
    /* libzmq never tries a refused handshake again: cf_handshake does, now
       and then (a place may free up under the broker's connection limit, a
       key may be added to its allow-list) */
    int refused = self->handshake ? cf_handshake_keep_trying(self->handshake,
                                                             cf_client_endpoint(self)) : 0;
    if (client_check_answered(self, loop, refused, now) < 0
        || client_check_quiet(self, loop, now) < 0)
        return -1;
    if (self->handshake && cf_handshake_reconnected(self->handshake)
        && client_on_reconnect(self, now) < 0)
        return -1;
    for (unsigned s = 0; s < self->window; s++) {
        client_request_t *r = &self->slots[s];
        if (!r->id || r->due > now)
            continue;
        r->timeouts++;
        if (client_send(self, r, now) < 0)
            return -1;
    }
    if (client_done(self))
        self->last_progress = now;      /* a polled run with nothing to send is not stuck */
    if (now - self->last_progress >= self->deadline_ms) {
        self->ending = "no progress";
        return -1;
    }
    if (client_fill(self, now) < 0)
        return -1;
    if (self->progress)
        self->progress(&self->stats, self->progress_arg);
    return 0;
}

/* Marks event index unacked, saying what became of it. */
static void client_abandon(cf_client_t *self, uint32_t index, const char *why)
{
    const client_event_t *event = &self->events[index];
    char reason[384];
    char sent[32];
    snprintf(sent, sizeof sent, event->sends == 1 ? "once" : "%u times", event->sends);
    if (event->sends == 0)
        snprintf(reason, sizeof reason, "never sent (%s)", why);
    else if (self->code == CF_CLIENT_ERR_UNREACHABLE)   /* queued, but no connection to send on */
        snprintf(reason, sizeof reason, "not delivered (%s)", why);
    else if (event->flags & CLIENT_WAS_BUSY)
        snprintf(reason, sizeof reason, "broker busy (%s), sent %s (%s)", self->busy_reason, sent,
                 why);
    else
        snprintf(reason, sizeof reason, "no ACK, sent %s (%s)", sent, why);
    cf_client_finish(self, index, CF_CLIENT_UNACKED, reason, strlen(reason));
}

/* Everything still in flight or queued becomes unacked. */
static void client_give_up(cf_client_t *self)
{
    char why[128];
    int refused = cf_client_refused(self);
    if (self->code == CF_CLIENT_ERR_UNREACHABLE)
        snprintf(why, sizeof why, "no broker answers");
    else if (self->code != CF_CLIENT_OK)
        snprintf(why, sizeof why, "socket error");
    else if (self->ending && refused)
        snprintf(why, sizeof why, "gave up after %g s without progress; the broker refused "
                 "the handshake, ZAP %d", self->deadline_ms / 1000.0, refused);
    else if (self->ending)
        snprintf(why, sizeof why, "gave up after %g s without progress",
                 self->deadline_ms / 1000.0);
    else if (self->loop && !(self->stop_flag && *self->stop_flag))
        snprintf(why, sizeof why, "the run was ended first");
    else
        snprintf(why, sizeof why, "interrupted");
    for (unsigned s = 0; s < self->window; s++)
        if (self->slots[s].id) {
            for (uint32_t i = 0; i < self->slots[s].count; i++)
                client_abandon(self, self->slots[s].events[i], why);
            client_release(self, &self->slots[s]);
        }
    for (uint32_t index; (index = cf_client_queue_pop(self)) != CLIENT_NONE;)
        client_abandon(self, index, why);
}

/* The buffers of one run, sized by the settings. */
static void client_start(cf_client_t *self)
{
    self->slots = cf_calloc(self->window, sizeof *self->slots);
    self->acks = cf_calloc(self->batch, sizeof *self->acks);
    self->busy = cf_calloc(self->batch, sizeof *self->busy);
    for (unsigned s = 0; s < self->window; s++)
        self->slots[s].events = cf_calloc(self->batch, sizeof(uint32_t));
    self->parts = cf_multipart_new(CLIENT_REPLY_PARTS);
    self->code = CF_CLIENT_OK;
    self->error[0] = '\0';
    self->ending = NULL;
    self->busy_until = 0;
    self->busy_pause_ms = CLIENT_BUSY_PAUSE_MS;
    self->allowed = self->window;
    self->last_progress = self->connect_started = self->quiet_since = cf_clock_ms();
}

static void client_stop(cf_client_t *self)
{
    for (unsigned s = 0; s < self->window; s++)
        free(self->slots[s].events);
    free(self->slots);
    free(self->acks);
    free(self->busy);
    self->slots = NULL;
    self->acks = NULL;
    self->busy = NULL;
    cf_multipart_destroy(&self->parts);
}

static cf_loop_t *client_loop_new(cf_client_t *self)
{
    cf_loop_t *loop = cf_loop_new();
    cf_loop_add_socket(loop, self->socket, client_on_readable, self);
    cf_loop_add_timer(loop, CF_CLIENT_TICK_MS, client_on_tick, self);
    cf_loop_set_stop_flag(loop, self->stop_flag);
    return loop;
}

static int client_loop(cf_client_t *self)
{
    cf_loop_t *loop = client_loop_new(self);
    int rc = cf_loop_run(loop);
    cf_loop_destroy(&loop);
    if (rc < 0)
        return cf_client_fail(self, CF_CLIENT_ERR_SOCKET, "poll: %s", zmq_strerror(errno));
    return self->code == CF_CLIENT_OK ? 0 : -1;
}

int cf_client_run(cf_client_t *self, cf_client_progress_fn *progress, void *arg)
{
    assert(self && !self->slots);
    if (cf_client_connect(self) < 0)
        return -1;
    self->progress = progress;
    self->progress_arg = arg;
    client_start(self);
    int rc = client_fill(self, cf_clock_ms());
    if (rc == 0 && !client_done(self))
        rc = client_loop(self);
    client_give_up(self);
    client_stop(self);
    if (progress)
        progress(&self->stats, arg);
    return rc;
}

int cf_client_poll(cf_client_t *self, int timeout_ms)
{
    assert(timeout_ms >= 0);
    return cf_client_poll_us(self, (int64_t) timeout_ms * 1000);
}

int cf_client_poll_us(cf_client_t *self, int64_t timeout_us)
{
    assert(self && timeout_us >= 0 && (self->loop || !self->slots));
    if (!self->loop) {
        if (cf_client_connect(self) < 0)
            return -1;
        self->progress = NULL;
        client_start(self);
        self->loop = client_loop_new(self);
    }
    if (self->code != CF_CLIENT_OK || self->ending)
        return self->code != CF_CLIENT_OK ? -1 : 1;       /* over: only cf_client_poll_end */
    if (client_fill(self, cf_clock_ms()) < 0)
        return -1;
    if (cf_loop_run_once(self->loop, timeout_us) < 0)
        return cf_client_fail(self, CF_CLIENT_ERR_SOCKET, "poll: %s", zmq_strerror(errno));
    if (self->code != CF_CLIENT_OK)
        return -1;
    return self->ending || (self->stop_flag && *self->stop_flag) ? 1 : 0;
}

int cf_client_poll_end(cf_client_t *self)
{
    assert(self);
    if (!self->loop)
        return 0;
    client_give_up(self);
    client_stop(self);
    cf_loop_destroy(&self->loop);
    return self->code == CF_CLIENT_OK ? 0 : -1;
}
