/*  cf_web_request: one request of caseflow-web; see cf_web.h. What a
    request means is cf_web_api's; this file turns libmicrohttpd's
    connection into a cf_web_request_t, checks the token and sends the
    response back. The server object it answers for is cf_web.c's.          */
#include "cf_web_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_ratelimit.h"
#include "cf_web_forms.h"
#include "cf_web_intake.h"
#include "cf_web_stream.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int64_t web_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  The client's address as text, and as bytes for the rate limit.          */
static size_t web_client(struct MHD_Connection *connection, char *text, size_t size,
                         unsigned char *key)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(text, size, "unknown");
    if (!info || !info->client_addr)
        return 0;
    const struct sockaddr *addr = info->client_addr;
    if (addr->sa_family == AF_INET) {
        const struct in_addr *a = &((const struct sockaddr_in *) addr)->sin_addr;
        inet_ntop(AF_INET, a, text, (socklen_t) size);
        memcpy(key, a, sizeof *a);
        return sizeof *a;
    }
    if (addr->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *) addr)->sin6_addr;
        inet_ntop(AF_INET6, a, text, (socklen_t) size);
        memcpy(key, a, sizeof *a);
        return sizeof *a;
    }
    return 0;
}

static enum MHD_Result web_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void) kind;
    cf_web_request_t *req = cls;
    if (req->nparams < CF_WEB_PARAMS_MAX)
        req->params[req->nparams] = (cf_web_param_t) { key, value };
    req->nparams++;
    return MHD_YES;
}

/*  The token of "Authorization: Bearer TOKEN", or NULL.                    */
static const char *web_bearer(struct MHD_Connection *connection)
{
    const char *value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION);
    if (!value || strncasecmp(value, "Bearer ", 7))
        return NULL;
    value += 7;
    while (*value == ' ')
        value++;
    return *value ? value : NULL;
}

/*  Checks the request's token against the current set, a reference to
    which it leaves in *tokens for the caller to destroy (the token points
    into it); NULL with the refusal (401 or 429) in res.                    */
static const cf_web_token_t *web_authenticate(cf_web_t *self, struct MHD_Connection *connection,
                                              cf_web_tokens_t **tokens, cf_web_response_t *res)
{
    char client[INET6_ADDRSTRLEN + 1];
    unsigned char key[16];
    size_t key_len = web_client(connection, client, sizeof client, key);
    const char *bearer = web_bearer(connection);
    /* a client over its rate of failures is not even checked: guessing
       tokens goes no faster than the rate */
    pthread_mutex_lock(&self->lock);
    bool over = cf_ratelimit_check(self->limit, key, key_len, 1, web_now_ms()) != CF_RATELIMIT_OK;
    *tokens = cf_web_tokens_hold(self->tokens);
    pthread_mutex_unlock(&self->lock);
    const cf_web_token_t *token = NULL;
    if (!over && bearer && (token = cf_web_tokens_find(*tokens, bearer)))
        return token;
    if (!over) {            /* a failure: charged */
        pthread_mutex_lock(&self->lock);
        cf_ratelimit_take(self->limit, key, key_len, 1, web_now_ms());
        pthread_mutex_unlock(&self->lock);
    }
    if (over) {
        cf_metric_add(self->limited, 1);
        cf_web_response_error(res, 429, "too many failed sign-ins from this address; try again "
                              "later");
        return NULL;
    }
    cf_metric_add(self->refused, 1);
    CF_LOG(CF_LOG_WARN, "sign-in refused", "client=%s reason=%s", client,
           bearer ? "unknown-token" : "no-token");
    cf_web_response_error(res, 401, bearer ? "this token is not known (sign in again)"
                                      : "no token: send Authorization: Bearer TOKEN");
    return NULL;
}

/*  Queues response with status and type, and the headers every answer has. */
static enum MHD_Result web_queue(cf_web_t *self, struct MHD_Connection *connection,
                                 struct MHD_Response *response, unsigned status, const char *type,
                                 unsigned retry_after)
{
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    if (status == 401)
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"caseflow\"");
    if (retry_after) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%u", retry_after);
        MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    enum MHD_Result rc = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    if (status >= 100 && status < 600)
        cf_metric_add(self->answered[status / 100], 1);
    return rc;
}

static enum MHD_Result web_send(cf_web_t *self, struct MHD_Connection *connection,
                                cf_web_response_t *res)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(res->len, res->body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free(res->body);
        return MHD_NO;
    }
    return web_queue(self, connection, response, res->status, res->type, res->retry_after);
}

static enum MHD_Result web_param_count(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void) kind, (void) key, (void) value;
    (*(size_t *) cls)++;
    return MHD_YES;
}

/*  GET /api/v1/notifications for token: the stream, or a refusal in res.  */
static enum MHD_Result web_notifications(cf_web_t *self, struct MHD_Connection *connection,
                                         const char *method, cf_web_tokens_t *tokens,
                                         const cf_web_token_t *token, cf_web_response_t *res)
{
    size_t params = 0;
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, web_param_count, &params);
    if (strcmp(method, "GET"))
        cf_web_response_error(res, 405, "method %.16s: the API takes GET", method);
    else if (!cf_web_token_reads(token))
        cf_web_response_error(res, 403, "a producer token may only post events (POST "
                              "/api/v1/events)");
    else if (params)
        cf_web_response_error(res, 400, "/api/v1/notifications takes no parameter (resume with the "
                              "Last-Event-ID header)");
    else if (!self->config.feed)
        cf_web_response_error(res, 503, "no live feed: caseflow-web was started without subscribe "
                              "(the broker's notification endpoint)");
    else {
        const char *last = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                       "Last-Event-ID");
        struct MHD_Response *stream = cf_web_stream_response(self->config.feed, tokens, token,
                                                              last);
        if (!stream)
            return MHD_NO;
        MHD_add_response_header(stream, "X-Accel-Buffering", "no");
        return web_queue(self, connection, stream, 200, "text/event-stream", 0);
    }
    return web_send(self, connection, res);
}

