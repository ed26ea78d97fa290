/*  Tests of cf_seqcheck: gaps per (publisher, topic), no gap for the first
    notification of a pair or after a broker restart, and a table that
    keeps its pairs as it grows.                                             */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_seqcheck.h"

static uint64_t see(cf_seqcheck_t *check, const char *publisher, const char *topic, uint64_t seq)
{
    return cf_seqcheck_see(check, publisher, strlen(publisher), topic, strlen(topic), seq, NULL);
}

static void test_gaps(void **state)
{
    (void) state;
    cf_seqcheck_t *check = cf_seqcheck_new();
    assert_int_equal(see(check, "b1", "reject", 5), 0);        /* joined late: no gap */
    assert_int_equal(see(check, "b1", "reject", 6), 0);
    assert_int_equal(see(check, "b1", "reject", 9), 2);
    uint64_t last = 0;
    assert_int_equal(cf_seqcheck_see(check, "b1", 2, "reject", 6, 10, &last), 0);
    assert_int_equal(last, 9);
    assert_int_equal(see(check, "b1", "rejec", 1), 0);         /* another topic */
    assert_int_equal(see(check, "b1", "rejec", 3), 1);
    assert_int_equal(see(check, "b2", "reject", 1), 0);        /* restarted broker */
    assert_int_equal(see(check, "b1r", "eject", 4), 0);        /* not the pair (b1, reject) */
    assert_int_equal(see(check, "b1", "reject", 10), 0);       /* a repeat: no gap */
    assert_int_equal(see(check, "", "", 1), 0);
    assert_int_equal(see(check, "", "", 3), 1);
    assert_int_equal(cf_seqcheck_size(check), 5);
    cf_seqcheck_destroy(&check);
    assert_null(check);
    cf_seqcheck_destroy(&check);
}

static void test_growth(void **state)
{
    (void) state;
    cf_seqcheck_t *check = cf_seqcheck_new();
    char topic[64];
    for (uint64_t round = 1; round <= 3; round++)
        for (int i = 0; i < 1000; i++) {
            snprintf(topic, sizeof topic, "case.P%d.arrived", i);
            assert_int_equal(see(check, "pub", topic, round * (i % 2 ? 1 : 2)), i % 2 || round == 1 ? 0 : 1);
        }
    assert_int_equal(cf_seqcheck_size(check), 1000);
    cf_seqcheck_destroy(&check);
}

/* Made-up topics stop being tracked at the bound; tracked pairs still work. */
static void test_bounded(void **state)
{
    (void) state;
    cf_seqcheck_t *check = cf_seqcheck_new();
    char topic[64];
    for (int i = 0; i < CF_SEQCHECK_MAX_PAIRS; i++) {
        snprintf(topic, sizeof topic, "t%d", i);
        see(check, "pub", topic, 1);
    }
    assert_int_equal(see(check, "pub", "one-more", 1), 0);
    assert_int_equal(see(check, "pub", "one-more", 9), 0);      /* not tracked: no gap */
    assert_int_equal(cf_seqcheck_size(check), CF_SEQCHECK_MAX_PAIRS);
    assert_int_equal(see(check, "pub", "t7", 5), 3);            /* a tracked pair: 2, 3, 4 */
    cf_seqcheck_destroy(&check);
}

/* Outbox ids: a repeat is an id seen already, whatever the order (two
   brokers publish a stream's batches each at its own pace), or one at or
   before a snapshot's cursor; every shard a deployment may have (up to
   CF_SHARD_MAX) and the milestones' stream are streams apart. */
static bool repeat(cf_seqcheck_t *check, const char *id)
{
    return cf_seqcheck_repeat(check, id, strlen(id));
}

static void test_outbox_ids(void **state)
{
    (void) state;
    cf_seqcheck_t *check = cf_seqcheck_new();
    assert_false(repeat(check, "s63-100-0"));
    assert_false(repeat(check, "p-5-0"));           /* not shard 63's stream */
    assert_false(repeat(check, "s63-99-7"));        /* earlier, from the slower broker: news */
    assert_true(repeat(check, "s63-100-0"));        /* the other broker's copy */
    assert_true(repeat(check, "s63-99-7"));
    assert_true(repeat(check, "p-5-0"));
    assert_false(repeat(check, "s1023-1-0"));
    assert_true(repeat(check, "s1023-1-0"));
    assert_false(repeat(check, "s1024-1-0"));        /* past CF_SHARD_MAX: not checked */
    assert_false(repeat(check, "s1024-1-0"));
    assert_false(repeat(check, "s1-x"));             /* does not parse: never a repeat */
    assert_false(repeat(check, "s1-x"));
    cf_seqcheck_floor(check, "s5-200-3", 8);        /* a snapshot's cursor */
    assert_true(repeat(check, "s5-200-3"));
    assert_true(repeat(check, "s5-199-9"));
    assert_false(repeat(check, "s5-200-4"));
    assert_false(repeat(check, "s6-1-0"));           /* another stream */
    cf_seqcheck_destroy(&check);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_outbox_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
