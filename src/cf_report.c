/*  cf_report: counter names in, report rows out; see cf_report.h and
    docs/reports.md. Each report is one entry of s_reports: a builder that
    parses the '|'-separated counter names of its family and adds each value
    into the row its key columns name, found through a hashed index (a
    cf_counts of key -> row), so tens of thousands of daily rows stay quick. */
#include "caseflow/cf_report.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name, *family, *summary;
    bool has_programme;
    /* adds the columns and rows to table; index is an empty scratch bag */
    void (*build)(const cf_report_t *self, const cf_counts_t *counts, cf_table_t *table,
                  cf_counts_t *index);
} report_def_t;

struct _cf_report_t {
    const report_def_t *def;
    char *programme;            /* NULL = every programme */
    const char *by;             /* returns: origin, host, programme, route */
    const char *period;         /* returns: day, month, year */
    bool public;
    char error[128];
};

static const char *const s_stages[] = { "registered", "screened", "assisted", "departed",
                                        "arrived", "reintegrating", "closed", NULL };
static const char *const s_sexes[] = { "f", "m", "x", "u", NULL };
static const char *const s_age_bands[] = { "0-4", "5-11", "12-17", "18-59", "60+", NULL };
static const char *const s_quality[] = { "rejected:*", "duplicate", "out_of_order",
                                         "before_registration", "repeat_registration", NULL };
static const char *const s_sensitive[] = { "vot", "uasc", "health", NULL };
/*  --by values and the column each names, in pairs.                        */
static const char *const s_dimensions[] = { "origin", "origin_country", "host", "host_country",
                                            "programme", "programme", "route", "route", NULL };
static const char *const s_periods[] = { "day", "month", "year", NULL };

/*  Splits a copy of name at '|' into exactly n parts. Returns the copy (the
    caller frees it), or NULL when name has another number of parts.        */
static char *report_split(const char *name, char **parts, size_t n)
{
    char *copy = strdup(name);
    if (!copy)
        abort();
    size_t count = 0;
    for (char *p = copy; p; count++) {
        if (count == n) {
            free(copy);
            return NULL;
        }
        parts[count] = p;
        if ((p = strchr(p, '|')))
            *p++ = '\0';
    }
    if (count != n) {
        free(copy);
        return NULL;
    }
    return copy;
}

static bool report_in(const char *const *list, const char *text)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], text) == 0)
            return true;
    return false;
}

/*  True when the report keeps counters of programme.                        */
static bool report_keeps(const cf_report_t *self, const char *programme)
{
    return !self->programme || strcmp(self->programme, programme) == 0;
}

/*  The row whose first nkeys (text) columns equal keys, added when missing.
    index maps the keys, joined by a unit separator, to row + 1.            */
static size_t report_row(cf_table_t *table, cf_counts_t *index, const char *const *keys,
                         size_t nkeys)
{
    size_t len = 0;
    for (size_t k = 0; k < nkeys; k++)
        len += strlen(keys[k]) + 1;
    char *joined = malloc(len), *p = joined;
    if (!joined)
        abort();
    for (size_t k = 0; k < nkeys; k++)
        p += sprintf(p, "%s%s", k ? "\x1f" : "", keys[k]);
    int64_t found = cf_counts_get(index, joined);
    size_t row = found > 0 ? (size_t) found - 1 : cf_table_add_row(table);
    if (found <= 0) {
        cf_counts_add(index, joined, (size_t) (p - joined), (int64_t) row + 1);
        for (size_t k = 0; k < nkeys; k++)
            cf_table_set_text(table, row, k, keys[k]);
    }
    free(joined);
    return row;
}

static void report_add(cf_table_t *table, cf_counts_t *index, const char *const *keys,
                       size_t nkeys, size_t column, int64_t value)
{
    size_t row = report_row(table, index, keys, nkeys);
    cf_table_set_int(table, row, column, cf_table_int(table, row, column) + value);
}

static void report_columns(cf_table_t *table, const char *text_columns, const char *int_columns)
{
    char names[128];
    snprintf(names, sizeof names, "%s", text_columns);
    for (char *name = strtok(names, " "); name; name = strtok(NULL, " "))
        cf_table_add_column(table, name, CF_TABLE_TEXT);
    snprintf(names, sizeof names, "%s", int_columns);
    for (char *name = strtok(names, " "); name; name = strtok(NULL, " "))
        cf_table_add_column(table, name, CF_TABLE_INT);
}

