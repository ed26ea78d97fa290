/*  cf_commit_cache without Redis: what a shard's cache answers, that it
    belongs to one epoch (another, or none, starts it empty), that dropping
    one shard leaves the others, and the bound: a shard that would take the
    store past it is dropped, not the others; entries that share a hash,
    refs that outlive their shard's cache, and what it knows of a counter
    hash's fields.                                                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "cf_commit_cache.h"

#define K(s) s, strlen(s)

static void test_values_and_types(void **state)
{
    (void) state;
    cf_commit_cache_t *cache = cf_commit_cache_new(4, 100);
    assert_ptr_equal(cf_commit_cache_begin(cache, 1, 7), cache);
    int64_t v = -1;
    assert_false(cf_commit_cache_value(cache, 1, K("cf:{s1}:stage"), K("a|b"), &v));
    assert_int_equal(cf_commit_cache_put_value(cache, 1, K("cf:{s1}:stage"), K("a|b"), 42), 0);
    assert_int_equal(cf_commit_cache_put_value(cache, 1, K("cf:{s1}:stage"), K("a|b"), 43), 0);
    assert_true(cf_commit_cache_value(cache, 1, K("cf:{s1}:stage"), K("a|b"), &v));
    assert_int_equal(v, 43);
    /* the key and the field are apart: "x" + "yz" is not "xy" + "z" */
    assert_int_equal(cf_commit_cache_put_value(cache, 1, K("x"), K("yz"), 1), 0);
    assert_false(cf_commit_cache_value(cache, 1, K("xy"), K("z"), &v));
    /* a type is not a value, and is the type asked */
    assert_false(cf_commit_cache_typed(cache, 1, K("cf:{s1}:stage"), "a|b"));
    assert_int_equal(cf_commit_cache_put_type(cache, 1, K("cf:{s1}:outbox"), "stream"), 0);
    assert_true(cf_commit_cache_typed(cache, 1, K("cf:{s1}:outbox"), "stream"));
    assert_false(cf_commit_cache_typed(cache, 1, K("cf:{s1}:outbox"), "zset"));
    /* another shard knows nothing of it */
    assert_false(cf_commit_cache_value(cache, 2, K("cf:{s1}:stage"), K("a|b"), &v));
    /* many: the table grows */
    for (int i = 0; i < 80; i++) {
        char field[16];
        snprintf(field, sizeof field, "f%d", i);
        assert_int_equal(cf_commit_cache_put_value(cache, 1, K("h"), K(field), i), 0);
    }
    assert_int_equal(cf_commit_cache_entries(cache, 1), 83);
    assert_true(cf_commit_cache_value(cache, 1, K("h"), K("f79"), &v));
    assert_int_equal(v, 79);
    cf_commit_cache_destroy(&cache);
    assert_null(cache);
    cf_commit_cache_destroy(&cache);
}

static void test_epochs(void **state)
{
    (void) state;
    cf_commit_cache_t *cache = cf_commit_cache_new(4, 100);
    int64_t v;
    cf_commit_cache_begin(cache, 0, 3);
    cf_commit_cache_put_value(cache, 0, K("k"), K("f"), 5);
    cf_commit_cache_begin(cache, 1, 3);
    cf_commit_cache_put_value(cache, 1, K("k"), K("f"), 6);
    assert_ptr_equal(cf_commit_cache_begin(cache, 0, 3), cache);   /* the same: kept */
    assert_true(cf_commit_cache_value(cache, 0, K("k"), K("f"), &v));
    assert_ptr_equal(cf_commit_cache_begin(cache, 0, 4), cache);   /* another: empty */
    assert_false(cf_commit_cache_value(cache, 0, K("k"), K("f"), &v));
    assert_int_equal(cf_commit_cache_total(cache), 1);
    cf_commit_cache_put_value(cache, 0, K("k"), K("f"), 7);
    assert_null(cf_commit_cache_begin(cache, 0, 0));               /* unfenced: none */
    assert_false(cf_commit_cache_value(cache, 0, K("k"), K("f"), &v));
    assert_true(cf_commit_cache_value(cache, 1, K("k"), K("f"), &v));
    assert_int_equal(v, 6);
    cf_commit_cache_drop(cache, 1);
    assert_false(cf_commit_cache_value(cache, 1, K("k"), K("f"), &v));
    assert_int_equal(cf_commit_cache_total(cache), 0);
    cf_commit_cache_begin(cache, 2, 5);
    cf_commit_cache_put_value(cache, 2, K("k"), K("f"), 8);
    cf_commit_cache_clear(cache);                                  /* a new connection */
    assert_false(cf_commit_cache_value(cache, 2, K("k"), K("f"), &v));
    assert_int_equal(cf_commit_cache_total(cache), 0);
    cf_commit_cache_destroy(&cache);
}

