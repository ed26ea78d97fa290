/*  Tests of cf_args: numbers in range, HOST:PORT, environment fallback, and
    the start every main shares (its exit statuses).                         */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_args.h"

static void test_numbers(void **unused)
{
    (void) unused;
    long long v;
    char err[128];
    assert_int_equal(cf_args_number("--credit", "4", 1, 64, &v, err, sizeof err), 0);
    assert_int_equal(v, 4);
    assert_int_equal(cf_args_number("--credit", "65", 1, 64, &v, err, sizeof err), -1);
    assert_string_equal(err, "--credit: '65' is not a number from 1 to 64");
    assert_int_equal(cf_args_number("--credit", "4x", 1, 64, &v, err, sizeof err), -1);
    assert_int_equal(cf_args_number("--credit", "", 1, 64, &v, err, sizeof err), -1);
    assert_int_equal(cf_args_number("--credit", "99999999999999999999", 1, 64, &v, err,
                                    sizeof err), -1);
}

static void test_host_port(void **unused)
{
    (void) unused;
    char host[64], err[128];
    int port;
    assert_int_equal(cf_args_host_port("--redis", "127.0.0.1:6380", host, sizeof host, &port,
                                       err, sizeof err), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 6380);
    assert_int_equal(cf_args_host_port("--redis", "localhost", host, sizeof host, &port, err,
                                       sizeof err), -1);
    assert_non_null(strstr(err, "--redis: 'localhost'"));
    assert_int_equal(cf_args_host_port("--redis", "h:0", host, sizeof host, &port, err,
                                       sizeof err), -1);
    assert_int_equal(cf_args_host_port("--redis", ":80", host, sizeof host, &port, err,
                                       sizeof err), -1);
}

static void test_env_fallback(void **unused)
{
    (void) unused;
    unsetenv("CF_ARGS_TEST");
    assert_string_equal(cf_args_or_env(NULL, "CF_ARGS_TEST", "d"), "d");
    setenv("CF_ARGS_TEST", "from-env", 1);
    assert_string_equal(cf_args_or_env(NULL, "CF_ARGS_TEST", "d"), "from-env");
    assert_string_equal(cf_args_or_env("flag", "CF_ARGS_TEST", "d"), "flag");
    setenv("CF_ARGS_TEST", "", 1);                  /* empty counts as unset */
    assert_null(cf_args_or_env(NULL, "CF_ARGS_TEST", NULL));
}

static void test_log_level(void **unused)
{
    (void) unused;
    cf_log_level_t level = CF_LOG_INFO;
    char err[128];
    assert_int_equal(cf_args_log_level("debug", &level, err, sizeof err), 0);
    assert_int_equal(level, CF_LOG_DEBUG);
    assert_int_equal(cf_args_log_level("loud", &level, err, sizeof err), -1);
    assert_string_equal(err, "--log-level: 'loud' is not error, warn, info or debug");
    assert_int_equal(level, CF_LOG_DEBUG);          /* unchanged by a bad value */
}

/* A parser that answers what *options says: 0 run, 1 help, -1 an error. */
static int fake_parse(int argc, char **argv, cf_settings_t *settings, void *options, char *err,
                      size_t n)
{
    (void) argc, (void) argv, (void) settings;
    int *answer = options;
    snprintf(err, n, "--nonsense: not an option");
    return *answer;
}

static void test_start(void **unused)
{
    (void) unused;
    char *argv[] = { "caseflow-push", NULL };
    int status = -1, answer = 0;
    cf_settings_t *settings = cf_args_start("push", false, 1, argv, fake_parse, &answer, &status);
    assert_non_null(settings);
    cf_settings_destroy(&settings);
    answer = 1;                         /* --help: exit 0 */
    assert_null(cf_args_start("push", false, 1, argv, fake_parse, &answer, &status));
    assert_int_equal(status, 0);
    answer = -1;                        /* a usage error: exit 2 */
    assert_null(cf_args_start("push", false, 1, argv, fake_parse, &answer, &status));
    assert_int_equal(status, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_numbers),
                                        cmocka_unit_test(test_host_port),
                                        cmocka_unit_test(test_env_fallback),
                                        cmocka_unit_test(test_log_level),
                                        cmocka_unit_test(test_start) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
