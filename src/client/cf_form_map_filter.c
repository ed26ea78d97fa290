/*  cf_form_map_filter: a submission's value through a [fields] rule's
    filters (int, number, bool, date, list, upper, lower, code NAME; their
    names as written are read by cf_form_map_value.c), for
    cf_form_map_apply.c, which builds the event. How a reason is written
    (cf_form_map_fail, ECHO) is here too, for both: it echoes at most
    MAP_ECHO_MAX bytes of a value, printable ASCII, as the broker's do.     */
#include "cf_form_map_internal.h"
#include "caseflow/cf_alloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *cf_form_map_echo(const json_t *value, char *buf, size_t size)
{
    if (!json_is_string(value)) {
        snprintf(buf, size, "a JSON %s", json_is_array(value) ? "array"
                                       : json_is_object(value) ? "object"
                                       : json_is_boolean(value) ? "boolean" : "number");
        return buf;
    }
    const char *s = json_string_value(value);
    size_t len = json_string_length(value), at = 0;
    at += (size_t) snprintf(buf, size, "'");
    for (size_t i = 0; i < len && i < MAP_ECHO_MAX; i++) {
        unsigned char c = (unsigned char) s[i];
        at += (size_t) snprintf(buf + at, size - at, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x",
                                c);
    }
    snprintf(buf + at, size - at, "%s'", len > MAP_ECHO_MAX ? "..." : "");
    return buf;
}

int cf_form_map_fail(char *err, size_t n, const char *path, const char *fmt, ...)
{
    int len = snprintf(err, n, "%s: ", path);
    if (len >= 0 && (size_t) len < n) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err + len, n - (size_t) len, fmt, args);
        va_end(args);
    }
    return -1;
}

/*  Days since 1970-01-01 of a civil date (proleptic Gregorian).            */
static int64_t map_days(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/*  n digits at *s as a number into *out; moves *s. false when not digits.  */
static bool map_digits(const char **s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (!isdigit((unsigned char) **s))
            return false;
        *out = *out * 10 + (**s - '0');
    }
    return true;
}

/*  "YYYY-MM-DD", optionally with "THH:MM[:SS[.fff]]" (or a space for T) and
    "Z" or "+HH:MM" / "-HHMM": Unix ms, UTC when no offset is given. 0, or
    -1 when s is not such a date.                                            */
static int map_date(const char *s, int64_t *ms)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh = 0, om = 0, sign = 0;
    if (!map_digits(&s, 4, &y) || *s++ != '-' || !map_digits(&s, 2, &mo) || *s++ != '-'
        || !map_digits(&s, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]
        || (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))))
        return -1;
    if (*s == 'T' || *s == ' ') {
        s++;
        if (!map_digits(&s, 2, &h) || *s++ != ':' || !map_digits(&s, 2, &mi) || h > 23
            || mi > 59)
            return -1;
        if (*s == ':' && (s++, !map_digits(&s, 2, &sec) || sec > 60))
            return -1;
        if (*s == '.') {
            s++;
            if (!isdigit((unsigned char) *s))
                return -1;
            for (int i = 0; isdigit((unsigned char) *s); i++, s++)
                if (i < 3)
                    frac += (*s - '0') * (i == 0 ? 100 : i == 1 ? 10 : 1);
        }
        if (*s == 'Z')
            s++;
        else if (*s == '+' || *s == '-') {
            sign = *s++ == '+' ? 1 : -1;
            if (!map_digits(&s, 2, &oh) || (*s == ':' && !*++s) || !map_digits(&s, 2, &om)
                || oh > 23 || om > 59)
                return -1;
        }
    }
    if (*s)
        return -1;
    int64_t seconds = map_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
                    - sign * (oh * 3600 + om * 60);
    *ms = seconds * 1000 + frac;
    return 0;
}

/*  A code list's value for code, or NULL.                                  */
static const char *map_code(const map_codes_t *codes, const char *code)
{
    for (size_t i = 0; i < codes->n; i++)
        if (!strcmp(codes->items[i].code, code))
            return codes->items[i].value;
    return NULL;
}

/*  One string through an upper, lower or code filter: a new json_t, or
    NULL with the reason in err.                                             */
