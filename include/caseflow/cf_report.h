/*  cf_report: the named reports of caseflow-ctl, as pure functions from the
    summed counters of one family (cf_counts, as cf_store reads them) to a
    cf_table of rows. A report object carries its choices (programme filter,
    breakdown, period, date range, exact or published counts, rounding); a
    bad choice fails with the reason on the object, hiredis-style. Published
    counts (the default) follow cf_disclose's rules. No I/O: the caller reads
    the counters and renders the table. docs/reports.md describes every
    report.

    Counter names that do not fit a report's grammar are skipped, and so are
    zero counters: a row appears only when one of its counts is non-zero
    (quality's fixed measures excepted, which always appear).               */
#ifndef CF_REPORT_H
#define CF_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "caseflow/cf_counts.h"
#include "caseflow/cf_table.h"

typedef struct _cf_report_t cf_report_t;

/*  The catalogue, in the order help lists it: report i's name and a one-line
    summary; both static.                                                    */
size_t cf_report_catalogue_size(void);
const char *cf_report_catalogue_name(size_t index);
const char *cf_report_catalogue_summary(size_t index);

/*  A report by name (see the catalogue), with default choices: every
    programme, the first --by choice, the report's default period, all
    dates, publication rules on, no rounding. NULL when no report has that
    name.                                                                    */
cf_report_t *cf_report_new(const char *name);
void cf_report_destroy(cf_report_t **self_p);

const char *cf_report_name(const cf_report_t *self);

/*  The counter family to read for this report, for cf_store_read_family:
    "stage", "returns", "vuln", "demo", "dur", "detention", "reint" or
    "monitor" (reintegration by service or by origin), "services",
    "funding", "flows" or "quality". It depends on the --by choice.          */
const char *cf_report_family(const cf_report_t *self);

/*  Each setter returns 0, or -1 with the reason on the report (a report
    that does not take the option, or a bad value) and the choice unchanged. */

/*  Keeps only programme's counters (copied). Not for funding, flows and
    quality.                                                                 */
int cf_report_set_programme(cf_report_t *self, const char *programme);

/*  The breakdown: returns origin, host, programme or route; reintegration
    service or origin; funding donor or project; flows route, pair or
    country.                                                                 */
int cf_report_set_by(cf_report_t *self, const char *choice);

/*  returns and flows: the period, day, month or year.                      */
int cf_report_set_period(cf_report_t *self, const char *period);

/*  returns, flows and funding: keeps the days from date and to date
    (inclusive), each YYYY, YYYY-MM or YYYY-MM-DD: a day D is kept when D
    cut to from's length is >= from, and D cut to to's length is <= to.     */
int cf_report_set_from(cf_report_t *self, const char *date);
int cf_report_set_to(cf_report_t *self, const char *date);

/*  Exact counts (for operators): turns the publication rules off.           */
void cf_report_set_exact(cf_report_t *self, bool on);

/*  Rounds the counts still shown to the nearest 5, after suppression.       */
void cf_report_set_round(cf_report_t *self, bool on);

/*  The reason the last failing setter gave, "" when none failed. Lives as
    long as the report.                                                      */
const char *cf_report_error(const cf_report_t *self);

/*  The choices of caseflow-ctl report and of GET /api/v1/reports/NAME
    (caseflow-web), each NULL or false when not given.                     */
typedef struct {
    const char *name, *programme, *by, *period, *from, *to;
    bool exact, round;
} cf_report_choices_t;

/*  The report choices->name with the choices applied, in the order above.
    NULL with the reason in err: "unknown report 'x'", or the first bad
    choice as "<prefix><choice>: <reason>" (prefix "--" names ctl's flags,
    "" the API's parameters).                                               */
cf_report_t *cf_report_choose(const cf_report_choices_t *choices, const char *prefix, char *err,
                              size_t n);

/*  Builds the report's table from counts; the caller destroys it. Never
    NULL: no counters gives a table with columns and no rows.                */
cf_table_t *cf_report_build(const cf_report_t *self, const cf_counts_t *counts);

#endif
