/*  cf_client (the events): settings, the event store, the send queue and
    the final statuses; see cf_client.h. Events live back to back in one
    growing arena with a fixed-size record each, and the queue is a list
    threaded through the records, so adding, queueing and requeueing are
    O(1) whatever the number of events. The socket side is
    cf_client_request.c (requests, replies), cf_client_connect.c (the
    connection, failover) and cf_client_run.c (the loop).                   */
#include "cf_client_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_zmq.h"

_Static_assert(CF_SETTINGS_BATCH_MAX == CF_MSG_MAX_EVENTS, "--batch is at most one PUSH");
_Static_assert(CF_CLIENT_MAX_BATCH == CF_MSG_MAX_EVENTS, "the public bound is the protocol's");
_Static_assert(CF_CLIENT_MAX_WINDOW == CF_SETTINGS_WINDOW_MAX, "the public bound is --window's");

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

void cf_client_set_curve(cf_client_t *self, const cf_curve_t *curve)
{
    assert(self && !self->socket);
    self->curve = curve;
}

cf_client_t *cf_client_new(const char *endpoint)
{
    assert(endpoint);
    cf_client_t *self = cf_calloc(1, sizeof *self);
    self->endpoint = cf_strdup(endpoint);
    self->batch = CF_SETTINGS_BATCH_DEFAULT;       /* caseflow-push's defaults */
    self->window = CF_SETTINGS_WINDOW_DEFAULT;
    self->timeout_ms = CF_SETTINGS_TIMEOUT_DEFAULT;
    self->deadline_ms = CF_SETTINGS_DEADLINE_DEFAULT * 1000;
    self->head = self->tail = CLIENT_NONE;
    return self;
}

void cf_client_destroy(cf_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_client_t *self = *self_p;
    self->on_final = NULL;                  /* nobody is told of what is dropped */
    cf_client_poll_end(self);
    cf_client_close(self);
    cf_endpoints_destroy(&self->endpoints);
    cf_zmq_ctx_term(&self->ctx);
    for (size_t i = 0; i < self->event_count; i++)
        free(self->events[i].reason);
    free(self->events);
    free(self->arena);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

void cf_client_set_batch(cf_client_t *self, unsigned events)
{
    assert(self && !self->slots && events >= 1 && events <= CF_MSG_MAX_EVENTS);
    self->batch = events;
}

void cf_client_set_window(cf_client_t *self, unsigned requests)
{
    assert(self && !self->slots && requests >= 1 && requests <= CF_SETTINGS_WINDOW_MAX);
    self->window = requests;
}

void cf_client_set_timeout(cf_client_t *self, int ms)
{
    assert(self && ms > 0);
    self->timeout_ms = ms;
}

void cf_client_set_deadline(cf_client_t *self, int ms)
{
    assert(self && ms > 0);
    self->deadline_ms = ms;
}

void cf_client_set_connect_timeout(cf_client_t *self, int ms)
{
    assert(self && ms >= 0);
    self->connect_ms = ms;
}

void cf_client_set_busy_final(cf_client_t *self, int on)
{
    assert(self);
    self->busy_final = on != 0;
}

void cf_client_set_on_final(cf_client_t *self, cf_client_final_fn *fn, void *arg)
{
    assert(self);
    self->on_final = fn;
    self->on_final_arg = arg;
}

void cf_client_set_stop_flag(cf_client_t *self, volatile sig_atomic_t *flag)
{
    assert(self);
    self->stop_flag = flag;
}

int cf_client_fail(cf_client_t *self, cf_client_err_t code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, args);
    va_end(args);
    self->code = code;
    return -1;
}

