/*  Tests of cf_web_api without sockets or Redis: a fake source gives stage
    and returns counters; a report answers cf_report's rendering (JSON or
    CSV), narrowed to a scoped token's programme; the refusals (unknown
    report, bad or unknown parameter, exact for a viewer, a programme the
    token does not see, a report not by programme for a scoped token, a
    source that fails) carry a status and a JSON reason. Dead letters: only
    an operator token without programmes lists and replays them; a replay
    takes POST and an entry id, never a range. Events: only a producer token
    posts them, and it reads nothing. Forms (deploy/forms): an unknown one
    is a 404 naming those there are; a submission the mapping refuses is
    answered rejected, with the field, and nothing is sent.                  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_store.h"
#include "cf_web_api.h"
#include "cf_web_forms.h"
#include "cf_web_intake.h"

typedef struct {
    int fail;
    char family[32];
    const char *method;         /* NULL: GET */
    char replayed[64];          /* the id a replay was asked for */
    int broker;                 /* 0: no control endpoint, 1: it answers, 2: silent */
    bool too_large;             /* a POST body over the limit */
    const char *body;           /* a POST's body */
    cf_web_intake_t *intake;    /* NULL: no intake */
} fake_t;

static cf_web_forms_t *s_forms;     /* deploy/forms */

static int fake_read(void *ctx, const char *family, cf_counts_t **counts, char *err, size_t n)
{
    fake_t *f = ctx;
    snprintf(f->family, sizeof f->family, "%s", family);
    if (f->fail) {
        snprintf(err, n, "redis down");
        return -1;
    }
    *counts = cf_counts_new();
    const char *names[] = { "CH-AVR|registered|now|cases", "UK-VARRP|registered|now|cases" };
    cf_counts_add(*counts, names[0], strlen(names[0]), 30);
    cf_counts_add(*counts, names[1], strlen(names[1]), 4);
    return 0;
}

static int fake_clock(void *ctx, int64_t *ms, char *err, size_t n)
{
    (void) ctx, (void) err, (void) n;
    *ms = -1;
    return 0;
}

/*  One dead letter, 1-0; a replay of it is accepted.                       */
static cf_table_t *fake_dlq(const char *id, const char *outcome)
{
    cf_table_t *table = cf_table_new();
    cf_table_add_column(table, "id", CF_TABLE_TEXT);
    cf_table_add_column(table, "outcome", CF_TABLE_TEXT);
    size_t row = cf_table_add_row(table);
    cf_table_set_text(table, row, 0, id);
    cf_table_set_text(table, row, 1, outcome);
    return table;
}

static cf_table_t *fake_dlq_list(void *ctx, char *err, size_t n)
{
    fake_t *f = ctx;
    if (f->fail)
        snprintf(err, n, "redis down");
    return f->fail ? NULL : fake_dlq("1-0", "");
}

static cf_table_t *fake_dlq_replay(void *ctx, const char *id, bool *missing, char *err, size_t n)
{
    fake_t *f = ctx;
    snprintf(f->replayed, sizeof f->replayed, "%s", id);
    *missing = strcmp(id, "1-0") != 0;
    if (*missing)
        snprintf(err, n, "no dead letter with id '%s'", id);
    return *missing ? NULL : fake_dlq(id, "accepted");
}

/*  The broker's status, or no answer when ctx is not NULL.                 */
static char *fake_broker(void *ctx, char *err, size_t n)
{
    if (ctx) {
        snprintf(err, n, "no answer from the broker");
        return NULL;
    }
    return strdup("{\"queue_events\":3,\"workers\":[]}");
}

static cf_web_tokens_t *s_tokens;

static int setup(void **state)
{
    (void) state;
    char text[1024], a[CF_WEB_TOKEN_HASH_HEX], b[CF_WEB_TOKEN_HASH_HEX], err[128];
    char c[CF_WEB_TOKEN_HASH_HEX], d[CF_WEB_TOKEN_HASH_HEX], e[CF_WEB_TOKEN_HASH_HEX];
    char f[CF_WEB_TOKEN_HASH_HEX];
    cf_web_tokens_hash("viewer", a);
    cf_web_tokens_hash("scoped", b);
    cf_web_tokens_hash("operator", c);
    cf_web_tokens_hash("scoped-operator", d);
    cf_web_tokens_hash("exact", e);
    cf_web_tokens_hash("producer", f);
    snprintf(text, sizeof text, "%s viewer\n%s exact CH-AVR\n%s operator\n%s operator CH-AVR\n"
             "%s exact\n%s producer\n", a, b, c, d, e, f);
    s_tokens = cf_web_tokens_parse(text, "t", err, sizeof err);
    s_forms = cf_web_forms_load(CF_SOURCE_DIR "/deploy/forms", err, sizeof err);
    return s_tokens && s_forms ? 0 : -1;
}

