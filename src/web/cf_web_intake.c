/*  cf_web_intake: POST /api/v1/events; see cf_web_intake.h. A request is one
    cf_client run of its own (its own socket and handshake), so requests in
    different connection threads share nothing but the rate limit.          */
#include "cf_web_intake.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_ratelimit.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _cf_web_intake_t {
    char *endpoint;
    const cf_curve_t *curve;
    pthread_mutex_t lock;       /* guards limit: one thread per connection */
    cf_ratelimit_t *limit;      /* events, by producer token */
};

cf_web_intake_t *cf_web_intake_new(const char *endpoint, const cf_curve_t *curve)
{
    assert(endpoint);
    cf_web_intake_t *self = cf_calloc(1, sizeof *self);
    self->endpoint = cf_strdup(endpoint);
    self->curve = curve;
    pthread_mutex_init(&self->lock, NULL);
    self->limit = cf_ratelimit_new(CF_WEB_INTAKE_RATE, CF_WEB_INTAKE_BURST, CF_WEB_INTAKE_TOKENS);
    return self;
}

void cf_web_intake_destroy(cf_web_intake_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_web_intake_t *self = *self_p;
    cf_ratelimit_destroy(&self->limit);
    pthread_mutex_destroy(&self->lock);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/*  One event's JSON text to client through json. 0, or 400 with err
    prefixed by where (the line or element).                                */
static unsigned intake_add(cf_client_t *client, cf_json_t *json, const char *text, size_t len,
                           const char *where, size_t at, char *err, size_t n)
{
    if (cf_client_size(client) == CF_WEB_INTAKE_MAX_EVENTS) {
        snprintf(err, n, "more than %d events in one request: send them in several",
                 CF_WEB_INTAKE_MAX_EVENTS);
        return 413;
    }
    size_t size;
    if (cf_json_to_msgpack(json, text, len, CF_JSON_OBJECT) < 0) {
        snprintf(err, n, "%s %zu: %s", where, at, cf_json_error(json));
        return 400;
    }
    const void *data = cf_json_msgpack(json, &size);
    if (cf_client_add(client, data, size, cf_json_member(json, "event_id")) < 0) {
        snprintf(err, n, "%s %zu: %s", where, at, cf_client_error(client));
        return 400;
    }
    return 0;
}

/*  A JSON array: each element, as compact text, through intake_add.       */
static unsigned intake_array(cf_client_t *client, cf_json_t *json, const char *body, size_t len,
                             char *err, size_t n)
{
    json_error_t error;
    json_t *array = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
    if (!array || !json_is_array(array)) {
        if (array)
            snprintf(err, n, "the body is neither a JSON array nor JSON lines");
        else
            snprintf(err, n, "the body is not a JSON array: %s at line %d, column %d",
                     error.text, error.line, error.column);
        json_decref(array);
        return 400;
    }
    unsigned status = json_array_size(array) ? 0 : 400;
    if (status)
        snprintf(err, n, "no events: the array is empty");
    for (size_t i = 0; !status && i < json_array_size(array); i++) {
        json_t *event = json_array_get(array, i);
        if (!json_is_object(event)) {
            snprintf(err, n, "element %zu: not a JSON object (an event is one)", i);
            status = 400;
            break;
        }
        char *text = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!text)
            abort();                /* jansson fails here on memory only */
        status = intake_add(client, json, text, strlen(text), "element", i, err, n);
        free(text);
    }
    json_decref(array);
    return status;
}

/*  JSON lines: each line that is not blank through intake_add.             */
static unsigned intake_lines(cf_client_t *client, cf_json_t *json, const char *body, size_t len,
                             char *err, size_t n)
{
    size_t line = 0;
    for (const char *at = body, *end = body + len; at < end;) {
        const char *nl = memchr(at, '\n', (size_t) (end - at));
        size_t size = nl ? (size_t) (nl - at) : (size_t) (end - at);
        line++;
        size_t blank = 0;
        while (blank < size && (at[blank] == ' ' || at[blank] == '\t' || at[blank] == '\r'))
            blank++;
        unsigned status = blank == size ? 0
                        : intake_add(client, json, at, size, "line", line, err, n);
        if (status)
            return status;
        at += size + 1;
    }
    if (cf_client_size(client) == 0) {
        snprintf(err, n, "no events: the body is empty");
        return 400;
    }
    return 0;
}

