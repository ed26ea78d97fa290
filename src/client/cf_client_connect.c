/*  cf_client (the connection): the DEALER socket to the broker in use, and
    what is done when that connection changes: libzmq reconnected it, or
    the run moves along the list of endpoints (cf_endpoints) because the one
    in use answered no handshake within the connect timeout, or went quiet.
    Either way every request in flight goes again at once.                  */
#include "cf_client_internal.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"

#include <assert.h>
#include <errno.h>
#include <zmq.h>

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

/* ---- changes of connection -------------------------------------------- */

/* The connection came back (libzmq reconnected): a broker that restarted
   lost what it held of ours, and one that only lost the connection has no
   way to answer on it. So every request in flight goes again now, with
   its timeout started afresh, and what held us back before (a busy pause,
   a halved window) was about the connection that is gone. */
int cf_client_on_reconnect(cf_client_t *self, int64_t now)
{
    self->busy_until = 0;
    self->busy_pause_ms = CLIENT_BUSY_PAUSE_MS;
    self->allowed = self->window;
    for (unsigned s = 0; s < self->window; s++) {
        client_request_t *r = &self->slots[s];
        if (!r->id)
            continue;
        r->timeouts = 0;
        if (cf_client_send(self, r, now) < 0)
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
    cf_loop_add_socket(loop, self->socket, cf_client_on_readable, self);
    return cf_client_on_reconnect(self, now);
}

/* Whether the endpoint has answered (refused is an answer) before the
   connect timeout: a ZeroMQ connect to a port where nothing listens is no
   error, libzmq only tries again and again, so without this a producer
   would wait out its whole deadline (60 s) to learn that. With a list, an
   endpoint that does not answer in time hands over to the next, and only
   when none of them has: -1 with the error set. Else 0. */
int cf_client_check_answered(cf_client_t *self, cf_loop_t *loop, int refused, int64_t now)
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
int cf_client_check_quiet(cf_client_t *self, cf_loop_t *loop, int64_t now)
{
    if (self->in_flight == 0)
        self->quiet_since = now;
    if (cf_endpoints_size(self->endpoints) < 2 || now - self->quiet_since < self->timeout_ms)
        return 0;
    return client_failover(self, loop, now);
}
