/*  Tests of cf_settings: flag > environment > [program] > [caseflow] >
    default, with each value's origin; errors that name the origin of the
    value (--queue, CASEFLOW_QUEUE, FILE:LINE); the value checks; a table
    whose rows agree; --help made from it.                                   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_settings.h"
#include "cf_test_files.h"

extern char **environ;

/*  No CASEFLOW_* variable from the caller's environment.                    */
static int clear_env(void **unused)
{
    (void) unused;
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; *e; e++)
            if (!strncmp(*e, "CASEFLOW_", 9)) {
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int) strcspn(*e, "="), *e);
                unsetenv(name);
                again = 1;
                break;
            }
    }
    return 0;
}

static void test_precedence(void **unused)
{
    (void) unused;
    const char *path = cf_test_file_write("[caseflow]\n"
                                  "redis = 10.0.0.1:6380\n"             /* 2 */
                                  "log-level = warn\n"                  /* 3 */
                                  "[broker]\n"
                                  "log-level = debug\n"                 /* 5 */
                                  "queue = 9\n"                         /* 6 */
                                  "heartbeat = 70\n"                    /* 7 */
                                  "liveness = 900\n");                  /* 8 */
    setenv("CASEFLOW_QUEUE", "8", 1);
    setenv("CASEFLOW_HEARTBEAT", "50", 1);
    cf_settings_t *s = cf_settings_new("broker");
    cf_settings_set_flag(s, "config", path);
    cf_settings_set_flag(s, "queue", "7");
    assert_int_equal(cf_settings_resolve(s), 0);
    char origin[128];
    assert_int_equal(cf_settings_number(s, "queue"), 7);                /* flag > env > file */
    assert_string_equal(cf_settings_origin(s, "queue"), "--queue");
    assert_int_equal(cf_settings_number(s, "heartbeat"), 50);           /* env > file */
    assert_string_equal(cf_settings_origin(s, "heartbeat"), "CASEFLOW_HEARTBEAT");
    assert_int_equal(cf_settings_number(s, "liveness"), 900);           /* file > default */
    snprintf(origin, sizeof origin, "%s:8", path);
    assert_string_equal(cf_settings_origin(s, "liveness"), origin);
    assert_int_equal(cf_settings_log_level(s, "log-level"), CF_LOG_DEBUG);  /* [broker] > [caseflow] */
    snprintf(origin, sizeof origin, "%s:5", path);
    assert_string_equal(cf_settings_origin(s, "log-level"), origin);
    char host[CF_SETTINGS_HOST_MAX];
    int port;
    assert_int_equal(cf_settings_host_port(s, "redis", host, sizeof host, &port), 0);
    assert_string_equal(host, "10.0.0.1");                              /* [caseflow] */
    assert_int_equal(port, 6380);
    assert_int_equal(cf_settings_number(s, "stats"), 10000);            /* default */
    assert_string_equal(cf_settings_origin(s, "stats"), "default");
    assert_null(cf_settings_text(s, "intake"));                         /* no default */
    assert_int_equal(cf_settings_resolve(s), 0);                        /* again: the same */
    assert_int_equal(cf_settings_number(s, "liveness"), 900);
    cf_settings_destroy(&s);
    assert_null(s);
    cf_settings_destroy(&s);                                            /* NULL is fine */
}

static void test_getopt(void **unused)
{
    (void) unused;
    const char *path = cf_test_file_write("[broker]\nqueue = 9\n");
    static const struct option extra[] = { { "json", no_argument, 0, 'j' }, { 0, 0, 0, 0 } };
    char *argv[] = { "caseflow-broker", "--publish", "tcp://127.0.0.1:5", "--json",
                     "--config", (char *) path, "--workers=tcp://*:6", "rest", NULL };
    cf_settings_t *s = cf_settings_new("broker");
    optind = 1;
    opterr = 0;
    assert_int_equal(cf_settings_getopt(s, 8, argv, ":", extra), 'j');   /* the program's own */
    assert_int_equal(cf_settings_getopt(s, 8, argv, ":", extra), -1);
    assert_int_equal(optind, 7);
    assert_int_equal(cf_settings_resolve(s), 0);
    assert_string_equal(cf_settings_text(s, "subscribe"), "tcp://127.0.0.1:5");
    assert_string_equal(cf_settings_origin(s, "subscribe"), "--publish");  /* the alias */
    assert_string_equal(cf_settings_text(s, "workers"), "tcp://*:6");
    assert_int_equal(cf_settings_number(s, "queue"), 9);
    cf_settings_destroy(&s);

    char *bad[] = { "caseflow-worker", "--credit", NULL };
    s = cf_settings_new("worker");
    optind = 1;
    assert_int_equal(cf_settings_parse(s, 2, bad), -1);
    assert_string_equal(cf_settings_error(s), "missing value for '--credit' (see --help)");
    cf_settings_destroy(&s);
    char *help[] = { "caseflow-worker", "--help", NULL };
    s = cf_settings_new("worker");
    optind = 1;
    assert_int_equal(cf_settings_parse(s, 2, help), 1);
    cf_settings_destroy(&s);
}

