/*  cf_curve: CURVE key pairs for caseflow's ZeroMQ endpoints (docs/
    security.md). A key pair lives in two Z85 text files of one line each:
    NAME.key holds the secret key and must be mode 0600 or stricter (a
    looser file is refused: anyone who can read it can act as its owner),
    NAME.pub the public key, which is what allow-lists and clients' server
    key settings name. The public key is derived from the secret one when
    loading, so a .key file alone is a whole identity. Applying a pair to a
    socket makes it a CURVE server (with a ZAP domain naming the roles it
    admits, see cf_zap) or a client of a server key. Never prints; the
    secret is wiped on destroy.                                              */
#ifndef CF_CURVE_H
#define CF_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#define CF_CURVE_Z85_LEN 40             /* a 32-byte key as Z85 text */

typedef struct _cf_curve_t cf_curve_t;

/*  A fresh key pair (zmq_curve_keypair); NULL when libzmq has no CURVE.    */
cf_curve_t *cf_curve_new(void);

/*  Reads a secret key file (checking its mode) and derives the public
    key. NULL with the reason, naming the file, in err.                     */
cf_curve_t *cf_curve_load(const char *key_file, char *err, size_t err_size);

/*  Wipes the secret, frees and nulls *self_p; accepts NULL.                */
void cf_curve_destroy(cf_curve_t **self_p);

/*  Writes DIR/NAME.key (mode 0600) and DIR/NAME.pub; refuses to overwrite
    an existing file. 0, or -1 with the reason in err.                      */
int cf_curve_save(const cf_curve_t *self, const char *dir, const char *name, char *err,
                  size_t err_size);

/*  The public key as Z85 text (CF_CURVE_Z85_LEN characters).               */
const char *cf_curve_public(const cf_curve_t *self);

/*  Reads a public key file (one Z85 key, a final newline allowed) into
    z85 (CF_CURVE_Z85_LEN + 1 bytes). 0, or -1 with the reason in err.     */
int cf_curve_read_public(const char *pub_file, char *z85, char *err, size_t err_size);

/*  The server key a client checks the broker against; see
    cf_curve_client. 0, or -1 with the reason in err.                       */
int cf_curve_set_server(cf_curve_t *self, const char *pub_file, char *err, size_t err_size);

/*  Makes socket (before bind) a CURVE server with this pair; domain is
    its ZAP domain (cf_zap: the roles admitted). 0 or -1 (errno).           */
int cf_curve_server(const cf_curve_t *self, void *socket, const char *domain);

/*  Makes socket (before connect) a CURVE client of the server key set
    with cf_curve_set_server (asserted). 0 or -1 (errno).                   */
int cf_curve_client(const cf_curve_t *self, void *socket);

/*  A client's settings, from its flags or environment: with neither file
    *out is NULL (plain); with both, the pair and the server key; with one
    of them only, an error. 0, or -1 with the reason in err.              */
int cf_curve_client_new(const char *key_file, const char *server_file, cf_curve_t **out,
                        char *err, size_t err_size);

/*  Whether a ZeroMQ endpoint stays on this host: tcp:// to 127.x.y.z,
    localhost or [::1], ipc:// or inproc://. Plain (unencrypted) sockets are
    only allowed there.                                                     */
bool cf_curve_is_loopback(const char *endpoint);

#endif
