/*  Tests of cf_table: cells, a stable sort with fixed orders, and the exact
    plain, JSON and CSV renderings, including the awkward cases (empty cells,
    masked counts, quoting, bytes that are not UTF-8).                       */
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
                  "  {\"name\": \"a\", \"note\": \"\", \"n\": null}\n"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_json_and_csv),
        cmocka_unit_test(test_sort_orders_and_stability),
        cmocka_unit_test(test_empty_and_odd_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
