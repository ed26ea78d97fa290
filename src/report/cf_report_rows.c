/*  cf_report_rows: the helpers every report builder shares (see
    cf_report_internal.h), so that each builder is only its counter grammar:
    how a name splits, which parts are keys, where each measure goes. Rows are
    found through a hashed index so that tens of thousands of daily rows
    stay quick.                                                             */
#include "cf_report_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report_add_columns(report_rows_t *rows, const char *names, cf_table_type_t type,
                               int decimals)
{
    char copy[160];
    snprintf(copy, sizeof copy, "%s", names);
    for (char *save, *name = strtok_r(copy, " ", &save); name; name = strtok_r(NULL, " ", &save))
        if (type == CF_TABLE_REAL)
            cf_table_add_real_column(rows->table, name, decimals);
        else
            cf_table_add_column(rows->table, name, type);
}

void report_columns(report_rows_t *rows, const char *text_columns, const char *int_columns)
{
    assert(rows && cf_table_columns(rows->table) == 0);
    report_add_columns(rows, text_columns, CF_TABLE_TEXT, 0);
    rows->nkeys = cf_table_columns(rows->table);
    report_add_columns(rows, int_columns, CF_TABLE_INT, 0);
}

void report_reals(report_rows_t *rows, const char *names, int decimals)
{
    report_add_columns(rows, names, CF_TABLE_REAL, decimals);
}

char *report_split(const char *name, char **parts, size_t max, size_t *n)
{
    char *copy = cf_strdup(name);
    *n = 0;
    for (char *p = copy; p; (*n)++) {
        if (*n == max) {
            *n = 0;
            break;
        }
        parts[*n] = p;
        if ((p = strchr(p, '|')))
            *p++ = '\0';
    }
    return copy;
}

int report_find(const char *const *list, const char *text)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], text) == 0)
            return i;
    return -1;
}

bool report_keeps(const cf_report_t *self, const char *programme)
{
    return !self->programme || strcmp(self->programme, programme) == 0;
}

size_t report_row(report_rows_t *rows, const char *const *keys)
{
    size_t len = 1;
    for (size_t k = 0; k < rows->nkeys; k++)
        len += strlen(keys[k]) + 1;
    char *joined = cf_malloc(len), *p = joined;
    *p = '\0';
    for (size_t k = 0; k < rows->nkeys; k++)
        p += sprintf(p, "%s%s", k ? "\x1f" : "", keys[k]);
    int64_t found = cf_counts_get(rows->index, joined);
    size_t row = found > 0 ? (size_t) found - 1 : cf_table_add_row(rows->table);
    if (found <= 0) {
        cf_counts_add(rows->index, joined, (size_t) (p - joined), (int64_t) row + 1);
        for (size_t k = 0; k < rows->nkeys; k++)
            cf_table_set_text(rows->table, row, k, keys[k]);
    }
    free(joined);
    return row;
}

int64_t *report_slots(report_rows_t *rows, size_t row)
{
    assert(rows->nslots && row < cf_table_rows(rows->table));
    if (row >= rows->capacity) {
        size_t old = rows->capacity;
        rows->slots = cf_grow(rows->slots, &rows->capacity, row + 1,
                              rows->nslots * sizeof *rows->slots);
        memset(rows->slots + old * rows->nslots, 0,
               (rows->capacity - old) * rows->nslots * sizeof *rows->slots);
    }
    return rows->slots + row * rows->nslots;
}

void report_add(report_rows_t *rows, const char *const *keys, size_t column, int64_t value)
{
    size_t row = report_row(rows, keys);
    cf_table_set_int(rows->table, row, column, cf_table_int(rows->table, row, column) + value);
}

bool report_measure(report_rows_t *rows, const char *const *keys, const char *measure,
                    const char *const *measures, size_t nshown, size_t first, int64_t value)
{
    int i = report_find(measures, measure);
    if (i < 0)
        return false;
    if ((size_t) i < nshown)
        report_add(rows, keys, first + (size_t) i, value);
    else
        report_slots(rows, report_row(rows, keys))[(size_t) i - nshown] += value;
    return true;
}

void report_by_programme(const cf_report_t *self, const cf_counts_t *counts,
                         report_rows_t *rows, size_t nparts, size_t skip,
                         const char *const *measures, size_t nshown, size_t first)
{
    assert(nparts <= 8);
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[8];
        size_t n;
        char *copy = report_split(cf_counts_name(counts, i), parts, nparts, &n);
        if (n == nparts && cf_counts_value(counts, i) && report_keeps(self, parts[0]))
            report_measure(rows, (const char *const *) parts + skip, parts[n - 1], measures,
                           nshown, first, cf_counts_value(counts, i));
        free(copy);
    }
}

void report_counts(cf_disclose_t *rules, size_t first, size_t n, int64_t limit)
{
    for (size_t i = 0; i < n; i++)
        cf_disclose_count(rules, first + i, limit);
}

bool report_day(const cf_report_t *self, const char *field, char *period)
{
    if (strncmp(field, "day:", 4) != 0)
        return false;
    const char *day = field + 4;
    for (size_t i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? day[i] != '-' : day[i] < '0' || day[i] > '9')
            return false;
    if (day[10] || strncmp(day, self->from, strlen(self->from)) < 0
        || strncmp(day, self->to, strlen(self->to)) > 0)
        return false;
    size_t len = !self->period ? 10 : self->period[0] == 'y' ? 4 : self->period[0] == 'm' ? 7 : 10;
    memcpy(period, day, len);
    period[len] = '\0';
    return true;
}

double report_mean(int64_t sum, double scale, int64_t base)
{
    return base ? (double) sum / scale / (double) base : NAN;
}