/*  The first error of resolving program's settings with env name=value.     */
static void expect_error(const char *program, const char *flag, const char *env,
                         const char *value, const char *want)
{
    cf_settings_t *s = cf_settings_new(program);
    if (cf_test_file_path())
        cf_settings_set_flag(s, "config", cf_test_file_path());
    if (flag)
        cf_settings_set_flag(s, flag, value);
    if (env)
        setenv(env, value, 1);
    assert_int_equal(cf_settings_resolve(s), -1);
    if (!strstr(cf_settings_error(s), want))
        fail_msg("error '%s' does not say '%s'", cf_settings_error(s), want);
    if (env)
        unsetenv(env);
    cf_settings_destroy(&s);
}

static void test_origins_in_errors(void **unused)
{
    (void) unused;
    expect_error("broker", "queue", NULL, "lots", "--queue: 'lots' is not a number from 1 to 100000000");
    expect_error("broker", NULL, "CASEFLOW_QUEUE", "-5", "CASEFLOW_QUEUE: '-5' is not a number");
    expect_error("worker", "broker", NULL, "nonsense", "--broker: 'nonsense' is not a ZeroMQ endpoint");
    expect_error("ctl", NULL, "CASEFLOW_REDIS", "nowhere", "CASEFLOW_REDIS: 'nowhere' is not HOST:PORT");
    expect_error("worker", "log-level", NULL, "loud", "--log-level: 'loud' is not error, warn, info or debug");
    const char *path = cf_test_file_write("[caseflow]\nintake = tcp://127.0.0.1:1\n[broker]\nqueue = lots\n");
    char want[128];
    snprintf(want, sizeof want, "%s:4: key 'queue': 'lots' is not a number from 1 to 100000000", path);
    expect_error("broker", NULL, NULL, NULL, want);
    /* the file is checked whole: the worker refuses the broker's bad line too */
    expect_error("worker", NULL, NULL, NULL, want);
    cf_test_file_remove();
    expect_error("worker", "config", NULL, "/nonexistent/caseflow.conf",
                 "--config: /nonexistent/caseflow.conf: cannot open: No such file");
    setenv("CASEFLOW_CONFIG", "/nonexistent/x.conf", 1);
    expect_error("push", NULL, NULL, NULL, "CASEFLOW_CONFIG: /nonexistent/x.conf: cannot open");
    unsetenv("CASEFLOW_CONFIG");
}

