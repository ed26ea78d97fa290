/*  cf_report: the catalogue of reports, their choices and the build; see
    cf_report.h and docs/reports.md. Each report is one entry of s_reports,
    which says which options it takes; the builders (cf_report_cases.c,
    cf_report_money.c, cf_report_dated.c) parse their family's counters
    into rows with the helpers of cf_report_rows.c and declare their count
    columns, and cf_report_build applies the publication rules to them.    */
#include "cf_report_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P REPORT_PROGRAMME
static const report_def_t s_reports[] = {
    { "stages", CF_FAMILY_STAGE, "cases and persons by programme and stage, open now and ever "
      "entered", P, { NULL }, NULL, 0, NULL, report_stages },
    { "returns", CF_FAMILY_RETURNS, "returns by origin, host, programme or route per year, month "
      "or day", P | REPORT_PERIOD | REPORT_DATES, { "origin", "host", "programme", "route" },
      NULL, 0, "year", report_returns },
    { "vulnerability", CF_FAMILY_VULN, "cases by programme and vulnerability flag or screening "
      "risk", P, { NULL }, NULL, 0, NULL, report_vulnerability },
    { "demographics", CF_FAMILY_DEMO, "persons by programme, sex and age band", P, { NULL },
      NULL, 0, NULL, report_demographics },
    { "durations", CF_FAMILY_DUR, "days between stages: cases, mean, p50 and p90 by programme",
      P, { NULL }, NULL, 0, NULL, report_durations },
    { "detention", CF_FAMILY_DETENTION, "detentions by country: now, ever, episodes and their "
      "days", P, { NULL }, NULL, 0, NULL, report_detention },
    { "reintegration", CF_FAMILY_REINT, "reintegration services and value, or monitoring scores "
      "by origin", P, { "service", "origin" }, "origin", CF_FAMILY_MONITOR, NULL,
      report_reintegration },
    { "services", CF_FAMILY_SERVICES, "services delivered and their value by programme and "
      "service", P, { NULL }, NULL, 0, NULL, report_services },
    { "funding", CF_FAMILY_FUNDING, "funding transactions and value by donor or project, "
      "currency and type", REPORT_DATES, { "donor", "project" }, NULL, 0, NULL, report_funding },
    { "flows", CF_FAMILY_FLOWS, "observed flows by route, country pair or country per month, "
      "day or year", REPORT_PERIOD | REPORT_DATES, { "route", "pair", "country" }, NULL, 0,
      "month", report_flows },
    { "quality", CF_FAMILY_QUALITY, "data quality: rejections by field, duplicates, "
      "out-of-order events", 0, { NULL }, NULL, 0, NULL, report_quality },
};
#undef P
#define REPORT_COUNT (sizeof s_reports / sizeof s_reports[0])

static const char *const s_periods[] = { "day", "month", "year", NULL };

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
            cf_report_t *self = cf_calloc(1, sizeof *self);
            self->def = &s_reports[i];
            self->by = self->def->by[0];
            self->period = self->def->period;
            return self;
        }
    return NULL;
}

cf_report_t *cf_report_choose(const cf_report_choices_t *choices, const char *prefix, char *err,
                              size_t n)
{
    assert(choices && choices->name && prefix);
    cf_report_t *self = cf_report_new(choices->name);
    if (!self) {
        snprintf(err, n, "unknown report '%s'", choices->name);
        return NULL;
    }
    const char *bad = NULL;
    if (choices->programme && cf_report_set_programme(self, choices->programme) < 0)
        bad = "programme";
    else if (choices->by && cf_report_set_by(self, choices->by) < 0)
        bad = "by";
    else if (choices->period && cf_report_set_period(self, choices->period) < 0)
        bad = "period";
    else if (choices->from && cf_report_set_from(self, choices->from) < 0)
        bad = "from";
    else if (choices->to && cf_report_set_to(self, choices->to) < 0)
        bad = "to";
    if (bad) {
        snprintf(err, n, "%s%s: %s", prefix, bad, cf_report_error(self));
        cf_report_destroy(&self);
        return NULL;
    }
    cf_report_set_exact(self, choices->exact);
    cf_report_set_round(self, choices->round);
    return self;
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
    bool other = self->by && self->def->other_by && strcmp(self->by, self->def->other_by) == 0;
    return cf_vocab_family_name(other ? self->def->other_family : self->def->family);
}

static int report_fail(cf_report_t *self, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(self->error, sizeof self->error, format, args);
    va_end(args);
    return -1;
}

