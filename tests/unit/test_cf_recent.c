/*  Tests of cf_recent: ids in any order delivered once, the memory bounded
    at CF_RECENT_IDS with what it forgot answered by the stream's floor,
    and floors set from outside (a snapshot's cursors).                     */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include "cf_recent.h"

/* Two brokers' copies of one stream, interleaved out of order: every id
   once, whichever copy comes first. */
static void test_out_of_order(void **state)
{
    (void) state;
    cf_recent_t *recent = cf_recent_new(3);
    /* broker 1 publishes entries 10..19, broker 2 entries 15..24: the
       subscriber sees 2's batch first, then 1's */
    unsigned delivered = 0;
    for (uint64_t seq = 15; seq < 25; seq++)
        delivered += !cf_recent_seen(recent, 0, 1000, seq);
    for (uint64_t seq = 10; seq < 20; seq++)
        delivered += !cf_recent_seen(recent, 0, 1000, seq);
    assert_int_equal(delivered, 15);                    /* 10..24, once each */
    assert_false(cf_recent_seen(recent, 1, 1000, 10));  /* another stream */
    assert_true(cf_recent_seen(recent, 1, 1000, 10));
    assert_false(cf_recent_seen(recent, 2, 999, 99));
    assert_int_equal(cf_recent_size(recent), 17);
    cf_recent_destroy(&recent);
    assert_null(recent);
    cf_recent_destroy(&recent);
}

/* Full, it forgets the oldest; an id at or before the newest forgotten of
   its stream still counts as seen, a later one unseen does not. */
static void test_bounded(void **state)
{
    (void) state;
    cf_recent_t *recent = cf_recent_new(2);
    for (uint64_t seq = 1; seq <= CF_RECENT_IDS; seq++)
        assert_false(cf_recent_seen(recent, 0, 7, seq * 2));
    assert_int_equal(cf_recent_size(recent), CF_RECENT_IDS);
    assert_true(cf_recent_seen(recent, 0, 7, 2));           /* still remembered */
    assert_false(cf_recent_seen(recent, 1, 7, 1));          /* forgets (0, 7, 2) */
    assert_int_equal(cf_recent_size(recent), CF_RECENT_IDS);
    assert_true(cf_recent_seen(recent, 0, 7, 2));           /* at its stream's floor */
    assert_true(cf_recent_seen(recent, 0, 6, 999));         /* before it */
    assert_false(cf_recent_seen(recent, 0, 7, 3));          /* after it, never seen */
    assert_false(cf_recent_seen(recent, 1, 6, 1));          /* stream 1's floor: none yet */
    for (uint64_t seq = 1; seq <= CF_RECENT_IDS; seq++)     /* every old one forgotten */
        cf_recent_seen(recent, 1, 8, seq);
    assert_true(cf_recent_seen(recent, 0, 7, CF_RECENT_IDS * 2));
    assert_int_equal(cf_recent_size(recent), CF_RECENT_IDS);
    cf_recent_destroy(&recent);
}

static void test_floor(void **state)
{
    (void) state;
    cf_recent_t *recent = cf_recent_new(1);
    cf_recent_floor(recent, 0, 50, 5);
    assert_true(cf_recent_seen(recent, 0, 50, 5));
    assert_true(cf_recent_seen(recent, 0, 49, 9));
    assert_false(cf_recent_seen(recent, 0, 50, 6));
    cf_recent_floor(recent, 0, 40, 0);                      /* never lowered */
    assert_true(cf_recent_seen(recent, 0, 45, 0));
    assert_int_equal(cf_recent_size(recent), 1);
    cf_recent_destroy(&recent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
