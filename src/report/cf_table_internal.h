/*  cf_table_internal: the table's struct, which cf_table.c (columns, rows,
    cells and the sort) and cf_table_render.c (text, JSON and CSV) share.
    Not for other modules: they see cf_table.h.                             */
#ifndef CF_TABLE_INTERNAL_H
#define CF_TABLE_INTERNAL_H

#include "caseflow/cf_table.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char *text;        /* a text cell's value, or a number cell's mark; NULL = none */
    int64_t value;
    double real;
    bool defined;      /* a real cell: real holds a value */
} table_cell_t;

typedef struct {
    char *name;
    cf_table_type_t type;
    int decimals;      /* a real column's digits after the point */
} table_column_t;

struct _cf_table_t {
    table_column_t *columns;
    size_t ncolumns;
    table_cell_t **rows;
    size_t nrows, capacity;
};

#endif
