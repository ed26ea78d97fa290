/*  Tests of cf_web_exchange: a JSON response is the value's compact text
    and a newline, with its status and content type; an error is
    {"error": reason}, its reason formatted and cut to CF_WEB_ERR_MAX - 1
    bytes. No server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cf_web_exchange.h"

static void test_json_response(void **unused)
{
    (void) unused;
    cf_web_response_t res = { 0 };
    cf_web_response_json(&res, 201, json_pack("{si}", "accepted", 3));
    assert_int_equal(res.status, 201);
    assert_string_equal(res.type, CF_WEB_JSON);
    assert_string_equal(res.body, "{\"accepted\":3}\n");
    assert_int_equal(res.len, strlen("{\"accepted\":3}\n"));
    free(res.body);
}

static void test_error_response(void **unused)
{
    (void) unused;
    cf_web_response_t res = { 0 };
    cf_web_response_error(&res, 404, "no report '%s'", "returns");
    assert_int_equal(res.status, 404);
    assert_string_equal(res.body, "{\"error\":\"no report 'returns'\"}\n");
    free(res.body);

    char long_reason[CF_WEB_ERR_MAX + 100];
    memset(long_reason, 'x', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = '\0';
    cf_web_response_error(&res, 400, "%s", long_reason);
    json_t *body = json_loads(res.body, 0, NULL);
    assert_non_null(body);
    assert_int_equal(strlen(json_string_value(json_object_get(body, "error"))),
                     CF_WEB_ERR_MAX - 1);
    json_decref(body);
    free(res.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_response),
        cmocka_unit_test(test_error_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
