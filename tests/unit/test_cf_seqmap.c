/*  Tests of cf_seqmap: per-topic sequences survive growth of the table.     */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_seqmap.h"

static void test_sequences_per_topic(void **state)
{
    (void) state;
    cf_seqmap_t *map = cf_seqmap_new();
    assert_int_equal(cf_seqmap_last(map, "reject", 6), 0);
    assert_int_equal(cf_seqmap_next(map, "reject", 6), 1);
    assert_int_equal(cf_seqmap_next(map, "reject", 6), 2);
    assert_int_equal(cf_seqmap_next(map, "rejec", 5), 1);   /* a prefix is another topic */
    char topic[64];
    for (int round = 1; round <= 3; round++)
        for (int i = 0; i < 500; i++) {
            int n = snprintf(topic, sizeof topic, "case.P%d.departed", i);
            assert_int_equal(cf_seqmap_next(map, topic, (size_t) n), (uint64_t) round);
        }
    assert_int_equal(cf_seqmap_size(map), 502);
    assert_int_equal(cf_seqmap_last(map, "reject", 6), 2);
    assert_int_equal(cf_seqmap_last(map, "case.P499.departed", 18), 3);
    assert_int_equal(cf_seqmap_set(map, "reject", 6, 40), 2);     /* returns what it replaced */
    assert_int_equal(cf_seqmap_next(map, "reject", 6), 41);
    assert_int_equal(cf_seqmap_set(map, "new", 3, 7), 0);
    assert_int_equal(cf_seqmap_size(map), 503);
    cf_seqmap_destroy(&map);
    assert_null(map);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_sequences_per_topic) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