/*  0 when the report takes option (a REPORT_ flag), else -1 with what it
    lacks, e.g. "the quality report has no programme".                      */
static int report_takes(cf_report_t *self, unsigned option, const char *what)
{
    return self->def->takes & option ? 0 : report_fail(self, "the %s report has no %s",
                                                       self->def->name, what);
}

int cf_report_set_programme(cf_report_t *self, const char *programme)
{
    assert(self && programme);
    if (report_takes(self, REPORT_PROGRAMME, "programme") < 0)
        return -1;
    if (!*programme)
        return report_fail(self, "the programme is empty");
    free(self->programme);
    self->programme = cf_strdup(programme);
    return 0;
}

/*  Points *slot at the entry of list equal to value, or fails naming the
    choices ("'x' is not a, b or c").                                        */
static int report_choose(cf_report_t *self, const char *const *list, const char *value,
                         const char **slot)
{
    int i = report_find(list, value);
    if (i >= 0) {
        *slot = list[i];
        return 0;
    }
    int len = snprintf(self->error, sizeof self->error, "'%.40s' is not ", value);
    for (size_t k = 0; list[k] && len > 0 && (size_t) len < sizeof self->error; k++)
        len += snprintf(self->error + len, sizeof self->error - (size_t) len, "%s%s",
                        k == 0 ? "" : list[k + 1] ? ", " : " or ", list[k]);
    return -1;
}

int cf_report_set_by(cf_report_t *self, const char *choice)
{
    assert(self && choice);
    if (!self->def->by[0])
        return report_fail(self, "the %s report has no breakdown", self->def->name);
    return report_choose(self, self->def->by, choice, &self->by);
}

int cf_report_set_period(cf_report_t *self, const char *period)
{
    assert(self && period);
    if (report_takes(self, REPORT_PERIOD, "period") < 0)
        return -1;
    return report_choose(self, s_periods, period, &self->period);
}

/*  Checks date (YYYY, YYYY-MM or YYYY-MM-DD, month 01-12, day 01-31) and
    that the range from .. to is not empty, then copies it into slot.       */
static int report_date(cf_report_t *self, const char *date, char *slot, bool from)
{
    size_t len = strlen(date);
    bool ok = len == 4 || len == 7 || len == 10;
    for (size_t i = 0; ok && i < len; i++)
        ok = i == 4 || i == 7 ? date[i] == '-' : date[i] >= '0' && date[i] <= '9';
    if (ok && len >= 7)
        ok = strncmp(date + 5, "01", 2) >= 0 && strncmp(date + 5, "12", 2) <= 0;
    if (ok && len == 10)
        ok = strncmp(date + 8, "01", 2) >= 0 && strncmp(date + 8, "31", 2) <= 0;
    if (report_takes(self, REPORT_DATES, "dates") < 0)
        return -1;
    if (!ok)
        return report_fail(self, "'%.40s' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)", date);
    const char *other = from ? self->to : self->from;
    size_t common = len < strlen(other) ? len : strlen(other);
    if (from ? strncmp(date, other, common) > 0 : strncmp(other, date, common) > 0)
        return report_fail(self, "%s is %s %s", date, from ? "after --to" : "before --from",
                           other);
    memcpy(slot, date, len + 1);
    return 0;
}

int cf_report_set_from(cf_report_t *self, const char *date)
{
    assert(self && date);
    return report_date(self, date, self->from, true);
}

int cf_report_set_to(cf_report_t *self, const char *date)
{
    assert(self && date);
    return report_date(self, date, self->to, false);
}

void cf_report_set_exact(cf_report_t *self, bool on)
{
    assert(self);
    self->exact = on;
}

void cf_report_set_round(cf_report_t *self, bool on)
{
    assert(self);
    self->round = on;
}

const char *cf_report_error(const cf_report_t *self)
{
    assert(self);
    return self->error;
}

cf_table_t *cf_report_build(const cf_report_t *self, const cf_counts_t *counts)
{
    assert(self && counts);
    report_rows_t rows = { .table = cf_table_new(), .index = cf_counts_new() };
    cf_disclose_t *rules = cf_disclose_new();
    self->def->build(self, counts, &rows, rules);
    cf_disclose_apply(rules, rows.table, (self->exact ? 0 : CF_DISCLOSE_SUPPRESS)
                                             | (self->round ? CF_DISCLOSE_ROUND : 0));
    cf_disclose_destroy(&rules);
    cf_counts_destroy(&rows.index);
    free(rows.slots);
    return rows.table;
}
