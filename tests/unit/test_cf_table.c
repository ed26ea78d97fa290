/*  Tests of cf_table: cells, a stable sort with fixed orders, and the exact
    plain, JSON and CSV renderings, including the awkward cases (empty cells,
    masked counts, quoting, bytes that are not UTF-8, reals that are
    undefined, masked or round to zero).                                     */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include "caseflow/cf_table.h"

static void assert_render(const cf_table_t *table, cf_table_format_t format, const char *expected)
{
    char *text = cf_table_render(table, format);
    assert_string_equal(text, expected);
    free(text);
}

static size_t add(cf_table_t *table, const char *name, const char *note, int64_t n)
{
    size_t row = cf_table_add_row(table);
    cf_table_set_text(table, row, 0, name);
    cf_table_set_text(table, row, 1, note);
    cf_table_set_int(table, row, 2, n);
    return row;
}

static cf_table_t *sample(void)
{
    cf_table_t *table = cf_table_new();
    assert_int_equal(cf_table_add_column(table, "name", CF_TABLE_TEXT), 0);
    assert_int_equal(cf_table_add_column(table, "note", CF_TABLE_TEXT), 1);
    assert_int_equal(cf_table_add_column(table, "n", CF_TABLE_INT), 2);
    add(table, "b", "", 7);
    add(table, "a", "x,y", -12);
    size_t row = add(table, "c", "say \"hi\"\nbye", 1234567);
    cf_table_mask(table, add(table, "a", "", 3), 2, "<10");
    cf_table_set_int(table, row, 2, 1234568);
    return table;
}

static void test_cells(void **state)
{
    (void) state;
    cf_table_t *table = sample();
    assert_int_equal(cf_table_columns(table), 3);
    assert_int_equal(cf_table_rows(table), 4);
    assert_string_equal(cf_table_column_name(table, 2), "n");
    assert_int_equal(cf_table_column_type(table, 1), CF_TABLE_TEXT);
    assert_string_equal(cf_table_text(table, 0, 1), "");
    assert_null(cf_table_text(table, 0, 2));
    assert_string_equal(cf_table_text(table, 3, 2), "<10");
    assert_int_equal(cf_table_int(table, 2, 2), 1234568);
    cf_table_destroy(&table);
    assert_null(table);
    cf_table_destroy(&table);
    cf_table_destroy(NULL);
}

static void test_plain(void **state)
{
    (void) state;
    cf_table_t *table = sample();
    cf_table_sort(table, (cf_table_key_t[]) { { 0, NULL } }, 1);
    assert_render(table, CF_TABLE_PLAIN,
                  "name  note                n\n"
                  "----  ------------  -------\n"
                  "a     x,y               -12\n"
                  "a                       <10\n"
                  "b                         7\n"
                  "c     say \"hi\"?bye  1234568\n");
    cf_table_destroy(&table);
}

static void test_json_and_csv(void **state)
{
    (void) state;
    cf_table_t *table = sample();
    assert_render(table, CF_TABLE_JSON,
                  "[\n"
                  "  {\"name\": \"b\", \"note\": \"\", \"n\": 7},\n"
                  "  {\"name\": \"a\", \"note\": \"x,y\", \"n\": -12},\n"
                  "  {\"name\": \"c\", \"note\": \"say \\\"hi\\\"\\nbye\", \"n\": 1234568},\n"
                  "  {\"name\": \"a\", \"note\": \"\", \"n\": null, \"suppressed\": {\"n\": \"<10\"}}\n"
                  "]\n");
    assert_render(table, CF_TABLE_CSV,
                  "name,note,n\r\n"
                  "b,,7\r\n"
                  "a,\"x,y\",-12\r\n"
                  "c,\"say \"\"hi\"\"\nbye\",1234568\r\n"
                  "a,,<10\r\n");
    cf_table_destroy(&table);
}

static void test_sort_orders_and_stability(void **state)
{
    (void) state;
    static const char *const order[] = { "rej*", "dup", "late", NULL };
    cf_table_t *table = cf_table_new();
    cf_table_add_column(table, "k", CF_TABLE_TEXT);
    cf_table_add_column(table, "v", CF_TABLE_INT);
    const char *keys[] = { "zzz", "late", "rej:b", "dup", "aaa", "rej:a", "late" };
    for (int i = 0; i < 7; i++) {
        size_t row = cf_table_add_row(table);
        cf_table_set_text(table, row, 0, keys[i]);
        cf_table_set_int(table, row, 1, i);
    }
    cf_table_sort(table, (cf_table_key_t[]) { { 0, order } }, 1);
    const char *sorted[] = { "rej:a", "rej:b", "dup", "late", "late", "aaa", "zzz" };
    const int64_t values[] = { 5, 2, 3, 1, 6, 4, 0 };
    for (size_t r = 0; r < 7; r++) {
        assert_string_equal(cf_table_text(table, r, 0), sorted[r]);
        assert_int_equal(cf_table_int(table, r, 1), values[r]);
    }
    cf_table_sort(table, (cf_table_key_t[]) { { 1, NULL } }, 1);
    assert_int_equal(cf_table_int(table, 0, 1), 0);
    assert_int_equal(cf_table_int(table, 6, 1), 6);
    cf_table_destroy(&table);
}

