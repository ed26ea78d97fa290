/*  cf_client (the loop): a run's timers and its end, on a cf_loop; see
    cf_client.h. The loop has two handlers: a reply (cf_client_request.c)
    finishes (or requeues, when busy) the events of its request and refills
    the window at once; a tick every CF_CLIENT_TICK_MS resends requests
    whose timeout passed (or every request in flight, when the connection
    has just come back: a restarted broker lost them; cf_client_connect.c),
    sends what a busy pause held back, checks the deadline and reports
    progress. cf_client_run drives the loop until every event is final; a
    caller with a loop of its own drives it a pass at a time instead
    (cf_client_poll), adding events between passes, and ends the run with
    cf_client_poll_end. What is not final then becomes unacked, with why. */
#include "cf_client_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_multipart.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define CLIENT_REPLY_PARTS          8       /* an ACK or ERROR has 4; more is ignored */

/* ---- the loop --------------------------------------------------------- */

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
    if (cf_client_check_answered(self, loop, refused, now) < 0
        || cf_client_check_quiet(self, loop, now) < 0)
        return -1;
    if (self->handshake && cf_handshake_reconnected(self->handshake)
        && cf_client_on_reconnect(self, now) < 0)
        return -1;
    for (unsigned s = 0; s < self->window; s++) {
        client_request_t *r = &self->slots[s];
        if (!r->id || r->due > now)
            continue;
        r->timeouts++;
        if (cf_client_send(self, r, now) < 0)
            return -1;
    }
    if (cf_client_done(self))
        self->last_progress = now;      /* a polled run with nothing to send is not stuck */
    if (now - self->last_progress >= self->deadline_ms) {
        self->ending = "no progress";
        return -1;
    }
    if (cf_client_fill(self, now) < 0)
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
            cf_client_release(self, &self->slots[s]);
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
    cf_loop_add_socket(loop, self->socket, cf_client_on_readable, self);
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
    int rc = cf_client_fill(self, cf_clock_ms());
    if (rc == 0 && !cf_client_done(self))
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
    if (cf_client_fill(self, cf_clock_ms()) < 0)
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
