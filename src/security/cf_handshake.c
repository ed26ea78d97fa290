/*  cf_handshake: a client socket's handshake outcomes, and its connection
    coming back after a loss, from its socket monitor (read with
    cf_monitor); see cf_handshake.h.                                        */
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "caseflow/cf_loop.h"
#include "caseflow/cf_monitor.h"

#define HANDSHAKE_RETRY_MS      500     /* the first pause after a refusal */
#define HANDSHAKE_RETRY_MAX_MS  5000    /* it doubles up to this */

struct _cf_handshake_t {
    void *socket, *monitor;
    int refused;                /* the last refusal's status, 0 after a success */
    bool succeeded;
    bool lost;                  /* disconnected since the last successful handshake */
    bool reconnected;           /* a handshake succeeded after a loss, not yet told */
    bool awaiting;              /* a retry whose outcome has not come yet */
    int64_t retry_at;           /* cf_handshake_keep_trying's next try */
    int retry_ms;
};

cf_handshake_t *cf_handshake_new(void *ctx, void *socket)
{
    assert(ctx && socket);
    cf_handshake_t *self = cf_calloc(1, sizeof *self);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://cf-handshake-%p", (void *) self);
    if (zmq_socket_monitor(socket, endpoint, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                           | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) < 0) {
        free(self);
        return NULL;
    }
    self->socket = socket;
    if (!(self->monitor = cf_monitor_reader(ctx, endpoint))) {
        cf_handshake_destroy(&self);
        return NULL;
    }
    return self;
}

void cf_handshake_destroy(cf_handshake_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_handshake_t *self = *self_p;
    zmq_socket_monitor(self->socket, NULL, 0);  /* no event may wait on a closed reader */
    if (self->monitor)
        zmq_close(self->monitor);
    free(self);
    *self_p = NULL;
}

/* Reads one event (flags: 0 or ZMQ_DONTWAIT): 1 for a handshake's
   outcome, 0 for a lost connection, -1 when none came. */
static int handshake_read(cf_handshake_t *self, int flags)
{
    uint16_t event;
    uint32_t value;
    if (cf_monitor_read(self->monitor, flags, &event, &value) < 0)
        return -1;
    if (event == ZMQ_EVENT_DISCONNECTED) {
        self->lost = true;
        return 0;
    }
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        self->succeeded = true;
        self->reconnected |= self->lost;
        self->lost = false;
        self->refused = 0;
        self->retry_ms = 0;
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        self->refused = value ? (int) value : 400;
    }
    self->awaiting = false;
    return 1;
}

int cf_handshake_refused(cf_handshake_t *self)
{
    assert(self);
    while (handshake_read(self, ZMQ_DONTWAIT) >= 0)
        ;
    return self->refused;
}

bool cf_handshake_reconnected(cf_handshake_t *self)
{
    assert(self);
    cf_handshake_refused(self);
    bool reconnected = self->reconnected;
    self->reconnected = false;
    return reconnected;
}

int cf_handshake_retry(cf_handshake_t *self, const char *endpoint)
{
    assert(self && endpoint);
    zmq_disconnect(self->socket, endpoint);     /* ENOENT when libzmq dropped it already */
    self->awaiting = true;      /* the refusal stands until a handshake succeeds */
    return zmq_connect(self->socket, endpoint);
}

int cf_handshake_keep_trying(cf_handshake_t *self, const char *endpoint)
{
    int refused = cf_handshake_refused(self);
    int64_t now = cf_clock_ms();
    if (!refused || self->awaiting || now < self->retry_at)
        return refused;
    self->retry_ms = self->retry_ms ? self->retry_ms * 2 : HANDSHAKE_RETRY_MS;
    if (self->retry_ms > HANDSHAKE_RETRY_MAX_MS)
        self->retry_ms = HANDSHAKE_RETRY_MAX_MS;
    self->retry_at = now + self->retry_ms;
    cf_handshake_retry(self, endpoint);
    return refused;
}

bool cf_handshake_ever_succeeded(cf_handshake_t *self)
{
    cf_handshake_refused(self);
    return self->succeeded;
}

int cf_handshake_wait(cf_handshake_t *self, int timeout_ms)
{
    assert(self);
    zmq_pollitem_t item = { self->monitor, 0, ZMQ_POLLIN, 0 };
    int64_t until = cf_clock_ms() + timeout_ms;
    for (int64_t left = timeout_ms; left >= 0; left = until - cf_clock_ms()) {
        if (zmq_poll(&item, 1, (long) left) <= 0)
            return -1;
        int read = handshake_read(self, ZMQ_DONTWAIT);
        if (read > 0)
            return self->refused;
        if (read < 0)
            return -1;
    }
    return -1;      /* only lost connections came */
}

const char *cf_handshake_explain(int status)
{
    switch (status) {
    case 300:
        return "the broker refused this client's handshake for now (ZAP 300); it retries";
    case 400:
        return "the broker refused this client's handshake (ZAP 400): its key is not in the "
               "allow-list of this endpoint's roles, or the endpoint is at its connection "
               "limit (--connections-max); the broker's log says which";
    case 500:
        return "the broker could not check this client's handshake (ZAP 500)";
    default:
        return "the broker refused this client's handshake";
    }
}
