/*  cf_web_intake: POST /api/v1/events and /api/v1/forms/NAME; see
    cf_web_intake.h. A request is one
    cf_client run of its own (its own socket and handshake), so requests in
    different connection threads share nothing but the rate limit.          */
#include "cf_web_intake.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_form_map.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_ratelimit.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
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

/*  A body being read: its items (events, or a form's submissions) go to
    client in order; with map, each submission is mapped first and one the
    mapping refuses is kept as a slot of its own, answered rejected.        */
typedef struct {
    size_t client;              /* the event's index in client, or SIZE_MAX: refused */
    char *reason;               /* refused: why (the mapping's "PATH: problem") */
} intake_slot_t;

typedef struct {
    cf_client_t *client;
    cf_json_t *json;
    const cf_form_map_t *map;   /* NULL: the items are events */
    intake_slot_t *slots;       /* map: one per submission */
    size_t items, size;
} intake_body_t;

/*  One event's JSON text to the client. 0, or 400 with err prefixed by
    where (the line or element).                                            */
static unsigned intake_add(intake_body_t *b, const char *text, size_t len, const char *where,
                           size_t at, char *err, size_t n)
{
    size_t size;
    if (cf_json_to_msgpack(b->json, text, len, CF_JSON_OBJECT) < 0) {
        snprintf(err, n, "%s %zu: %s", where, at, cf_json_error(b->json));
        return 400;
    }
    const void *data = cf_json_msgpack(b->json, &size);
    if (cf_client_add(b->client, data, size, cf_json_member(b->json, "event_id")) < 0) {
        snprintf(err, n, "%s %zu: %s", where, at, cf_client_error(b->client));
        return 400;
    }
    return 0;
}

/*  One item of the body: an event, or a submission through the map. 0, or
    the status of a refusal of the whole body with its reason in err.       */
static unsigned intake_item(intake_body_t *b, const char *text, size_t len, const char *where,
                            size_t at, char *err, size_t n)
{
    if (b->items == CF_WEB_INTAKE_MAX_EVENTS) {
        snprintf(err, n, "more than %d %s in one request: send them in several",
                 CF_WEB_INTAKE_MAX_EVENTS, b->map ? "submissions" : "events");
        return 413;
    }
    b->items++;
    if (!b->map)
        return intake_add(b, text, len, where, at, err, n);
    char *event = NULL, why[512];
    int mapped = cf_form_map_apply(b->map, text, len, &event, why, sizeof why);
    unsigned status = mapped == 0 ? intake_add(b, event, strlen(event), where, at, err, n) : 0;
    free(event);
    b->slots = cf_grow(b->slots, &b->size, b->items, sizeof *b->slots);
    b->slots[b->items - 1] = mapped == 0 ? (intake_slot_t) { cf_client_size(b->client) - 1, NULL }
                                         : (intake_slot_t) { SIZE_MAX, cf_strdup(why) };
    return status;
}

/*  A JSON array: each element, as compact text, through intake_item.      */
static unsigned intake_array(intake_body_t *b, const char *body, size_t len, char *err, size_t n)
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
        snprintf(err, n, "no %s: the array is empty", b->map ? "submissions" : "events");
    for (size_t i = 0; !status && i < json_array_size(array); i++) {
        json_t *event = json_array_get(array, i);
        if (!json_is_object(event)) {
            snprintf(err, n, "element %zu: not a JSON object (%s is one)", i,
                     b->map ? "a submission" : "an event");
            status = 400;
            break;
        }
        char *text = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!text)
            abort();                /* jansson fails here on memory only */
        status = intake_item(b, text, strlen(text), "element", i, err, n);
        free(text);
    }
    json_decref(array);
    return status;
}

/*  JSON lines: each line that is not blank through intake_item.            */
static unsigned intake_lines(intake_body_t *b, const char *body, size_t len, char *err, size_t n)
{
    size_t line = 0;
    for (const char *at = body, *end = body + len; at < end;) {
        const char *nl = memchr(at, '\n', (size_t) (end - at));
        size_t size = nl ? (size_t) (nl - at) : (size_t) (end - at);
        line++;
        size_t blank = 0;
        while (blank < size && (at[blank] == ' ' || at[blank] == '\t' || at[blank] == '\r'))
            blank++;
        unsigned status = blank == size ? 0 : intake_item(b, at, size, "line", line, err, n);
        if (status)
            return status;
        at += size + 1;
    }
    if (b->items == 0) {
        snprintf(err, n, "no %s: the body is empty", b->map ? "submissions" : "events");
        return 400;
    }
    return 0;
}

/*  Reads body into b: an array, JSON lines, or (a form's webhook posts one
    submission, maybe over several lines) one object. 0 or a refusal.      */
static unsigned intake_body(intake_body_t *b, const char *body, size_t len, char *err, size_t n)
{
    size_t skip = 0;
    while (skip < len && (body[skip] == ' ' || body[skip] == '\t' || body[skip] == '\r'
                          || body[skip] == '\n'))
        skip++;
    if (skip < len && body[skip] == '[')
        return intake_array(b, body + skip, len - skip, err, n);
    json_t *one = b->map && skip < len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)
                                       : NULL;
    unsigned status;
    if (json_is_object(one)) {
        char *text = json_dumps(one, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
            abort();                /* jansson fails here on memory only */
        status = intake_item(b, text, strlen(text), "line", 1, err, n);
        free(text);
    } else
        status = intake_lines(b, body ? body : "", len, err, n);
    json_decref(one);
    return status;
}

