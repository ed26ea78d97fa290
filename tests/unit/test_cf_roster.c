/*  Tests of cf_roster: credit accounting, picking the least busy worker
    (never a draining one), releasing and taking back jobs.                                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "cf_roster.h"

static void test_credit_and_pick(void **state)
{
    (void) state;
    cf_roster_t *roster = cf_roster_new();
    assert_null(cf_roster_add(roster, "", 0, 0));
    cf_member_t *a = cf_roster_add(roster, "a", 1, 100);
    cf_member_t *b = cf_roster_add(roster, "b", 1, 100);
    assert_ptr_equal(cf_roster_find(roster, "b", 1), b);
    assert_null(cf_roster_find(roster, "c", 1));
    assert_null(cf_roster_pick(roster));            /* nobody has credit yet */
    a->credit = 2;
    b->credit = 1;
    a->last_sent = 50;
    cf_member_t *first = cf_roster_pick(roster);
    assert_ptr_equal(first, a);                     /* equal load: longest idle */
    cf_member_hold(a, cf_job_new(7, 1));
    assert_int_equal(a->credit, 1);
    assert_ptr_equal(cf_roster_pick(roster), b);    /* b holds less now */
    cf_member_hold(b, cf_job_new(8, 1));
    cf_member_hold(a, cf_job_new(9, 1));
    assert_null(cf_roster_pick(roster));            /* all credit spent */

    assert_null(cf_member_release(a, 8));           /* a does not hold job 8 */
    cf_job_t *job = cf_member_release(a, 7);
    assert_non_null(job);
    assert_int_equal(job->id, 7);
    assert_int_equal(a->credit, 1);
    cf_job_destroy(&job);

    cf_job_t *back = cf_member_take_all(b);
    assert_int_equal(back->id, 8);
    assert_null(back->next);
    assert_int_equal(b->credit, 1);
    assert_int_equal(b->inflight_count, 0);
    cf_job_destroy(&back);
    cf_roster_remove(roster, b);
    assert_int_equal(cf_roster_size(roster), 1);
    assert_ptr_equal(cf_roster_at(roster, 0), a);
    cf_roster_destroy(&roster);                     /* frees job 9 held by a */
    assert_null(roster);
}

/* A peer that makes up routing ids cannot grow the roster past its bound. */
static void test_bounded(void **state)
{
    (void) state;
    cf_roster_t *roster = cf_roster_new();
    unsigned id;
    for (id = 0; id < CF_ROSTER_MAX; id++)
        assert_non_null(cf_roster_add(roster, &id, sizeof id, 0));
    assert_null(cf_roster_add(roster, &id, sizeof id, 0));
    assert_int_equal(cf_roster_size(roster), CF_ROSTER_MAX);
    cf_roster_destroy(&roster);
}

/* A draining member keeps its jobs and credit but gets no new job. */
static void test_draining_not_picked(void **state)
{
    (void) state;
    cf_roster_t *roster = cf_roster_new();
    cf_member_t *a = cf_roster_add(roster, "a", 1, 100);
    cf_member_t *b = cf_roster_add(roster, "b", 1, 100);
    a->credit = b->credit = 2;
    a->last_sent = 50;
    a->draining = true;
    assert_ptr_equal(cf_roster_pick(roster), b);    /* a is idle longest, but draining */
    b->draining = true;
    assert_null(cf_roster_pick(roster));
    cf_roster_destroy(&roster);
    assert_null(roster);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_credit_and_pick),
                                        cmocka_unit_test(test_bounded),
                                        cmocka_unit_test(test_draining_not_picked) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
