/*  Tests of cf_keys: the names put together by hand (fixed, case, eid) are
    the bytes of their snprintf formats, on edge values (shard 0 and the
    largest, the last bucket, a case_id cut by its length); the rest are
    formatted as documented (docs/storage.md), as are the markers' fields
    and values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_keys.h"

static void test_hand_made_names(void **unused)
{
    (void) unused;
    const unsigned shards[] = { 0, 7, 63, 1000, UINT_MAX };
    const unsigned buckets[] = { 0, 9, 10, CF_KEYS_EID_BUCKETS - 1 };
    char got[CF_KEYS_MAX], want[CF_KEYS_MAX];
    for (size_t i = 0; i < sizeof shards / sizeof *shards; i++) {
        unsigned s = shards[i];
        for (int key = 0; key < CF_KEYS_FIXED; key++) {
            size_t len = cf_keys_fixed(got, sizeof got, s, key);
            int n = snprintf(want, sizeof want, "cf:{s%u}:%s", s, cf_keys_fixed_name(key));
            assert_int_equal(len, n);
            assert_string_equal(got, want);
        }
        const char *id = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
        for (size_t cut = 0; cut <= strlen(id) + 1; cut += 8) {
            size_t len = cf_keys_case(got, sizeof got, s, id, cut);
            int n = snprintf(want, sizeof want, "cf:{s%u}:case:%.*s", s, (int) cut, id);
            assert_int_equal(len, n);
            assert_string_equal(got, want);
        }
        for (size_t b = 0; b < sizeof buckets / sizeof *buckets; b++) {
            size_t len = cf_keys_eid(got, sizeof got, s, buckets[b]);
            int n = snprintf(want, sizeof want, "cf:{s%u}:eid:%u", s, buckets[b]);
            assert_int_equal(len, n);
            assert_string_equal(got, want);
        }
    }
    /* a buffer that holds exactly the name and its NUL */
    char exact[sizeof "cf:{s5}:case:ab"];
    assert_int_equal(cf_keys_case(exact, sizeof exact, 5, "ab", 2), sizeof exact - 1);
    assert_string_equal(exact, "cf:{s5}:case:ab");
}

/* A marker's value holds its generation and its request's tag; anything
   but such a decimal is refused. */
static void test_marker_values(void **unused)
{
    (void) unused;
    const long long generations[] = { 0, 1, 680, 17000000, (1LL << 32) - 1 };
    const long long tags[] = { 0, 1, 12345, (1LL << 31) - 1 };
    for (size_t g = 0; g < sizeof generations / sizeof *generations; g++)
        for (size_t t = 0; t < sizeof tags / sizeof *tags; t++) {
            char text[32];
            int len = snprintf(text, sizeof text, "%lld",
                               cf_keys_eid_value(generations[g], tags[t]));
            long long generation = -1, tag = -1;
            assert_int_equal(cf_keys_eid_value_parse(text, (size_t) len, &generation, &tag), 0);
            assert_int_equal(generation, generations[g]);
            assert_int_equal(tag, tags[t]);
        }
    assert_int_equal(cf_keys_eid_value(680, 7), 680LL * 2147483648LL + 7);
    long long generation, tag;
    static const char *const bad[] = { "", "-1", "01", "12a", "1.5", " 1",
                                       "9223372036854775808", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cf_keys_eid_value_parse(bad[i], strlen(bad[i]), &generation, &tag), -1);
    assert_int_equal(cf_keys_eid_value_parse("9223372036854775807", 19, &generation, &tag), 0);
    assert_int_equal(cf_keys_eid_value_parse("0", 1, &generation, &tag), 0);
    assert_true(generation == 0 && tag == 0);
}

/* A case's markers share its bucket; a case event is known by its case and
   event_id together (the same id in another case is another event); an
   event without a case by its event_id alone. */
static void test_marker_digests(void **unused)
{
    (void) unused;
    const char *case_a = "0123456789abcdef0123456789abcdef";
    const char *case_b = "fedcba9876543210fedcba9876543210";
    unsigned char d1[CF_KEYS_EID_DIGEST], d2[CF_KEYS_EID_DIGEST], d3[CF_KEYS_EID_DIGEST];
    unsigned a = cf_keys_eid_digest(case_a, "e-1", d1);
    unsigned b = cf_keys_eid_digest(case_b, "e-1", d2);
    assert_int_not_equal(a, b);                 /* these two cases' buckets differ */
    assert_memory_not_equal(d1, d2, sizeof d1);
    unsigned spread = 0;                        /* one bucket for every event of case_a */
    for (int i = 0; i < 64; i++) {
        char id[16];
        snprintf(id, sizeof id, "e-%d", i);
        assert_int_equal(cf_keys_eid_digest(case_a, id, d3), a);
        spread |= cf_keys_eid_digest(NULL, id, d3) != a;    /* ids alone: spread over buckets */
    }
    assert_true(spread);
    assert_int_equal(cf_keys_eid_digest(NULL, "e-1", d1), cf_keys_eid_digest("", "e-1", d2));
    assert_memory_equal(d1, d2, sizeof d1);
    cf_keys_eid_digest(case_a, "e-1", d3);
    assert_memory_not_equal(d1, d3, sizeof d1);
    cf_keys_eid_digest("ab", "ce-1", d1);       /* the case ends where its terminator is */
    cf_keys_eid_digest("abc", "e-1", d2);
    assert_memory_not_equal(d1, d2, sizeof d1);
    assert_true(cf_keys_eid_digest(case_a, "e-1", d1) < CF_KEYS_EID_BUCKETS);
    /* in two steps, the same bucket and field */
    assert_int_equal(cf_keys_eid_case_bucket(case_a), a);
    assert_int_equal(cf_keys_eid_case_bucket(case_b), b);
    cf_keys_eid_case_digest(case_b, "e-1", d3);
    cf_keys_eid_digest(case_b, "e-1", d1);
    assert_memory_equal(d1, d3, sizeof d1);
}

static void test_formatted_names(void **unused)
{
    (void) unused;
    char buf[CF_KEYS_REJECTION_MAX];
    assert_int_equal(cf_keys_rejection(buf, sizeof buf, 3, "e-1", "persons.sex"), 27);
    assert_string_equal(buf, "cf:{s3}:rej:e-1|persons.sex");
    cf_keys_dlq_try(buf, sizeof buf, "e-1");
    assert_string_equal(buf, "cf:{dlq}:try:e-1");
    cf_keys_dlq_dead(buf, sizeof buf, "e-1");
    assert_string_equal(buf, "cf:{dlq}:dead:e-1");
    cf_keys_alert_sink(buf, sizeof buf, "ops");
    assert_string_equal(buf, "cf:alert:sink:ops");
    cf_keys_alert_dead(buf, sizeof buf, "ops");
    assert_string_equal(buf, "cf:alert:dead:ops");
    assert_string_equal(cf_keys_fixed_name(CF_KEYS_OUTBOX), "outbox");
    assert_string_equal(cf_keys_fixed_type(CF_KEYS_DUE), "zset");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made_names),
        cmocka_unit_test(test_formatted_names),
        cmocka_unit_test(test_marker_digests),
        cmocka_unit_test(test_marker_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
