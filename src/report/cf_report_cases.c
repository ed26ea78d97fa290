/*  cf_report_cases: the builders of the reports about cases and persons by
    programme (stages, vulnerability, demographics, durations, detention)
    and of quality. Each parses its family's counter grammar (the spec's,
    docs/reports.md) with the shared row helpers of cf_report_rows.c.       */
#include "cf_report_internal.h"
#include "caseflow/cf_alloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_stage_measures[] = { "now|cases", "now|persons", "ever|cases",
                                                "ever|persons", NULL };
static const char *const s_intervals[] = { "registered-departed", "departed-arrived",
                                           "arrived-reintegrating", NULL };
static const char *const s_quality[] = { "rejected:*", "duplicate", "out_of_order",
                                         "before_registration", "repeat_registration", NULL };

/*  <programme>|<stage>|<now or ever>|<cases or persons>: four per row.      */
void report_stages(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                   cf_disclose_t *rules)
{
    report_columns(rows, "programme stage", "cases_now persons_now cases_ever persons_ever");
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[4], measure[32];
        size_t n;
        char *copy = report_split(cf_counts_name(counts, i), parts, 4, &n);
        if (n == 4 && cf_counts_value(counts, i) && report_keeps(self, parts[0])
            && strlen(parts[2]) + strlen(parts[3]) < sizeof measure - 1) {
            strcat(strcat(strcpy(measure, parts[2]), "|"), parts[3]);
            report_measure(rows, (const char *const *) parts, measure, s_stage_measures, 4, 2,
                           cf_counts_value(counts, i));
        }
        free(copy);
    }
    cf_table_sort(rows->table, (cf_table_key_t[]) { { 0, NULL }, { 1, cf_vocab_stages } }, 2);
    report_counts(rules, 2, 4, 10);
}

/*  Counters of <programme>|<k1>|...|<k(nkeys-1)> whose value is the one
    count of the row (column nkeys).                                         */
static void report_single(const cf_report_t *self, const cf_counts_t *counts,
                          report_rows_t *rows)
{
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[4];
        size_t n;
        char *copy = report_split(cf_counts_name(counts, i), parts, 4, &n);
        int64_t value = cf_counts_value(counts, i);
        if (n == rows->nkeys && value && report_keeps(self, parts[0]))
            report_add(rows, (const char *const *) parts, n, value);
        free(copy);
    }
}

static int report_compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*  <programme>|<flag> and <programme>|risk:<level> -> cases, the known flags
    alphabetically, then the risk levels by rising risk; vot, uasc and
    health rows are more sensitive.                                          */
void report_vulnerability(const cf_report_t *self, const cf_counts_t *counts,
                          report_rows_t *rows, cf_disclose_t *rules)
{
    const char *order[CF_VULN_COUNT + CF_RISK_LEVELS + 1];
    char risks[CF_RISK_LEVELS][24];
    memcpy(order, cf_vocab_vulns, CF_VULN_COUNT * sizeof *order);
    qsort(order, CF_VULN_COUNT, sizeof *order, report_compare_names);
    for (int level = 1; level <= CF_RISK_LEVELS; level++) {
        snprintf(risks[level - 1], sizeof risks[0], "risk:%s", cf_vocab_risk_name(level));
        order[CF_VULN_COUNT + level - 1] = risks[level - 1];
    }
    order[CF_VULN_COUNT + CF_RISK_LEVELS] = NULL;
    report_columns(rows, "programme vulnerability", "cases");
    report_single(self, counts, rows);
    cf_table_sort(rows->table, (cf_table_key_t[]) { { 0, NULL }, { 1, order } }, 2);
    report_counts(rules, 2, 1, 10);
    cf_disclose_sensitive(rules, 1, cf_vocab_vulns_sensitive, 11);
}

/*  <programme>|<sex>|<age_band> -> persons.                                 */
void report_demographics(const cf_report_t *self, const cf_counts_t *counts,
                         report_rows_t *rows, cf_disclose_t *rules)
{
    report_columns(rows, "programme sex age_band", "persons");
    report_single(self, counts, rows);
    cf_table_sort(rows->table,
                  (cf_table_key_t[]) { { 0, NULL }, { 1, cf_vocab_sexes },
                                       { 2, cf_vocab_age_bands } }, 3);
    report_counts(rules, 3, 1, 10);
}

typedef struct {
    size_t row;
    int64_t lo, hi, count;
} bucket_t;

static int bucket_compare(const void *a, const void *b)
{
    const bucket_t *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool report_hours(const char *text, int64_t *value)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    *value = v;
    return *text >= '0' && *text <= '9' && !*end && !errno;
}

/*  The q-quantile in days of one row's buckets (sorted by lo) over count
    cases: the rank q * count, interpolated linearly inside the bucket where
    the cumulative count reaches it (the spec's estimate). NAN when there
    are no buckets.                                                          */
