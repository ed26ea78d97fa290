/*  Tests of cf_json: JSON lines to msgpack and back, the reasons given for
    bad lines (with jansson's column), and the printing rules for what JSON
    has no word for (bin, non-string keys, invalid UTF-8, NaN, uint64).      */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_json.h"

/* JSON -> msgpack -> JSON; returns the printed text (owned by json). */
static const char *roundtrip(cf_json_t *json, const char *text)
{
    assert_int_equal(cf_json_to_msgpack(json, text, strlen(text), 0), 0);
    size_t size;
    const void *data = cf_json_msgpack(json, &size);
    assert_true(size > 0);
    msgpack_sbuffer copy;       /* the next conversion reuses the buffer */
    msgpack_sbuffer_init(&copy);
    msgpack_sbuffer_write(&copy, data, size);
    const char *out = cf_json_from_msgpack(json, copy.data, copy.size);
    msgpack_sbuffer_destroy(&copy);
    assert_non_null(out);
    return out;
}

static void test_roundtrip(void **state)
{
    (void) state;
    cf_json_t *json = cf_json_new();
    const char *event =
        "{\"event_id\":\"e-1\",\"event_type\":\"case.registered\",\"schema_version\":1,"
        "\"occurred_at\":1559606400000,\"persons\":[{\"sex\":\"f\",\"age_band\":\"18-59\"}],"
        "\"consent\":true,\"project_id\":null,\"value\":-2.5,\"route\":\"caf\\u00e9 \\\"q\\\"\"}";
    const char *want =          /* the same, with the escaped é printed as UTF-8 */
        "{\"event_id\":\"e-1\",\"event_type\":\"case.registered\",\"schema_version\":1,"
        "\"occurred_at\":1559606400000,\"persons\":[{\"sex\":\"f\",\"age_band\":\"18-59\"}],"
        "\"consent\":true,\"project_id\":null,\"value\":-2.5,\"route\":\"caf\xc3\xa9 \\\"q\\\"\"}";
    assert_string_equal(roundtrip(json, event), want);
    assert_string_equal(cf_json_member(json, "event_id"), "e-1");
    assert_null(cf_json_member(json, "schema_version"));  /* not a string */
    assert_null(cf_json_member(json, "nope"));
    assert_string_equal(roundtrip(json, "  [1, 2.0, 0.1, -0, 1e300, \"\\n\\u0001\"]  "),
                        "[1,2.0,0.1,0,1e+300,\"\\n\\u0001\"]");
    assert_null(cf_json_member(json, "event_id"));        /* not an object */
    assert_string_equal(roundtrip(json, "9223372036854775807"), "9223372036854775807");
    assert_string_equal(roundtrip(json, "-9223372036854775808"), "-9223372036854775808");
    assert_string_equal(roundtrip(json, "{}"), "{}");
    assert_string_equal(roundtrip(json, "{\"\": \"\", \"b\": []}"), "{\"\":\"\",\"b\":[]}");
    cf_json_destroy(&json);
    assert_null(json);
    cf_json_destroy(&json);     /* accepts NULL */
}

