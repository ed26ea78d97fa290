/*  cf_table: columns, rows of cells, a stable sort and three renderings; see
    cf_table.h. Rows are separate cell arrays so that sorting moves pointers
    only. Rendering writes into an open_memstream buffer, never to a stream
    the caller sees; JSON objects are built with jansson so that escaping is
    never done by hand.                                                      */
#include "caseflow/cf_table.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    assert(strcmp(name, CF_TABLE_SUPPRESSED));     /* JSON's own key */
    assert(self && name);
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

/*  A cell as text and plain-text width: integers in decimal, reals with
    their decimals ("" when undefined), masked cells as their mark. buf
    must hold TABLE_NUMBER bytes.                                           */
#define TABLE_NUMBER 48

/*  value as printed with decimals, so that text, CSV and JSON agree; -0
    becomes 0 so that a small negative rounding error never shows a sign.   */
static double table_round(double value, int decimals)
{
    char buf[TABLE_NUMBER];
    if (fabs(value) >= 1e15)
        return value;
    snprintf(buf, sizeof buf, "%.*f", decimals, value);
    value = strtod(buf, NULL);
    return value == 0 ? 0 : value;
}
static const char *table_show(const cf_table_t *self, size_t row, size_t column, char *buf)
{
    const table_cell_t *cell = &self->rows[row][column];
    const table_column_t *col = &self->columns[column];
    if (col->type == CF_TABLE_TEXT || cell->text)
        return cell->text ? cell->text : "";
    if (col->type == CF_TABLE_REAL && !cell->defined)
        return "";
    /*  Huge reals are out of a report's range; %g keeps them in buf.       */
    double real = table_round(cell->real, col->decimals);
    if (col->type == CF_TABLE_REAL && fabs(real) < 1e15)
        snprintf(buf, TABLE_NUMBER, "%.*f", col->decimals, real);
    else if (col->type == CF_TABLE_REAL)
        snprintf(buf, TABLE_NUMBER, "%.15g", real);
    else
        snprintf(buf, TABLE_NUMBER, "%" PRId64, cell->value);
    return buf;
}

/*  Writes text for a terminal: control bytes (a line break in a cell, an
    escape sequence in a counter name) become '?'.                          */
