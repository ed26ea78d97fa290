/*  Tests of cf_progress: caseflow-push's progress line, its bar and its ETA
    (from the rate so far; unknown before an event is final; gone at the
    end; hours past an hour).                                               */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "caseflow/cf_progress.h"

static const char *line(size_t events, size_t accepted, size_t rejected, double seconds)
{
    static char buf[160];
    cf_client_stats_t stats = { .events = events, .accepted = accepted, .rejected = rejected };
    return cf_progress_line(buf, sizeof buf, &stats, seconds);
}

static void test_eta_from_the_rate_so_far(void **state)
{
    (void) state;
    /* 300 of 1000 in 2 s: 150/s, 700 left, 4.67 s: 0:05 */
    assert_string_equal(line(1000, 290, 10, 2.0),
                        "[#########.....................] 300/1000 events acked, 150/s, ETA 0:05");
    /* 10 of 1000 in 10 s: 990 s left */
    assert_string_equal(line(1000, 10, 0, 10.0),
                        "[..............................] 10/1000 events acked, 1/s, ETA 16:30");
    /* 1 of 10000 in 1 s: 9999 s */
    assert_string_equal(line(10000, 1, 0, 1.0),
                        "[..............................] 1/10000 events acked, 1/s, ETA 2:46:39");
}

static void test_eta_unknown_then_gone(void **state)
{
    (void) state;
    assert_string_equal(line(50, 0, 0, 0.0),
                        "[..............................] 0/50 events acked, 0/s, ETA -:--");
    assert_string_equal(line(50, 0, 0, 3.0),
                        "[..............................] 0/50 events acked, 0/s, ETA -:--");
    assert_string_equal(line(50, 50, 0, 2.0),
                        "[##############################] 50/50 events acked, 25/s");
}

static void test_short_buffer(void **state)
{
    (void) state;
    char buf[12];
    cf_client_stats_t stats = { .events = 10, .accepted = 5 };
    assert_string_equal(cf_progress_line(buf, sizeof buf, &stats, 1.0), "[##########");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eta_from_the_rate_so_far),
        cmocka_unit_test(test_eta_unknown_then_gone),
        cmocka_unit_test(test_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
