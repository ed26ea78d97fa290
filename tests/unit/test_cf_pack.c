/*  Tests of cf_pack: the bytes of strings, nil for what is absent, and map
    members, as msgpack spells them.                                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_pack.h"

/* Asserts that sbuf holds exactly the size bytes of want, then clears it. */
static void expect(msgpack_sbuffer *sbuf, const char *want, size_t size)
{
    assert_int_equal(sbuf->size, size);
    assert_memory_equal(sbuf->data, want, size);
    msgpack_sbuffer_clear(sbuf);
}

static void test_strings_and_nil(void **unused)
{
    (void) unused;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    cf_pack_str(&pk, "abc");
    expect(&sbuf, "\xa3" "abc", 4);
    cf_pack_strn(&pk, "abcdef", 2);
    expect(&sbuf, "\xa2" "ab", 3);
    cf_pack_strn(&pk, NULL, 0);
    expect(&sbuf, "\xa0", 1);
    cf_pack_str_or_nil(&pk, NULL);
    cf_pack_str_or_nil(&pk, "");                /* given, though empty */
    expect(&sbuf, "\xc0\xa0", 2);
    cf_pack_strn_or_nil(&pk, "e-1", 0);         /* nothing given */
    cf_pack_strn_or_nil(&pk, NULL, 0);
    cf_pack_strn_or_nil(&pk, "e-1", 3);
    expect(&sbuf, "\xc0\xc0\xa3" "e-1", 6);
    char long_text[40];
    memset(long_text, 'x', sizeof long_text);
    cf_pack_strn(&pk, long_text, sizeof long_text);     /* str 8 past 31 bytes */
    assert_int_equal(sbuf.size, 2 + sizeof long_text);
    assert_memory_equal(sbuf.data, "\xd9\x28", 2);
    msgpack_sbuffer_destroy(&sbuf);
}

static void test_members(void **unused)
{
    (void) unused;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    cf_pack_key_str(&pk, "id", "w1");
    expect(&sbuf, "\xa2id\xa2w1", 6);
    cf_pack_key_uint(&pk, "n", 300);
    expect(&sbuf, "\xa1n\xcd\x01\x2c", 5);
    cf_pack_key_bool(&pk, "p", true);
    cf_pack_bool(&pk, false);
    expect(&sbuf, "\xa1p\xc3\xc2", 4);
    cf_pack_key_real(&pk, "r", 0.5);
    expect(&sbuf, "\xa1r\xcb\x3f\xe0\0\0\0\0\0\0", 11);
    msgpack_sbuffer_destroy(&sbuf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_and_nil),
        cmocka_unit_test(test_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
