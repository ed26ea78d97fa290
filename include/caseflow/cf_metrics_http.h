/*  cf_metrics_http: serves a cf_metrics registry over HTTP for Prometheus.

    A libmicrohttpd server with its own thread: GET /metrics answers the
    registry's text (Content-Type text/plain; version=0.0.4); any other path
    or method answers 404. The listening socket is bound here, before the
    server starts, so that a bad address or a port in use is reported as
    such. At most CF_METRICS_HTTP_CONNECTIONS connections are served at once
    (a scraper needs one); beyond them a connection waits in the kernel's
    backlog, or is closed, until one ends, and an idle one ends after 10 s. */
#ifndef CF_METRICS_HTTP_H
#define CF_METRICS_HTTP_H

#include <stddef.h>
#include "caseflow/cf_metrics.h"

#define CF_METRICS_HTTP_CONNECTIONS 16

typedef struct _cf_metrics_http_t cf_metrics_http_t;

/*  Listens on host:port (port 0: one the kernel picks) and serves metrics,
    which must outlive the server. NULL with the reason in err.              */
cf_metrics_http_t *cf_metrics_http_new(cf_metrics_t *metrics, const char *host, int port,
                                       char *err, size_t err_size);

/*  Stops the server (its thread is joined) and frees it.                    */
void cf_metrics_http_destroy(cf_metrics_http_t **self_p);

/*  The port it listens on.                                                  */
int cf_metrics_http_port(const cf_metrics_http_t *self);

/*  For a daemon's main: port 0 sets *metrics and *http to NULL (no metrics);
    else a new registry in *metrics, served on host:port by *http. 0, or -1
    with the reason in err (then both are NULL).                            */
int cf_metrics_http_serve(const char *host, int port, cf_metrics_t **metrics,
                          cf_metrics_http_t **http, char *err, size_t err_size);

/*  Stops *http and destroys *metrics (either may be NULL); nulls both.      */
void cf_metrics_http_stop(cf_metrics_http_t **http, cf_metrics_t **metrics);

#endif
