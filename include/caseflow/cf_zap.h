/*  cf_zap: the broker's ZAP handler (ZeroMQ RFC 27), which decides which
    CURVE clients may connect. Without one libzmq admits any client that
    knows the server's public key.

    A thread answers on inproc://zeromq.zap.01 of the given context. Each
    role (producers, workers, subscribers, operators) has an allow-list: a
    text file of Z85 public keys, one per line (blank lines and lines
    starting with '#' ignored); a role without a file admits nobody. A CURVE
    server socket names, as its ZAP domain, the roles it admits, separated
    by commas ("producers,subscribers"); a client is admitted (200) when its
    key is in one of them, and the role that admitted it and the key, as
    "role/<Z85 key>", become the connection's User-Id (cf_zap_role_of and
    cf_zap_key_of read them from a message). Anyone
    else gets 400 and one warning line per key (its fingerprint: the first
    8 Z85 characters of its public key). cf_zap_reload reads the files
    again while connections go on: a new connection is judged by the new
    lists, and cf_zap_current tells whether the key of a connection already
    open is still in its role's list, for the caller to check each message
    (a key removed on reload must stop being served at once).

    cf_zap_limit caps the connections open on one server socket: a
    handshake that would make them more than the cap is refused (400) with
    the warning "client refused: too many connections" (at most one line per
    socket every 10 s, with the count refused since). A broker in plain mode
    (loopback only, no CURVE) runs the handler too, made with
    cf_zap_new_plain: it admits every NULL-mechanism client, as no role,
    within the limits; its sockets must name a ZAP domain (ZMQ_ZAP_DOMAIN)
    for libzmq to ask it.                                                    */
#ifndef CF_ZAP_H
#define CF_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define CF_ZAP_PRODUCERS   "producers"
#define CF_ZAP_WORKERS     "workers"
#define CF_ZAP_SUBSCRIBERS "subscribers"
#define CF_ZAP_OPERATORS   "operators"

typedef struct {
    const char *role;       /* one word, no comma */
    const char *file;       /* its allow-list; NULL = nobody */
} cf_zap_list_t;

typedef struct _cf_zap_t cf_zap_t;

/*  Reads the lists (the names are copied) and starts the handler on ctx.
    NULL with the reason in err (a file that cannot be read, a bad line,
    with its number, or the ZAP endpoint already taken).                    */
cf_zap_t *cf_zap_new(void *ctx, const cf_zap_list_t *lists, size_t count, char *err,
                     size_t err_size);

/*  The handler of a plain broker: no lists, NULL mechanism only; for the
    connection limits. NULL with the reason in err.                          */
cf_zap_t *cf_zap_new_plain(void *ctx, char *err, size_t err_size);

/*  Stops the thread (after the limited sockets are closed, before the
    context is terminated), frees, nulls *self_p; accepts NULL.             */
void cf_zap_destroy(cf_zap_t **self_p);

/*  Reads every list again; they take effect for the next connections and
    for cf_zap_current (libzmq keeps a connection admitted before open: its
    owner must check its messages). On error the lists in force stay. 0,
    or -1 with the reason in err.                                           */
int cf_zap_reload(cf_zap_t *self, char *err, size_t err_size);

/*  Keys in the lists now, all roles together.                              */
size_t cf_zap_keys(cf_zap_t *self);

/*  Limits socket (a server socket of the context whose ZAP domain is
    domain, one socket per domain) to max connections open at once; those
    still in their handshake count. Call it from the thread that owns the
    socket, before the socket is bound. 0, or -1 with the reason in err.    */
int cf_zap_limit(cf_zap_t *self, void *socket, const char *domain, size_t max, char *err,
                 size_t err_size);

/*  The connections open now on the socket limited with domain, and the
    handshakes refused for its limit since start (either may be NULL).      */
void cf_zap_connections(cf_zap_t *self, const char *domain, size_t *open, uint64_t *refused);

/*  Whether the connection msg came in on was admitted as role (its
    User-Id). false for a plain connection.                                 */
bool cf_zap_role_of(zmq_msg_t *msg, const char *role);

/*  The public key (CF_CURVE_Z85_LEN characters of Z85 text, NUL-ended, in
    msg's metadata: valid while msg is) of the CURVE client whose connection
    msg came in on, or NULL for a plain connection.                         */
const char *cf_zap_key_of(zmq_msg_t *msg);

/*  Whether the key that admitted the connection msg came in on is in the
    list of the role that admitted it now, after any reload since: false
    for a key removed since (revoked) and for a message with no key; always
    true for a plain handler. Takes the lists' mutex, a binary search.      */
bool cf_zap_current(cf_zap_t *self, zmq_msg_t *msg);

#endif
