/*  Tests of cf_disclose: primary suppression with per-column and per-row
    limits, complementary suppression that protects a lone masked cell from
    the total of its row or column and keeps going until nothing changes,
    dependent columns, rounding, and the cases where nothing must be added
    (a lone cell whose group has no other non-zero count).                  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cf_disclose.h"

/*  A table of key columns a and b and count columns n and m, one row per
    "a b n m" line of spec (m optional, 0 when absent).                       */
static cf_table_t *table_of(const char *const *spec)
{
    cf_table_t *table = cf_table_new();
    cf_table_add_column(table, "a", CF_TABLE_TEXT);
    cf_table_add_column(table, "b", CF_TABLE_TEXT);
    cf_table_add_column(table, "n", CF_TABLE_INT);
    cf_table_add_column(table, "m", CF_TABLE_INT);
    cf_table_add_real_column(table, "mean", 1);
    for (size_t i = 0; spec[i]; i++) {
        char a[16], b[16];
        long long n = 0, m = 0;
        assert_true(sscanf(spec[i], "%15s %15s %lld %lld", a, b, &n, &m) >= 3);
        size_t row = cf_table_add_row(table);
        cf_table_set_text(table, row, 0, a);
        cf_table_set_text(table, row, 1, b);
        cf_table_set_int(table, row, 2, n);
        cf_table_set_int(table, row, 3, m);
        cf_table_set_real(table, row, 4, n ? 1.5 * (double) n : NAN);
    }
    return table;
}

/*  Column column of table as one line: each cell's mark or value.          */
static void assert_column(const cf_table_t *table, size_t column, const char *expected)
{
    char line[512] = "";
    for (size_t r = 0; r < cf_table_rows(table); r++) {
        const char *mark = cf_table_text(table, r, column);
        size_t len = strlen(line);
        if (mark)
            snprintf(line + len, sizeof line - len, "%s%s", r ? " " : "", mark);
        else
            snprintf(line + len, sizeof line - len, "%s%lld", r ? " " : "",
                     (long long) cf_table_int(table, r, column));
    }
    assert_string_equal(line, expected);
}

static cf_disclose_t *rules_n(void)
{
    cf_disclose_t *rules = cf_disclose_new();
    cf_disclose_count(rules, 2, 10);
    return rules;
}

static void test_primary_limits(void **state)
{
    (void) state;
    static const char *const sensitive[] = { "vot", "uasc", NULL };
    cf_table_t *table = table_of((const char *[]) {
        "P vot 10 10", "P uasc 11 1", "P elderly 10 9", "P disability 9 0", "P pregnant 0 1",
        "P health 1 12", NULL });
    cf_disclose_t *rules = cf_disclose_new();
    cf_disclose_count(rules, 2, 10);
    cf_disclose_count(rules, 3, 1);           /* m: only the row limit applies */
    cf_disclose_sensitive(rules, 1, sensitive, 11);
    /*  Primary only: a group of this table is every row, and enough cells
        are masked already that no complement is needed for n.             */
    cf_disclose_apply(rules, table, CF_DISCLOSE_SUPPRESS);
    assert_column(table, 2, "<11 11 10 <10 0 <10");
    assert_column(table, 3, "<11 <11 9 0 1 12");
    cf_disclose_destroy(&rules);
    assert_null(rules);
    cf_disclose_destroy(&rules);
    cf_table_destroy(&table);
}

/*  One row of a table (programme A over three sexes) with one small cell:
    shown alone, the row total (published elsewhere, or derivable from the
    other rows' totals) less the two large cells would give it away, so the
    smaller of the others is masked too, with the same mark.                 */
static void test_lone_cell_protected_by_complement(void **state)
{
    (void) state;
    cf_table_t *table = table_of((const char *[]) { "A f 3", "A m 50", "A x 20", NULL });
    cf_disclose_t *rules = rules_n();
    cf_disclose_apply(rules, table, CF_DISCLOSE_SUPPRESS);
    assert_column(table, 2, "<10 50 <10");
    assert_int_equal(cf_table_int(table, 2, 2), 20);    /* the value is kept, masked */
    cf_disclose_destroy(&rules);
    cf_table_destroy(&table);
}

/*  Programmes a (A, B, C) by sexes b (f, m, x), keys taken in column order.
    Pass 1, the groups of key a (a column of the cross table): f holds A/f
    (3) alone, so B/f (30 < 35) follows; then the groups of key b (a row): A
    holds A/f alone -> A/x (25), B holds B/f alone -> B/m (50). Pass 2: m
    holds B/m alone -> A/m (40), x holds A/x alone -> B/x (60). Pass 3
    changes nothing: rows A and B and every column hold two or three masked
    cells. Row C is shown whole.                                            */
static void test_fixpoint_across_rows_and_columns(void **state)
{
    (void) state;
    cf_table_t *table = table_of((const char *[]) {
        "A f 3", "A m 40", "A x 25", "B f 30", "B m 50", "B x 60", "C f 35", "C m 45",
        "C x 70", NULL });
    cf_disclose_t *rules = rules_n();
    cf_disclose_apply(rules, table, CF_DISCLOSE_SUPPRESS);
    assert_column(table, 2, "<10 <10 <10 <10 <10 <10 35 45 70");
    cf_disclose_destroy(&rules);
    cf_table_destroy(&table);
}

