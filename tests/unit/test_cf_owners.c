/*  Tests of cf_owners: every shard owned, spread over the workers; a
    worker that joins takes only what it now wins (about 1/n), one that
    leaves gives away only its own; the same names give the same owners in
    any order.                                                               */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "cf_owners.h"

enum { SHARDS = 64, MAX = 9 };

static void names(char label[][8], const char **out, size_t n, size_t first)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(label[i], 8, "w%zu", first + i);
        out[i] = label[i];
    }
}

static void test_every_shard_owned(void **state)
{
    (void) state;
    char label[MAX][8];
    const char *w[MAX];
    int owner[SHARDS];
    cf_owners_assign(NULL, 0, SHARDS, owner);
    for (int s = 0; s < SHARDS; s++)
        assert_int_equal(owner[s], -1);
    for (size_t n = 1; n <= 8; n++) {
        names(label, w, n, 1);
        cf_owners_assign(w, n, SHARDS, owner);
        size_t held[MAX] = { 0 };
        for (int s = 0; s < SHARDS; s++) {
            assert_true(owner[s] >= 0 && (size_t) owner[s] < n);
            held[owner[s]]++;
        }
        for (size_t i = 0; i < n; i++)      /* roughly even: none gets nothing or triple */
            assert_true(held[i] > 0 && held[i] < 3 * SHARDS / n + 3);
    }
}

static void test_few_moves(void **state)
{
    (void) state;
    char label[MAX][8];
    const char *w[MAX];
    int before[SHARDS], after[SHARDS];
    for (size_t n = 1; n < 8; n++) {
        names(label, w, n + 1, 1);          /* w1..wn, then w(n+1) joins */
        cf_owners_assign(w, n, SHARDS, before);
        cf_owners_assign(w, n + 1, SHARDS, after);
        int moved = 0;
        for (int s = 0; s < SHARDS; s++)
            if (before[s] != after[s]) {
                assert_int_equal(after[s], (int) n);      /* only to the newcomer */
                moved++;
            }
        assert_true(moved > 0 && moved <= 2 * SHARDS / (int) (n + 1) + 4);
        /* w1 leaves the n + 1: only its shards move */
        cf_owners_assign(w + 1, n, SHARDS, before);
        for (int s = 0; s < SHARDS; s++)
            if (after[s] != 0)
                assert_int_equal(before[s], after[s] - 1);
    }
}

static void test_order_does_not_matter(void **state)
{
    (void) state;
    const char *a[] = { "w1", "w2", "w3" }, *b[] = { "w3", "w1", "w2" };
    int x[SHARDS], y[SHARDS];
    cf_owners_assign(a, 3, SHARDS, x);
    cf_owners_assign(b, 3, SHARDS, y);
    for (int s = 0; s < SHARDS; s++)
        assert_string_equal(a[x[s]], b[y[s]]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_shard_owned),
        cmocka_unit_test(test_few_moves),
        cmocka_unit_test(test_order_does_not_matter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