static double report_quantile(const bucket_t *buckets, size_t n, int64_t count, double q)
{
    double rank = q * (double) count, before = 0;
    for (size_t b = 0; b < n; b++) {
        if (before + (double) buckets[b].count >= rank)
            return ((double) buckets[b].lo + (double) (buckets[b].hi - buckets[b].lo)
                    * (rank - before) / (double) buckets[b].count) / 24;
        before += (double) buckets[b].count;
    }
    return n ? (double) buckets[n - 1].hi / 24 : NAN;
}

/*  <programme>|<interval>|count, …|seconds and …|bucket|<lo>|<hi>: cases,
    their mean length and the p50 and p90 estimated from the histogram.     */
void report_durations(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                      cf_disclose_t *rules)
{
    static const char *const measures[] = { "count", "seconds", NULL };
    report_columns(rows, "programme interval", "cases");
    report_reals(rows, "mean_days p50_days p90_days", 1);
    rows->nslots = 1;
    bucket_t *buckets = NULL;
    size_t nbuckets = 0;
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[5];
        size_t n;
        char *copy = report_split(cf_counts_name(counts, i), parts, 5, &n);
        int64_t value = cf_counts_value(counts, i), lo, hi;
        if (n < 3 || !value || !report_keeps(self, parts[0]))
            ;
        else if (n == 3)
            report_measure(rows, (const char *const *) parts, parts[2], measures, 1, 2, value);
        else if (n == 5 && strcmp(parts[2], "bucket") == 0 && report_hours(parts[3], &lo)
                 && report_hours(parts[4], &hi) && hi > lo && value > 0) {
            buckets = cf_realloc(buckets, (nbuckets + 1) * sizeof *buckets);
            buckets[nbuckets++] = (bucket_t) { report_row(rows, (const char *const *) parts),
                                               lo, hi, value };
        }
        free(copy);
    }
    if (nbuckets)
        qsort(buckets, nbuckets, sizeof *buckets, bucket_compare);
    for (size_t r = 0, b = 0; r < cf_table_rows(rows->table); r++) {
        size_t first = b;
        while (b < nbuckets && buckets[b].row == r)
            b++;
        int64_t cases = cf_table_int(rows->table, r, 2);
        /*  seconds / count / 86 400 in the spec's order, so that a figure on
            a rounding edge rounds the same way as the test model's.         */
        cf_table_set_real(rows->table, r, 3,
                          report_mean(report_slots(rows, r)[0], 1, cases) / 86400);
        cf_table_set_real(rows->table, r, 4,
                          cases ? report_quantile(buckets + first, b - first, cases, 0.5) : NAN);
        cf_table_set_real(rows->table, r, 5,
                          cases ? report_quantile(buckets + first, b - first, cases, 0.9) : NAN);
    }
    free(buckets);
    cf_table_sort(rows->table, (cf_table_key_t[]) { { 0, NULL }, { 1, s_intervals } }, 2);
    report_counts(rules, 2, 1, 10);
    for (size_t c = 3; c <= 5; c++)
        cf_disclose_dependent(rules, c, 2);
}

/*  <programme>|<country>|now, …|cases, …|episodes, …|seconds, summed over
    programmes into one row per country.                                     */
void report_detention(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                      cf_disclose_t *rules)
{
    report_columns(rows, "country", "detained_now cases_ever episodes");
    report_reals(rows, "detention_days mean_days", 1);
    rows->nslots = 1;
    report_by_programme(self, counts, rows, 3, 1, cf_vocab_family_measures(CF_FAMILY_DETENTION), 3,
                        1);
    for (size_t r = 0; r < cf_table_rows(rows->table); r++) {
        int64_t seconds = report_slots(rows, r)[0], episodes = cf_table_int(rows->table, r, 3);
        cf_table_set_real(rows->table, r, 4, (double) seconds / 86400);
        cf_table_set_real(rows->table, r, 5, report_mean(seconds, 86400, episodes));
    }
    cf_table_sort(rows->table, (cf_table_key_t[]) { { 0, NULL } }, 1);
    report_counts(rules, 1, 3, 10);
    cf_disclose_dependent(rules, 4, 3);
    cf_disclose_dependent(rules, 5, 3);
}

/*  One row per counter, "rejected|<field>" shown as "rejected:<field>"; the
    fixed measures appear even when zero so that a clean run shows its
    zeros. Never suppressed: these count events, not persons.               */
void report_quality(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                    cf_disclose_t *rules)
{
    (void) self;
    (void) rules;
    report_columns(rows, "measure", "count");
    for (size_t i = 1; s_quality[i]; i++)
        report_row(rows, &s_quality[i]);
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *measure = cf_strdup(cf_counts_name(counts, i)), *bar;
        if ((bar = strchr(measure, '|')))
            *bar = ':';
        int64_t value = cf_counts_value(counts, i);
        if (value || report_find(&s_quality[1], measure) >= 0)
            report_add(rows, (const char *const *) &measure, 1, value);
        free(measure);
    }
    cf_table_sort(rows->table, (cf_table_key_t[]) { { 0, s_quality } }, 1);
}