static void test_nothing_to_protect(void **state)
{
    (void) state;
    /*  A's other cells are zero: the row total is the masked cell's own
        value, and masking zeros would protect nothing. B holds two small
        cells already. C has no small cell.                                  */
    cf_table_t *table = table_of((const char *[]) {
        "A f 4", "A m 0", "B f 2", "B m 7", "B x 90", "C x 12", "C f 14", NULL });
    cf_disclose_t *rules = rules_n();
    cf_disclose_apply(rules, table, CF_DISCLOSE_SUPPRESS);
    /*  Column f then holds A/f and B/f: two, fine. Column m holds B/m and
        a zero: the lone masked B/m is protected by nothing non-zero.       */
    assert_column(table, 2, "<10 0 <10 <10 90 12 14");
    cf_disclose_destroy(&rules);
    cf_table_destroy(&table);
}

static void test_ties_take_the_first_row(void **state)
{
    (void) state;
    cf_table_t *table = table_of((const char *[]) { "A x 5", "A y 20", "A z 20", NULL });
    cf_disclose_t *rules = rules_n();
    cf_disclose_apply(rules, table, CF_DISCLOSE_SUPPRESS);
    assert_column(table, 2, "<10 <10 20");
    cf_disclose_destroy(&rules);
    cf_table_destroy(&table);
}

/*  Each count column has its own groups and complements; a dependent real
    is masked with its count, whether primary or complementary.             */
static void test_columns_apart_and_dependents(void **state)
{
    (void) state;
    cf_table_t *table = table_of((const char *[]) {
        "A f 3 40", "A m 50 30", "A x 20 2", NULL });
    cf_disclose_t *rules = rules_n();
    cf_disclose_count(rules, 3, 10);
    cf_disclose_dependent(rules, 4, 2);
    cf_disclose_apply(rules, table, CF_DISCLOSE_SUPPRESS);
    assert_column(table, 2, "<10 50 <10");
    assert_column(table, 3, "40 <10 <10");
    assert_string_equal(cf_table_text(table, 0, 4), "x");
    assert_null(cf_table_text(table, 1, 4));
    assert_string_equal(cf_table_text(table, 2, 4), "x");
    cf_disclose_destroy(&rules);
    cf_table_destroy(&table);
}

/*  One key column: the group is the whole table (its column total).         */
static void test_single_key_is_one_group(void **state)
{
    (void) state;
    cf_table_t *table = cf_table_new();
    cf_table_add_column(table, "country", CF_TABLE_TEXT);
    cf_table_add_column(table, "cases", CF_TABLE_INT);
    const char *countries[] = { "LBY", "NER", "TUN" };
    const int64_t cases[] = { 31, 6, 12 };
    for (size_t i = 0; i < 3; i++) {
        size_t row = cf_table_add_row(table);
        cf_table_set_text(table, row, 0, countries[i]);
        cf_table_set_int(table, row, 1, cases[i]);
    }
    cf_disclose_t *rules = cf_disclose_new();
    cf_disclose_count(rules, 1, 10);
    cf_disclose_apply(rules, table, CF_DISCLOSE_SUPPRESS | CF_DISCLOSE_ROUND);
    assert_column(table, 1, "30 <10 <10");
    cf_disclose_destroy(&rules);
    cf_table_destroy(&table);
}

static void test_rounding(void **state)
{
    (void) state;
    cf_table_t *table = table_of((const char *[]) {
        "A f 3", "A m 12", "A x 13", "B f 0", "B m 22", "B x 1000", NULL });
    cf_disclose_t *rules = rules_n();
    cf_disclose_apply(rules, table, CF_DISCLOSE_ROUND);     /* rounding alone */
    assert_column(table, 2, "5 10 15 0 20 1000");
    cf_table_destroy(&table);

    /*  A/m protects A/f, then B/m protects A/m in column m; 13 is rounded.  */
    table = table_of((const char *[]) { "A f 3", "A m 12", "A x 13", "B m 22", NULL });
    cf_disclose_apply(rules, table, CF_DISCLOSE_SUPPRESS | CF_DISCLOSE_ROUND);
    assert_column(table, 2, "<10 <10 15 <10");
    cf_table_destroy(&table);

    table = table_of((const char *[]) { "A f 3", NULL });
    cf_disclose_apply(rules, table, 0);
    assert_column(table, 2, "3");
    cf_disclose_destroy(&rules);
    cf_table_destroy(&table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primary_limits),
        cmocka_unit_test(test_lone_cell_protected_by_complement),
        cmocka_unit_test(test_fixpoint_across_rows_and_columns),
        cmocka_unit_test(test_nothing_to_protect),
        cmocka_unit_test(test_ties_take_the_first_row),
        cmocka_unit_test(test_columns_apart_and_dependents),
        cmocka_unit_test(test_single_key_is_one_group),
        cmocka_unit_test(test_rounding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
