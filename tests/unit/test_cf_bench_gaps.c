/*  cf_bench_gaps: threads that spin on the clock see the time their core
    was taken. With one thread more than the machine has cores, the
    scheduler must take a core from one of them, for a time slice of a
    millisecond or more: the gaps show it. Within their bounds always.     */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>
#include "cf_bench_gaps.h"

static void test_gaps_within_bounds(void **state)
{
    (void) state;
    cf_bench_gaps_t g;
    assert_int_equal(cf_bench_gaps_measure(1, 0.05, &g), 0);
    assert_int_equal(g.threads, 1);
    assert_true(g.seconds == 0.05);
    assert_true(g.over_1ms >= g.over_3ms && g.over_3ms >= 0);
    assert_true(g.worst_ms >= 0 && g.worst_ms < 1000);
    assert_true(g.lost_share >= 0 && g.lost_share <= 1);
}

static void test_a_core_taken_shows(void **state)
{
    (void) state;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cf_bench_gaps_t g;
    assert_int_equal(cf_bench_gaps_measure((unsigned) (cores > 0 ? cores : 1) + 1, 0.5, &g), 0);
    assert_true(g.over_1ms > 0);
    assert_true(g.worst_ms > 1);
    assert_true(g.lost_share > 0.05);   /* a core shared by two: much of it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gaps_within_bounds),
        cmocka_unit_test(test_a_core_taken_shows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
