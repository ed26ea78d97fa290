/*  cf_json (msgpack to JSON): renders a msgpack value as one line of JSON
    for people and line-oriented tools; see cf_json.h. It writes the text
    itself instead of going through jansson, so that every uint64 is exact,
    floats use the shortest digits that read back, and invalid UTF-8 is
    repaired rather than refused. Input bytes are walked by cf_unpack first,
    so a hostile header cannot make msgpack-c allocate without bound.        */
#include "cf_json_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(json_text_t *t, const char *s)
{
    cf_json_text_append(t, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at s (2..4 bytes), 0 when invalid
   (overlong, surrogate, beyond U+10FFFF, or cut short). */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || n > avail)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)
        || (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

/* A JSON string literal of len bytes; invalid UTF-8 bytes become U+FFFD. */
static void put_string(json_text_t *t, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t run = 0;             /* bytes copied as they are, pending */
    cf_json_text_append(t, "\"", 1);
    for (size_t i = 0; i < len;) {
        size_t n = s[i] >= 0x80 ? utf8_sequence(s + i, len - i) : 1;
        if (n > 1 || (n == 1 && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')) {
            run += n;
            i += n;
            continue;
        }
        cf_json_text_append(t, s + i - run, run);
        run = 0;
        char escape[8];
        if (n == 0)
            put(t, "\\ufffd");
        else if (s[i] == '"' || s[i] == '\\') {
            escape[0] = '\\', escape[1] = (char) s[i], escape[2] = '\0';
            put(t, escape);
        } else {
            const char *named = s[i] == '\n' ? "\\n" : s[i] == '\t' ? "\\t" : s[i] == '\r' ? "\\r"
                              : s[i] == '\b' ? "\\b" : s[i] == '\f' ? "\\f" : NULL;
            if (!named)
                snprintf(escape, sizeof escape, "\\u%04x", s[i]);
            put(t, named ? named : escape);
        }
        i++;
    }
    if (run)                    /* an empty msgpack str may have no bytes at all (NULL) */
        cf_json_text_append(t, s + len - run, run);
    cf_json_text_append(t, "\"", 1);
}

/* bin and ext payloads: standard base64 with padding, as a string. */
static void put_base64(json_text_t *t, const unsigned char *p, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    cf_json_text_append(t, "\"", 1);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < len ? (uint32_t) p[i + 1] << 8 : 0)
                   | (i + 2 < len ? p[i + 2] : 0);
        char quad[4] = { alphabet[v >> 18], alphabet[(v >> 12) & 63],
                         i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
                         i + 2 < len ? alphabet[v & 63] : '=' };
        cf_json_text_append(t, quad, 4);
    }
    cf_json_text_append(t, "\"", 1);
}

/* The fewest significant digits that read back as the same double (or
   float, for a float32), always with a '.' or an exponent. */
static void put_real(json_text_t *t, double value, int single)
{
    if (isnan(value) || isinf(value)) {
        put(t, isnan(value) ? "\"NaN\"" : value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    char buf[40];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, sizeof buf - 2, "%.*g", digits, value);
        double back = strtod(buf, NULL);
        if (single ? (float) back == (float) value : back == value)
            break;
    }
    if (!strpbrk(buf, ".e"))
        strcat(buf, ".0");
    put(t, buf);
}

static int put_value(cf_json_t *self, const msgpack_object *o, int depth);

/* A map key: a string as it is, anything else as its own JSON text. */
static int put_key(cf_json_t *self, const msgpack_object *key, int depth)
{
    if (key->type == MSGPACK_OBJECT_STR) {
        put_string(&self->text, key->via.str.ptr, key->via.str.size);
        return 0;
    }
    size_t mark = self->text.len;
    if (put_value(self, key, depth) < 0)
        return -1;
    size_t len = self->text.len - mark;
    char *copy = cf_memdup(self->text.data + mark, len);
    self->text.len = mark;
    put_string(&self->text, copy, len);
    free(copy);
    return 0;
}

static int put_container(cf_json_t *self, const msgpack_object *o, int depth)
{
    json_text_t *t = &self->text;
    if (depth >= CF_JSON_MAX_DEPTH)
        return cf_json_fail(self, CF_JSON_ERR_DEPTH, "msgpack: nested deeper than %d levels",
                            CF_JSON_MAX_DEPTH);
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        put(t, "[");
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i)
                put(t, ",");
            if (put_value(self, &o->via.array.ptr[i], depth + 1) < 0)
                return -1;
        }
        put(t, "]");
        return 0;
    }
    put(t, "{");
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        if (i)
            put(t, ",");
        if (put_key(self, &o->via.map.ptr[i].key, depth + 1) < 0)
            return -1;
        put(t, ":");
        if (put_value(self, &o->via.map.ptr[i].val, depth + 1) < 0)
            return -1;
    }
    put(t, "}");
    return 0;
}

/* An ext value: {"ext": type, "data": base64}. */
static void put_ext(json_text_t *t, const msgpack_object_ext *ext)
{
    char head[32];
    snprintf(head, sizeof head, "{\"ext\":%d,\"data\":", ext->type);
    put(t, head);
    put_base64(t, (const unsigned char *) ext->ptr, ext->size);
    put(t, "}");
}

static int put_value(cf_json_t *self, const msgpack_object *o, int depth)
{
    json_text_t *t = &self->text;
    char number[32];
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: put(t, "null"); return 0;
    case MSGPACK_OBJECT_BOOLEAN: put(t, o->via.boolean ? "true" : "false"); return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(number, sizeof number, "%" PRIu64, o->via.u64);
        put(t, number);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(number, sizeof number, "%" PRId64, o->via.i64);
        put(t, number);
        return 0;
    case MSGPACK_OBJECT_FLOAT32: put_real(t, o->via.f64, 1); return 0;
    case MSGPACK_OBJECT_FLOAT64: put_real(t, o->via.f64, 0); return 0;
    case MSGPACK_OBJECT_STR: put_string(t, o->via.str.ptr, o->via.str.size); return 0;
    case MSGPACK_OBJECT_BIN:
        put_base64(t, (const unsigned char *) o->via.bin.ptr, o->via.bin.size);
        return 0;
    case MSGPACK_OBJECT_EXT: put_ext(t, &o->via.ext); return 0;
    case MSGPACK_OBJECT_ARRAY:
    case MSGPACK_OBJECT_MAP: return put_container(self, o, depth);
    }
    return cf_json_fail(self, CF_JSON_ERR_MSGPACK, "msgpack: unknown object type %d", o->type);
}

const char *cf_json_from_object(cf_json_t *self, const msgpack_object *object)
{
    assert(self && object);
    self->code = CF_JSON_OK;
    self->error[0] = '\0';
    self->text.len = 0;
    cf_json_text_append(&self->text, "", 0);
    return put_value(self, object, 0) == 0 ? self->text.data : NULL;
}

const char *cf_json_from_msgpack(cf_json_t *self, const void *data, size_t size)
{
    assert(self && (data || size == 0));
    int rc = cf_unpack(&self->unpacked, data, size);
    if (rc == CF_UNPACK_TOO_DEEP) {
        cf_json_fail(self, CF_JSON_ERR_DEPTH, "msgpack: nested deeper than %d levels",
                     CF_UNPACK_MAX_DEPTH);
        return NULL;
    }
    if (rc < 0) {
        cf_json_fail(self, CF_JSON_ERR_MSGPACK, "msgpack: %zu bytes that are not one msgpack value",
                     size);
        return NULL;
    }
    return cf_json_from_object(self, &self->unpacked.data);
}
