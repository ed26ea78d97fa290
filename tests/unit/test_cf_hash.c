/*  Tests of cf_hash: every byte counts (a change of any byte, of the length
    or of the seed changes the hash), the bytes before data and after len
    do not, (key, field) splits differ, and the low bits a table masks are
    spread evenly over counter-field-like names.                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_hash.h"

static void test_every_byte_counts(void **state)
{
    (void) state;
    unsigned char buf[40];
    for (size_t len = 1; len <= sizeof buf; len++) {
        memset(buf, 'a', sizeof buf);
        uint64_t base = cf_hash(buf, len, 0);
        for (size_t i = 0; i < len; i++) {
            buf[i] = 'b';
            assert_true(cf_hash(buf, len, 0) != base);
            buf[i] = 'a';
        }
        assert_true(cf_hash(buf, len - 1, 0) != base);  /* the length counts */
        assert_true(cf_hash(buf, len, 1) != base);      /* the seed counts */
    }
}

static void test_only_the_bytes_given(void **state)
{
    (void) state;
    char a[32] = "xxprogramme|stage|nowyy", b[32] = "..programme|stage|now..";
    for (size_t len = 0; len <= 19; len++)
        assert_true(cf_hash(a + 2, len, 7) == cf_hash(b + 2, len, 7));
}

static void test_pairs_split_differently_differ(void **state)
{
    (void) state;
    assert_true(cf_hash2("ab", 2, "c", 1, 0) != cf_hash2("a", 1, "bc", 2, 0));
    assert_true(cf_hash2("", 0, "abc", 3, 0) != cf_hash2("abc", 3, "", 0, 0));
    assert_true(cf_hash2("k", 1, "f", 1, 0) == cf_hash2("k", 1, "f", 1, 0));
}

/* 64 000 names such as a fold makes, into 1 024 buckets by the low bits:
   each bucket near its share of 62.5 (a bad mix leaves some empty and piles
   others up). */
static void test_low_bits_spread(void **state)
{
    (void) state;
    static unsigned buckets[1024];
    char name[64];
    for (unsigned i = 0; i < 64000; i++) {
        int len = snprintf(name, sizeof name, "day:2026-%02u-%02u|origin|C%03u|VRR|cases",
                           1 + i % 12, 1 + i / 12 % 28, i / 336);
        buckets[cf_hash(name, (size_t) len, 0) & 1023]++;
    }
    unsigned lo = ~0u, hi = 0;
    for (size_t b = 0; b < 1024; b++) {
        lo = buckets[b] < lo ? buckets[b] : lo;
        hi = buckets[b] > hi ? buckets[b] : hi;
    }
    assert_true(lo >= 30 && hi <= 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_counts),
        cmocka_unit_test(test_only_the_bytes_given),
        cmocka_unit_test(test_pairs_split_differently_differ),
        cmocka_unit_test(test_low_bits_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
