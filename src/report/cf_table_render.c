/*  cf_table_render: a table as aligned text, JSON or CSV (cf_table_render;
    see cf_table.h). Rendering writes into an open_memstream buffer, never to
    a stream the caller sees; JSON objects are built with jansson so that
    escaping is never done by hand.                                          */
#include "cf_table_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
