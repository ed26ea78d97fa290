/*  cf_event_check: the value checks the event rules are built from, and the
    way every reason is written. Each check takes the path to name ("country",
    "persons[2].sex", "transit[0]") and either hands back the value or writes
    "<path>: <problem>" and returns -1. Nothing here knows the schema: the
    field table in cf_event_rules.c decides which check a field gets. Only
    values that failed a closed set (codes, enums) are echoed, escaped to
    printable ASCII and cut short, never free text, which may be personal.   */
#include "cf_event_internal.h"
#include "cf_codes.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- reasons ------------------------------------------------------------- */

/* Formats into d->reason (when there is one) and returns -1. */
int cf_event_fail(cf_decode_t *d, const char *fmt, ...)
{
    if (d->reason && d->reason_size) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(d->reason, d->reason_size, fmt, args);
        va_end(args);
    }
    return -1;
}

/* Escapes and cuts input for a reason; see CF_ECHO_MAX. */
const char *cf_event_echo(char *buf, const char *s, size_t len)
{
    size_t used = 0;
    for (size_t i = 0; i < len && i < CF_ECHO_MAX; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            buf[used++] = (char) c;
        else
            used += (size_t) snprintf(buf + used, 5, "\\x%02x", c);
    }
    if (len > CF_ECHO_MAX) {
        memcpy(buf + used, "...", 3);
        used += 3;
    }
    buf[used] = '\0';
    return buf;
}

/* The msgpack type of o, as a reason says it. */
const char *cf_event_got(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "float";
    case MSGPACK_OBJECT_STR: return "string";
    case MSGPACK_OBJECT_BIN: return "binary";
    case MSGPACK_OBJECT_ARRAY: return "array";
    case MSGPACK_OBJECT_MAP: return "map";
    default: return "extension";
    }
}

/* "<path>: expected <expected>, got <type>". */
int cf_event_check_type(cf_decode_t *d, const char *path, const char *expected,
                        const msgpack_object *o)
{
    return cf_event_fail(d, "%s: expected %s, got %s", path, expected, cf_event_got(o));
}

/* ---- scalars ------------------------------------------------------------- */

/* A msgpack str (never bin); hands back its bytes, not terminated. */
int cf_event_check_string(cf_decode_t *d, const char *path, const msgpack_object *o,
                          const char **s, size_t *len)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return cf_event_check_type(d, path, "a string", o);
    *s = o->via.str.ptr;
    *len = o->via.str.size;
    return 0;
}

/* A non-negative integer. */
int cf_event_check_uint(cf_decode_t *d, const char *path, const msgpack_object *o, uint64_t *out)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return cf_event_fail(d, "%s: %" PRId64 " is negative", path, o->via.i64);
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return cf_event_check_type(d, path, "a non-negative integer", o);
    *out = o->via.u64;
    return 0;
}

/* Unix ms in 0..CF_EVENT_TIME_MAX. */
int cf_event_check_time(cf_decode_t *d, const char *path, const msgpack_object *o, int64_t *out)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return cf_event_fail(d, "%s: %" PRId64 " is outside 0..%" PRId64, path, o->via.i64,
                             CF_EVENT_TIME_MAX);
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return cf_event_check_type(d, path, "an integer", o);
    if (o->via.u64 > (uint64_t) CF_EVENT_TIME_MAX)
        return cf_event_fail(d, "%s: %" PRIu64 " is outside 0..%" PRId64, path, o->via.u64,
                             CF_EVENT_TIME_MAX);
    *out = (int64_t) o->via.u64;
    return 0;
}

/* An integer or a float, finite. */
int cf_event_check_number(cf_decode_t *d, const char *path, const msgpack_object *o, double *out)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double) o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = (double) o->via.i64;
    else if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        *out = o->via.f64;
    else
        return cf_event_check_type(d, path, "a number", o);
    if (!isfinite(*out))
        return cf_event_fail(d, "%s: not a finite number", path);
    return 0;
}

/* ---- strings ------------------------------------------------------------- */

