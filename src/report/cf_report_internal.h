/*  cf_report_internal.h: what the report builders share, private to
    src/report/cf_report*.c. The report object and its catalogue entry; the row
    helpers every builder uses to turn '|'-separated counter names into rows
    (split a name, find or add the row its keys name, add a value into a
    shown column or into a hidden per-row sum, read a day field against the
    period and the date range). cf_report.c holds the catalogue and the
    setters; cf_report_cases.c, cf_report_money.c and cf_report_dated.c hold
    the builders.                                                            */
#ifndef CF_REPORT_INTERNAL_H
#define CF_REPORT_INTERNAL_H

#include "cf_disclose.h"
#include "caseflow/cf_report.h"
#include "caseflow/cf_vocab.h"

#include <stdbool.h>
#include <stdint.h>

enum {
    REPORT_PROGRAMME = 1,       /* takes --programme */
    REPORT_PERIOD = 2,          /* takes --period */
    REPORT_DATES = 4,           /* takes --from and --to */
};

typedef struct report_rows_t report_rows_t;

typedef struct {
    const char *name;
    cf_family_t family;         /* the counters it reads */
    const char *summary;
    unsigned takes;
    const char *by[5];          /* --by choices, NULL-terminated, the first the default */
    const char *other_by;       /* the choice that reads other_family instead, or NULL */
    cf_family_t other_family;
    const char *period;         /* the default --period, with REPORT_PERIOD */
    /*  Adds the columns and rows to rows->table, sorts them and declares
        the count and dependent columns to rules.                            */
    void (*build)(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                  cf_disclose_t *rules);
} report_def_t;

struct _cf_report_t {
    const report_def_t *def;
    char *programme;            /* NULL = every programme */
    const char *by;             /* one of def->by, or NULL when the report has none */
    const char *period;         /* day, month or year, with REPORT_PERIOD */
    char from[11], to[11];      /* "" = open */
    bool exact, round;
    char error[128];
};

/*  The rows of a table being built: the first nkeys (text) columns name a
    row, found through index (keys joined by a unit separator -> row + 1);
    each row also has nslots hidden int64 sums, for what is not shown as it
    is (seconds, cents, bases of shares).                                   */
struct report_rows_t {
    cf_table_t *table;
    cf_counts_t *index;
    size_t nkeys, nslots;
    int64_t *slots;             /* nslots per row */
    size_t capacity;            /* rows that slots has room for */
};

/*  Adds text columns then integer columns, named by space-separated lists;
    the text columns are the row keys. Then real columns with decimals.      */
void report_columns(report_rows_t *rows, const char *text_columns, const char *int_columns);
void report_reals(report_rows_t *rows, const char *names, int decimals);

/*  Splits a copy of name at '|' into at most max parts. Returns the copy,
    which the caller frees; *n is the number of parts, 0 when there are more
    than max.                                                                */
char *report_split(const char *name, char **parts, size_t max, size_t *n);

/*  The index of text in a NULL-terminated list, or -1.                      */
int report_find(const char *const *list, const char *text);

/*  True when the report keeps counters of programme.                        */
bool report_keeps(const cf_report_t *self, const char *programme);

/*  The row whose keys (rows->nkeys of them) are keys, added when missing.   */
size_t report_row(report_rows_t *rows, const char *const *keys);

/*  Adds value into integer column of the row keys name.                     */
void report_add(report_rows_t *rows, const char *const *keys, size_t column, int64_t value);

/*  A row's hidden sums, rows->nslots of them; valid until the next row is
    added.                                                                   */
int64_t *report_slots(report_rows_t *rows, size_t row);

/*  Adds value to the row keys name: into integer column first + i when
    measure is measures[i] and i < nshown, else into hidden sum i - nshown.
    False (nothing added) when measure is not in measures.                   */
bool report_measure(report_rows_t *rows, const char *const *keys, const char *measure,
                    const char *const *measures, size_t nshown, size_t first, int64_t value);

/*  Adds every counter <programme>|<key>|...|<measure> of nparts parts (at
    most 8) that the programme filter keeps, as report_measure does; the
    row's keys are the parts from skip on (skip 1: summed over programmes). */
void report_by_programme(const cf_report_t *self, const cf_counts_t *counts,
                         report_rows_t *rows, size_t nparts, size_t skip,
                         const char *const *measures, size_t nshown, size_t first);

/*  Declares the integer columns first .. first + n - 1 counts with limit.   */
void report_counts(cf_disclose_t *rules, size_t first, size_t n, int64_t limit);

/*  Reads a "day:YYYY-MM-DD" field: true when it is one and the day is in
    the report's --from/--to range; then period (11 bytes) holds the day cut
    to the report's period (YYYY, YYYY-MM or the day itself).                */
bool report_day(const cf_report_t *self, const char *field, char *period);

/*  sum / scale / base, or NAN when base is 0.                               */
double report_mean(int64_t sum, double scale, int64_t base);

void report_stages(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                   cf_disclose_t *rules);
void report_vulnerability(const cf_report_t *self, const cf_counts_t *counts,
                          report_rows_t *rows, cf_disclose_t *rules);
void report_demographics(const cf_report_t *self, const cf_counts_t *counts,
                         report_rows_t *rows, cf_disclose_t *rules);
void report_durations(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                      cf_disclose_t *rules);
void report_detention(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                      cf_disclose_t *rules);
void report_quality(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                    cf_disclose_t *rules);
void report_reintegration(const cf_report_t *self, const cf_counts_t *counts,
                          report_rows_t *rows, cf_disclose_t *rules);
void report_services(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                     cf_disclose_t *rules);
void report_funding(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                    cf_disclose_t *rules);
void report_returns(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                    cf_disclose_t *rules);
void report_flows(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                  cf_disclose_t *rules);

#endif
