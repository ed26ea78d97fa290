/*  Tests of cf_owners: every shard owned, and evenly (no worker above
    ceil(shards / n), none below what that leaves); a worker that joins or
    leaves moves few more shards than its share, most of them to or from
    itself; the same names give the same owners in any order.              */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "cf_owners.h"

enum { SHARDS = 64, MAX = 9, ROSTERS = 50 };

/* n labels host:pid, as the broker names workers, from a seed. */
static void names(char label[][24], const char **out, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(label[i], 24, "node-%u:%u", seed >> 28, 1000 + (seed >> 8) % 4000000);
        out[i] = label[i];
    }
}

static void test_every_shard_owned_evenly(void **state)
{
    (void) state;
    char label[MAX][24];
    const char *w[MAX];
    int owner[SHARDS];
    cf_owners_assign(NULL, 0, SHARDS, owner);
    for (int s = 0; s < SHARDS; s++)
        assert_int_equal(owner[s], -1);
    for (unsigned r = 0; r < ROSTERS; r++)
        for (size_t n = 1; n <= 8; n++) {
            names(label, w, n, r * 10 + (unsigned) n);
            cf_owners_assign(w, n, SHARDS, owner);
            size_t held[MAX] = { 0 }, cap = (SHARDS + n - 1) / n;
            for (int s = 0; s < SHARDS; s++) {
                assert_true(owner[s] >= 0 && (size_t) owner[s] < n);
                held[owner[s]]++;
            }
            for (size_t i = 0; i < n; i++)
                assert_true(held[i] <= cap && held[i] + (n - 1) * cap >= SHARDS);
        }
}

/* Over many rosters: a newcomer takes its share, and few others move;
   a worker that leaves gives away its own, and few others move. */
static void test_few_moves(void **state)
{
    (void) state;
    char label[MAX][24];
    const char *w[MAX];
    int before[SHARDS], after[SHARDS];
    size_t moved = 0, share = 0, others = 0;
    for (unsigned r = 0; r < ROSTERS; r++)
        for (size_t n = 1; n < 8; n++) {
            names(label, w, n + 1, r * 10 + (unsigned) n);
            cf_owners_assign(w, n, SHARDS, before);         /* w[n] joins */
            cf_owners_assign(w, n + 1, SHARDS, after);
            for (int s = 0; s < SHARDS; s++) {
                share += after[s] == (int) n;
                if (before[s] != after[s]) {
                    moved++;
                    others += after[s] != (int) n;
                }
            }
            cf_owners_assign(w + 1, n, SHARDS, before);     /* w[0] leaves */
            for (int s = 0; s < SHARDS; s++) {
                share += after[s] == 0;
                if (after[s] != 0 && before[s] != after[s] - 1) {
                    moved++;
                    others++;
                } else if (after[s] == 0) {
                    moved++;
                }
            }
        }
    /* plain rendezvous: moved == share, others == 0 */
    assert_true(moved >= share);
    assert_true(moved * 10 <= share * 13);      /* at most 30 % more than the share */
    assert_true(others * 10 <= share * 3);
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
        cmocka_unit_test(test_every_shard_owned_evenly),
        cmocka_unit_test(test_few_moves),
        cmocka_unit_test(test_order_does_not_matter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
