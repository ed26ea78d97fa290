/*  cf_form_map_apply: one submission through a mapping (see cf_form_map.h;
    reading the mapping is cf_form_map.c). The submission is flattened to
    paths first ({"g": {"f": 1}} is "g/f", as KoboToolbox writes it), every
    path is checked against what the mapping reads or ignores, then the
    event is built rule by rule in the file's order. Reasons echo at most
    MAP_ECHO_MAX bytes of a value, printable ASCII, as the broker's do.     */
#include "cf_form_map_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAP_ECHO_MAX        24
#define MAP_DEPTH_MAX       8       /* nested groups in one submission */
#define MAP_PATH_MAX        256

/*  value as at most MAP_ECHO_MAX printable ASCII bytes into buf (4 times
    that and 8 more), "..." when cut.                                        */
static const char *map_echo(const json_t *value, char *buf, size_t size)
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

#define ECHO(v) map_echo((v), (char[MAP_ECHO_MAX * 4 + 16]) { 0 }, MAP_ECHO_MAX * 4 + 16)

/*  Writes "path: reason" into err and returns -1.                          */
__attribute__((format(printf, 4, 5)))
static int map_fail(char *err, size_t n, const char *path, const char *fmt, ...)
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

/*  Adds object's members to flat as "prefix/key" paths, objects within
    objects too. 0, or -1 with the reason in err.                           */
