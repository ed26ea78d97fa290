/*  Tests of cf_bench_stack without the caseflow daemons: the peak RSS of a
    live process and of none, the default scripts directory, and a start
    whose broker cannot run: the error names the broker's log, the Redis it
    started is stopped, and the directory is kept for the log.             */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cf_bench_stack.h"

static void test_peak_rss(void **state)
{
    (void) state;
    assert_true(cf_bench_peak_rss_kb(getpid()) > 0);
    assert_int_equal(cf_bench_peak_rss_kb(0), -1);
    assert_string_equal(cf_bench_scripts("/x"), "/x");
    assert_non_null(strstr(cf_bench_scripts(NULL), "lua"));
}

static void test_broker_missing(void **state)
{
    (void) state;
    char tmp[] = "/tmp/test_cf_bench_stack.XXXXXX";
    assert_non_null(mkdtemp(tmp));
    setenv("TMPDIR", tmp, 1);
    cf_bench_stack_t *stack = cf_bench_stack_new();
    cf_bench_stack_config_t config = { "/nonexistent", cf_bench_scripts(NULL), 1, false };
    assert_int_equal(cf_bench_stack_start(stack, &config), -1);
    const char *error = cf_bench_stack_error(stack);
    /* the broker or a worker (neither binary exists): whichever exits first */
    assert_non_null(strstr(error, "stopped (see "));
    assert_non_null(strstr(error, tmp));
    char log[256];
    snprintf(log, sizeof log, "%s/broker.log", cf_bench_stack_dir(stack));
    cf_bench_stack_destroy(&stack);
    assert_null(stack);
    struct stat st;
    assert_int_equal(stat(log, &st), 0);            /* kept: it says why */
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", tmp);
    assert_int_equal(system(command), 0);
    cf_bench_stack_destroy(&stack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peak_rss),
        cmocka_unit_test(test_broker_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