/*  <programme>|<stage>|<now or ever>|<cases or persons>: four per row.      */
static void report_stages(const cf_report_t *self, const cf_counts_t *counts,
                          cf_table_t *table, cf_counts_t *index)
{
    report_columns(table, "programme stage", "cases_now persons_now cases_ever persons_ever");
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[4], *copy = report_split(cf_counts_name(counts, i), parts, 4);
        int64_t value = cf_counts_value(counts, i);
        bool ever = copy && strcmp(parts[2], "ever") == 0;
        bool persons = copy && strcmp(parts[3], "persons") == 0;
        if (copy && value && report_keeps(self, parts[0])
            && (ever || strcmp(parts[2], "now") == 0)
            && (persons || strcmp(parts[3], "cases") == 0))
            report_add(table, index, (const char *const *) parts, 2, 2 + 2 * ever + persons,
                       value);
        free(copy);
    }
    cf_table_sort(table, (cf_table_key_t[]) { { 0, NULL }, { 1, s_stages } }, 2);
}

/*  <kind>:<period>|<dim>|<value>|<programme>|<cases or persons>, summed over
    programmes into rows of <value>, <period>.                               */
static void report_returns(const cf_report_t *self, const cf_counts_t *counts,
                           cf_table_t *table, cf_counts_t *index)
{
    const char *column = NULL;
    for (size_t i = 0; s_dimensions[i]; i += 2)
        if (strcmp(s_dimensions[i], self->by) == 0)
            column = s_dimensions[i + 1];
    cf_table_add_column(table, column, CF_TABLE_TEXT);
    cf_table_add_column(table, self->period, CF_TABLE_TEXT);
    report_columns(table, "", "cases persons");
    size_t kind_len = strlen(self->period);
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[5], *copy = report_split(cf_counts_name(counts, i), parts, 5);
        int64_t value = cf_counts_value(counts, i);
        bool persons = copy && strcmp(parts[4], "persons") == 0;
        if (copy && value && strncmp(parts[0], self->period, kind_len) == 0
            && parts[0][kind_len] == ':' && strcmp(parts[1], self->by) == 0
            && report_keeps(self, parts[3]) && (persons || strcmp(parts[4], "cases") == 0)) {
            const char *keys[2] = { parts[2], parts[0] + kind_len + 1 };
            report_add(table, index, keys, 2, 2 + persons, value);
        }
        free(copy);
    }
    cf_table_sort(table, (cf_table_key_t[]) { { 1, NULL }, { 0, NULL } }, 2);
}

/*  <programme>|<flag> -> cases.                                             */
static void report_vulnerability(const cf_report_t *self, const cf_counts_t *counts,
                                 cf_table_t *table, cf_counts_t *index)
{
    report_columns(table, "programme vulnerability", "cases");
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[2], *copy = report_split(cf_counts_name(counts, i), parts, 2);
        int64_t value = cf_counts_value(counts, i);
        if (copy && value && report_keeps(self, parts[0]))
            report_add(table, index, (const char *const *) parts, 2, 2, value);
        free(copy);
    }
    cf_table_sort(table, (cf_table_key_t[]) { { 0, NULL }, { 1, NULL } }, 2);
}

/*  <programme>|<sex>|<age_band> -> persons.                                 */
static void report_demographics(const cf_report_t *self, const cf_counts_t *counts,
                                cf_table_t *table, cf_counts_t *index)
{
    report_columns(table, "programme sex age_band", "persons");
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[3], *copy = report_split(cf_counts_name(counts, i), parts, 3);
        int64_t value = cf_counts_value(counts, i);
        if (copy && value && report_keeps(self, parts[0]))
            report_add(table, index, (const char *const *) parts, 3, 3, value);
        free(copy);
    }
    cf_table_sort(table, (cf_table_key_t[]) { { 0, NULL }, { 1, s_sexes }, { 2, s_age_bands } },
                  3);
}

/*  One row per counter, "rejected|<field>" shown as "rejected:<field>"; the
    fixed measures appear even when zero so that a clean run shows its zeros. */
static void report_quality(const cf_report_t *self, const cf_counts_t *counts,
                           cf_table_t *table, cf_counts_t *index)
{
    (void) self;
    report_columns(table, "measure", "count");
    for (size_t i = 1; s_quality[i]; i++)
        report_row(table, index, &s_quality[i], 1);
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *measure = strdup(cf_counts_name(counts, i)), *bar;
        if (!measure)
            abort();
        if ((bar = strchr(measure, '|')))
            *bar = ':';
        int64_t value = cf_counts_value(counts, i);
        if (value || report_in(&s_quality[1], measure))
            report_add(table, index, (const char *const *) &measure, 1, 1, value);
        free(measure);
    }
    cf_table_sort(table, (cf_table_key_t[]) { { 0, s_quality } }, 1);
}