static void test_bound(void **state)
{
    (void) state;
    cf_commit_cache_t *cache = cf_commit_cache_new(2, 10);
    cf_commit_cache_begin(cache, 0, 1);
    cf_commit_cache_begin(cache, 1, 1);
    for (int i = 0; i < 6; i++) {
        char field[8];
        snprintf(field, sizeof field, "f%d", i);
        assert_int_equal(cf_commit_cache_put_value(cache, 0, K("k"), K(field), i), 0);
    }
    for (int i = 0; i < 4; i++) {
        char field[8];
        snprintf(field, sizeof field, "f%d", i);
        assert_int_equal(cf_commit_cache_put_value(cache, 1, K("k"), K(field), i), 0);
    }
    assert_int_equal(cf_commit_cache_total(cache), 10);
    /* a value known is set again, whatever the bound */
    assert_int_equal(cf_commit_cache_put_value(cache, 1, K("k"), K("f0"), 9), 0);
    /* one more: the shard that asks is dropped, the other kept */
    assert_int_equal(cf_commit_cache_put_value(cache, 1, K("k"), K("new"), 1), -1);
    assert_int_equal(cf_commit_cache_entries(cache, 1), 0);
    assert_int_equal(cf_commit_cache_entries(cache, 0), 6);
    assert_int_equal(cf_commit_cache_total(cache), 6);
    /* still its epoch's: it fills again */
    assert_ptr_equal(cf_commit_cache_begin(cache, 1, 1), cache);
    assert_int_equal(cf_commit_cache_put_value(cache, 1, K("k"), K("new"), 1), 0);
    cf_commit_cache_destroy(&cache);
}

/* Entries with the same hash (all of them, then half) are still told
   apart by their bytes: a lookup that trusted the hash would answer
   another field's value. */
static void test_shared_hashes(void **state)
{
    (void) state;
    for (unsigned bits = 0; bits <= 1; bits++) {
        cf_commit_cache_t *cache = cf_commit_cache_new(1, 1000);
        cf_commit_cache_test_hash_bits(cache, bits);
        cf_commit_cache_begin(cache, 0, 1);
        for (int i = 0; i < 200; i++) {             /* the table grows too */
            char field[16];
            snprintf(field, sizeof field, "f%d", i);
            assert_int_equal(cf_commit_cache_put_value(cache, 0, K("k"), K(field), i), 0);
        }
        assert_int_equal(cf_commit_cache_put_type(cache, 0, K("k"), "hash"), 0);
        for (int i = 0; i < 200; i++) {
            char field[16];
            int64_t v = -1;
            snprintf(field, sizeof field, "f%d", i);
            assert_true(cf_commit_cache_value(cache, 0, K("k"), K(field), &v));
            assert_int_equal(v, i);
        }
        int64_t v;
        assert_false(cf_commit_cache_value(cache, 0, K("k"), K("f200"), &v));
        assert_false(cf_commit_cache_value(cache, 0, K("k"), K("hash"), &v));
        assert_true(cf_commit_cache_typed(cache, 0, K("k"), "hash"));
        assert_false(cf_commit_cache_typed(cache, 0, K("k"), "f1"));
        assert_int_equal(cf_commit_cache_entries(cache, 0), 201);
        cf_commit_cache_destroy(&cache);
    }
}

/* A ref sets its entry's value until the shard is dropped, and then
   nothing (not the entry a refilled shard put where it was). */