static void test_empty_and_odd_bytes(void **state)
{
    (void) state;
    cf_table_t *table = cf_table_new();
    cf_table_add_column(table, "programme", CF_TABLE_TEXT);
    cf_table_add_column(table, "cases", CF_TABLE_INT);
    assert_render(table, CF_TABLE_PLAIN, "programme  cases\n---------  -----\n");
    assert_render(table, CF_TABLE_JSON, "[]\n");
    assert_render(table, CF_TABLE_CSV, "programme,cases\r\n");
    size_t row = cf_table_add_row(table);
    cf_table_set_text(table, row, 0, "Z\xff\xfe");
    assert_render(table, CF_TABLE_JSON, "[\n  {\"programme\": \"Z??\", \"cases\": 0}\n]\n");
    cf_table_destroy(&table);
}

/*  A table of reals: name, days (1 decimal), share (3 decimals), whole (0
    decimals) and a count.                                                   */
static cf_table_t *reals(void)
{
    cf_table_t *table = cf_table_new();
    cf_table_add_column(table, "name", CF_TABLE_TEXT);
    assert_int_equal(cf_table_add_real_column(table, "days", 1), 1);
    assert_int_equal(cf_table_add_real_column(table, "share", 3), 2);
    cf_table_add_real_column(table, "whole", 0);
    cf_table_add_column(table, "n", CF_TABLE_INT);
    const char *names[] = { "a", "b", "c", "d" };
    const double days[] = { 12.345, -0.04, NAN, 1234.95 };
    const double shares[] = { 0.5, 1.0 / 3, 0.0004, 2.0 / 3 };
    for (size_t i = 0; i < 4; i++) {
        size_t row = cf_table_add_row(table);
        cf_table_set_text(table, row, 0, names[i]);
        cf_table_set_real(table, row, 1, days[i]);
        cf_table_set_real(table, row, 2, shares[i]);
        cf_table_set_int(table, row, 4, (int64_t) i * 7);
    }
    cf_table_set_real(table, 0, 3, 41.6);
    cf_table_mask(table, 3, 2, "x");
    cf_table_mask(table, 3, 4, "<10");
    return table;
}

static void test_reals(void **state)
{
    (void) state;
    cf_table_t *table = reals();
    assert_int_equal(cf_table_column_type(table, 1), CF_TABLE_REAL);
    assert_true(fabs(cf_table_real(table, 0, 1) - 12.345) < 1e-12);
    assert_true(isnan(cf_table_real(table, 2, 1)));
    assert_true(isnan(cf_table_real(table, 1, 3)));     /* never set: undefined */
    assert_null(cf_table_text(table, 0, 1));
    assert_string_equal(cf_table_text(table, 3, 2), "x");
    assert_render(table, CF_TABLE_PLAIN,
                  "name    days  share  whole    n\n"
                  "----  ------  -----  -----  ---\n"
                  "a       12.3  0.500     42    0\n"
                  "b        0.0  0.333           7\n"
                  "c             0.000          14\n"
                  "d     1235.0      x         <10\n");
    assert_render(table, CF_TABLE_CSV,
                  "name,days,share,whole,n\r\n"
                  "a,12.3,0.500,42,0\r\n"
                  "b,0.0,0.333,,7\r\n"
                  "c,,0.000,,14\r\n"
                  "d,1235.0,x,,<10\r\n");
    assert_render(table, CF_TABLE_JSON,
                  "[\n"
                  "  {\"name\": \"a\", \"days\": 12.3, \"share\": 0.5, \"whole\": 42.0, "
                  "\"n\": 0},\n"
                  "  {\"name\": \"b\", \"days\": 0.0, \"share\": 0.333, \"whole\": null, "
                  "\"n\": 7},\n"
                  "  {\"name\": \"c\", \"days\": null, \"share\": 0.0, \"whole\": null, "
                  "\"n\": 14},\n"
                  "  {\"name\": \"d\", \"days\": 1235.0, \"share\": null, \"whole\": null, "
                  "\"n\": null, \"suppressed\": {\"share\": \"x\", \"n\": \"<10\"}}\n"
                  "]\n");
    /*  null is a masked cell when the row's "suppressed" names it (d's share
        and n), an undefined real when it does not (c's days, d's whole).   */
    /*  Setting a value again unmasks the cell; NAN makes it undefined.     */
    cf_table_set_real(table, 3, 2, 0.25);
    cf_table_set_real(table, 0, 1, NAN);
    assert_null(cf_table_text(table, 3, 2));
    assert_true(isnan(cf_table_real(table, 0, 1)));
    /*  Undefined reals sort first, the others numerically.                  */
    cf_table_sort(table, (cf_table_key_t[]) { { 1, NULL } }, 1);
    const char *order[] = { "a", "c", "b", "d" };
    for (size_t r = 0; r < 4; r++)
        assert_string_equal(cf_table_text(table, r, 0), order[r]);
    cf_table_destroy(&table);
}

/*  Large sums of money keep their cents in JSON (15 digits would drop them). */
static void test_json_large_reals(void **state)
{
    (void) state;
    cf_table_t *table = cf_table_new();
    cf_table_add_real_column(table, "value", 2);
    cf_table_set_real(table, cf_table_add_row(table), 0, 119999999999998.80);
    cf_table_set_real(table, cf_table_add_row(table), 0, 130000.1);
    assert_render(table, CF_TABLE_JSON,
                  "[\n  {\"value\": 119999999999998.8},\n  {\"value\": 130000.1}\n]\n");
    cf_table_destroy(&table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_large_reals),
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_json_and_csv),
        cmocka_unit_test(test_sort_orders_and_stability),
        cmocka_unit_test(test_empty_and_odd_bytes),
        cmocka_unit_test(test_reals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
