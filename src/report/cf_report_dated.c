/*  cf_report_dated: the builders of the reports kept per day, returns and
    flows. Redis holds day counters only; the report cuts each day to the
    chosen period (so a month or a year is always the sum of its days) and
    drops the days outside --from/--to. Rows sort by period, then by key.   */
#include "cf_report_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  returns' --by values and the column each names, in pairs.                */
static const char *const s_return_columns[] = { "origin", "origin_country", "host",
                                                "host_country", "programme", "programme",
                                                "route", "route", NULL };

/*  Sorts by the period (the last key column), then by the other keys.       */
static void report_sort_by_period(report_rows_t *rows)
{
    cf_table_key_t keys[4];
    keys[0] = (cf_table_key_t) { rows->nkeys - 1, NULL };
    for (size_t k = 0; k + 1 < rows->nkeys; k++)
        keys[k + 1] = (cf_table_key_t) { k, NULL };
    cf_table_sort(rows->table, keys, rows->nkeys);
}

/*  day:<date>|<dim>|<value>|<programme>|<cases or persons>, summed over
    programmes into rows of <value>, <period>. month: and year: counters (an
    older layout) are not day counters, so they are skipped.                 */
void report_returns(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                    cf_disclose_t *rules)
{
    static const char *const measures[] = { "cases", "persons", NULL };
    char columns[64];
    snprintf(columns, sizeof columns, "%s %s",
             s_return_columns[report_find(s_return_columns, self->by) + 1], self->period);
    report_columns(rows, columns, "cases persons");
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[5], period[11];
        size_t n;
        char *copy = report_split(cf_counts_name(counts, i), parts, 5, &n);
        if (n == 5 && cf_counts_value(counts, i) && strcmp(parts[1], self->by) == 0
            && report_keeps(self, parts[3]) && report_day(self, parts[0], period)) {
            const char *keys[2] = { parts[2], period };
            report_measure(rows, keys, parts[4], measures, 2, 2, cf_counts_value(counts, i));
        }
        free(copy);
    }
    report_sort_by_period(rows);
    report_counts(rules, 2, 2, 10);
}

/*  day:<date>|<route>|<from>|<to>|<country>|<measure> into rows of the
    route, the pair or the country, then the period; uasc_share is uasc over
    the counts of the observations that gave uasc.                          */
void report_flows(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                  cf_disclose_t *rules)
{
    /*  --by route, pair, country: the first key part and how many.          */
    size_t first = self->by[0] == 'r' ? 1 : self->by[0] == 'p' ? 2 : 4;
    size_t nparts = self->by[0] == 'p' ? 2 : 1;
    char columns[64];
    snprintf(columns, sizeof columns, "%s %s",
             nparts == 2 ? "from_country to_country" : first == 1 ? "route" : "country",
             self->period);
    report_columns(rows, columns, "count females males uasc");
    report_reals(rows, "uasc_share", 3);
    rows->nslots = 1;
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[6], period[11];
        size_t n;
        char *copy = report_split(cf_counts_name(counts, i), parts, 6, &n);
        if (n == 6 && cf_counts_value(counts, i) && report_day(self, parts[0], period)) {
            const char *keys[3] = { parts[first], nparts == 2 ? parts[first + 1] : period,
                                    period };
            report_measure(rows, keys, parts[5], cf_vocab_family_measures(CF_FAMILY_FLOWS), 4,
                           nparts + 1, cf_counts_value(counts, i));
        }
        free(copy);
    }
    size_t uasc = nparts + 4;
    for (size_t r = 0; r < cf_table_rows(rows->table); r++)
        cf_table_set_real(rows->table, r, uasc + 1,
                          report_mean(cf_table_int(rows->table, r, uasc), 1,
                                      report_slots(rows, r)[0]));
    report_sort_by_period(rows);
    report_counts(rules, nparts + 1, 3, 10);
    cf_disclose_count(rules, uasc, 11);
    cf_disclose_dependent(rules, uasc + 1, uasc);
}
