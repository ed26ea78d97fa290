/*  cf_web: caseflow-web's HTTP server on libmicrohttpd: authenticates each
    request by its bearer token (cf_web_tokens) and answers it with
    cf_web_api. Without a certificate and key it listens on a loopback
    address only (anything else is refused before binding); with them it
    speaks HTTPS (GnuTLS, through libmicrohttpd) on any address.

    The dashboard's files (cf_web_assets: /, /dashboard.js ...) are served
    to anyone, with a Content-Security-Policy that lets the page load only
    its own files: they hold no figures, and the page asks the API for them
    with the token it is given. GET /api/v1/notifications streams
    config->feed (cf_web_stream); every other request is cf_web_api's. A request without a known token is answered 401 and logged (the
    client's address, never the token); a client that fails more than
    CF_WEB_AUTH_BURST times, refilled at CF_WEB_AUTH_RATE a second, is
    answered 429 without its token being checked, and is not logged again
    until it may try. The token set can be replaced while the server runs
    (cf_web_set_tokens: caseflow-web reads its file again on SIGHUP); each
    request holds a reference to the set it was checked against, each event
    stream one until it ends. The form mappings are replaced the same way
    (cf_web_set_forms), each request answering from the set it started with. Each connection has its own thread (at most
    CF_WEB_CONNECTIONS at once), so that a slow client, or later a
    long-lived event stream, does not hold up the others.                   */
#ifndef CF_WEB_H
#define CF_WEB_H

#include <stddef.h>

#include "caseflow/cf_metrics.h"
#include "cf_web_api.h"
#include "cf_web_assets.h"
#include "cf_web_feed.h"
#include "cf_web_tokens.h"

#define CF_WEB_CONNECTIONS 64
#define CF_WEB_AUTH_RATE 1.0        /* failed sign-ins a second, per client address */
#define CF_WEB_AUTH_BURST 10.0
#define CF_WEB_AUTH_CLIENTS 4096    /* client addresses tracked at once */

typedef struct {
    const char *host;
    int port;                       /* 0: one the kernel picks */
    const char *tls_cert, *tls_key; /* PEM files, both or neither */
    cf_web_tokens_t *tokens;        /* the server takes a reference */
    cf_web_source_t source;
    cf_metrics_t *metrics;          /* NULL: none */
    cf_web_feed_t *feed;            /* GET /api/v1/notifications; NULL: none (503) */
    const cf_web_assets_t *assets;  /* the dashboard's files; NULL: no page */
} cf_web_config_t;

typedef struct _cf_web_t cf_web_t;

/*  Listens and serves in libmicrohttpd's threads. NULL with the reason in
    err (a non-loopback address without TLS, a certificate that cannot be
    read, a port in use).                                                    */
cf_web_t *cf_web_new(const cf_web_config_t *config, char *err, size_t n);

/*  Stops serving (closes the feed's streams, joins the threads) and frees
    the server; the feed itself is the caller's.                            */
void cf_web_destroy(cf_web_t **self_p);

/*  Replaces the token set: the next request is checked against tokens (the
    server takes a reference); open event streams whose token tokens lacks
    end, the others go on with their token's new line. Thread-safe.        */
void cf_web_set_tokens(cf_web_t *self, cf_web_tokens_t *tokens);

/*  Serves forms (the server takes a reference; NULL: none) from the next
    request on; a request under way ends with the set it began with.
    Thread-safe.                                                             */
void cf_web_set_forms(cf_web_t *self, struct _cf_web_forms_t *forms);

/*  The port it listens on.                                                  */
int cf_web_port(const cf_web_t *self);

#endif