int64_t cf_client_add(cf_client_t *self, const void *msgpack, size_t size, const char *event_id)
{
    assert(self && (!self->slots || self->loop) && (msgpack || size == 0));
    if (size == 0 || size > UINT32_MAX)
        return cf_client_fail(self, CF_CLIENT_ERR_INPUT, "event %zu: %zu bytes", self->event_count,
                              size);
    if (self->event_count >= CLIENT_NONE - 1)
        return cf_client_fail(self, CF_CLIENT_ERR_INPUT, "more than %u events", CLIENT_NONE - 1);
    size_t id_len = event_id ? strlen(event_id) + 1 : 0;
    self->arena = cf_grow(self->arena, &self->arena_size, self->arena_used + size + id_len, 1);
    self->events = cf_grow(self->events, &self->event_size, self->event_count + 1,
                           sizeof *self->events);
    uint32_t index = (uint32_t) self->event_count++;
    self->events[index] = (client_event_t) { self->arena_used, (uint32_t) size, CLIENT_NONE, NULL,
                                             CF_CLIENT_PENDING, 0, event_id ? CLIENT_HAS_ID : 0 };
    memcpy(self->arena + self->arena_used, msgpack, size);
    if (event_id)
        memcpy(self->arena + self->arena_used + size, event_id, id_len);
    self->arena_used += size + id_len;
    self->stats.events++;
    cf_client_queue_push(self, index, false);
    return index;
}

void cf_client_queue_push(cf_client_t *self, uint32_t index, bool front)
{
    client_event_t *event = &self->events[index];
    self->queued++;
    if (self->head == CLIENT_NONE) {
        event->next = CLIENT_NONE;
        self->head = self->tail = index;
    } else if (front) {
        event->next = self->head;
        self->head = index;
    } else {
        event->next = CLIENT_NONE;
        self->events[self->tail].next = index;
        self->tail = index;
    }
}

uint32_t cf_client_queue_pop(cf_client_t *self)
{
    uint32_t index = self->head;
    if (index != CLIENT_NONE) {
        self->queued--;
        self->head = self->events[index].next;
        if (self->head == CLIENT_NONE)
            self->tail = CLIENT_NONE;
    }
    return index;
}

void cf_client_finish(cf_client_t *self, uint32_t index, cf_client_status_t status,
                      const char *reason, size_t reason_len)
{
    client_event_t *event = &self->events[index];
    assert(event->status == CF_CLIENT_PENDING && status != CF_CLIENT_PENDING);
    event->status = (uint8_t) status;
    if (reason)
        event->reason = cf_strndup(reason, reason_len);
    size_t *counts[] = { NULL, &self->stats.accepted, &self->stats.duplicate,
                         &self->stats.rejected, &self->stats.unacked,
                         NULL /* busy: stats.busy counts its ack */ };
    if (counts[status])
        (*counts[status])++;
    self->final_count++;
    if (self->on_final)
        self->on_final(index, status, self->on_final_arg);
}

const void *cf_client_event_data(const cf_client_t *self, uint32_t index)
{
    return self->arena + self->events[index].offset;
}

size_t cf_client_size(const cf_client_t *self)
{
    assert(self);
    return self->event_count;
}

cf_client_status_t cf_client_status(const cf_client_t *self, size_t index, const char **reason)
{
    assert(self && index < self->event_count);
    if (reason)
        *reason = self->events[index].reason;
    return (cf_client_status_t) self->events[index].status;
}

const char *cf_client_event_id(const cf_client_t *self, size_t index)
{
    assert(self && index < self->event_count);
    const client_event_t *event = &self->events[index];
    return event->flags & CLIENT_HAS_ID ? self->arena + event->offset + event->size : NULL;
}

size_t cf_client_queued(const cf_client_t *self)
{
    assert(self);
    return self->queued;
}

void cf_client_stats(const cf_client_t *self, cf_client_stats_t *stats)
{
    assert(self && stats);
    *stats = self->stats;
}

const char *cf_client_status_name(cf_client_status_t status)
{
    static const char *names[] = { "pending", "accepted", "duplicate", "rejected", "unacked",
                                   "busy" };
    return status <= CF_CLIENT_BUSY ? names[status] : "?";
}

const char *cf_client_error(const cf_client_t *self)
{
    assert(self);
    return self->error;
}

const char *cf_client_endpoint(const cf_client_t *self)
{
    assert(self);
    return self->endpoints ? cf_endpoints_at(self->endpoints, self->current) : self->endpoint;
}

int cf_client_refused(cf_client_t *self)
{
    assert(self);
    return self->handshake ? cf_handshake_refused(self->handshake) : 0;
}

cf_client_err_t cf_client_error_code(const cf_client_t *self)
{
    assert(self);
    return self->code;
}