static int map_flatten(json_t *flat, json_t *object, const char *prefix, int depth, char *err,
                       size_t n)
{
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) {
        char path[MAP_PATH_MAX + 1];
        int len = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", key);
        if (len < 0 || (size_t) len >= sizeof path)
            return map_fail(err, n, prefix, "a field's path is over %d bytes", MAP_PATH_MAX);
        if (json_is_object(value) && depth == MAP_DEPTH_MAX)
            return map_fail(err, n, path, "groups nested over %d deep", MAP_DEPTH_MAX);
        if (json_is_object(value)) {
            if (map_flatten(flat, value, path, depth + 1, err, n) < 0)
                return -1;
        } else if (json_object_get(flat, path))
            return map_fail(err, n, path, "given twice");
        else
            json_object_set(flat, path, value);
    }
    return 0;
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
        map_fail(err, n, path, "%s is not text", ECHO(value));
        return NULL;
    }
    const char *s = json_string_value(value);
    if (f->kind == FILTER_CODE) {
        const char *to = map_code(&self->codes[f->list], s);
        if (!to)
            map_fail(err, n, path, "%s is not a code of [codes.%s]", ECHO(value), f->name);
        return to ? json_string(to) : NULL;
    }
    char *copy = cf_strdup(s);
    for (char *c = copy; *c; c++)
        *c = (char) (f->kind == FILTER_UPPER ? toupper((unsigned char) *c)
                                             : tolower((unsigned char) *c));
    json_t *out = json_string(copy);
    free(copy);
    if (!out)
        map_fail(err, n, path, "not UTF-8");
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
    map_fail(err, n, path, "%s is not a %s", ECHO(value), whole ? "whole number" : "number");
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
    map_fail(err, n, path, "%s is not yes or no (yes, no, true, false, 1, 0)", ECHO(value));
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
                map_fail(err, n, path, "item %zu: %s is not text", i, ECHO(item));
                return NULL;
            }
        return json_incref(value);
    }
    if (!json_is_string(value)) {
        map_fail(err, n, path, "%s is not a space-separated list", ECHO(value));
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

/*  value through filter f: a new reference, or NULL with the reason in err. */
static json_t *map_filter(const cf_form_map_t *self, const map_filter_t *f, const char *path,
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
        map_fail(err, n, path, "%s is not a date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS with "
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

/*  Whether a submission's value counts as no answer: absent, null or "".  */
static bool map_blank(const json_t *value)
{
    return !value || json_is_null(value) || (json_is_string(value) && !json_string_length(value));
}

/*  A [fields] rule's value: a new reference, NULL with *err empty when the
    submission has no answer there, NULL with the reason in err.            */
static json_t *map_field(const cf_form_map_t *self, const map_rule_t *rule, json_t *flat,
                         char *err, size_t n)
{
    json_t *value = json_object_get(flat, rule->path);
    if (map_blank(value))
        return NULL;
    json_incref(value);
    for (size_t i = 0; value && i < rule->nfilters; i++) {
        json_t *next = map_filter(self, &rule->filters[i], rule->path, value, err, n);
        json_decref(value);
        value = next;
    }
    if (value && rule->nfilters == 0 && (json_is_array(value) || json_is_object(value))) {
        map_fail(err, n, rule->path, "%s: not one value (a list needs the filter list)",
                 ECHO(value));
        json_decref(value);
        return NULL;
    }
    return value;
}

/*  A [templates] rule's text: a new string, or NULL with the reason in err. */
static json_t *map_template(const map_rule_t *rule, json_t *flat, char *err, size_t n)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        abort();
    const char *at = rule->spec, *start = at, *path;
    size_t lit, len;
    int rc = 0, found = 1;
    while (rc == 0 && found && (found = map_template_next(&at, &lit, &path, &len)) >= 0) {
        fwrite(start, 1, lit, out);         /* the text before the path, or the rest */
        start = at;
        if (!found)
            break;
        char name[MAP_PATH_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int) len, path);
        json_t *value = json_object_get(flat, name);
        if (map_blank(value))
            rc = map_fail(err, n, name, "no answer, and %s = %s needs one", rule->target,
                          rule->spec);
        else if (json_is_string(value))
            fputs(json_string_value(value), out);
        else if (json_is_integer(value))
            fprintf(out, "%lld", (long long) json_integer_value(value));
        else
            rc = map_fail(err, n, name, "%s cannot stand in a template", ECHO(value));
    }
    cf_memstream_close(out);
    json_t *string = rc == 0 ? json_string(text) : NULL;
    if (rc == 0 && !string)
        map_fail(err, n, rule->target, "not UTF-8");
    free(text);
    return string;
}

/*  The event of the flattened submission: a new object, or NULL with the
    reason in err.                                                           */
static json_t *map_event(const cf_form_map_t *self, json_t *flat, char *err, size_t n)
{
    json_t *event = json_object();
    for (size_t i = 0; i < self->nrules; i++) {
        const map_rule_t *rule = &self->rules[i];
        *err = 0;
        json_t *value = rule->kind == MAP_CONSTANT ? json_incref(rule->constant)
                      : rule->kind == MAP_TEMPLATE ? map_template(rule, flat, err, n)
                      : map_field(self, rule, flat, err, n);
        if (!value && *err) {
            json_decref(event);
            return NULL;
        }
        if (value)
            json_object_set_new(event, rule->target, value);
    }
    return event;
}

int cf_form_map_apply(const cf_form_map_t *self, const char *text, size_t len, char **event,
                      char *err, size_t n)
{
    assert(self && text && event && err);
    *event = NULL;
    json_error_t error;
    json_t *submission = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (!submission || !json_is_object(submission)) {
        if (submission)
            snprintf(err, n, "submission: not a JSON object");
        else
            snprintf(err, n, "submission: not JSON: %s at column %d", error.text, error.column);
        json_decref(submission);
        return -1;
    }
    json_t *flat = json_object(), *made = NULL;
    const char *key;
    json_t *value;
    bool known = map_flatten(flat, submission, "", 0, err, n) == 0;
    json_object_foreach(flat, key, value)
        if (known && !map_known(self, key))
            known = map_fail(err, n, key, "not in the mapping: map it in [fields] or drop it "
                             "with [form] ignore (an unknown field is refused, as in an event)")
                    == 0;
    if (known)
        made = map_event(self, flat, err, n);
    if (made) {
        *event = json_dumps(made, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!*event)
            abort();            /* jansson fails here on memory only */
    }
    json_decref(made);
    json_decref(flat);
    json_decref(submission);
    return *event ? 0 : -1;
}
