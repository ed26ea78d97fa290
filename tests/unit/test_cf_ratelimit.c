/*  Tests of cf_ratelimit: the bucket per producer, its refill, the bytes
    each holds within a cap, and the bound on producers tracked (a sweep
    forgets only refilled buckets that hold nothing). A job gives back what
    it was charged when destroyed.                                         */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>
#include "caseflow/cf_ratelimit.h"
#include "cf_jobq.h"

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

/*  check answers as take would, and takes nothing.                         */
static void test_check_takes_nothing(void **unused)
{
    (void) unused;
    cf_ratelimit_t *r = cf_ratelimit_new(1, 2, 10);
    for (int i = 0; i < 5; i++)
        assert_int_equal(cf_ratelimit_check(r, "a", 1, 1, 0), CF_RATELIMIT_OK);
    assert_int_equal(cf_ratelimit_take(r, "a", 1, 2, 0), CF_RATELIMIT_OK);
    assert_int_equal(cf_ratelimit_check(r, "a", 1, 1, 0), CF_RATELIMIT_OVER);
    assert_int_equal(cf_ratelimit_check(r, "a", 1, 1, 1000), CF_RATELIMIT_OK);
    cf_ratelimit_destroy(&r);
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

static void test_held(void **unused)
{
    (void) unused;
    cf_ratelimit_t *r = cf_ratelimit_new(10, 100, 2);
    assert_int_equal(cf_ratelimit_hold(r, "a", 1, 600, 1000, 0), CF_RATELIMIT_OK);
    assert_int_equal(cf_ratelimit_hold(r, "a", 1, 500, 1000, 0), CF_RATELIMIT_OVER);
    assert_int_equal(cf_ratelimit_held(r, "a", 1), 600);               /* nothing added */
    assert_int_equal(cf_ratelimit_hold(r, "b", 1, 1000, 1000, 0), CF_RATELIMIT_OK); /* its own */
    assert_int_equal(cf_ratelimit_hold(r, "c", 1, 1, 1000, 0), CF_RATELIMIT_FULL);
    cf_ratelimit_release(r, "a", 1, 200);
    assert_int_equal(cf_ratelimit_hold(r, "a", 1, 500, 1000, 0), CF_RATELIMIT_OK);
    assert_int_equal(cf_ratelimit_held(r, "a", 1), 900);
    assert_int_equal(cf_ratelimit_hold(r, "a", 1, 2000, 1000, 0), CF_RATELIMIT_OVER);
    /* full buckets, much later: "b" holds nothing any more and is forgotten
       for "c"; "a" still holds, so it is kept (its share is not reset) */
    cf_ratelimit_release(r, "b", 1, 1000);
    assert_int_equal(cf_ratelimit_hold(r, "c", 1, 1, 1000, 100000), CF_RATELIMIT_OK);
    assert_int_equal(cf_ratelimit_held(r, "a", 1), 900);
    assert_int_equal(cf_ratelimit_held(r, "b", 1), 0);
    /* a job charged for "a" gives its bytes back when destroyed */
    cf_job_t *job = cf_job_new(1, 0);
    assert_int_equal(cf_ratelimit_hold(r, "a", 1, 100, 1000, 100000), CF_RATELIMIT_OK);
    cf_job_charge(job, r, "a", 1, 100);
    assert_int_equal(cf_ratelimit_held(r, "a", 1), 1000);
    cf_job_destroy(&job);
    assert_int_equal(cf_ratelimit_held(r, "a", 1), 900);
    cf_ratelimit_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_check_takes_nothing),
        cmocka_unit_test(test_peers_bounded),
        cmocka_unit_test(test_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