static int teardown(void **state)
{
    (void) state;
    cf_web_tokens_destroy(&s_tokens);
    cf_web_forms_destroy(&s_forms);
    return 0;
}

/*  Answers GET path?query for token; the body stays in res.                */
static void ask(const char *token, const char *path, const char *const *params, bool csv,
                fake_t *fake, cf_web_response_t *res)
{
    cf_web_source_t source = { fake_read, fake_clock, fake_dlq_list, fake_dlq_replay, fake,
                               fake->broker ? fake_broker : NULL,
                               fake->broker == 2 ? fake : NULL, fake->intake, s_forms };
    cf_web_request_t req = { .method = fake->method ? fake->method : "GET", .path = path, .csv = csv,
                             .token = cf_web_tokens_find(s_tokens, token),
                             .body = fake->body, .body_len = fake->body ? strlen(fake->body) : 0,
                             .body_too_large = fake->too_large };
    for (size_t i = 0; params && params[i]; i += 2)
        req.params[req.nparams++] = (cf_web_param_t) { params[i], params[i + 1] };
    cf_web_api_answer(&source, &req, res);
}

static void expect(const char *token, const char *path, const char *const *params,
                   unsigned status, const char *body)
{
    fake_t fake = { 0 };
    cf_web_response_t res;
    ask(token, path, params, false, &fake, &res);
    assert_int_equal(res.status, status);
    assert_string_equal(res.body, body);
    assert_int_equal(strlen(res.body), res.len);
    free(res.body);
}

static void test_reports(void **state)
{
    (void) state;
    expect("viewer", "/api/v1/reports/stages", (const char *[]) { "exact", NULL, NULL }, 403,
           "{\"error\":\"exact: exact figures need a token of the exact or operator role\"}\n");
    expect("scoped", "/api/v1/reports/stages", (const char *[]) { "exact", "yes", NULL }, 200,
           "[\n  {\"programme\": \"CH-AVR\", \"stage\": \"registered\", \"cases_now\": 30, "
           "\"persons_now\": 0, \"cases_ever\": 0, \"persons_ever\": 0}\n]\n");
    /* published: 4 is a small count, hidden (null in JSON, <10 in CSV), and
       30 with it, as the stage's total would give it away */
    expect("viewer", "/api/v1/reports/stages", NULL, 200,
           "[\n  {\"programme\": \"CH-AVR\", \"stage\": \"registered\", \"cases_now\": null, "
           "\"persons_now\": 0, \"cases_ever\": 0, \"persons_ever\": 0, "
           "\"suppressed\": {\"cases_now\": \"<10\"}},\n"
           "  {\"programme\": \"UK-VARRP\", \"stage\": \"registered\", \"cases_now\": null, "
           "\"persons_now\": 0, \"cases_ever\": 0, \"persons_ever\": 0, "
           "\"suppressed\": {\"cases_now\": \"<10\"}}\n]\n");
    fake_t fake = { 0 };
    cf_web_response_t res;
    ask("viewer", "/api/v1/reports/stages", NULL, true, &fake, &res);
    assert_string_equal(res.type, "text/csv; charset=utf-8");
    assert_string_equal(res.body, "programme,stage,cases_now,persons_now,cases_ever,persons_ever\r\n"
                                  "CH-AVR,registered,<10,0,0,0\r\nUK-VARRP,registered,<10,0,0,0\r\n");
    assert_string_equal(fake.family, "stage");
    free(res.body);
    fake.fail = 1;
    ask("viewer", "/api/v1/reports/stages", NULL, false, &fake, &res);
    assert_int_equal(res.status, 503);
    assert_string_equal(res.body, "{\"error\":\"the figures cannot be read: redis down\"}\n");
    free(res.body);
}

static void test_refusals(void **state)
{
    (void) state;
    expect("viewer", "/api/v1/reports/nope", NULL, 404,
           "{\"error\":\"unknown report 'nope' (GET /api/v1/reports lists them)\"}\n");
    expect("viewer", "/api/v1/reports/returns", (const char *[]) { "period", "week", NULL },
           400, "{\"error\":\"period: 'week' is not day, month or year\"}\n");
    expect("viewer", "/api/v1/reports/returns", (const char *[]) { "by", NULL, NULL }, 400,
           "{\"error\":\"by: needs a value\"}\n");
    expect("viewer", "/api/v1/reports/stages", (const char *[]) { "x", "1", NULL }, 400,
           "{\"error\":\"unknown parameter 'x' (a report takes programme, by, period, from, "
           "to, exact, round)\"}\n");
    expect("scoped", "/api/v1/reports/stages", (const char *[]) { "programme", "KS-RRP", NULL },
           403, "{\"error\":\"programme: this token does not see programme 'KS-RRP'\"}\n");
    expect("scoped", "/api/v1/reports/flows", NULL, 403,
           "{\"error\":\"report 'flows' is not by programme, and this token sees only some "
           "programmes\"}\n");
    expect("viewer", "/api/v1/status", (const char *[]) { "x", "1", NULL }, 400,
           "{\"error\":\"unknown parameter 'x' (/api/v1/status takes none)\"}\n");
    expect("viewer", "/index.html", NULL, 404,
           "{\"error\":\"not found: the API is under /api/v1/\"}\n");
    fake_t fake = { 0 };
    cf_web_response_t res;
    ask("viewer", "/api/v1/status", NULL, false, &fake, &res);
    assert_int_equal(res.status, 200);
    assert_true(!strncmp(res.body, "{\"version\":\"", 12));
    assert_non_null(strstr(res.body, "\"token\":{\"role\":\"viewer\",\"programmes\":[]},"
                                     "\"redis\":{\"ok\":true,\"clock_ms\":null},"
                                     "\"broker\":null}\n"));
    free(res.body);
}

