/*  Tests of cf_ratelimit: the bucket per producer, its refill, and the
    bound on producers tracked (a sweep forgets only refilled buckets).    */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>
#include "caseflow/cf_ratelimit.h"

static void test_rate(void **unused)
{
    (void) unused;
    cf_ratelimit_t *r = cf_ratelimit_new(100, 1000, 10);     /* 100/s, burst 1000 */
    assert_int_equal(cf_ratelimit_take(r, "a", 1, 1000, 0), CF_RATELIMIT_OK);
    assert_int_equal(cf_ratelimit_take(r, "a", 1, 1, 0), CF_RATELIMIT_OVER);
    assert_int_equal(cf_ratelimit_take(r, "b", 1, 1000, 0), CF_RATELIMIT_OK);   /* its own */
    assert_int_equal(cf_ratelimit_take(r, "a", 1, 50, 400), CF_RATELIMIT_OVER); /* 40 back */
    assert_int_equal(cf_ratelimit_take(r, "a", 1, 50, 500), CF_RATELIMIT_OK);   /* 50 back */
    assert_int_equal(cf_ratelimit_take(r, "a", 1, 1000, 1000000), CF_RATELIMIT_OK); /* capped */
    assert_int_equal(cf_ratelimit_take(r, "a", 1, 1, 1000000), CF_RATELIMIT_OVER);
    cf_ratelimit_destroy(&r);
    assert_null(r);
}

static void test_peers_bounded(void **unused)
{
    (void) unused;
    cf_ratelimit_t *r = cf_ratelimit_new(10, 100, 4);
    char id[16];
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "p%d", i);
        assert_int_equal(cf_ratelimit_take(r, id, 2, 100, 0), CF_RATELIMIT_OK);
    }
    assert_int_equal(cf_ratelimit_size(r), 4);
    assert_int_equal(cf_ratelimit_take(r, "new", 3, 1, 0), CF_RATELIMIT_FULL);
    assert_int_equal(cf_ratelimit_take(r, "p0", 2, 0, 0), CF_RATELIMIT_OK);     /* known: fine */
    /* 10 s later all are full again; p0 empties its bucket, so the sweep for
       "new" forgets p1..p3 and keeps p0 */
    assert_int_equal(cf_ratelimit_take(r, "p0", 2, 100, 10000), CF_RATELIMIT_OK);
    assert_int_equal(cf_ratelimit_take(r, "new", 3, 1, 10000), CF_RATELIMIT_OK);
    assert_int_equal(cf_ratelimit_size(r), 2);
    assert_int_equal(cf_ratelimit_take(r, "p0", 2, 1, 10000), CF_RATELIMIT_OVER);   /* kept */
    cf_ratelimit_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_peers_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
