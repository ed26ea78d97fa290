/*  cf_handshake: what a client socket learns of its handshakes, so that a
    client refused by the broker can say so instead of only timing out.

    A ZeroMQ client never sees a refusal as an error: libzmq reconnects
    and tries again. A socket monitor (an inproc PAIR) does see it: the
    broker's ZAP handler (cf_zap) answers 400 when the client's key is not
    in the allow-list of the endpoint's roles or when the endpoint is at its
    connection limit (--connections-max), and the client gets
    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH with that status. cf_handshake_t reads
    those events without blocking, whenever the client asks.

    libzmq 4.3 treats a refusal as a protocol error: that connection is
    never tried again. cf_handshake_retry connects anew, for a client that
    wants to wait for its place (a limit) or for its key to be added.

    libzmq also reconnects by itself when the broker restarts, and says
    nothing to the socket's user. cf_handshake_reconnected tells it, so that
    a worker registers again and a producer resends at once instead of
    waiting out a liveness or an ACK timeout (docs/reliability.md).          */
#ifndef CF_HANDSHAKE_H
#define CF_HANDSHAKE_H

#include <stdbool.h>

typedef struct _cf_handshake_t cf_handshake_t;

/*  Watches socket (a client socket of ctx, before it connects). NULL when
    the monitor cannot be started (errno from libzmq).                       */
cf_handshake_t *cf_handshake_new(void *ctx, void *socket);

/*  Stops watching and frees, nulls *self_p; accepts NULL. Call it before
    the socket is closed.                                                    */
void cf_handshake_destroy(cf_handshake_t **self_p);

/*  Reads the events so far, never blocking: the ZAP status (300, 400, 500)
    of the last refusal not followed by a successful handshake, else 0.      */
int cf_handshake_refused(cf_handshake_t *self);

/*  After a refusal: drops the refused connection to endpoint and connects
    again (from the socket's thread). 0, or -1 (errno from libzmq).          */
int cf_handshake_retry(cf_handshake_t *self, const char *endpoint);

/*  For a client's timer: reads the events, and after a refusal connects
    again once its pause is over (500 ms, doubling up to 5 s; a successful
    handshake resets it). Returns what cf_handshake_refused returns.         */
int cf_handshake_keep_trying(cf_handshake_t *self, const char *endpoint);

/*  Reads the events so far, never blocking: true once for each time the
    connection came back (a handshake succeeded after the connection was
    lost), false otherwise; the socket's first handshake is not a return.   */
bool cf_handshake_reconnected(cf_handshake_t *self);

/*  Whether a handshake has succeeded since the socket connected.           */
bool cf_handshake_ever_succeeded(cf_handshake_t *self);

/*  Waits up to timeout_ms for the next handshake's outcome: 0 when it
    succeeded, its ZAP status when refused, -1 when nothing came in time.   */
int cf_handshake_wait(cf_handshake_t *self, int timeout_ms);

/*  One sentence on what the refusal status means, for a client's message:
    "the broker refused this client's handshake (ZAP 400): ...".             */
const char *cf_handshake_explain(int status);

#endif