static void test_refs(void **state)
{
    (void) state;
    cf_commit_cache_t *cache = cf_commit_cache_new(2, 100);
    cf_commit_cache_begin(cache, 0, 1);
    cf_commit_cache_begin(cache, 1, 1);
    int64_t v = -1;
    cf_commit_cache_ref_t ref = 1, other;
    assert_false(cf_commit_cache_values_ref(cache, 0, K("k"), K("a"), &v, 1, &ref));
    assert_int_equal(ref, 0);
    assert_false(cf_commit_cache_set(cache, 0, ref, &(int64_t) { 5 }, 1));
    cf_commit_cache_put_value(cache, 0, K("k"), K("a"), 1);
    cf_commit_cache_put_value(cache, 0, K("k"), K("b"), 2);
    assert_true(cf_commit_cache_values_ref(cache, 0, K("k"), K("b"), &v, 1, &ref));
    assert_int_equal(v, 2);
    assert_true(cf_commit_cache_values_ref(cache, 0, K("k"), K("a"), &v, 1, &other));
    assert_true(ref != other);
    for (int i = 0; i < 60; i++) {                  /* the table grows: refs hold */
        char field[16];
        snprintf(field, sizeof field, "f%d", i);
        cf_commit_cache_put_value(cache, 0, K("k"), K(field), i);
    }
    assert_true(cf_commit_cache_set(cache, 0, ref, &(int64_t) { 20 }, 1));
    assert_true(cf_commit_cache_value(cache, 0, K("k"), K("b"), &v));
    assert_int_equal(v, 20);
    assert_true(cf_commit_cache_value(cache, 0, K("k"), K("a"), &v));
    assert_int_equal(v, 1);
    cf_commit_cache_drop(cache, 0);                 /* dropped, then refilled */
    cf_commit_cache_begin(cache, 0, 1);
    cf_commit_cache_put_value(cache, 0, K("k"), K("a"), 1);
    cf_commit_cache_put_value(cache, 0, K("k"), K("c"), 3);
    assert_false(cf_commit_cache_set(cache, 0, ref, &(int64_t) { 30 }, 1));
    assert_false(cf_commit_cache_set(cache, 0, other, &(int64_t) { 30 }, 1));
    assert_true(cf_commit_cache_value(cache, 0, K("k"), K("a"), &v));
    assert_int_equal(v, 1);
    assert_true(cf_commit_cache_value(cache, 0, K("k"), K("c"), &v));
    assert_int_equal(v, 3);
    cf_commit_cache_destroy(&cache);
}

/* A row's tuple is one entry of its width values: found, set by its ref
   and put again whole; the same field of another width is another entry
   (never written over). */
static void test_tuples(void **state)
{
    (void) state;
    cf_commit_cache_t *cache = cf_commit_cache_new(1, 100);
    cf_commit_cache_begin(cache, 0, 1);
    int64_t row[3] = { 1, -2, INT64_MAX }, got[3] = { 0 }, v;
    cf_commit_cache_ref_t ref;
    assert_int_equal(cf_commit_cache_put_values(cache, 0, K("k"), K("r"), row, 3), 0);
    assert_true(cf_commit_cache_values_ref(cache, 0, K("k"), K("r"), got, 3, &ref));
    assert_memory_equal(got, row, sizeof row);
    assert_false(cf_commit_cache_value(cache, 0, K("k"), K("r"), &v));
    assert_int_equal(cf_commit_cache_put_value(cache, 0, K("k"), K("r"), 7), 0);
    assert_int_equal(cf_commit_cache_entries(cache, 0), 2);
    int64_t next[3] = { 4, 5, 6 };
    assert_true(cf_commit_cache_set(cache, 0, ref, next, 3));
    assert_true(cf_commit_cache_values_ref(cache, 0, K("k"), K("r"), got, 3, &ref));
    assert_memory_equal(got, next, sizeof next);
    assert_true(cf_commit_cache_value(cache, 0, K("k"), K("r"), &v));
    assert_int_equal(v, 7);
    assert_int_equal(cf_commit_cache_put_values(cache, 0, K("k"), K("r"), row, 3), 0);
    assert_true(cf_commit_cache_values_ref(cache, 0, K("k"), K("r"), got, 3, &ref));
    assert_memory_equal(got, row, sizeof row);
    assert_int_equal(cf_commit_cache_entries(cache, 0), 2);
    cf_commit_cache_destroy(&cache);
}

/* What the cache knows of field of "cf:{sN}:dur" at width, by the lookup
   a commit makes (prefetch, then cf_commit_cache_field with its hint). */