unsigned cf_web_intake_load(cf_client_t *client, const char *body, size_t len, char *err,
                            size_t n)
{
    assert(client && (body || len == 0));
    size_t skip = 0;
    while (skip < len && (body[skip] == ' ' || body[skip] == '\t' || body[skip] == '\r'
                          || body[skip] == '\n'))
        skip++;
    cf_json_t *json = cf_json_new();
    unsigned status = skip < len && body[skip] == '['
                    ? intake_array(client, json, body + skip, len - skip, err, n)
                    : intake_lines(client, json, body ? body : "", len, err, n);
    cf_json_destroy(&json);
    return status;
}

/*  Whether token may post events more now; charges them when it may.      */
static bool intake_allowed(cf_web_intake_t *self, const cf_web_token_t *token, size_t events)
{
    /* a token lives as long as the server: its address names it */
    pthread_mutex_lock(&self->lock);
    bool ok = cf_ratelimit_take(self->limit, &token, sizeof token, events, cf_clock_ms())
              == CF_RATELIMIT_OK;
    pthread_mutex_unlock(&self->lock);
    return ok;
}

/*  The answer of each event of a run client, and the status they imply.    */
static void intake_render(cf_client_t *client, cf_web_response_t *res)
{
    size_t counts[CF_CLIENT_BUSY + 1] = { 0 };
    json_t *results = json_array();
    for (size_t i = 0; i < cf_client_size(client); i++) {
        const char *reason, *id = cf_client_event_id(client, i);
        cf_client_status_t status = cf_client_status(client, i, &reason);
        counts[status]++;
        json_t *row = json_pack("{ss}", "status", cf_client_status_name(status));
        json_object_set_new(row, "event_id", id ? json_string(id) : json_null());
        if (status == CF_CLIENT_REJECTED && reason && strchr(reason, ':'))
            /* the broker's reason is "<field path>: <problem>" (docs/protocol.md) */
            json_object_set_new(row, "field", json_stringn(reason, strcspn(reason, ":")));
        if (reason)
            json_object_set_new(row, "reason", json_string(reason));
        json_array_append_new(results, row);
    }
    json_t *body = json_pack("{sIsIsIsIsIsIso}", "events", (json_int_t) cf_client_size(client),
                             "accepted", (json_int_t) counts[CF_CLIENT_ACCEPTED],
                             "duplicate", (json_int_t) counts[CF_CLIENT_DUPLICATE],
                             "rejected", (json_int_t) counts[CF_CLIENT_REJECTED],
                             "busy", (json_int_t) counts[CF_CLIENT_BUSY],
                             "unacked", (json_int_t) counts[CF_CLIENT_UNACKED],
                             "results", results);
    unsigned status = counts[CF_CLIENT_UNACKED] ? 503 : counts[CF_CLIENT_BUSY] ? 429 : 200;
    cf_web_api_json(res, status, body);
    if (status != 200)
        res->retry_after = CF_WEB_INTAKE_RETRY_AFTER;
}

void cf_web_intake_answer(cf_web_intake_t *self, const cf_web_request_t *req,
                          cf_web_response_t *res)
{
    assert(req && req->token && res);
    char err[512];
    if (cf_web_token_role(req->token) != CF_WEB_PRODUCER) {
        cf_web_api_error(res, 403, "posting events needs a token of the producer role");
        return;
    }
    if (req->body_too_large) {
        cf_web_api_error(res, 413, "the body is over %u bytes: send the events in several "
                         "requests", CF_WEB_INTAKE_MAX_BODY);
        return;
    }
    if (!self) {
        cf_web_api_error(res, 503, "no intake: caseflow-web was started without intake (the "
                         "broker's intake endpoint), or under CURVE without producer-key");
        return;
    }
    cf_client_t *client = cf_client_new(self->endpoint);
    unsigned status = cf_web_intake_load(client, req->body, req->body_len, err, sizeof err);
    if (status)
        cf_web_api_error(res, status, "%s", err);
    else if (!intake_allowed(self, req->token, cf_client_size(client))) {
        cf_web_api_error(res, 429, "this token posts more than %g events a second (a burst of "
                         "%g): try again later", CF_WEB_INTAKE_RATE, CF_WEB_INTAKE_BURST);
        res->retry_after = CF_WEB_INTAKE_RETRY_AFTER;
    } else {
        cf_client_set_batch(client, CF_WEB_INTAKE_MAX_EVENTS);
        cf_client_set_busy_final(client, 1);
        cf_client_set_connect_timeout(client, CF_WEB_INTAKE_CONNECT_MS);
        cf_client_set_deadline(client, CF_WEB_INTAKE_DEADLINE_MS);
        if (self->curve)
            cf_client_set_curve(client, self->curve);
        cf_client_run(client, NULL, NULL);      /* a failure leaves its events unacked */
        intake_render(client, res);
    }
    cf_client_destroy(&client);
}
