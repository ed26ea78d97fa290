/*  cf_table: columns, rows of cells and a stable sort; see cf_table.h.
    Rows are separate cell arrays so that sorting moves pointers only. The
    renderings are in cf_table_render.c.                                     */
#include "cf_table_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

cf_table_t *cf_table_new(void)
{
    cf_table_t *self = cf_calloc(1, sizeof *self);
    return self;
}

void cf_table_destroy(cf_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_table_t *self = *self_p;
    for (size_t r = 0; r < self->nrows; r++) {
        for (size_t c = 0; c < self->ncolumns; c++)
            free(self->rows[r][c].text);
        free(self->rows[r]);
    }
    for (size_t c = 0; c < self->ncolumns; c++)
        free(self->columns[c].name);
    free(self->rows);
    free(self->columns);
    free(self);
    *self_p = NULL;
}

size_t cf_table_add_column(cf_table_t *self, const char *name, cf_table_type_t type)
{
    assert(self && name);
    assert(strcmp(name, CF_TABLE_SUPPRESSED));     /* JSON's own key */
    assert(self->nrows == 0);
    self->columns = cf_realloc(self->columns, (self->ncolumns + 1) * sizeof *self->columns);
    self->columns[self->ncolumns] = (table_column_t) { cf_strdup(name), type, 0 };
    return self->ncolumns++;
}

size_t cf_table_add_real_column(cf_table_t *self, const char *name, int decimals)
{
    assert(decimals >= 0 && decimals <= 9);
    size_t column = cf_table_add_column(self, name, CF_TABLE_REAL);
    self->columns[column].decimals = decimals;
    return column;
}

size_t cf_table_add_row(cf_table_t *self)
{
    assert(self);
    self->rows = cf_grow(self->rows, &self->capacity, self->nrows + 1, sizeof *self->rows);
    table_cell_t *row = cf_calloc(self->ncolumns, sizeof *row);
    self->rows[self->nrows] = row;
    return self->nrows++;
}

size_t cf_table_columns(const cf_table_t *self)
{
    assert(self);
    return self->ncolumns;
}

size_t cf_table_rows(const cf_table_t *self)
{
    assert(self);
    return self->nrows;
}

const char *cf_table_column_name(const cf_table_t *self, size_t column)
{
    assert(self && column < self->ncolumns);
    return self->columns[column].name;
}

cf_table_type_t cf_table_column_type(const cf_table_t *self, size_t column)
{
    assert(self && column < self->ncolumns);
    return self->columns[column].type;
}

static table_cell_t *table_cell(const cf_table_t *self, size_t row, size_t column,
                                cf_table_type_t type)
{
    assert(self && row < self->nrows && column < self->ncolumns);
    assert(self->columns[column].type == type);
    (void) type;
    return &self->rows[row][column];
}

void cf_table_set_text(cf_table_t *self, size_t row, size_t column, const char *text)
{
    assert(text);
    table_cell_t *cell = table_cell(self, row, column, CF_TABLE_TEXT);
    free(cell->text);
    cell->text = cf_strdup(text);
}

void cf_table_set_int(cf_table_t *self, size_t row, size_t column, int64_t value)
{
    table_cell_t *cell = table_cell(self, row, column, CF_TABLE_INT);
    free(cell->text);
    cell->text = NULL;
    cell->value = value;
}

void cf_table_set_real(cf_table_t *self, size_t row, size_t column, double value)
{
    table_cell_t *cell = table_cell(self, row, column, CF_TABLE_REAL);
    free(cell->text);
    cell->text = NULL;
    cell->defined = isfinite(value);
    cell->real = cell->defined ? value : 0;
}

void cf_table_mask(cf_table_t *self, size_t row, size_t column, const char *mark)
{
    assert(self && column < self->ncolumns && mark);
    table_cell_t *cell = table_cell(self, row, column, self->columns[column].type);
    assert(self->columns[column].type != CF_TABLE_TEXT);
    free(cell->text);
    cell->text = cf_strdup(mark);
}

const char *cf_table_text(const cf_table_t *self, size_t row, size_t column)
{
    assert(self && row < self->nrows && column < self->ncolumns);
    const char *text = self->rows[row][column].text;
    return text || self->columns[column].type != CF_TABLE_TEXT ? text : "";
}

int64_t cf_table_int(const cf_table_t *self, size_t row, size_t column)
{
    return table_cell(self, row, column, CF_TABLE_INT)->value;
}

double cf_table_real(const cf_table_t *self, size_t row, size_t column)
{
    const table_cell_t *cell = table_cell(self, row, column, CF_TABLE_REAL);
    return cell->defined ? cell->real : NAN;
}

/*  A value's place in an order list: the index of the first matching entry,
    or the list's length when none matches.                                 */
static size_t table_rank(const char *const *order, const char *text)
{
    size_t i = 0;
    for (; order[i]; i++) {
        size_t len = strlen(order[i]);
        if (len && order[i][len - 1] == '*' ? strncmp(order[i], text, len - 1) == 0
                                            : strcmp(order[i], text) == 0)
            break;
    }
    return i;
}

static int table_compare(const cf_table_t *self, const table_cell_t *a, const table_cell_t *b,
                         const cf_table_key_t *keys, size_t nkeys)
{
    for (size_t k = 0; k < nkeys; k++) {
        size_t c = keys[k].column;
        if (self->columns[c].type == CF_TABLE_INT) {
            if (a[c].value != b[c].value)
                return a[c].value < b[c].value ? -1 : 1;
            continue;
        }
        if (self->columns[c].type == CF_TABLE_REAL) {
            if (a[c].defined != b[c].defined)
                return a[c].defined ? 1 : -1;
            if (a[c].real != b[c].real)
                return a[c].real < b[c].real ? -1 : 1;
            continue;
        }
        const char *ta = a[c].text ? a[c].text : "", *tb = b[c].text ? b[c].text : "";
        if (keys[k].order) {
            size_t ra = table_rank(keys[k].order, ta), rb = table_rank(keys[k].order, tb);
            if (ra != rb)
                return ra < rb ? -1 : 1;
        }
        int cmp = strcmp(ta, tb);
        if (cmp)
            return cmp;
    }
    return 0;
}

void cf_table_sort(cf_table_t *self, const cf_table_key_t *keys, size_t nkeys)
{
    assert(self && (keys || nkeys == 0));
    for (size_t k = 0; k < nkeys; k++)
        assert(keys[k].column < self->ncolumns);
    /*  A bottom-up merge sort: stable, and quick for thousands of daily rows
        (qsort is neither stable nor given a context).                       */
    table_cell_t **tmp = cf_malloc(self->nrows * sizeof *tmp);
    for (size_t width = 1; width < self->nrows; width *= 2) {
        for (size_t lo = 0; lo < self->nrows; lo += 2 * width) {
            size_t mid = lo + width < self->nrows ? lo + width : self->nrows;
            size_t hi = lo + 2 * width < self->nrows ? lo + 2 * width : self->nrows;
            size_t i = lo, j = mid, out = lo;
            while (i < mid || j < hi) {
                bool left = j >= hi
                            || (i < mid && table_compare(self, self->rows[i], self->rows[j],
                                                         keys, nkeys) <= 0);
                tmp[out++] = left ? self->rows[i++] : self->rows[j++];
            }
        }
        memcpy(self->rows, tmp, self->nrows * sizeof *tmp);
    }
    free(tmp);
}
