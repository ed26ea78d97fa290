/*  Tests of cf_tuple: which fields are a row's measures, a tuple's value
    written and parsed back (edge integers, every width), what is not one
    (a part that does not parse, too few or too many parts, an overflow of
    one part), and the expansion every reader uses: a tuple into its
    measures' fields, a scalar as itself, the old layout beside the new.   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_tuple.h"

#define S(text)     text, strlen(text)

static void test_measures(void **state)
{
    (void) state;
    size_t row;
    assert_int_equal(cf_tuple_measure(CF_FAMILY_STAGE, S("P|registered|now|persons"), &row), 1);
    assert_int_equal(row, strlen("P|registered|now"));
    assert_int_equal(cf_tuple_measure(CF_FAMILY_DUR, S("P|registered-departed|seconds"), &row), 1);
    assert_int_equal(row, strlen("P|registered-departed"));
    assert_int_equal(cf_tuple_measure(CF_FAMILY_FLOWS, S("day:2024-01-02|r|AF|PK|PK|uasc_base"),
                                      &row), 4);
    /* not a measure: a dur bucket, a family without measures, a bare word */
    assert_int_equal(cf_tuple_measure(CF_FAMILY_DUR, S("P|registered-departed|bucket|3|4"),
                                      &row), -1);
    assert_int_equal(row, strlen("P|registered-departed|bucket|3|4"));
    assert_int_equal(cf_tuple_measure(CF_FAMILY_QUALITY, S("rejected|count"), &row), -1);
    assert_int_equal(cf_tuple_measure(CF_FAMILY_STAGE, S("cases"), &row), -1);
    assert_int_equal(cf_tuple_measure(CF_FAMILY_STAGE, S("P|x|now|case"), &row), -1);
    /* every family with measures: each measure found at its index */
    for (int f = 0; f < CF_FAMILY_COUNT; f++) {
        const char *const *measures = cf_vocab_family_measures(f);
        size_t width = cf_vocab_family_width(f);
        assert_true(width <= CF_VOCAB_MEASURES_MAX && (width == 0) == (measures == NULL));
        assert_true(width != 1);            /* a row of one measure would be a scalar */
        for (size_t m = 0; m < width; m++) {
            char field[64];
            snprintf(field, sizeof field, "P|row|%s", measures[m]);
            assert_int_equal(cf_tuple_measure(f, S(field), &row), (int) m);
            assert_int_equal(row, 5);
        }
    }
}

static void test_format_and_parse(void **state)
{
    (void) state;
    char text[CF_TUPLE_TEXT_MAX];
    int64_t edge[CF_VOCAB_MEASURES_MAX] = { INT64_MIN, INT64_MAX, 0, -1, 7, INT64_MIN };
    for (size_t width = 1; width <= CF_VOCAB_MEASURES_MAX; width++) {
        size_t len = cf_tuple_format(text, edge, width);
        assert_int_equal(len, strlen(text));
        int64_t back[CF_VOCAB_MEASURES_MAX];
        assert_int_equal(cf_tuple_parse(text, len, back, width), 0);
        assert_memory_equal(back, edge, width * sizeof *back);
        /* the same text is not a tuple of another width */
        assert_int_equal(cf_tuple_parse(text, len, back, width + 1), -1);
        if (width > 1)
            assert_int_equal(cf_tuple_parse(text, len, back, width - 1), -1);
    }
    assert_string_equal((cf_tuple_format(text, (int64_t[]) { 3, 7 }, 2), text), "3,7");
    int64_t v[2];
    static const char *const bad[] = {
        "", ",", "3,", ",7", "3,x", "3, 7", " 3,7", "3,7 ", "+3,7", "3,-", "3,,7", "3,7,",
        "3,9223372036854775808", "-9223372036854775809,1", "3.0,7", "0x3,7", NULL };
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(cf_tuple_parse(S(bad[i]), v, 2), -1);
    assert_int_equal(cf_tuple_parse(S("-3,9223372036854775807"), v, 2), 0);
    assert_int_equal(v[0], -3);
    assert_int_equal(v[1], INT64_MAX);
}

/* cf_tuple_expand's fields as "name=value " text. */
typedef struct {
    char text[512];
    size_t len;
} seen_t;

static void seen(void *arg, const char *field, size_t len, int64_t value)
{
    seen_t *s = arg;
    s->len += (size_t) snprintf(s->text + s->len, sizeof s->text - s->len, "%.*s=%" PRId64 " ",
                                (int) len, field, value);
}

static const char *expand(int family, const char *field, const char *value, int *rc)
{
    static seen_t s;
    memset(&s, 0, sizeof s);
    *rc = cf_tuple_expand(family, S(field), S(value), seen, &s);
    return s.text;
}

static void test_expand(void **state)
{
    (void) state;
    int rc;
    static const struct { int family; const char *field, *value, *want; } good[] = {
        { CF_FAMILY_STAGE, "P|arrived|now", "3,7", "P|arrived|now|cases=3 P|arrived|now|persons=7 " },
        /* a measure at 0 is not passed: as absent */
        { CF_FAMILY_DETENTION, "P|LY", "0,2,1,-86400",
          "P|LY|cases=2 P|LY|episodes=1 P|LY|seconds=-86400 " },
        { CF_FAMILY_DUR, "P|d", "0,0", "" },
        /* a scalar, as the old layout wrote a measure: itself */
        { CF_FAMILY_STAGE, "P|arrived|now|cases", "4", "P|arrived|now|cases=4 " },
        { CF_FAMILY_DUR, "P|d|bucket|3|4", "-2", "P|d|bucket|3|4=-2 " } };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_string_equal(expand(good[i].family, good[i].field, good[i].value, &rc),
                            good[i].want);
        assert_int_equal(rc, 0);
    }
    /* not one: a malformed tuple, one of another width, a tuple in a family
       without measures, a part past int64, a scalar that is no integer */
    static const struct { int family; const char *value; } bad[] = {
        { CF_FAMILY_STAGE, "3,x" }, { CF_FAMILY_STAGE, "3,7,1" }, { CF_FAMILY_FLOWS, "1,2" },
        { CF_FAMILY_VULN, "1,2" }, { CF_FAMILY_STAGE, "1,9223372036854775808" },
        { CF_FAMILY_STAGE, "abc" }, { CF_FAMILY_STAGE, "" }, { CF_FAMILY_STAGE, "1e3" } };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_string_equal(expand(bad[i].family, "P|x|now", bad[i].value, &rc), "");
        assert_int_equal(rc, -1);
    }
    char longest[CF_TUPLE_FIELD_MAX + 2];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    assert_string_equal(expand(CF_FAMILY_STAGE, longest, "1,2", &rc), "");
    assert_int_equal(rc, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measures),
        cmocka_unit_test(test_format_and_parse),
        cmocka_unit_test(test_expand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