static void table_plain_text(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++)
        fputc((unsigned char) *p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

static void table_plain_line(const cf_table_t *self, FILE *out, const size_t *width,
                             const char *const *cells)
{
    /*  Spaces are held back until text follows, so no line ends in spaces.  */
    size_t pending = 0;
    for (size_t c = 0; c < self->ncolumns; c++) {
        size_t len = strlen(cells[c]), gap = width[c] - len;
        bool right = self->columns[c].type != CF_TABLE_TEXT;
        pending += (c ? 2 : 0) + (right ? gap : 0);
        if (len) {
            fprintf(out, "%*s", (int) pending, "");
            table_plain_text(out, cells[c]);
            pending = 0;
        }
        pending += right ? 0 : gap;
    }
    fputc('\n', out);
}

static void table_plain(const cf_table_t *self, FILE *out)
{
    size_t *width = cf_malloc(self->ncolumns * sizeof *width);
    const char **cells = cf_malloc(self->ncolumns * sizeof *cells);
    char (*bufs)[TABLE_NUMBER] = cf_malloc(self->ncolumns * sizeof *bufs);
    for (size_t c = 0; c < self->ncolumns; c++)
        width[c] = strlen(self->columns[c].name);
    for (size_t r = 0; r < self->nrows; r++)
        for (size_t c = 0; c < self->ncolumns; c++) {
            size_t len = strlen(table_show(self, r, c, bufs[c]));
            width[c] = len > width[c] ? len : width[c];
        }
    for (size_t c = 0; c < self->ncolumns; c++)
        cells[c] = self->columns[c].name;
    table_plain_line(self, out, width, cells);
    for (size_t c = 0; c < self->ncolumns; c++) {
        fputs(c ? "  " : "", out);
        for (size_t i = 0; i < width[c]; i++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < self->nrows; r++) {
        for (size_t c = 0; c < self->ncolumns; c++)
            cells[c] = table_show(self, r, c, bufs[c]);
        table_plain_line(self, out, width, cells);
    }
    free(bufs);
    free(cells);
    free(width);
}

/*  A JSON string of text; bytes that are not valid UTF-8 (which Redis may
    hold though caseflow never writes them) become '?', so the output stays
    valid JSON.                                                              */
static json_t *table_json_string(const char *text)
{
    json_t *value = json_string(text);
    if (!value) {
        char *copy = cf_strdup(text);
        for (char *p = copy; *p; p++)
            *p = (unsigned char) *p < 0x80 ? *p : '?';
        value = json_string(copy);
        free(copy);
    }
    return value;
}

/*  The significant digits row r's reals need to print as rounded to their
    decimals: 15 print 0.1 as written (17 would give 0.10000000000000001),
    while a sum of money above 1e13 needs up to 17 to keep its cents.       */
static int table_json_precision(const cf_table_t *self, size_t r)
{
    int digits = 15;
    for (size_t c = 0; c < self->ncolumns; c++) {
        const table_cell_t *cell = &self->rows[r][c];
        if (self->columns[c].type != CF_TABLE_REAL || cell->text || !cell->defined)
            continue;
        double magnitude = fabs(cell->real);
        int need = (magnitude >= 1 ? (int) floor(log10(magnitude)) + 1 : 1) + self->columns[c].decimals;
        digits = need > digits ? need : digits;
    }
    return digits > 17 ? 17 : digits;
}

static void table_json(const cf_table_t *self, FILE *out)
{
    fputs(self->nrows ? "[\n" : "[]\n", out);
    for (size_t r = 0; r < self->nrows; r++) {
        json_t *object = json_object(), *suppressed = json_object();
        for (size_t c = 0; object && c < self->ncolumns; c++) {
            const table_cell_t *cell = &self->rows[r][c];
            const table_column_t *col = &self->columns[c];
            json_t *value = col->type == CF_TABLE_TEXT
                                ? table_json_string(cell->text ? cell->text : "")
                            : cell->text ? json_null()
                            : col->type == CF_TABLE_INT ? json_integer((json_int_t) cell->value)
                            : cell->defined ? json_real(table_round(cell->real, col->decimals))
                                            : json_null();
            if (!value || json_object_set_new(object, self->columns[c].name, value) < 0)
                abort();
            /* a masked cell's null is told from an undefined real's by this */
            if (col->type != CF_TABLE_TEXT && cell->text)
                json_object_set_new(suppressed, col->name, table_json_string(cell->text));
        }
        if (json_object_size(suppressed))
            json_object_set(object, CF_TABLE_SUPPRESSED, suppressed);
        json_decref(suppressed);
        size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(table_json_precision(self, r));
        char *text = object ? json_dumps(object, flags) : NULL;
        if (!text)
            abort();
        fprintf(out, "  %s%s\n", text, r + 1 < self->nrows ? "," : "");
        free(text);
        json_decref(object);
    }
    if (self->nrows)
        fputs("]\n", out);
}

static void table_csv_field(FILE *out, const char *text, bool last)
{
    if (strpbrk(text, ",\"\r\n")) {
        fputc('"', out);
        for (const char *p = text; *p; p++) {
            if (*p == '"')
                fputc('"', out);
            fputc(*p, out);
        }
        fputc('"', out);
    } else
        fputs(text, out);
    fputs(last ? "\r\n" : ",", out);
}

static void table_csv(const cf_table_t *self, FILE *out)
{
    char buf[TABLE_NUMBER];
    for (size_t c = 0; c < self->ncolumns; c++)
        table_csv_field(out, self->columns[c].name, c + 1 == self->ncolumns);
    for (size_t r = 0; r < self->nrows; r++)
        for (size_t c = 0; c < self->ncolumns; c++)
            table_csv_field(out, table_show(self, r, c, buf), c + 1 == self->ncolumns);
}

char *cf_table_render(const cf_table_t *self, cf_table_format_t format)
{
    assert(self);
    char *text = NULL;
    size_t size = 0;
    FILE *out = cf_memstream_open(&text, &size);
    if (format == CF_TABLE_JSON)
        table_json(self, out);
    else if (format == CF_TABLE_CSV)
        table_csv(self, out);
    else
        table_plain(self, out);
    cf_memstream_close(out);
    return text;
}