static void test_values(void **unused)
{
    (void) unused;
    const cf_setting_t *endpoint = cf_settings_find("broker", "intake");
    char why[256];
    const char *good[] = { "tcp://127.0.0.1:5570", "tcp://*:5570", "ipc:///run/caseflow.sock",
                           "inproc://x", "tcp://[::1]:80" };
    const char *bad[] = { "nonsense", "tcp://127.0.0.1", "tcp://:80", "tcp://h:0", "http://h:1",
                          "ipc://", "" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(cf_settings_check(endpoint, good[i], why, sizeof why), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cf_settings_check(endpoint, bad[i], why, sizeof why), -1);
    assert_int_equal(cf_settings_check(endpoint, "tcp://a:1,tcp://b:2", why, sizeof why), -1);
    assert_non_null(strstr(why, "is a list"));          /* the broker binds one */
    const cf_setting_t *list = cf_settings_find("push", "intake");
    const char *good_lists[] = { "tcp://a:1", "tcp://a:1,tcp://b:2", " tcp://a:1 , ipc:///x " };
    const char *bad_lists[] = { "tcp://a:1,", ",tcp://a:1", "tcp://a:1,,tcp://b:2",
                                "tcp://a:1,nonsense", "tcp://a:1,tcp://a:1", "tcp://a" };
    for (size_t i = 0; i < sizeof good_lists / sizeof *good_lists; i++)
        assert_int_equal(cf_settings_check(list, good_lists[i], why, sizeof why), 0);
    for (size_t i = 0; i < sizeof bad_lists / sizeof *bad_lists; i++)
        assert_int_equal(cf_settings_check(list, bad_lists[i], why, sizeof why), -1);
    const cf_setting_t *secret = &(cf_setting_t) { "password", CF_PROG_WORKER, CF_NUMBER(1, 2),
                                                   NULL, CF_SETTING_SECRET, "N", "x", NULL };
    assert_int_equal(cf_settings_check(secret, "hunter2", why, sizeof why), -1);
    assert_null(strstr(why, "hunter2"));
    assert_null(cf_settings_find("caseflow", "queue"));         /* not shared */
    assert_non_null(cf_settings_find("caseflow", "redis"));
    assert_null(cf_settings_find("push", "redis"));
    assert_null(cf_settings_find("nowhere", "redis"));
    char env[64];
    assert_string_equal(cf_settings_env_name(cf_settings_find("worker", "poison-tries"), env,
                                             sizeof env), "CASEFLOW_POISON_TRIES");
}

/*  A setting's type, with an endpoint the broker binds and the list a
    client connects to (one per broker) taken as one kind.                  */
static int endpoint_kind(cf_setting_type_t type)
{
    return type == CF_SETTING_ENDPOINTS ? CF_SETTING_ENDPOINT : (int) type;
}

/*  The table: names as flags, rows of one name agreeing, good defaults.     */
static void test_table(void **unused)
{
    (void) unused;
    char why[256];
    for (size_t i = 0; i < cf_settings_rows(); i++) {
        const cf_setting_t *a = cf_settings_row(i);
        assert_int_equal(strspn(a->name, "abcdefghijklmnopqrstuvwxyz-"), strlen(a->name));
        assert_true(a->programs && a->help && *a->help && a->arg);
        if (a->def && cf_settings_check(a, a->def, why, sizeof why) < 0)
            fail_msg("%s: default '%s': %s", a->name, a->def, why);
        for (size_t j = 0; j < i; j++) {
            const cf_setting_t *b = cf_settings_row(j);
            if (strcmp(a->name, b->name))
                continue;
            assert_int_equal(a->programs & b->programs, 0);       /* one row per program */
            if ((a->flags | b->flags) & CF_SETTING_SHARED) {
                assert_int_equal(endpoint_kind(a->type), endpoint_kind(b->type));
                assert_int_equal(a->flags, b->flags);
                assert_true(a->min == b->min && a->max == b->max);
                assert_true(a->def == b->def || (a->def && b->def && !strcmp(a->def, b->def)));
            }
        }
    }
    assert_null(cf_settings_row(cf_settings_rows()));
}

static void test_usage(void **unused)
{
    (void) unused;
    cf_settings_t *s = cf_settings_new("worker");
    const char *text = cf_settings_usage(s, "usage: caseflow-worker\n", NULL);
    assert_true(!strncmp(text, "usage: caseflow-worker\n", 23));
    const char *want[] = { "--key-file FILE", "CASEFLOW_KEY_FILE", "CASEFLOW_WORKERS",
                           "--config FILE", "CASEFLOW_CONFIG", "default 2592000", "--help" };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(text, want[i]))
            fail_msg("--help does not mention %s:\n%s", want[i], text);
    for (const char *line = text; *line; line += strcspn(line, "\n") + 1)
        assert_true(strcspn(line, "\n") <= 79);
    cf_settings_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_precedence, clear_env, cf_test_file_teardown),
        cmocka_unit_test_setup_teardown(test_getopt, clear_env, cf_test_file_teardown),
        cmocka_unit_test_setup_teardown(test_origins_in_errors, clear_env, cf_test_file_teardown),
        cmocka_unit_test_setup_teardown(test_values, clear_env, NULL),
        cmocka_unit_test_setup_teardown(test_table, clear_env, NULL),
        cmocka_unit_test_setup_teardown(test_usage, clear_env, NULL),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
