/*  cf_table: a small table of named columns and rows of cells, the shape every
    caseflow report takes before it is shown. A column holds text, integers or
    reals (shown with a fixed number of decimals); an integer or real cell may
    instead be masked (a suppressed small count, or a figure derived from one),
    which shows as its mark in text and CSV and as null in JSON. A real cell
    may also be undefined (a mean over nothing): empty in text and CSV, null
    in JSON. The table sorts by
    key columns, with an optional fixed order for values such as stages, and
    renders itself as aligned text, JSON or CSV. Pure: no I/O, no globals.   */
#ifndef CF_TABLE_H
#define CF_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct _cf_table_t cf_table_t;

typedef enum { CF_TABLE_TEXT, CF_TABLE_INT, CF_TABLE_REAL } cf_table_type_t;
typedef enum { CF_TABLE_PLAIN, CF_TABLE_JSON, CF_TABLE_CSV } cf_table_format_t;

/*  The key of a JSON row that names its masked cells; no column has it.   */
#define CF_TABLE_SUPPRESSED "suppressed"

/*  One sort key. When order is not NULL it is a NULL-terminated list of
    values that sort first, in list order; an entry ending in '*' matches
    every value with that prefix. Values not in the list follow; ties and
    unlisted values sort by strcmp. Integer and real columns sort
    numerically, undefined reals first.                                      */
typedef struct {
    size_t column;
    const char *const *order;
} cf_table_key_t;

cf_table_t *cf_table_new(void);
void cf_table_destroy(cf_table_t **self_p);

/*  Appends a column (name is copied). Columns come before the first row.
    Returns the column's index.                                             */
size_t cf_table_add_column(cf_table_t *self, const char *name, cf_table_type_t type);

/*  Appends a real column shown with decimals (0 to 9) digits after the
    point; otherwise as cf_table_add_column.                                */
size_t cf_table_add_real_column(cf_table_t *self, const char *name, int decimals);

/*  Appends a row whose text cells are "", integer cells 0 and real cells
    undefined; returns its index.                                            */
size_t cf_table_add_row(cf_table_t *self);

size_t cf_table_columns(const cf_table_t *self);
size_t cf_table_rows(const cf_table_t *self);
const char *cf_table_column_name(const cf_table_t *self, size_t column);
cf_table_type_t cf_table_column_type(const cf_table_t *self, size_t column);

/*  Setters; the column must be of the matching type. Text is copied.        */
void cf_table_set_text(cf_table_t *self, size_t row, size_t column, const char *text);
void cf_table_set_int(cf_table_t *self, size_t row, size_t column, int64_t value);
/*  A real cell's value; NAN (or any value that is not finite) makes the
    cell undefined.                                                          */
void cf_table_set_real(cf_table_t *self, size_t row, size_t column, double value);
/*  Marks an integer or real cell as suppressed; mark (e.g. "<10") is
    copied. Setting the cell's value again unmasks it.                       */
void cf_table_mask(cf_table_t *self, size_t row, size_t column, const char *mark);

/*  Getters. cf_table_text returns a text cell's value, or an integer cell's
    mark when masked (NULL when not); the pointer lives until the cell is
    next set or the table destroyed.                                        */
const char *cf_table_text(const cf_table_t *self, size_t row, size_t column);
int64_t cf_table_int(const cf_table_t *self, size_t row, size_t column);
double cf_table_real(const cf_table_t *self, size_t row, size_t column);

/*  Sorts the rows by the keys in turn (a stable sort).                      */
void cf_table_sort(cf_table_t *self, const cf_table_key_t *keys, size_t nkeys);

/*  Renders the table; the caller frees the returned string.
    PLAIN: a header line, a line of dashes, one line per row; columns two
           spaces apart, text left-aligned, numbers right-aligned, no
           trailing spaces; reals with their column's decimals ("%.*f").
    JSON:  "[\n", one object per row keyed by column name in column order
           ("  {...},\n"), "]\n"; integers as JSON integers, reals as JSON
           numbers rounded to the column's decimals, masked cells and
           undefined reals as null; a row with masked cells ends with
           "suppressed": {column: mark, ...}, so that a suppressed figure
           is told from one that does not exist (docs/operations.md, "JSON
           output"); "[]\n" when there are no rows.
    CSV:   RFC 4180: a header record then one record per row, CRLF line
           ends, fields with a comma, quote, CR or LF quoted, quotes doubled.
    Plain text shows control bytes as '?'; JSON and CSV keep them.          */
char *cf_table_render(const cf_table_t *self, cf_table_format_t format);

#endif