static const report_def_t s_reports[] = {
    { "stages", "stage", "cases and persons by programme and stage, open now and ever entered",
      true, report_stages },
    { "returns", "returns", "returns (arrivals) by origin, host, programme or route per day, "
      "month or year", true, report_returns },
    { "vulnerability", "vuln", "cases by programme and vulnerability", true,
      report_vulnerability },
    { "demographics", "demo", "persons by programme, sex and age band", true,
      report_demographics },
    { "quality", "quality", "data quality: rejections by field, duplicates, out-of-order events",
      false, report_quality },
};
#define REPORT_COUNT (sizeof s_reports / sizeof s_reports[0])

size_t cf_report_catalogue_size(void)
{
    return REPORT_COUNT;
}

const char *cf_report_catalogue_name(size_t index)
{
    assert(index < REPORT_COUNT);
    return s_reports[index].name;
}

const char *cf_report_catalogue_summary(size_t index)
{
    assert(index < REPORT_COUNT);
    return s_reports[index].summary;
}

cf_report_t *cf_report_new(const char *name)
{
    assert(name);
    for (size_t i = 0; i < REPORT_COUNT; i++)
        if (strcmp(s_reports[i].name, name) == 0) {
            cf_report_t *self = calloc(1, sizeof *self);
            if (!self)
                abort();
            *self = (cf_report_t) { .def = &s_reports[i], .by = "origin", .period = "year" };
            return self;
        }
    return NULL;
}

void cf_report_destroy(cf_report_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->programme);
    free(*self_p);
    *self_p = NULL;
}

const char *cf_report_name(const cf_report_t *self)
{
    assert(self);
    return self->def->name;
}

const char *cf_report_family(const cf_report_t *self)
{
    assert(self);
    return self->def->family;
}

static int report_fail(cf_report_t *self, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(self->error, sizeof self->error, format, args);
    va_end(args);
    return -1;
}

int cf_report_set_programme(cf_report_t *self, const char *programme)
{
    assert(self && programme);
    if (!self->def->has_programme)
        return report_fail(self, "the %s report has no programme", self->def->name);
    if (!*programme)
        return report_fail(self, "the programme is empty");
    free(self->programme);
    if (!(self->programme = strdup(programme)))
        abort();
    return 0;
}

/*  Points *slot at the entry of list (every step-th one) equal to value;
    only the returns report has choices.                                     */
static int report_choose(cf_report_t *self, const char *const *list, size_t step,
                         const char *value, const char **slot, const char *choices)
{
    if (self->def->build != report_returns)
        return report_fail(self, "only the returns report takes it, not %s", self->def->name);
    for (size_t i = 0; list[i]; i += step)
        if (strcmp(list[i], value) == 0) {
            *slot = list[i];
            return 0;
        }
    return report_fail(self, "'%s' is not %s", value, choices);
}

int cf_report_set_by(cf_report_t *self, const char *dimension)
{
    assert(self && dimension);
    return report_choose(self, s_dimensions, 2, dimension, &self->by,
                         "origin, host, programme or route");
}

int cf_report_set_period(cf_report_t *self, const char *period)
{
    assert(self && period);
    return report_choose(self, s_periods, 1, period, &self->period,
                         "day, month or year");
}

void cf_report_set_public(cf_report_t *self, bool on)
{
    assert(self);
    self->public = on;
}

const char *cf_report_error(const cf_report_t *self)
{
    assert(self);
    return self->error;
}

/*  Masks small counts and rounds the others, per docs/domain.md. The
    vulnerability report is the one whose rows name a sensitive flag.       */
static void report_publish(const cf_report_t *self, cf_table_t *table)
{
    bool vuln = self->def->build == report_vulnerability;
    for (size_t r = 0; r < cf_table_rows(table); r++) {
        int64_t limit = vuln && report_in(s_sensitive, cf_table_text(table, r, 1)) ? 11 : 10;
        char mark[8];
        snprintf(mark, sizeof mark, "<%d", (int) limit);
        for (size_t c = 0; c < cf_table_columns(table); c++) {
            if (cf_table_column_type(table, c) != CF_TABLE_INT)
                continue;
            int64_t value = cf_table_int(table, r, c);
            if (value > 0 && value < limit)
                cf_table_mask(table, r, c, mark);
            else if (value > 0)
                cf_table_set_int(table, r, c, (value + 2) / 5 * 5);
        }
    }
}

cf_table_t *cf_report_build(const cf_report_t *self, const cf_counts_t *counts)
{
    assert(self && counts);
    cf_table_t *table = cf_table_new();
    cf_counts_t *index = cf_counts_new();
    self->def->build(self, counts, table, index);
    cf_counts_destroy(&index);
    if (self->public && self->def->has_programme)
        report_publish(self, table);
    return table;
}