/*  expect(), with method.                                                   */
static void expect_method(const char *method, const char *token, const char *path,
                          unsigned status, const char *body)
{
    fake_t fake = { .method = method };
    cf_web_response_t res;
    ask(token, path, NULL, false, &fake, &res);
    assert_int_equal(res.status, status);
    assert_string_equal(res.body, body);
    free(res.body);
}

static void test_dlq(void **state)
{
    (void) state;
    const char *listed = "[\n  {\"id\": \"1-0\", \"outcome\": \"\"}\n]\n";
    expect("operator", "/api/v1/dlq", NULL, 200, listed);
    expect_method("HEAD", "operator", "/api/v1/dlq", 200, listed);
    const char *not_operator = "{\"error\":\"dead letters need a token of the operator "
                               "role\"}\n";
    expect("viewer", "/api/v1/dlq", NULL, 403, not_operator);
    expect("exact", "/api/v1/dlq", NULL, 403, not_operator);
    expect_method("POST", "exact", "/api/v1/dlq/1-0/replay", 403, not_operator);
    const char *scoped = "{\"error\":\"dead letters are not by programme, and this token "
                         "sees only some programmes\"}\n";
    expect("scoped-operator", "/api/v1/dlq", NULL, 403, scoped);
    expect_method("POST", "scoped-operator", "/api/v1/dlq/1-0/replay", 403, scoped);
    expect("operator", "/api/v1/dlq", (const char *[]) { "x", "1", NULL }, 400,
           "{\"error\":\"unknown parameter 'x' (/api/v1/dlq takes none)\"}\n");
    expect_method("POST", "operator", "/api/v1/dlq", 405,
                  "{\"error\":\"method POST: /api/v1/dlq takes GET\"}\n");

    fake_t fake = { .method = "POST" };
    cf_web_response_t res;
    ask("operator", "/api/v1/dlq/1-0/replay", NULL, false, &fake, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "[\n  {\"id\": \"1-0\", \"outcome\": \"accepted\"}\n]\n");
    assert_string_equal(fake.replayed, "1-0");
    free(res.body);
    expect_method("POST", "operator", "/api/v1/dlq/2-0/replay", 404,
                  "{\"error\":\"no dead letter with id '2-0' (GET /api/v1/dlq lists "
                  "them)\"}\n");
    expect_method("GET", "operator", "/api/v1/dlq/1-0/replay", 405,
                  "{\"error\":\"method GET: a replay takes POST\"}\n");
    /* never a range: "-" or "+" would replay every entry */
    const char *ids[] = { "-", "+", "1-", "-1", "1-0-0", "1x-0", "99999999999999999999999999"
                          "99999999999999999999999-0" };
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/dlq/%s/replay", ids[i]);
        fake_t bad = { .method = "POST" };
        ask("operator", path, NULL, false, &bad, &res);
        assert_int_equal(res.status, strlen(ids[i]) > CF_DLQ_ID_MAX ? 404 : 400);
        assert_string_equal(bad.replayed, "");
        free(res.body);
    }
    expect_method("POST", "operator", "/api/v1/dlq//replay", 404,
                  "{\"error\":\"not found: /api/v1/dlq//replay (the API has /api/v1/status, "
                  "/api/v1/reports, /api/v1/reports/NAME, /api/v1/notifications, /api/v1/dlq, "
                  "/api/v1/dlq/ID/replay, /api/v1/events and /api/v1/forms/NAME)\"}\n");
    fake.fail = 1;
    fake.method = NULL;
    ask("operator", "/api/v1/dlq", NULL, false, &fake, &res);
    assert_int_equal(res.status, 503);
    assert_string_equal(res.body, "{\"error\":\"the dead letters cannot be read: redis "
                                  "down\"}\n");
    free(res.body);
}

