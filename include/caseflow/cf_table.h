/*  cf_table: a small table of named columns and rows of cells, the shape every
    caseflow report takes before it is shown. A column holds text or integers;
    an integer cell may instead be masked (a suppressed small count), which
    shows as its mark in text and CSV and as null in JSON. The table sorts by
    key columns, with an optional fixed order for values such as stages, and
    renders itself as aligned text, JSON or CSV. Pure: no I/O, no globals.   */
#ifndef CF_TABLE_H
#define CF_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct _cf_table_t cf_table_t;

typedef enum { CF_TABLE_TEXT, CF_TABLE_INT } cf_table_type_t;
typedef enum { CF_TABLE_PLAIN, CF_TABLE_JSON, CF_TABLE_CSV } cf_table_format_t;

/*  One sort key. When order is not NULL it is a NULL-terminated list of
    values that sort first, in list order; an entry ending in '*' matches
    every value with that prefix. Values not in the list follow; ties and
    unlisted values sort by strcmp. Integer columns sort numerically.        */
typedef struct {
    size_t column;
    const char *const *order;
} cf_table_key_t;

cf_table_t *cf_table_new(void);
void cf_table_destroy(cf_table_t **self_p);

/*  Appends a column (name is copied). Columns come before the first row.
    Returns the column's index.                                             */
size_t cf_table_add_column(cf_table_t *self, const char *name, cf_table_type_t type);

/*  Appends a row whose text cells are "" and integer cells 0; returns its
    index.                                                                   */
size_t cf_table_add_row(cf_table_t *self);

size_t cf_table_columns(const cf_table_t *self);
size_t cf_table_rows(const cf_table_t *self);
const char *cf_table_column_name(const cf_table_t *self, size_t column);
cf_table_type_t cf_table_column_type(const cf_table_t *self, size_t column);

/*  Setters; the column must be of the matching type. Text is copied.        */
void cf_table_set_text(cf_table_t *self, size_t row, size_t column, const char *text);
void cf_table_set_int(cf_table_t *self, size_t row, size_t column, int64_t value);
/*  Marks an integer cell as suppressed; mark (e.g. "<10") is copied.        */
void cf_table_mask(cf_table_t *self, size_t row, size_t column, const char *mark);

/*  Getters. cf_table_text returns a text cell's value, or an integer cell's
    mark when masked (NULL when not); the pointer lives until the cell is
    next set or the table destroyed.                                        */
const char *cf_table_text(const cf_table_t *self, size_t row, size_t column);
int64_t cf_table_int(const cf_table_t *self, size_t row, size_t column);

/*  Sorts the rows by the keys in turn (a stable sort).                      */
void cf_table_sort(cf_table_t *self, const cf_table_key_t *keys, size_t nkeys);

/*  Renders the table; the caller frees the returned string.
    PLAIN: a header line, a line of dashes, one line per row; columns two
           spaces apart, text left-aligned, integers right-aligned, no
           trailing spaces.
    JSON:  "[\n", one object per row keyed by column name in column order
           ("  {...},\n"), "]\n"; integers as JSON integers, masked cells as
           null; "[]\n" when there are no rows.
    CSV:   RFC 4180: a header record then one record per row, CRLF line
           ends, fields with a comma, quote, CR or LF quoted, quotes doubled.
    Plain text shows control bytes as '?'; JSON and CSV keep them.          */
char *cf_table_render(const cf_table_t *self, cf_table_format_t format);

#endif
