/*  cf_report: the named reports of caseflow-ctl, as pure functions from the
    summed counters of one family (cf_counts, as cf_store reads them) to a
    cf_table of rows. A report object carries its choices (programme filter,
    breakdown, period, publication rules); a bad choice fails with the reason
    on the object, hiredis-style. No I/O: the caller reads the counters and
    renders the table. docs/reports.md describes every report.

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

/*  A report by name (stages, returns, vulnerability, demographics, quality),
    with default choices (no filter, by origin, per year, exact counts).
    NULL when no report has that name.                                       */
cf_report_t *cf_report_new(const char *name);
void cf_report_destroy(cf_report_t **self_p);

const char *cf_report_name(const cf_report_t *self);

/*  The counter family to read for this report, for cf_store_read_family:
    "stage", "returns", "vuln", "demo" or "quality".                         */
const char *cf_report_family(const cf_report_t *self);

/*  Keeps only programme's counters (copied). -1 when the report has no
    programme (quality).                                                     */
int cf_report_set_programme(cf_report_t *self, const char *programme);

/*  returns only: the breakdown, origin, host, programme or route. -1 for any
    other value or report.                                                   */
int cf_report_set_by(cf_report_t *self, const char *dimension);

/*  returns only: the period, day, month or year. -1 for any other value or
    report.                                                                  */
int cf_report_set_period(cf_report_t *self, const char *period);

/*  Applies the publication rules of docs/domain.md when on: a count from 1
    to 9 is masked as "<10" (1 to 10 as "<11" in vot, uasc and health rows),
    others are rounded to the nearest 5. Quality counts are never masked.    */
void cf_report_set_public(cf_report_t *self, bool on);

/*  The reason the last failing setter gave, "" when none failed. Lives as
    long as the report.                                                      */
const char *cf_report_error(const cf_report_t *self);

/*  Builds the report's table from counts; the caller destroys it. Never
    NULL: no counters gives a table with columns and no rows.                */
cf_table_t *cf_report_build(const cf_report_t *self, const cf_counts_t *counts);

#endif