static void test_key_order_and_types(void **state)
{
    (void) state;
    cf_json_t *json = cf_json_new();
    assert_int_equal(cf_json_to_msgpack(json, "{\"b\":1,\"a\":1.5,\"c\":[true]}", 26, 0), 0);
    size_t size;
    const void *data = cf_json_msgpack(json, &size);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t offset = 0;
    assert_int_equal(msgpack_unpack_next(&result, data, size, &offset), MSGPACK_UNPACK_SUCCESS);
    msgpack_object *map = &result.data;
    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(map->via.map.size, 3);
    assert_memory_equal(map->via.map.ptr[0].key.via.str.ptr, "b", 1);
    assert_int_equal(map->via.map.ptr[0].key.type, MSGPACK_OBJECT_STR);
    assert_int_equal(map->via.map.ptr[0].val.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(map->via.map.ptr[1].val.type, MSGPACK_OBJECT_FLOAT64);
    assert_int_equal(map->via.map.ptr[2].val.via.array.ptr[0].type, MSGPACK_OBJECT_BOOLEAN);
    msgpack_unpacked_destroy(&result);
    cf_json_destroy(&json);
}

static void expect_reject(cf_json_t *json, const char *text, int flags, cf_json_err_t code,
                          const char *reason_part)
{
    assert_int_equal(cf_json_to_msgpack(json, text, strlen(text), flags), -1);
    assert_int_equal(cf_json_error_code(json), code);
    if (!strstr(cf_json_error(json), reason_part))
        fail_msg("reason '%s' lacks '%s'", cf_json_error(json), reason_part);
    size_t size;
    cf_json_msgpack(json, &size);
    assert_int_equal(size, 0);
    assert_null(cf_json_member(json, "event_id"));
}

static void test_rejects(void **state)
{
    (void) state;
    cf_json_t *json = cf_json_new();
    expect_reject(json, "{\"event_id\": \"x\",}", 0, CF_JSON_ERR_SYNTAX, "at column 18");
    expect_reject(json, "{\"a\": NaN}", 0, CF_JSON_ERR_SYNTAX, "json: ");
    expect_reject(json, "{\"a\": Infinity}", 0, CF_JSON_ERR_SYNTAX, "json: ");
    expect_reject(json, "{\"a\": 1e999}", 0, CF_JSON_ERR_SYNTAX, "overflow");
    expect_reject(json, "{\"a\": 99999999999999999999}", 0, CF_JSON_ERR_SYNTAX, "too big");
    expect_reject(json, "{\"a\": 1, \"a\": 2}", 0, CF_JSON_ERR_SYNTAX, "duplicate");
    expect_reject(json, "{\"a\": \"x\\u0000y\"}", 0, CF_JSON_ERR_SYNTAX, "json: ");
    expect_reject(json, "{\"a\": \"\xff\"}", 0, CF_JSON_ERR_SYNTAX, "json: ");
    expect_reject(json, "", 0, CF_JSON_ERR_SYNTAX, "json: ");
    expect_reject(json, "{} {}", 0, CF_JSON_ERR_SYNTAX, "json: ");
    expect_reject(json, "[1]", CF_JSON_OBJECT, CF_JSON_ERR_TYPE, "json: an array, not an object");
    expect_reject(json, "\"s\"", CF_JSON_OBJECT, CF_JSON_ERR_TYPE, "a string, not an object");
    enum { D = CF_JSON_MAX_DEPTH };
    char deep[2 * D + 8] = "", message[64];
    for (int i = 0; i <= D; i++)
        strcat(deep, "[");
    for (int i = 0; i <= D; i++)
        strcat(deep, "]");
    snprintf(message, sizeof message, "nested deeper than %d", D);
    expect_reject(json, deep, 0, CF_JSON_ERR_DEPTH, message);
    memset(deep, '[', D);       /* the deepest allowed is fine, and msgpack-c reads it back */
    deep[D] = '1';
    memset(deep + D + 1, ']', D);
    deep[2 * D + 1] = '\0';
    assert_int_equal(cf_json_to_msgpack(json, deep, 2 * D + 1, CF_JSON_OBJECT), -1);
    assert_int_equal(cf_json_to_msgpack(json, deep, 2 * D + 1, 0), 0);
    size_t size;
    const void *data = cf_json_msgpack(json, &size);
    char copy[64];
    assert_true(size <= sizeof copy);
    memcpy(copy, data, size);
    assert_non_null(cf_json_from_msgpack(json, copy, size));
    assert_int_equal(cf_json_error_code(json), CF_JSON_OK);
    assert_string_equal(cf_json_error(json), "");
    /* a text over CF_JSON_MAX_TEXT is refused before it is parsed */
    char *huge = malloc(CF_JSON_MAX_TEXT + 2);
    memset(huge, ' ', CF_JSON_MAX_TEXT + 1);
    huge[0] = '1';
    huge[CF_JSON_MAX_TEXT + 1] = '\0';
    assert_int_equal(cf_json_to_msgpack(json, huge, CF_JSON_MAX_TEXT, 0), 0);
    expect_reject(json, huge, 0, CF_JSON_ERR_SIZE, "json: 1048577 bytes exceeds the limit");
    free(huge);
    cf_json_destroy(&json);
}

static const char *print(cf_json_t *json, msgpack_sbuffer *sbuf)
{
    const char *text = cf_json_from_msgpack(json, sbuf->data, sbuf->size);
    msgpack_sbuffer_clear(sbuf);
    return text;
}

static void test_printing(void **state)
{
    (void) state;
    cf_json_t *json = cf_json_new();
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);

    msgpack_pack_map(&pk, 5);
    msgpack_pack_int(&pk, 7);               msgpack_pack_bin(&pk, 4);
    msgpack_pack_bin_body(&pk, "\x00\xff\x10z", 4);
    msgpack_pack_nil(&pk);                  msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_array(&pk, 1);             msgpack_pack_int(&pk, 1);
    msgpack_pack_str(&pk, 4);               msgpack_pack_str_body(&pk, "a\xc3\xa9\xc3", 4);
    msgpack_pack_str(&pk, 1);               msgpack_pack_str_body(&pk, "x", 1);
    msgpack_pack_double(&pk, NAN);
    msgpack_pack_true(&pk);                 msgpack_pack_array(&pk, 3);
    msgpack_pack_float(&pk, 0.1f);          msgpack_pack_double(&pk, -INFINITY);
    msgpack_pack_ext(&pk, 2, 5);            msgpack_pack_ext_body(&pk, "ab", 2);
    assert_string_equal(print(json, &sbuf),
                        "{\"7\":\"AP8Qeg==\",\"null\":18446744073709551615,\"[1]\":\"a\xc3\xa9\\ufffd\","
                        "\"x\":\"NaN\",\"true\":[0.1,\"-Infinity\",{\"ext\":5,\"data\":\"YWI=\"}]}");

    msgpack_pack_str(&pk, 4);               msgpack_pack_str_body(&pk, "\xed\xa0\x80\x7f", 4);
    assert_string_equal(print(json, &sbuf), "\"\\ufffd\\ufffd\\ufffd\x7f\"");   /* a surrogate */

    msgpack_pack_map(&pk, 1);
    msgpack_pack_int(&pk, -3);              msgpack_pack_int(&pk, 4);
    msgpack_pack_int(&pk, 5);               /* trailing bytes */
    assert_null(print(json, &sbuf));
    assert_int_equal(cf_json_error_code(json), CF_JSON_ERR_MSGPACK);

    assert_null(cf_json_from_msgpack(json, "\xdd\xff\xff\xff\xff", 5));   /* 4G items, 5 bytes */
    assert_int_equal(cf_json_error_code(json), CF_JSON_ERR_MSGPACK);
    assert_null(cf_json_from_msgpack(json, "", 0));

    for (int i = 0; i < 33; i++)
        msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    assert_null(print(json, &sbuf));
    assert_int_equal(cf_json_error_code(json), CF_JSON_ERR_DEPTH);

    msgpack_sbuffer_destroy(&sbuf);
    cf_json_destroy(&json);
}

static void test_from_object(void **state)
{
    (void) state;
    cf_json_t *json = cf_json_new();
    msgpack_object object = { .type = MSGPACK_OBJECT_NEGATIVE_INTEGER, .via.i64 = -42 };
    assert_string_equal(cf_json_from_object(json, &object), "-42");
    object = (msgpack_object) { .type = MSGPACK_OBJECT_FLOAT64, .via.f64 = 1234567.0 };
    assert_string_equal(cf_json_from_object(json, &object), "1234567.0");
    object.via.f64 = 1.0 / 3;
    assert_string_equal(cf_json_from_object(json, &object), "0.3333333333333333");
    cf_json_destroy(&json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_key_order_and_types),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_printing),
        cmocka_unit_test(test_from_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
