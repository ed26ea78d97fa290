/*  Tests of cf_endpoints: one endpoint or a list, blanks dropped, and the
    lists refused (empty, an empty element, one twice, too many).           */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_endpoints.h"

static void test_lists(void **state)
{
    (void) state;
    char err[256] = "";
    cf_endpoints_t *list = cf_endpoints_new("tcp://127.0.0.1:5570", err, sizeof err);
    assert_non_null(list);
    assert_int_equal(cf_endpoints_size(list), 1);
    assert_string_equal(cf_endpoints_at(list, 0), "tcp://127.0.0.1:5570");
    cf_endpoints_destroy(&list);
    assert_null(list);
    cf_endpoints_destroy(&list);

    list = cf_endpoints_new(" tcp://b1:5570 ,tcp://b2:5570,\tipc:///run/b3 ", err, sizeof err);
    assert_non_null(list);
    assert_int_equal(cf_endpoints_size(list), 3);
    assert_string_equal(cf_endpoints_at(list, 0), "tcp://b1:5570");
    assert_string_equal(cf_endpoints_at(list, 1), "tcp://b2:5570");
    assert_string_equal(cf_endpoints_at(list, 2), "ipc:///run/b3");
    cf_endpoints_destroy(&list);
}

static void test_refused(void **state)
{
    (void) state;
    const char *bad[] = { "", " ", "tcp://a:1,", ",tcp://a:1", "tcp://a:1,,tcp://b:2",
                          "tcp://a:1, ,tcp://b:2", "tcp://a:1,tcp://b:2,tcp://a:1" };
    const char *why[] = { "empty", "empty", "empty", "empty", "empty", "empty", "twice" };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_null(cf_endpoints_new(bad[i], err, sizeof err));
        assert_non_null(strstr(err, why[i]));
    }
    assert_null(cf_endpoints_new(NULL, err, sizeof err));
    char many[1024] = "";
    for (int i = 0; i <= CF_ENDPOINTS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%stcp://h:%d", i ? "," : "",
                 1000 + i);
    assert_null(cf_endpoints_new(many, err, sizeof err));
    assert_non_null(strstr(err, "more endpoints"));
    *strrchr(many, ',') = '\0';                 /* CF_ENDPOINTS_MAX exactly */
    cf_endpoints_t *list = cf_endpoints_new(many, err, sizeof err);
    assert_non_null(list);
    assert_int_equal(cf_endpoints_size(list), CF_ENDPOINTS_MAX);
    cf_endpoints_destroy(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
