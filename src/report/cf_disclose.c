/*  cf_disclose: primary and complementary suppression and rounding over a
    cf_table; see cf_disclose.h. The masks are worked out on a bool per count
    cell and written into the table at the end, so the fixpoint never parses
    marks back. Groups are numbered once per key column through a hashed
    index (a cf_counts of the joined other keys -> group + 1), so a pass is
    linear in the cells and a daily table of tens of thousands of rows stays
    quick.                                                                   */
#include "cf_disclose.h"
#include "caseflow/cf_alloc.h"

#include "caseflow/cf_counts.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISCLOSE_MAX 16     /* columns of one kind; reports have a handful */
#define DISCLOSE_NONE ((size_t) -1)

struct _cf_disclose_t {
    struct { size_t column; int64_t limit; } counts[DISCLOSE_MAX];
    struct { size_t column; const char *const *values; int64_t limit; } sensitive[DISCLOSE_MAX];
    struct { size_t column, count; } dependents[DISCLOSE_MAX];
    size_t ncounts, nsensitive, ndependents;
};

cf_disclose_t *cf_disclose_new(void)
{
    return cf_calloc(1, sizeof(cf_disclose_t));
}

void cf_disclose_destroy(cf_disclose_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void cf_disclose_count(cf_disclose_t *self, size_t column, int64_t limit)
{
    assert(self && limit >= 1 && self->ncounts < DISCLOSE_MAX);
    self->counts[self->ncounts].column = column;
    self->counts[self->ncounts++].limit = limit;
}

void cf_disclose_sensitive(cf_disclose_t *self, size_t key_column, const char *const *values,
                           int64_t limit)
{
    assert(self && values && self->nsensitive < DISCLOSE_MAX);
    self->sensitive[self->nsensitive].column = key_column;
    self->sensitive[self->nsensitive].values = values;
    self->sensitive[self->nsensitive++].limit = limit;
}

void cf_disclose_dependent(cf_disclose_t *self, size_t column, size_t count_column)
{
    assert(self && self->ndependents < DISCLOSE_MAX);
    self->dependents[self->ndependents].column = column;
    self->dependents[self->ndependents++].count = count_column;
}

/*  Count i's threshold in row.                                              */
static int64_t disclose_limit(const cf_disclose_t *self, const cf_table_t *table, size_t row,
                              size_t i)
{
    int64_t limit = self->counts[i].limit;
    for (size_t s = 0; s < self->nsensitive; s++) {
        const char *text = cf_table_text(table, row, self->sensitive[s].column);
        for (size_t v = 0; self->sensitive[s].values[v]; v++)
            if (strcmp(self->sensitive[s].values[v], text) == 0 && self->sensitive[s].limit > limit)
                limit = self->sensitive[s].limit;
    }
    return limit;
}

/*  Numbers each row's group for key column keys[k]: rows with equal text in
    every other key column share a number. group[r] gets it; returns how
    many groups there are.                                                   */
static size_t disclose_groups(const cf_table_t *table, const size_t *keys, size_t nkeys,
                              size_t k, size_t *group)
{
    cf_counts_t *index = cf_counts_new();
    size_t ngroups = 0;
    for (size_t r = 0; r < cf_table_rows(table); r++) {
        size_t len = 1;
        for (size_t j = 0; j < nkeys; j++)
            len += j == k ? 1 : strlen(cf_table_text(table, r, keys[j])) + 1;
        char *joined = cf_calloc(len, 1), *p = joined;
        for (size_t j = 0; j < nkeys; j++)
            p += sprintf(p, "%s\x1f", j == k ? "" : cf_table_text(table, r, keys[j]));
        int64_t found = cf_counts_get(index, joined);
        if (!found)
            cf_counts_add(index, joined, (size_t) (p - joined), found = (int64_t) ++ngroups);
        group[r] = (size_t) found - 1;
        free(joined);
    }
    cf_counts_destroy(&index);
    return ngroups;
}

/*  One pass of complementary suppression of count i over the groups of one
    key: a group with exactly one masked cell gives it away through its
    total unless another non-zero cell is masked too, so the smallest one is
    (the first row on a tie). True when it masked anything.                  */
static bool disclose_complement(const cf_table_t *table, size_t column, bool *masked,
                                size_t stride, const size_t *group, size_t ngroups)
{
    size_t *nmasked = cf_calloc(ngroups, sizeof *nmasked);
    size_t *smallest = cf_calloc(ngroups, sizeof *smallest);
    for (size_t g = 0; g < ngroups; g++)
        smallest[g] = DISCLOSE_NONE;
    size_t rows = cf_table_rows(table);
    for (size_t r = 0; r < rows; r++) {
        size_t g = group[r];
        int64_t value = cf_table_int(table, r, column);
        if (masked[r * stride])
            nmasked[g]++;
        else if (value > 0
                 && (smallest[g] == DISCLOSE_NONE
                     || value < cf_table_int(table, smallest[g], column)))
            smallest[g] = r;
    }
    bool changed = false;
    for (size_t g = 0; g < ngroups; g++)
        if (nmasked[g] == 1 && smallest[g] != DISCLOSE_NONE) {
            masked[smallest[g] * stride] = true;
            changed = true;
        }
    free(smallest);
    free(nmasked);
    return changed;
}

static size_t disclose_count_index(const cf_disclose_t *self, size_t column)
{
    for (size_t i = 0; i < self->ncounts; i++)
        if (self->counts[i].column == column)
            return i;
    assert(!"a dependent column names a column that is not a count");
    return 0;
}

/*  Works out and writes the masks of every count and dependent cell.        */
static void disclose_suppress(const cf_disclose_t *self, cf_table_t *table)
{
    size_t rows = cf_table_rows(table), stride = self->ncounts, nkeys = 0;
    size_t *keys = cf_calloc(cf_table_columns(table), sizeof *keys);
    for (size_t c = 0; c < cf_table_columns(table); c++)
        if (cf_table_column_type(table, c) == CF_TABLE_TEXT)
            keys[nkeys++] = c;
    bool *masked = cf_calloc(rows * stride, sizeof *masked);
    int64_t *limits = cf_calloc(rows * stride, sizeof *limits);
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < stride; i++) {
            int64_t value = cf_table_int(table, r, self->counts[i].column);
            limits[r * stride + i] = disclose_limit(self, table, r, i);
            masked[r * stride + i] = value >= 1 && value < limits[r * stride + i];
        }
    size_t *groups = cf_calloc(rows * nkeys, sizeof *groups);
    size_t *ngroups = cf_calloc(nkeys, sizeof *ngroups);
    for (size_t k = 0; k < nkeys; k++)
        ngroups[k] = disclose_groups(table, keys, nkeys, k, groups + k * rows);
    /*  Each change masks a cell, so the fixpoint ends.                      */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < stride; i++)
            for (size_t k = 0; k < nkeys; k++)
                changed |= disclose_complement(table, self->counts[i].column, masked + i,
                                               stride, groups + k * rows, ngroups[k]);
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < stride; i++)
            if (masked[r * stride + i]) {
                char mark[24];
                snprintf(mark, sizeof mark, "<%lld", (long long) limits[r * stride + i]);
                cf_table_mask(table, r, self->counts[i].column, mark);
            }
        for (size_t d = 0; d < self->ndependents; d++)
            if (masked[r * stride + disclose_count_index(self, self->dependents[d].count)])
                cf_table_mask(table, r, self->dependents[d].column, "x");
    }
    free(ngroups);
    free(groups);
    free(limits);
    free(masked);
    free(keys);
}

void cf_disclose_apply(const cf_disclose_t *self, cf_table_t *table, unsigned flags)
{
    assert(self && table);
    if (flags & CF_DISCLOSE_SUPPRESS)
        disclose_suppress(self, table);
    if (!(flags & CF_DISCLOSE_ROUND))
        return;
    for (size_t r = 0; r < cf_table_rows(table); r++)
        for (size_t i = 0; i < self->ncounts; i++) {
            size_t column = self->counts[i].column;
            int64_t value = cf_table_int(table, r, column);
            if (value > 0 && !cf_table_text(table, r, column))
                cf_table_set_int(table, r, column, (value + 2) / 5 * 5);
        }
}
