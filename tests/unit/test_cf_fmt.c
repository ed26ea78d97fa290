/*  Tests of cf_fmt: the same bytes and return value as snprintf, for the
    conversions of its fast path on edge values (0, negatives, INT64_MIN and
    INT64_MAX, every integer size), for output cut at every buffer size, and
    for what it hands to vsnprintf (widths, flags, other conversions).     */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_fmt.h"

/* Formats with cf_fmt_v and vsnprintf into buffers of every size from 0 to
   past the whole output, and asserts the same bytes and return values. */
static void same(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void same(const char *fmt, ...)
{
    char want[256], got[256];
    va_list ap, copy;
    va_start(ap, fmt);
    va_copy(copy, ap);
    int want_len = vsnprintf(want, sizeof want, fmt, copy);
    va_end(copy);
    assert_true(want_len >= 0 && (size_t) want_len < sizeof want);
    for (size_t size = 0; size <= (size_t) want_len + 2; size++) {
        char exact[256];
        memset(exact, 'x', sizeof exact);
        memset(got, 'x', sizeof got);
        va_copy(copy, ap);
        int exact_len = vsnprintf(exact, size, fmt, copy);
        va_end(copy);
        va_copy(copy, ap);
        int got_len = cf_fmt_v(size ? got : NULL, size, fmt, copy);
        va_end(copy);
        assert_int_equal(got_len, exact_len);
        assert_memory_equal(got, exact, sizeof got);    /* nothing written past size */
    }
    va_end(ap);
}

static void test_integers(void **unused)
{
    (void) unused;
    const long long values[] = { 0, 1, -1, 9, 10, -10, 99, 100, 12345, -12345, INT_MAX, INT_MIN,
                                 (long long) INT_MAX + 1, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1 };
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        long long v = values[i];
        same("%lld", v);
        same("x%lldy", v);
        same("%llu", (unsigned long long) v);
        same("%ld|%lu", (long) v, (unsigned long) v);
        same("%d|%u", (int) v, (unsigned) v);
        same("%" PRId64 " %" PRIu64, (int64_t) v, (uint64_t) v);
        same("%zu", (size_t) v);
        char buf[CF_FMT_INT_MAX], want[CF_FMT_INT_MAX];
        size_t len = cf_fmt_i64(buf, (int64_t) v);
        assert_int_equal(len, (size_t) snprintf(want, sizeof want, "%lld", v));
        assert_string_equal(buf, want);
        len = cf_fmt_u64(buf, (uint64_t) v);
        assert_int_equal(len, (size_t) snprintf(want, sizeof want, "%llu", (unsigned long long) v));
        assert_string_equal(buf, want);
    }
    same("%u", UINT_MAX);
    same("%llu", ULLONG_MAX);
}

/* The shapes caseflow formats: counter fields and key names. */
static void test_fields_and_keys(void **unused)
{
    (void) unused;
    same("%s|%s|bucket|%lld|%lld", "CH-AVR", "registered-departed", 0LL, -1LL);
    same("%s|%s|%s|%s|%u|%s", "2024-03-01", "donor%7C1", "p", "EUR", 3u, "value");
    same("cf:{s%u}:case:%.*s", 63u, 32, "a1b2c3d4e5f60718293a4b5c6d7e8f90-and-more");
    same("cf:{s%u}:eid:%lld:%u", 0u, 1709251200LL, 1023u);
    same("%.*s|%.*s", 0, "abc", 5, "ab");
    same("%.*s", -1, "negative precision: all of it");
    same("duplicate");
    same("100%% and %c%c", 'o', 'k');
    same("%s", "");
}

/* What the fast path leaves to vsnprintf gives vsnprintf's bytes. */
static void test_fallback(void **unused)
{
    (void) unused;
    same("%5d|%-5d|%05lld", 42, -42, -7LL);
    same("%20lld|%-21lld|", LLONG_MIN, LLONG_MAX);
    same("%3s|%-4s|%.2s", "a", "b", "cdef");
    same("%x %X %o %#x", 255u, 255u, 8u, 16u);
    same("%+d % d %hd %hhu", 5, 5, (short) -3, (unsigned char) 200);
    same("%zd %f %.3g %p", (ssize_t) -5, 1.5, 2.0 / 3, (void *) 0);
    const char *volatile none = NULL;    /* glibc prints "(null)" */
    same("%s and %s", "fast", none);
    same("%s|%5s", "mixed: fast then a width", "w");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_fields_and_keys),
        cmocka_unit_test(test_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
