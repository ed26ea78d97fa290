/*  cf_web_intake: POST /api/v1/events, HTTP intake for systems that cannot
    speak ZeroMQ (a form platform's webhook, a finance system's export).

    The body is a JSON array of event objects or JSON lines (one object a
    line; blank lines skipped), at most CF_WEB_INTAKE_MAX_EVENTS events and
    CF_WEB_INTAKE_MAX_BODY bytes. Each event becomes msgpack as
    caseflow-push makes it (cf_json) and goes to the broker through the
    producer library (cf_client), so an "accepted" still means committed in
    Redis. Each event is answered in order as the broker answered it:
    accepted, duplicate (its event_id was applied before: a webhook's retry
    is safe), rejected with the broker's reason, busy; unacked when the
    broker did not answer. A body that is not such JSON is refused whole
    (400, nothing sent). Only producer tokens may post, each at most
    CF_WEB_INTAKE_RATE events a second (a bucket of CF_WEB_INTAKE_BURST).
    POST /api/v1/forms/NAME takes a form's submissions instead (one object,
    an array or JSON lines), each made an event by the form's mapping
    (cf_form_map, cf_web_forms) and answered the same way; a submission the
    mapping refuses is answered rejected with its reason and not sent.
    docs/web.md describes it; docs/openapi.yaml is the contract.            */
#ifndef CF_WEB_INTAKE_H
#define CF_WEB_INTAKE_H

#include <stddef.h>

#include "caseflow/cf_client.h"
#include "cf_web_exchange.h"

#define CF_WEB_INTAKE_MAX_BODY      (16u << 20)     /* bytes of one request's body */
#define CF_WEB_INTAKE_MAX_EVENTS    CF_CLIENT_MAX_BATCH     /* events of one request: one PUSH */
#define CF_WEB_INTAKE_RATE          1000.0  /* events a second, per producer token */
#define CF_WEB_INTAKE_BURST         5000.0
#define CF_WEB_INTAKE_TOKENS        1024    /* producer tokens tracked at once */
#define CF_WEB_INTAKE_CONNECT_MS    2000    /* no broker answers: 503 after this */
#define CF_WEB_INTAKE_DEADLINE_MS   10000   /* no answer to an event for this long: unacked */
#define CF_WEB_INTAKE_RETRY_AFTER   1       /* seconds, with a 429 or 503 */

typedef struct _cf_web_intake_t cf_web_intake_t;
typedef struct _cf_curve_t cf_curve_t;
typedef struct _cf_form_map_t cf_form_map_t;

/*  Posts to the broker's intake endpoint (copied) as a producer, with
    curve's keys when not NULL (borrowed: it must outlive the object).     */
cf_web_intake_t *cf_web_intake_new(const char *endpoint, const cf_curve_t *curve);

void cf_web_intake_destroy(cf_web_intake_t **self_p);

/*  Adds the events of body (len bytes: a JSON array of objects, or JSON
    lines) to client, in order. 0, or the status of the refusal with its
    reason in err: 400 (not JSON, an element or line that is not an object,
    no events; the reason names the line or element) or 413 (more than
    CF_WEB_INTAKE_MAX_EVENTS). Pure but for client's memory.                */
unsigned cf_web_intake_load(cf_client_t *client, const char *body, size_t len, char *err,
                            size_t n);

/*  Answers POST /api/v1/events (req->body) into res: 403 for a token that
    is not a producer's, 413 for a body over the limits, 400 for a malformed
    one, 429 for a token over its rate; else each event's answer, 200 when
    every one is final (accepted, duplicate, rejected), 429 when one was
    busy, 503 when one was not answered (both with retry_after). Safe to
    call from several threads at once. self NULL: no intake endpoint (503). */
void cf_web_intake_answer(cf_web_intake_t *self, const cf_web_request_t *req,
                          cf_web_response_t *res);

/*  The same for POST /api/v1/forms/NAME: the body's submissions (one
    object, maybe over several lines, an array or JSON lines) through map
    (not NULL), each answered in order; one map refuses is rejected with
    map's reason ("PATH: problem") and its field, and not sent.            */
void cf_web_intake_answer_form(cf_web_intake_t *self, const cf_form_map_t *map,
                               const cf_web_request_t *req, cf_web_response_t *res);

#endif
