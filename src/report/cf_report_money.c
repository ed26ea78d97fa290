/*  cf_report_money: the builders of the reports that carry values as well
    as counts: reintegration (services delivered, or monitoring scores by
    origin), services and funding. Values are summed as integers (cents,
    scores x 10 000) and divided once per row, so that a sum never drifts.  */
#include "cf_report_internal.h"
#include "caseflow/cf_event.h"

#include <stdlib.h>
#include <string.h>

/*  IATI transaction type codes and the names the report shows, in pairs.    */
static const char *const s_transactions[] = { "1", "incoming_funds", "2", "commitment",
                                              "3", "disbursement", "4", "expenditure",
                                              "11", "incoming_commitment", NULL };
static const char *const s_transaction_order[] = { "incoming_funds", "commitment",
                                                   "disbursement", "expenditure",
                                                   "incoming_commitment", NULL };

/*  Sets real column value of every row to its hidden cents / 100.           */
static void report_cents(report_rows_t *rows, size_t value)
{
    for (size_t r = 0; r < cf_table_rows(rows->table); r++)
        cf_table_set_real(rows->table, r, value, (double) report_slots(rows, r)[0] / 100);
}

/*  <programme>|<k1>|<k2>|<currency>|<count>, …|value: the shape shared by
    reintegration services and services; measures names the count.          */
static void report_valued(const cf_report_t *self, const cf_counts_t *counts,
                          report_rows_t *rows, cf_disclose_t *rules, const char *keys,
                          const char *const *measures, const char *const *order)
{
    report_columns(rows, keys, measures[0]);
    report_reals(rows, "value", 2);
    rows->nslots = 1;
    report_by_programme(self, counts, rows, 5, 0, measures, 1, 4);
    report_cents(rows, 5);
    cf_table_sort(rows->table, (cf_table_key_t[]) { { 0, NULL }, { 1, order }, { 2, NULL },
                                                    { 3, NULL } }, 4);
    report_counts(rules, 4, 1, 10);
    cf_disclose_dependent(rules, 5, 4);
}

/*  <programme>|<origin>|surveys and the sums of scores x 10 000: the mean
    of each score per survey (composite: per survey that carried one).      */
static void report_monitoring(const cf_report_t *self, const cf_counts_t *counts,
                              report_rows_t *rows, cf_disclose_t *rules)
{
    report_columns(rows, "programme origin_country", "surveys");
    report_reals(rows, "economic social psychosocial composite", 3);
    rows->nslots = 5;
    report_by_programme(self, counts, rows, 3, 0, cf_vocab_family_measures(CF_FAMILY_MONITOR), 1,
                        2);
    for (size_t r = 0; r < cf_table_rows(rows->table); r++) {
        const int64_t *sums = report_slots(rows, r);
        int64_t surveys = cf_table_int(rows->table, r, 2);
        for (size_t s = 0; s < 3; s++)
            cf_table_set_real(rows->table, r, 3 + s, report_mean(sums[s], 10000, surveys));
        cf_table_set_real(rows->table, r, 6, report_mean(sums[3], 10000, sums[4]));
    }
    cf_table_sort(rows->table, (cf_table_key_t[]) { { 0, NULL }, { 1, NULL } }, 2);
    report_counts(rules, 2, 1, 10);
    for (size_t c = 3; c <= 6; c++)
        cf_disclose_dependent(rules, c, 2);
}

void report_reintegration(const cf_report_t *self, const cf_counts_t *counts,
                          report_rows_t *rows, cf_disclose_t *rules)
{
    if (strcmp(self->by, "origin") == 0)
        report_monitoring(self, counts, rows, rules);
    else
        report_valued(self, counts, rows, rules, "programme dimension modality currency",
                      cf_vocab_family_measures(CF_FAMILY_REINT), NULL);
}

/*  The services in the order of the types that count them (their rows in
    cf_event_types.c: screening, assistance, departure, escort, ...).       */
void report_services(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                     cf_disclose_t *rules)
{
    const char *order[CF_EV_TYPE_COUNT * CF_EVENT_SERVICES_MAX + 1];
    size_t n = 0;
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++)
        for (const cf_event_service_t *s = cf_event_type_info((cf_event_type_t) t)->services;
             s->kind; s++)
            order[n++] = s->kind;
    order[n] = NULL;
    report_valued(self, counts, rows, rules, "programme service detail currency",
                  cf_vocab_family_measures(CF_FAMILY_SERVICES), order);
}

/*  Undoes the funding names' escaping in place: %25 is '%', %7C is '|'.     */
static char *report_unescape(char *text)
{
    char *out = text;
    for (const char *p = text; *p; p++) {
        if (p[0] == '%' && p[1] == '2' && p[2] == '5')
            *out++ = '%', p += 2;
        else if (p[0] == '%' && p[1] == '7' && (p[2] == 'C' || p[2] == 'c'))
            *out++ = '|', p += 2;
        else
            *out++ = *p;
    }
    *out = '\0';
    return text;
}

/*  day:<date>|<donor>|<project_id>|<currency>|<type>|transactions, …|value,
    summed over the days in range; not suppressed (money, not persons).     */
void report_funding(const cf_report_t *self, const cf_counts_t *counts, report_rows_t *rows,
                    cf_disclose_t *rules)
{
    static const char *const measures[] = { "transactions", "value", NULL };
    bool donor = strcmp(self->by, "donor") == 0;
    (void) rules;
    report_columns(rows, donor ? "donor currency transaction_type"
                               : "project_id currency transaction_type", "transactions");
    report_reals(rows, "value", 2);
    rows->nslots = 1;
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        char *parts[6], day[11];
        size_t n;
        char *copy = report_split(cf_counts_name(counts, i), parts, 6, &n);
        if (n == 6 && cf_counts_value(counts, i) && report_day(self, parts[0], day)) {
            int type = report_find(s_transactions, parts[4]);
            const char *keys[3] = { report_unescape(parts[donor ? 1 : 2]), parts[3],
                                    type >= 0 && type % 2 == 0 ? s_transactions[type + 1]
                                                               : parts[4] };
            report_measure(rows, keys, parts[5], measures, 1, 3, cf_counts_value(counts, i));
        }
        free(copy);
    }
    report_cents(rows, 4);
    cf_table_sort(rows->table, (cf_table_key_t[]) { { 0, NULL }, { 1, NULL },
                                                    { 2, s_transaction_order } }, 3);
}
