/*  cf_metrics_http: the metrics endpoint on libmicrohttpd; see
    cf_metrics_http.h. The server runs in libmicrohttpd's own thread and only
    reads the registry (cf_metrics_render takes its lock).                   */
#include "caseflow/cf_metrics_http.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_listen.h"

#include <assert.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct _cf_metrics_http_t {
    struct MHD_Daemon *daemon;
    cf_metrics_t *metrics;
    int port;
};

static enum MHD_Result http_answer(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **state)
{
    (void) version, (void) upload_data, (void) upload_data_size, (void) state;
    cf_metrics_http_t *self = cls;
    struct MHD_Response *response;
    unsigned status;
    if (!strcmp(method, MHD_HTTP_METHOD_GET) && !strcmp(url, "/metrics")) {
        size_t len;
        char *text = cf_metrics_render(self->metrics, &len);
        response = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_CONTENT_TYPE);
        status = MHD_HTTP_OK;
    } else {
        static char s_not_found[] = "not found: the metrics are at /metrics\n";
        response = MHD_create_response_from_buffer(strlen(s_not_found), s_not_found,
                                                   MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
        status = MHD_HTTP_NOT_FOUND;
    }
    if (!response)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return rc;
}

cf_metrics_http_t *cf_metrics_http_new(cf_metrics_t *metrics, const char *host, int port,
                                       char *err, size_t err_size)
{
    assert(metrics && host);
    int fd = cf_listen_tcp("metrics", host, port, false, err, err_size);
    if (fd < 0)
        return NULL;
    cf_metrics_http_t *self = cf_calloc(1, sizeof *self);
    self->metrics = metrics;
    self->port = cf_listen_port(fd);
    /* its thread starts with every signal blocked, so that SIGTERM and
       SIGHUP reach the daemon's own thread and wake its poll */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    self->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                    http_answer, self, MHD_OPTION_LISTEN_SOCKET, fd,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10,
                                    MHD_OPTION_CONNECTION_LIMIT,
                                    (unsigned) CF_METRICS_HTTP_CONNECTIONS, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!self->daemon) {
        snprintf(err, err_size, "cannot start the metrics server on %s:%d", host, port);
        close(fd);
        free(self);
        return NULL;
    }
    return self;
}

void cf_metrics_http_destroy(cf_metrics_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_metrics_http_t *self = *self_p;
    MHD_stop_daemon(self->daemon);      /* joins its thread, closes the socket */
    free(self);
    *self_p = NULL;
}

int cf_metrics_http_port(const cf_metrics_http_t *self)
{
    assert(self);
    return self->port;
}

int cf_metrics_http_serve(const char *host, int port, cf_metrics_t **metrics,
                          cf_metrics_http_t **http, char *err, size_t err_size)
{
    assert(metrics && http);
    *metrics = NULL;
    *http = NULL;
    if (port == 0)
        return 0;
    *metrics = cf_metrics_new();
    *http = cf_metrics_http_new(*metrics, host, port, err, err_size);
    if (!*http)
        cf_metrics_destroy(metrics);
    return *http ? 0 : -1;
}

void cf_metrics_http_stop(cf_metrics_http_t **http, cf_metrics_t **metrics)
{
    cf_metrics_http_destroy(http);      /* first: its thread reads the registry */
    cf_metrics_destroy(metrics);
}
