/*  Tests of cf_counts: sums by name, lookups of absent names, iteration in
    strcmp order after adds in any order, names that are not NUL-terminated,
    growth past the hash table's first sizes, and destroy's NULL handling.   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_counts.h"

static void test_empty(void **state)
{
    (void) state;
    cf_counts_t *counts = cf_counts_new();
    assert_int_equal(cf_counts_size(counts), 0);
    assert_int_equal(cf_counts_get(counts, "x"), 0);
    assert_false(cf_counts_has(counts, "x"));
    cf_counts_destroy(&counts);
    assert_null(counts);
    cf_counts_destroy(&counts);
    cf_counts_destroy(NULL);
}

static void test_sums_and_order(void **state)
{
    (void) state;
    cf_counts_t *counts = cf_counts_new();
    cf_counts_add(counts, "CH-AVR|registered|ever|cases", 28, 3);
    cf_counts_add(counts, "CH-AVR|arrived|ever|cases", 25, 1);
    cf_counts_add(counts, "CH-AVR|registered|ever|cases", 28, 4);
    cf_counts_add(counts, "zeta", 4, -2);
    cf_counts_add(counts, "alpha-and-more", 5, 9);      /* only "alpha" */
    cf_counts_add(counts, "", 0, 1);
    assert_int_equal(cf_counts_size(counts), 5);
    assert_int_equal(cf_counts_get(counts, "CH-AVR|registered|ever|cases"), 7);
    assert_int_equal(cf_counts_get(counts, "alpha"), 9);
    assert_int_equal(cf_counts_get(counts, "zeta"), -2);
    assert_int_equal(cf_counts_get(counts, ""), 1);
    assert_true(cf_counts_has(counts, "zeta"));

    const char *want[] = { "", "CH-AVR|arrived|ever|cases", "CH-AVR|registered|ever|cases",
                           "alpha", "zeta" };
    const int64_t values[] = { 1, 1, 7, 9, -2 };
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(cf_counts_name(counts, i), want[i]);
        assert_int_equal(cf_counts_value(counts, i), values[i]);
    }
    /* An add after iterating re-sorts. */
    cf_counts_add(counts, "beta", 4, 5);
    assert_string_equal(cf_counts_name(counts, 4), "beta");
    assert_int_equal(cf_counts_value(counts, 4), 5);
    assert_string_equal(cf_counts_name(counts, 5), "zeta");
    cf_counts_destroy(&counts);
}

static void test_zero_sum_is_kept(void **state)
{
    (void) state;
    cf_counts_t *counts = cf_counts_new();
    cf_counts_add(counts, "a", 1, 2);
    cf_counts_add(counts, "a", 1, -2);
    assert_int_equal(cf_counts_size(counts), 1);
    assert_true(cf_counts_has(counts, "a"));
    assert_int_equal(cf_counts_get(counts, "a"), 0);
    cf_counts_destroy(&counts);
}

static void test_many(void **state)
{
    (void) state;
    cf_counts_t *counts = cf_counts_new();
    char name[32];
    /* Eight "shards" of the same 20 000 names, added in a scrambled order. */
    for (int shard = 0; shard < 8; shard++)
        for (int i = 0; i < 20000; i++) {
            int n = (i * 7919 + shard * 13) % 20000;
            int len = snprintf(name, sizeof name, "f%05d", n);
            cf_counts_add(counts, name, (size_t) len, n % 3);
        }
    assert_int_equal(cf_counts_size(counts), 20000);
    for (size_t i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "f%05zu", i);
        assert_string_equal(cf_counts_name(counts, i), name);
        assert_int_equal(cf_counts_value(counts, i), 8 * (int64_t) (i % 3));
    }
    assert_int_equal(cf_counts_get(counts, "f19999"), 8 * (19999 % 3));
    cf_counts_destroy(&counts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_sums_and_order),
        cmocka_unit_test(test_zero_sum_is_kept),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