/* NULL when s is UTF-8 without control characters (C0, DEL, C1), else the
   problem. Overlong forms, surrogates and code points past U+10FFFF are not
   UTF-8. */
static const char *check_text_problem(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; ) {
        unsigned c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return "contains a control character";
            i++;
            continue;
        }
        size_t n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
                 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
        if (n == 0 || len - i - 1 < n)
            return "not valid UTF-8";
        uint32_t cp = c & (0x3fu >> n);
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return "not valid UTF-8";
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff))
            return "not valid UTF-8";
        if (cp <= 0x9f)
            return "contains a control character";
        i += n + 1;
    }
    return NULL;
}

static int check_length(cf_decode_t *d, const char *path, size_t len, size_t min, size_t max)
{
    if (len < min)
        return cf_event_fail(d, "%s: empty string", path);
    if (len > max)
        return cf_event_fail(d, "%s: %zu bytes exceeds the limit of %zu", path, len, max);
    return 0;
}

/* Free text: min..max bytes of UTF-8 without control characters. */
int cf_event_check_text(cf_decode_t *d, const char *path, const char *s, size_t len,
                        size_t min, size_t max)
{
    if (check_length(d, path, len, min, max) < 0)
        return -1;
    const char *problem = check_text_problem((const unsigned char *) s, len);
    if (problem)
        return cf_event_fail(d, "%s: %s", path, problem);
    return 0;
}

/* An identifier echoed in acks: min..max bytes of 0x21..0x7E. */
int cf_event_check_id(cf_decode_t *d, const char *path, const char *s, size_t len,
                      size_t min, size_t max)
{
    if (check_length(d, path, len, min, max) < 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7e)
            return cf_event_fail(d, "%s: byte %zu is not visible ASCII (0x21..0x7E)", path, i);
    return 0;
}

/* A name that becomes part of topics and Redis fields, which use '.' and
   '|' as separators: min..max bytes of [A-Za-z0-9_-]. */
int cf_event_check_token(cf_decode_t *d, const char *path, const char *s, size_t len,
                         size_t min, size_t max)
{
    if (check_length(d, path, len, min, max) < 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '_' || c == '-')) {
            char echo[CF_ECHO_BUF];
            return cf_event_fail(d, "%s: character '%s' is not allowed, only A-Z, a-z, 0-9, _ and -",
                                 path, cf_event_echo(echo, s + i, 1));
        }
    }
    return 0;
}

/* The index of the string in set, or -1 with a reason listing the set. */
int cf_event_check_enum(cf_decode_t *d, const char *path, const char *const *set,
                        const msgpack_object *o)
{
    const char *s = NULL;
    size_t len = 0;
    if (cf_event_check_string(d, path, o, &s, &len) < 0)
        return -1;
    for (int i = 0; set[i]; i++)
        if (strlen(set[i]) == len && memcmp(set[i], s, len) == 0)
            return i;
    char list[160] = "";        /* the reason's list, only once it is needed */
    size_t used = 0;
    for (int i = 0; set[i]; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", set[i]);
        assert(n > 0 && (size_t) n < sizeof list - used);
        used += (size_t) n;
    }
    char echo[CF_ECHO_BUF];
    return cf_event_fail(d, "%s: '%s' is not one of %s", path, cf_event_echo(echo, s, len), list);
}

/* A country (ISO 3166-1 alpha-3 or XKX) or a currency (ISO 4217). */
int cf_event_check_code(cf_decode_t *d, const char *path, const msgpack_object *o,
                        bool currency, const char **s)
{
    size_t len = 0;
    if (cf_event_check_string(d, path, o, s, &len) < 0)
        return -1;
    if (currency ? cf_codes_is_currency(*s, len) : cf_codes_is_country(*s, len))
        return 0;
    char echo[CF_ECHO_BUF];
    return cf_event_fail(d, "%s: '%s' is not an %s", path, cf_event_echo(echo, *s, len),
                         currency ? "ISO 4217 currency code" : "ISO 3166-1 alpha-3 code");
}