static void test_status_broker(void **state)
{
    (void) state;
    const char *want[] = { "\"redis\":{\"ok\":true,\"clock_ms\":null},\"broker\":null}\n",
                           "\"broker\":{\"ok\":true,\"status\":{\"queue_events\":3,"
                           "\"workers\":[]}}}\n",
                           "\"broker\":{\"ok\":false,\"error\":\"no answer from the broker\"}}\n" };
    for (int broker = 0; broker < 3; broker++) {
        fake_t fake = { .broker = broker };
        cf_web_response_t res;
        ask("viewer", "/api/v1/status", NULL, false, &fake, &res);
        assert_int_equal(res.status, 200);
        assert_non_null(strstr(res.body, want[broker]));
        free(res.body);
        /* a scoped token: the whole stack's figures are not its */
        ask("scoped", "/api/v1/status", NULL, false, &fake, &res);
        assert_null(strstr(res.body, "broker"));
        free(res.body);
    }
}

/*  POST /api/v1/events: producers only, and they nothing else; the limits
    and a daemon without intake answer before anything is sent.             */
static void test_events(void **state)
{
    (void) state;
    const char *not_producer = "{\"error\":\"posting events needs a token of the producer "
                               "role\"}\n";
    expect_method("POST", "operator", "/api/v1/events", 403, not_producer);
    expect_method("POST", "viewer", "/api/v1/events", 403, not_producer);
    const char *reads = "{\"error\":\"a producer token may only post events (POST "
                        "/api/v1/events)\"}\n";
    expect("producer", "/api/v1/reports/returns", NULL, 403, reads);
    expect("producer", "/api/v1/status", NULL, 403, reads);
    expect("producer", "/api/v1/dlq", NULL, 403, reads);
    expect_method("GET", "producer", "/api/v1/events", 405,
                  "{\"error\":\"method GET: /api/v1/events takes POST\"}\n");
    expect_method("POST", "producer", "/api/v1/events", 503,
                  "{\"error\":\"no intake: caseflow-web was started without intake (the "
                  "broker's intake endpoint), or under CURVE without producer-key\"}\n");
    fake_t fake = { .method = "POST", .too_large = true };
    cf_web_response_t res;
    ask("producer", "/api/v1/events", NULL, false, &fake, &res);
    assert_int_equal(res.status, 413);
    assert_non_null(strstr(res.body, "the body is over 16777216 bytes"));
    free(res.body);
}

/*  POST /api/v1/forms/NAME: as events for the refusals; an unknown form is
    a 404; a submission the mapping refuses is answered rejected, in its
    place, and is not sent (no broker listens here: none is needed).        */
static void test_forms(void **state)
{
    (void) state;
    const char *path = "/api/v1/forms/flow-monitoring";
    expect_method("POST", "viewer", path, 403, "{\"error\":\"posting events needs a token of "
                  "the producer role\"}\n");
    expect_method("GET", "producer", path, 405, "{\"error\":\"method GET: "
                  "/api/v1/forms/flow-monitoring takes POST\"}\n");
    expect_method("POST", "producer", "/api/v1/forms/nope", 404, "{\"error\":\"no form 'nope' "
                  "(the forms are the mappings of the forms folder: flow-monitoring)\"}\n");
    expect_method("POST", "producer", path, 503,
                  "{\"error\":\"no intake: caseflow-web was started without intake (the "
                  "broker's intake endpoint), or under CURVE without producer-key\"}\n");
    fake_t fake = { .method = "POST", .intake = cf_web_intake_new("tcp://127.0.0.1:9", NULL),
                    .body = "[{\"_uuid\": \"u1\", \"group_flow/name\": \"Ali\"},\n"
                            " {\"_uuid\": \"u2\", \"group_flow/total\": \"many\"}]" };
    cf_web_response_t res;
    ask("producer", path, NULL, false, &fake, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "{\"events\":2,\"accepted\":0,\"duplicate\":0,\"rejected\":2,"
        "\"busy\":0,\"unacked\":0,\"results\":[{\"status\":\"rejected\",\"event_id\":null,"
        "\"field\":\"group_flow/name\",\"reason\":\"group_flow/name: not in the mapping: map "
        "it in [fields] or drop it with [form] ignore (an unknown field is refused, as in an "
        "event)\"},{\"status\":\"rejected\",\"event_id\":null,\"field\":\"group_flow/total\","
        "\"reason\":\"group_flow/total: 'many' is not a whole number\"}]}\n");
    free(res.body);
    fake.body = "{\"_uuid\": \"u1\",\n \"group_flow/name\": \"Ali\"}\n";   /* one, over lines */
    ask("producer", path, NULL, false, &fake, &res);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body, "\"events\":1,"));
    free(res.body);
    cf_web_intake_destroy(&fake.intake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_dlq),
        cmocka_unit_test(test_status_broker),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_forms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