static cf_commit_field_t field_of(cf_commit_cache_t *cache, unsigned s, const char *field,
                                  size_t width, int64_t *values)
{
    char key[32];
    snprintf(key, sizeof key, "cf:{s%u}:dur", s);
    cf_commit_cache_hint_t hint = cf_commit_cache_prefetch(cache, s, K(key), K(field));
    cf_commit_cache_ref_t ref = 1;
    cf_commit_field_t got = cf_commit_cache_field(cache, s, hint, K(key), K(field), values,
                                                  width, true, &ref);
    assert_true((got == CF_COMMIT_FIELD_KNOWN) == (ref != 0));
    /* asked only of its own width, a field kept with another is unknown */
    cf_commit_field_t own = cf_commit_cache_field(cache, s, hint, K(key), K(field), values,
                                                  width, false, &ref);
    assert_int_equal(own, got == CF_COMMIT_FIELD_OTHER_WIDTH ? CF_COMMIT_FIELD_UNKNOWN : got);
    return got;
}

/* What is known of a counter hash's fields: nothing until typed, then
   what it is told, kept when the hash is typed again; a field looked for
   whatever its width; and the typed keys' version, which moves when a key
   is typed or the shard dropped, and not when a value is kept. */
static void test_hashes_and_versions(void **state)
{
    (void) state;
    cf_commit_cache_t *cache = cf_commit_cache_new(4, 100);
    cf_commit_cache_begin(cache, 1, 7);
    uint64_t v0 = cf_commit_cache_types_version(cache, 1);
    assert_int_equal(cf_commit_cache_hash(cache, 1, K("cf:{s1}:stage")), CF_COMMIT_HASH_SOME);
    assert_int_equal(cf_commit_cache_put_value(cache, 1, K("cf:{s1}:stage"), K("a"), 1), 0);
    assert_true(cf_commit_cache_types_version(cache, 1) == v0);
    assert_int_equal(cf_commit_cache_put_hash(cache, 1, K("cf:{s1}:stage"), CF_COMMIT_HASH_ALL),
                     0);
    uint64_t v1 = cf_commit_cache_types_version(cache, 1);
    assert_true(v1 != v0);
    assert_true(cf_commit_cache_typed(cache, 1, K("cf:{s1}:stage"), "hash"));
    assert_int_equal(cf_commit_cache_hash(cache, 1, K("cf:{s1}:stage")), CF_COMMIT_HASH_ALL);
    /* typed again (every commit that writes it): still known whole, same version */
    assert_int_equal(cf_commit_cache_put_type(cache, 1, K("cf:{s1}:stage"), "hash"), 0);
    assert_int_equal(cf_commit_cache_hash(cache, 1, K("cf:{s1}:stage")), CF_COMMIT_HASH_ALL);
    assert_true(cf_commit_cache_types_version(cache, 1) == v1);
    assert_int_equal(cf_commit_cache_hash(cache, 2, K("cf:{s1}:stage")), CF_COMMIT_HASH_SOME);
    /* a field of any width */
    int64_t row[3] = { 1, 2, 3 }, got[3];
    assert_int_equal(cf_commit_cache_put_values(cache, 1, K("cf:{s1}:dur"), K("r"), row, 3), 0);
    assert_int_equal(field_of(cache, 1, "r", 3, got), CF_COMMIT_FIELD_KNOWN);
    assert_int_equal(got[0] + got[1] + got[2], 6);
    assert_int_equal(field_of(cache, 1, "r", 1, got), CF_COMMIT_FIELD_OTHER_WIDTH);
    assert_int_equal(field_of(cache, 1, "r", 2, got), CF_COMMIT_FIELD_OTHER_WIDTH);
    assert_int_equal(field_of(cache, 1, "q", 3, got), CF_COMMIT_FIELD_UNKNOWN);
    assert_int_equal(field_of(cache, 3, "r", 3, got), CF_COMMIT_FIELD_UNKNOWN);  /* an empty shard */
    int64_t v;
    assert_false(cf_commit_cache_value(cache, 1, K("cf:{s1}:dur"), K("r"), &v));   /* width 1 */
    /* dropped: nothing known, and another version */
    cf_commit_cache_drop(cache, 1);
    assert_true(cf_commit_cache_types_version(cache, 1) != v1);
    assert_true(cf_commit_cache_types_version(cache, 1) != v0);
    assert_int_equal(cf_commit_cache_hash(cache, 1, K("cf:{s1}:stage")), CF_COMMIT_HASH_SOME);
    assert_int_equal(field_of(cache, 1, "r", 3, got), CF_COMMIT_FIELD_UNKNOWN);
    cf_commit_cache_destroy(&cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_types),
        cmocka_unit_test(test_epochs),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_shared_hashes),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_tuples),
        cmocka_unit_test(test_hashes_and_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