unsigned cf_web_intake_load(cf_client_t *client, const char *body, size_t len, char *err,
                            size_t n)
{
    assert(client && (body || len == 0));
    intake_body_t b = { .client = client, .json = cf_json_new() };
    unsigned status = intake_body(&b, body, len, err, n);
    cf_json_destroy(&b.json);
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

/*  The answer of client's event i into counts and results.                 */
static void intake_row(cf_client_t *client, size_t i, size_t *counts, json_t *results)
{
    const char *reason, *id = cf_client_event_id(client, i);
    cf_client_status_t status = cf_client_status(client, i, &reason);
    counts[status]++;
    json_t *row = json_pack("{ss}", "status", cf_client_status_name(status));
    json_object_set_new(row, "event_id", id ? json_string(id) : json_null());
    if (status == CF_CLIENT_REJECTED && reason && strchr(reason, ':'))
        /* the broker's reason is "<field path>: <problem>" (docs/protocol.md),
           as the mapping's is "<submission's field>: <problem>" */
        json_object_set_new(row, "field", json_stringn(reason, strcspn(reason, ":")));
    if (reason)
        json_object_set_new(row, "reason", json_string(reason));
    json_array_append_new(results, row);
}

/*  The answer of each item of a read and run body, and the status they
    imply: a refused submission is rejected with the mapping's reason.      */
static void intake_render(const intake_body_t *b, cf_web_response_t *res)
{
    size_t counts[CF_CLIENT_BUSY + 1] = { 0 };
    json_t *results = json_array();
    for (size_t i = 0; i < b->items; i++) {
        if (!b->map)
            intake_row(b->client, i, counts, results);
        else if (b->slots[i].reason) {
            counts[CF_CLIENT_REJECTED]++;
            const char *reason = b->slots[i].reason;
            json_array_append_new(results, json_pack("{sssnss#ss}", "status", "rejected",
                                                     "event_id", "field", reason,
                                                     (int) strcspn(reason, ":"), "reason",
                                                     reason));
        } else
            intake_row(b->client, b->slots[i].client, counts, results);
    }
    json_t *body = json_pack("{sIsIsIsIsIsIso}", "events", (json_int_t) b->items,
                             "accepted", (json_int_t) counts[CF_CLIENT_ACCEPTED],
                             "duplicate", (json_int_t) counts[CF_CLIENT_DUPLICATE],
                             "rejected", (json_int_t) counts[CF_CLIENT_REJECTED],
                             "busy", (json_int_t) counts[CF_CLIENT_BUSY],
                             "unacked", (json_int_t) counts[CF_CLIENT_UNACKED],
                             "results", results);
    unsigned status = counts[CF_CLIENT_UNACKED] ? 503 : counts[CF_CLIENT_BUSY] ? 429 : 200;
    cf_web_response_json(res, status, body);
    if (status != 200)
        res->retry_after = CF_WEB_INTAKE_RETRY_AFTER;
}

/*  POST /api/v1/events, or a form's (map not NULL): checks, reads, sends,
    answers.                                                                 */
static void intake_answer(cf_web_intake_t *self, const cf_form_map_t *map,
                          const cf_web_request_t *req, cf_web_response_t *res)
{
    assert(req && req->token && res);
    char err[512];
    if (cf_web_token_role(req->token) != CF_WEB_PRODUCER) {
        cf_web_response_error(res, 403, "posting events needs a token of the producer role");
        return;
    }
    if (req->body_too_large) {
        cf_web_response_error(res, 413, "the body is over %u bytes: send the events in several "
                              "requests", CF_WEB_INTAKE_MAX_BODY);
        return;
    }
    if (!self) {
        cf_web_response_error(res, 503, "no intake: caseflow-web was started without intake (the "
                              "broker's intake endpoint), or under CURVE without producer-key");
        return;
    }
    intake_body_t b = { .client = cf_client_new(self->endpoint), .json = cf_json_new(),
                        .map = map };
    unsigned status = intake_body(&b, req->body ? req->body : "", req->body_len, err,
                                  sizeof err);
    if (status)
        cf_web_response_error(res, status, "%s", err);
    else if (!intake_allowed(self, req->token, b.items)) {
        cf_web_response_error(res, 429, "this token posts more than %g events a second (a burst of "
                              "%g): try again later", CF_WEB_INTAKE_RATE, CF_WEB_INTAKE_BURST);
        res->retry_after = CF_WEB_INTAKE_RETRY_AFTER;
    } else {
        cf_client_set_batch(b.client, CF_WEB_INTAKE_MAX_EVENTS);
        cf_client_set_busy_final(b.client, 1);
        cf_client_set_connect_timeout(b.client, CF_WEB_INTAKE_CONNECT_MS);
        cf_client_set_deadline(b.client, CF_WEB_INTAKE_DEADLINE_MS);
        if (self->curve)
            cf_client_set_curve(b.client, self->curve);
        if (cf_client_size(b.client))       /* every submission refused: nothing to send */
            cf_client_run(b.client, NULL, NULL);    /* a failure leaves its events unacked */
        intake_render(&b, res);
    }
    for (size_t i = 0; b.map && i < b.items; i++)
        free(b.slots[i].reason);
    free(b.slots);
    cf_json_destroy(&b.json);
    cf_client_destroy(&b.client);
}

void cf_web_intake_answer(cf_web_intake_t *self, const cf_web_request_t *req,
                          cf_web_response_t *res)
{
    intake_answer(self, NULL, req, res);
}

void cf_web_intake_answer_form(cf_web_intake_t *self, const cf_form_map_t *map,
                               const cf_web_request_t *req, cf_web_response_t *res)
{
    assert(map);
    intake_answer(self, map, req, res);
}
