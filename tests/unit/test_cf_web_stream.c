/*  Tests of cf_web_stream's pure parts: Last-Event-ID is "EPOCH-N" of this
    run only; an event is id, event and data lines and a blank line.        */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include "cf_web_stream.h"

static void test_parse_id(void **state)
{
    (void) state;
    uint64_t n = 99;
    assert_true(cf_web_stream_parse_id("abcd-42", "abcd", &n));
    assert_int_equal(n, 42);
    assert_true(cf_web_stream_parse_id("abcd-0", "abcd", &n));
    assert_int_equal(n, 0);
    n = 7;
    assert_false(cf_web_stream_parse_id(NULL, "abcd", &n));
    assert_false(cf_web_stream_parse_id("abce-42", "abcd", &n));    /* another run */
    assert_false(cf_web_stream_parse_id("abcd42", "abcd", &n));
    assert_false(cf_web_stream_parse_id("abcd-", "abcd", &n));
    assert_false(cf_web_stream_parse_id("abcd--1", "abcd", &n));
    assert_false(cf_web_stream_parse_id("abcd-4x", "abcd", &n));
    assert_int_equal(n, 7);
}

static void test_event(void **state)
{
    (void) state;
    char *text = cf_web_stream_event("abcd", 12, "notification", "{\"a\":1}");
    assert_string_equal(text, "id: abcd-12\nevent: notification\ndata: {\"a\":1}\n\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_id),
        cmocka_unit_test(test_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