static json_t *map_text(const cf_form_map_t *self, const map_filter_t *f, const char *path,
                        const json_t *value, char *err, size_t n)
{
    if (!json_is_string(value)) {
        cf_form_map_fail(err, n, path, "%s is not text", ECHO(value));
        return NULL;
    }
    const char *s = json_string_value(value);
    if (f->kind == FILTER_CODE) {
        const char *to = map_code(&self->codes[f->list], s);
        if (!to)
            cf_form_map_fail(err, n, path, "%s is not a code of [codes.%s]", ECHO(value), f->name);
        return to ? json_string(to) : NULL;
    }
    char *copy = cf_strdup(s);
    for (char *c = copy; *c; c++)
        *c = (char) (f->kind == FILTER_UPPER ? toupper((unsigned char) *c)
                                             : tolower((unsigned char) *c));
    json_t *out = json_string(copy);
    free(copy);
    if (!out)
        cf_form_map_fail(err, n, path, "not UTF-8");
    return out;
}

/*  A number from a JSON number or a numeric string: int, or any for number. */
static json_t *map_number(const map_filter_t *f, const char *path, const json_t *value,
                          char *err, size_t n)
{
    bool whole = f->kind == FILTER_INT;
    if (json_is_integer(value))
        return json_integer(json_integer_value(value));
    double x = json_is_real(value) ? json_real_value(value) : NAN;
    if (json_is_string(value)) {
        const char *s = json_string_value(value);
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (*s && !isspace((unsigned char) *s) && !*end && !errno)
            return json_integer(i);
        x = *s && !isspace((unsigned char) *s) ? strtod(s, &end) : NAN;
        if (*end)
            x = NAN;
    }
    if (isfinite(x) && whole && x == floor(x) && fabs(x) < 9e15)
        return json_integer((json_int_t) x);
    if (isfinite(x) && !whole)
        return json_real(x);
    cf_form_map_fail(err, n, path, "%s is not a %s", ECHO(value),
                     whole ? "whole number" : "number");
    return NULL;
}

static json_t *map_bool(const char *path, const json_t *value, char *err, size_t n)
{
    static const char *yes[] = { "yes", "true", "1", "y" }, *no[] = { "no", "false", "0", "n" };
    if (json_is_boolean(value))
        return json_boolean(json_is_true(value));
    if (json_is_integer(value) && (json_integer_value(value) | 1) == 1)
        return json_boolean(json_integer_value(value));
    for (size_t i = 0; json_is_string(value) && i < 4; i++) {
        if (!strcasecmp(json_string_value(value), yes[i]))
            return json_true();
        if (!strcasecmp(json_string_value(value), no[i]))
            return json_false();
    }
    cf_form_map_fail(err, n, path, "%s is not yes or no (yes, no, true, false, 1, 0)", ECHO(value));
    return NULL;
}

/*  A space-separated string (select_multiple) as an array of its words; an
    array of strings as it is.                                               */
static json_t *map_list(const char *path, json_t *value, char *err, size_t n)
{
    if (json_is_array(value)) {
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item)
            if (!json_is_string(item)) {
                cf_form_map_fail(err, n, path, "item %zu: %s is not text", i, ECHO(item));
                return NULL;
            }
        return json_incref(value);
    }
    if (!json_is_string(value)) {
        cf_form_map_fail(err, n, path, "%s is not a space-separated list", ECHO(value));
        return NULL;
    }
    json_t *list = json_array();
    for (const char *at = json_string_value(value); *at;) {
        at += strspn(at, " \t\r\n");
        size_t len = strcspn(at, " \t\r\n");
        if (len)
            json_array_append_new(list, json_stringn(at, len));
        at += len;
    }
    return list;
}

json_t *cf_form_map_filter(const cf_form_map_t *self, const map_filter_t *f, const char *path,
                           json_t *value, char *err, size_t n)
{
    int64_t ms;
    switch (f->kind) {
    case FILTER_INT:
    case FILTER_NUMBER:
        return map_number(f, path, value, err, n);
    case FILTER_BOOL:
        return map_bool(path, value, err, n);
    case FILTER_DATE:
        if (json_is_string(value) && map_date(json_string_value(value), &ms) == 0)
            return json_integer(ms);
        cf_form_map_fail(err, n, path, "%s is not a date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS with "
                         "an optional .fff and Z or +HH:MM)", ECHO(value));
        return NULL;
    case FILTER_LIST:
        return map_list(path, value, err, n);
    case FILTER_UPPER:
    case FILTER_LOWER:
    case FILTER_CODE:
        break;
    }
    if (!json_is_array(value))
        return map_text(self, f, path, value, err, n);
    json_t *out = json_array(), *item;
    size_t i;
    json_array_foreach(value, i, item) {
        json_t *done = map_text(self, f, path, item, err, n);
        if (!done) {
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, done);
    }
    return out;
}
