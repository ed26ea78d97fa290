/*  Tests of cf_unpack: the bounds walk accepts every msgpack format, finds
    the end of the first value, and refuses headers that promise more than
    the bytes hold, nesting beyond the limit and the unused byte 0xc1;
    cf_unpack_fields finds what cf_unpack and cf_unpack_get find.            */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_unpack.h"
#include "cf_test_unpack.h"

static void test_every_format(void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    char big[70000];
    memset(big, 'x', sizeof big);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str(&pk, 1);               msgpack_pack_str_body(&pk, "a", 1);
    msgpack_pack_array(&pk, 20);         /* every format once */
    msgpack_pack_nil(&pk);                  msgpack_pack_true(&pk);
    msgpack_pack_false(&pk);
    msgpack_pack_int(&pk, -1);              msgpack_pack_int(&pk, -100);
    msgpack_pack_int(&pk, -1000);           msgpack_pack_int64(&pk, -100000);
    msgpack_pack_int64(&pk, -10000000000);  msgpack_pack_uint64(&pk, 200);
    msgpack_pack_uint64(&pk, 60000);        msgpack_pack_uint64(&pk, 1u << 30);
    msgpack_pack_uint64(&pk, 1ull << 40);   msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_double(&pk, 2.5);          msgpack_pack_str(&pk, 40);
    msgpack_pack_str_body(&pk, big, 40);    msgpack_pack_str(&pk, 300);
    msgpack_pack_str_body(&pk, big, 300);   msgpack_pack_bin(&pk, 70000);
    msgpack_pack_bin_body(&pk, big, 70000); msgpack_pack_ext(&pk, 1, 3);
    msgpack_pack_ext_body(&pk, big, 1);     msgpack_pack_ext(&pk, 16, 3);
    msgpack_pack_ext_body(&pk, big, 16);    msgpack_pack_ext(&pk, 3, 4);
    msgpack_pack_ext_body(&pk, big, 3);
    msgpack_pack_int(&pk, 1);               msgpack_pack_array(&pk, 17);
    for (int i = 0; i < 17; i++)
        msgpack_pack_map(&pk, 0);
    size_t end = 0;
    assert_int_equal(cf_unpack_scan(sbuf.data, sbuf.size, &end), 0);
    assert_int_equal(end, sbuf.size);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    assert_int_equal(cf_unpack(&result, sbuf.data, sbuf.size), 0);
    assert_int_equal(result.data.via.map.ptr[0].val.via.array.size, 20);
    assert_int_equal(cf_unpack(&result, sbuf.data, sbuf.size - 1), CF_UNPACK_INVALID);
    msgpack_pack_nil(&pk);                  /* a second value: scan stops before it */
    assert_int_equal(cf_unpack_scan(sbuf.data, sbuf.size, &end), 0);
    assert_int_equal(end, sbuf.size - 1);
    assert_int_equal(cf_unpack(&result, sbuf.data, sbuf.size), CF_UNPACK_INVALID);
    msgpack_unpacked_destroy(&result);
    msgpack_sbuffer_destroy(&sbuf);
}

static void test_hostile_headers(void **state)
{
    (void) state;
    static const struct { const char *bytes; size_t size; } cases[] = {
        { "\xdd\xff\xff\xff\xff", 5 },          /* array of 4G items */
        { "\xdf\x7f\xff\xff\xff\x01\x02", 7 },  /* map of 2G pairs */
        { "\xdb\xff\xff\xff\xff", 5 },          /* str of 4 GB */
        { "\xc6\x00\x01\x00\x00xx", 7 },        /* bin of 64 KB */
        { "\xc9\x00\x00\x00\x01", 5 },          /* ext without its type byte */
        { "\xdc\x00", 2 },                      /* length field cut short */
        { "\x92\x01", 2 },                      /* array missing an item */
        { "\xcb\x00\x00", 3 },                  /* double cut short */
        { "\xc1", 1 },                          /* never used */
        { "", 0 },
    };
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t end = 0;
        assert_int_equal(cf_unpack_scan(cases[i].bytes, cases[i].size, &end), CF_UNPACK_INVALID);
        assert_int_equal(cf_unpack(&result, cases[i].bytes, cases[i].size), CF_UNPACK_INVALID);
    }
    char deep[CF_UNPACK_MAX_DEPTH + 2];
    memset(deep, '\x91', sizeof deep);      /* arrays of one array ... */
    deep[CF_UNPACK_MAX_DEPTH] = '\xc0';     /* the deepest allowed, then nil */
    assert_int_equal(cf_unpack(&result, deep, CF_UNPACK_MAX_DEPTH + 1), 0);
    deep[CF_UNPACK_MAX_DEPTH] = '\x91';
    deep[CF_UNPACK_MAX_DEPTH + 1] = '\xc0'; /* one level too deep */
    assert_int_equal(cf_unpack(&result, deep, sizeof deep), CF_UNPACK_TOO_DEEP);
    deep[CF_UNPACK_MAX_DEPTH] = '\x90';     /* an empty array is a level too */
    assert_int_equal(cf_unpack(&result, deep, CF_UNPACK_MAX_DEPTH + 1), CF_UNPACK_TOO_DEEP);
    deep[CF_UNPACK_MAX_DEPTH - 1] = '\x90';
    assert_int_equal(cf_unpack(&result, deep, CF_UNPACK_MAX_DEPTH), 0);
    msgpack_unpacked_destroy(&result);
}

