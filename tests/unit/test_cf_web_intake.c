/*  Tests of cf_web_intake_load without a broker: a JSON array and JSON
    lines become the same events, in order, with their event_ids; a body
    that is not one of them is refused whole (400) with the line or element
    at fault; more than CF_WEB_INTAKE_MAX_EVENTS is a 413.                   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_alloc.h"
#include "cf_web_intake.h"

/*  Loads body into a new client (never run); its status and reason.        */
static unsigned load(const char *body, cf_client_t **client, char *err, size_t n)
{
    *client = cf_client_new("tcp://127.0.0.1:9");
    return cf_web_intake_load(*client, body, strlen(body), err, n);
}

static void test_array_and_lines(void **state)
{
    (void) state;
    const char *bodies[] = {
        " [{\"event_id\":\"e1\",\"n\":1},\n {\"event_id\":\"e2\",\"a\":[1,2.5,null]}, {\"x\":true}]",
        "{\"event_id\":\"e1\",\"n\":1}\r\n\n{\"event_id\":\"e2\",\"a\":[1,2.5,null]}\n  \n{\"x\":true}",
    };
    for (size_t b = 0; b < 2; b++) {
        char err[256] = "";
        cf_client_t *client;
        assert_int_equal(load(bodies[b], &client, err, sizeof err), 0);
        assert_int_equal(cf_client_size(client), 3);
        assert_string_equal(cf_client_event_id(client, 0), "e1");
        assert_string_equal(cf_client_event_id(client, 1), "e2");
        assert_null(cf_client_event_id(client, 2));
        cf_client_destroy(&client);
    }
}

static void test_malformed(void **state)
{
    (void) state;
    struct { const char *body, *why; } cases[] = {
        { "", "no events: the body is empty" },
        { " \n\n", "no events: the body is empty" },
        { "[]", "no events: the array is empty" },
        { "[{\"a\":1},", "the body is not a JSON array: " },
        { "[{\"a\":1}, 7]", "element 1: not a JSON object (an event is one)" },
        { "[{\"a\":1,\"a\":2}]", "the body is not a JSON array: duplicate object key" },
        { "{\"a\":1}\n{\"a\":", "line 2: json: " },
        { "{\"a\":1}\n[1]", "line 2: json: " },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        cf_client_t *client;
        assert_int_equal(load(cases[i].body, &client, err, sizeof err), 400);
        if (strncmp(err, cases[i].why, strlen(cases[i].why)))
            fail_msg("%s: '%s' is not '%s...'", cases[i].body, err, cases[i].why);
        cf_client_destroy(&client);
    }
}

static void test_too_many(void **state)
{
    (void) state;
    size_t n = CF_WEB_INTAKE_MAX_EVENTS + 1, size = n * 16 + 1, len = 0;
    char *body = cf_malloc(size), err[256] = "";
    for (size_t i = 0; i < n; i++)
        len += (size_t) snprintf(body + len, size - len, "{\"i\":%zu}\n", i);
    cf_client_t *client;
    assert_int_equal(load(body, &client, err, sizeof err), 413);
    assert_string_equal(err, "more than 1000 events in one request: send them in several");
    cf_client_destroy(&client);
    body[len - strlen("{\"i\":1000}\n")] = 0;       /* exactly the limit */
    assert_int_equal(load(body, &client, err, sizeof err), 0);
    assert_int_equal(cf_client_size(client), CF_WEB_INTAKE_MAX_EVENTS);
    cf_client_destroy(&client);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_array_and_lines),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
