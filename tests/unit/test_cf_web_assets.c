/*  Tests of cf_web_assets: the dashboard's own files load from its
    directory and are found by their fixed names only ("/" is index.html);
    Chart.js comes from the directory, else the path given, else is absent;
    a directory without the page's files is refused with the reason.        */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "cf_web_assets.h"

#define DASHBOARD CF_SOURCE_DIR "/src/web/dashboard"

static void test_served_by_name(void **state)
{
    (void) state;
    char err[256];
    cf_web_assets_t *a = cf_web_assets_load(DASHBOARD, "/nonexistent/chart.js", err, sizeof err);
    assert_non_null(a);
    size_t len;
    const char *type;
    const char *index = cf_web_assets_find(a, "/", &len, &type);
    assert_non_null(index);
    assert_string_equal(type, "text/html; charset=utf-8");
    assert_non_null(strstr(index, "<!doctype html>"));
    assert_ptr_equal(cf_web_assets_find(a, "/index.html", &len, &type), index);
    assert_non_null(cf_web_assets_find(a, "/dashboard.js", &len, &type));
    assert_string_equal(type, "text/javascript; charset=utf-8");
    assert_non_null(cf_web_assets_find(a, "/dashboard.css", &len, &type));
    assert_null(cf_web_assets_find(a, "/chart.js", &len, &type));     /* none found */
    assert_false(cf_web_assets_has_charts(a));
    assert_null(cf_web_assets_find(a, "/../dashboard.js", &len, &type));
    assert_null(cf_web_assets_find(a, "/api/v1/status", &len, &type));
    assert_null(cf_web_assets_find(a, "/dashboard.js?x", &len, &type));
    cf_web_assets_destroy(&a);
    assert_null(a);
    /* Chart.js from the path given (any readable file stands in for it) */
    a = cf_web_assets_load(DASHBOARD, DASHBOARD "/dashboard.css", err, sizeof err);
    assert_true(cf_web_assets_has_charts(a));
    cf_web_assets_destroy(&a);
}

static void test_missing_directory(void **state)
{
    (void) state;
    char err[256];
    assert_null(cf_web_assets_load("/nonexistent", NULL, err, sizeof err));
    assert_string_equal(err, "/nonexistent/index.html: No such file or directory "
                             "(the dashboard directory)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_by_name),
        cmocka_unit_test(test_missing_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