/* cf_unpack_get finds a string key in a map, and nothing in what is not
   one; cf_unpack_str_equals matches a whole str only. */
static void test_get(void **state)
{
    (void) state;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_uint64(&pk, 7);            msgpack_pack_uint64(&pk, 1);   /* not a str key */
    msgpack_pack_str(&pk, 2);               msgpack_pack_str_body(&pk, "ab", 2);
    msgpack_pack_uint64(&pk, 2);
    msgpack_pack_str(&pk, 1);               msgpack_pack_str_body(&pk, "a", 1);
    msgpack_pack_uint64(&pk, 3);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    assert_int_equal(cf_unpack(&result, sbuf.data, sbuf.size), 0);
    assert_non_null(cf_unpack_get(&result.data, "a"));
    assert_int_equal(cf_unpack_get(&result.data, "a")->via.u64, 3);
    assert_int_equal(cf_unpack_get(&result.data, "ab")->via.u64, 2);
    assert_null(cf_unpack_get(&result.data, "b"));
    assert_null(cf_unpack_get(&result.data, "abc"));
    assert_null(cf_unpack_get(NULL, "a"));
    assert_null(cf_unpack_get(&result.data.via.map.ptr[0].val, "a"));     /* an integer */
    const msgpack_object *ab = &result.data.via.map.ptr[1].key;
    assert_true(cf_unpack_str_equals(ab, "ab"));
    assert_false(cf_unpack_str_equals(ab, "a"));
    assert_false(cf_unpack_str_equals(ab, "abc"));
    assert_false(cf_unpack_str_equals(&result.data.via.map.ptr[0].key, "7"));   /* no str */
    msgpack_unpacked_destroy(&result);
    msgpack_sbuffer_destroy(&sbuf);
}

/* cf_unpack_fields gives what cf_unpack then cf_unpack_get give: on maps
   with the keys first, last, twice, nested, with values of other types, on
   what is not a map, and on every prefix of each (all invalid but the
   whole). */
static void test_fields(void **state)
{
    (void) state;
    static const char *const keys[] = { "a", "ab", "", "event_type" };
    static const struct { const char *bytes; size_t size; } cases[] = {
        { "\x83\xa1" "a\xa1" "x\xa2" "ab\x01\xa0\xa0", 11 },  /* a: "x", ab: 1, "": "" */
        { "\x82\xa1" "a\xa1" "x\xa1" "a\xa1" "y", 9 },      /* a twice: the first counts */
        { "\x82\xa1" "a\xc0\xa1" "a\xa1" "y", 8 },          /* ... even when it is not a str */
        { "\x81\xa1" "a\xd9\x02" "xy", 7 },                 /* str 8 */
        { "\x81\xa1" "a\xc4\x02" "xy", 7 },                 /* bin: present, not a str */
        { "\x81\xc4\x01" "a\xa1" "x", 6 },                  /* a bin key is not "a" */
        { "\x82\x81\xa1" "a\xa1" "x\xa1" "y\xa2" "ab\xa1" "z", 13 },  /* a map as key */
        { "\x82\xa2" "ab\x81\xa1" "a\xa1" "x\xa1" "a\x92\xa1" "a\xa1" "b", 16 },  /* nested */
        { "\xde\x00\x01\xa1" "a\xa1" "x", 8 },             /* map 16 */
        { "\x92\xa1" "a\xa1" "x", 5 },                       /* an array */
        { "\xa1" "a", 2 },                                     /* a str */
        { "\x80", 1 },                                         /* an empty map */
        { "\x81\xa1" "a\xa1" "x\xc0", 6 },                  /* bytes after it */
        { "\x81\xa1" "a\xc1", 4 },                           /* never used */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (size_t size = 0; size <= cases[i].size; size++)
            if (!cf_test_fields_agree(cases[i].bytes, size, keys, 4))
                fail_msg("case %zu, %zu of its %zu bytes", i, size, cases[i].size);
    /* {"a": [[...[nil]...]]}: 16 arrays are too deep, 15 are not */
    char deep[3 + CF_UNPACK_MAX_DEPTH + 1] = "\x81\xa1" "a";
    memset(deep + 3, '\x91', CF_UNPACK_MAX_DEPTH);
    deep[sizeof deep - 1] = '\xc0';
    for (size_t size = 0; size <= sizeof deep; size++)
        assert_true(cf_test_fields_agree(deep, size, keys, 4));
    cf_unpack_field_t field[4];
    assert_int_equal(cf_unpack_fields(deep, sizeof deep, keys, 4, field), CF_UNPACK_TOO_DEEP);
    assert_int_equal(cf_unpack_fields(deep, 3, keys, 4, field), CF_UNPACK_INVALID);
    deep[sizeof deep - 2] = '\xc0';
    assert_int_equal(cf_unpack_fields(deep, sizeof deep - 1, keys, 4, field), 0);
    assert_true(field[0].present && !field[0].str);
    assert_int_equal(cf_unpack_fields(cases[1].bytes, cases[1].size, keys, 4, field), 0);
    assert_true(field[0].present && field[0].len == 1 && field[0].str == cases[1].bytes + 4);
    assert_false(field[1].present || field[2].present || field[3].present);
    assert_int_equal(cf_unpack_fields(cases[4].bytes, cases[4].size, keys, 4, field), 0);
    assert_true(field[0].present && !field[0].str);
    assert_int_equal(cf_unpack_fields(cases[12].bytes, cases[12].size, keys, 4, field),
                     CF_UNPACK_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_format),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
