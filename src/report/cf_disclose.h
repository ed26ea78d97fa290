/*  cf_disclose: the publication rules of the reports, applied to a cf_table
    before it is shown. A rule set names the table's count columns (each with
    its threshold), rows whose counts are more sensitive (a higher threshold),
    and real columns that depend on a count (masked with it). Applying it
    masks small counts (primary suppression), then, until nothing changes,
    the smallest other count of any group that would give a lone masked cell
    away through its total (complementary suppression), and optionally rounds
    the counts that are still shown to the nearest 5. Every text column is a
    key: a group is the rows that agree on all the keys but one, which is
    what a row or column total of the table sums. Pure: no I/O, no globals.
    docs/reports.md states what this does and does not protect.              */
#ifndef CF_DISCLOSE_H
#define CF_DISCLOSE_H

#include <stddef.h>
#include <stdint.h>

#include "caseflow/cf_table.h"

typedef struct _cf_disclose_t cf_disclose_t;

/*  What cf_disclose_apply does; flags may be or-ed.                         */
enum {
    CF_DISCLOSE_SUPPRESS = 1,   /* primary and complementary suppression */
    CF_DISCLOSE_ROUND = 2,      /* counts still shown, to the nearest 5 */
};

/*  An empty rule set: no count columns, so applying it changes nothing.     */
cf_disclose_t *cf_disclose_new(void);
void cf_disclose_destroy(cf_disclose_t **self_p);

/*  Integer column is a count: a value v with 1 <= v < limit is masked as
    "<limit". limit >= 1.                                                    */
void cf_disclose_count(cf_disclose_t *self, size_t column, int64_t limit);

/*  In rows whose text in key_column is one of values (NULL-terminated,
    static), every count's limit is at least limit.                          */
void cf_disclose_sensitive(cf_disclose_t *self, size_t key_column, const char *const *values,
                           int64_t limit);

/*  Real (or integer) column is derived from count_column: masked, as "x",
    whenever that count is.                                                  */
void cf_disclose_dependent(cf_disclose_t *self, size_t column, size_t count_column);

/*  Applies the rules to table, in place, as flags say. The columns named
    must exist in table with the right types.                                */
void cf_disclose_apply(const cf_disclose_t *self, cf_table_t *table, unsigned flags);

#endif