#define WEB_CSP "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
                "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " \
                "frame-ancestors 'none'"

/*  One of the dashboard's files, or NULL when path is not one.             */
static struct MHD_Response *web_asset(cf_web_t *self, const char *path)
{
    size_t len;
    const char *type;
    const char *body = self->config.assets
                     ? cf_web_assets_find(self->config.assets, path, &len, &type) : NULL;
    struct MHD_Response *response =
        body ? MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_PERSISTENT) : NULL;
    if (response) {
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(response, "Content-Security-Policy", WEB_CSP);
        MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
    }
    return response;
}

/*  A request's state between libmicrohttpd's calls: the body of a POST to
    /api/v1/events or /api/v1/forms/NAME, whose token is checked before any
    of it is kept.                                                          */
typedef struct {
    bool intake;                /* POST /api/v1/events or /api/v1/forms/NAME */
    const cf_web_token_t *token;    /* intake: checked at the headers; NULL: refused */
    cf_web_tokens_t *tokens;    /* intake: the set token points into, held until the end */
    cf_web_response_t refusal;  /* intake: why, when token is NULL */
    char *body;
    size_t len, size;
    bool too_large;
} web_request_t;

/*  Frees a request's state when libmicrohttpd is done with it.             */
void cf_web_completed(void *cls, struct MHD_Connection *connection, void **state,
                      enum MHD_RequestTerminationCode code)
{
    (void) cls, (void) connection, (void) code;
    web_request_t *r = *state;
    if (r) {
        cf_web_tokens_destroy(&r->tokens);
        free(r->body);
        free(r->refusal.body);
        free(r);
    }
    *state = NULL;
}

/*  Keeps size bytes of an intake body, up to CF_WEB_INTAKE_MAX_BODY; the
    rest, and any other request's body (the API takes none), is dropped.    */
static void web_upload(web_request_t *r, const char *data, size_t size)
{
    if (!r->intake || !r->token || r->too_large)
        return;
    if (size > CF_WEB_INTAKE_MAX_BODY - r->len) {
        r->too_large = true;
        free(r->body);
        r->body = NULL;
        r->len = 0;
        return;
    }
    r->body = cf_grow(r->body, &r->size, r->len + size + 1, 1);
    memcpy(r->body + r->len, data, size);
    r->len += size;
    r->body[r->len] = 0;
}

enum MHD_Result cf_web_answer(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_data_size, void **state)
{
    (void) version;
    cf_web_t *self = cls;
    web_request_t *r = *state;
    if (!r) {                   /* the headers: wait for the body */
        *state = r = cf_calloc(1, sizeof *r);
        r->intake = !strcmp(method, "POST") && (!strcmp(url, "/api/v1/events")
                                                || !strncmp(url, "/api/v1/forms/", 14));
        if (r->intake)
            r->token = web_authenticate(self, connection, &r->tokens, &r->refusal);
        return MHD_YES;
    }
    cf_web_response_t res = { 0 };
    if (*upload_data_size) {
        web_upload(r, upload_data, *upload_data_size);
        *upload_data_size = 0;  /* answer at the end */
        return MHD_YES;
    }
    if (r->intake && !r->token) {
        res = r->refusal;
        r->refusal.body = NULL;
        return web_send(self, connection, &res);
    }
    bool read = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    struct MHD_Response *asset = read && strncmp(url, "/api/", 5) ? web_asset(self, url) : NULL;
    if (asset) {
        MHD_add_response_header(asset, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        enum MHD_Result rc = MHD_queue_response(connection, 200, asset);
        MHD_destroy_response(asset);
        cf_metric_add(self->answered[2], 1);
        return rc;
    }
    cf_web_tokens_t *tokens = NULL;
    const cf_web_token_t *token = r->intake ? r->token
                                : web_authenticate(self, connection, &tokens, &res);
    enum MHD_Result rc;
    if (token && !strcmp(url, "/api/v1/notifications")) {
        rc = web_notifications(self, connection, method, tokens, token, &res);
        cf_web_tokens_destroy(&tokens);     /* a stream holds its own */
        return rc;
    }
    if (token) {
        const char *accept = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_ACCEPT);
        cf_web_request_t req = { .method = method, .path = url, .token = token,
                                 .csv = accept && strstr(accept, "text/csv"),
                                 .body = r->body, .body_len = r->len,
                                 .body_too_large = r->too_large };
        MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, web_param, &req);
        cf_web_source_t source = self->config.source;
        pthread_mutex_lock(&self->lock);
        source.forms = cf_web_forms_hold(self->forms);
        pthread_mutex_unlock(&self->lock);
        cf_web_api_answer(&source, &req, &res);
        cf_web_forms_destroy(&source.forms);
    }
    cf_web_tokens_destroy(&tokens);
    return web_send(self, connection, &res);
}
