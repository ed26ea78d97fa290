/*  cf_json (JSON to msgpack): the converter object and the direction that
    reads JSON lines, with jansson as the parser; see cf_json.h. jansson
    keeps object keys in input order, so the map has them in that order too.
    The printing direction is in cf_json_print.c.                            */
#include "cf_json_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cf_json_t *cf_json_new(void)
{
    cf_json_t *self = cf_calloc(1, sizeof *self);
    msgpack_sbuffer_init(&self->packed);
    msgpack_unpacked_init(&self->unpacked);
    return self;
}

void cf_json_destroy(cf_json_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_json_t *self = *self_p;
    msgpack_sbuffer_destroy(&self->packed);
    msgpack_unpacked_destroy(&self->unpacked);
    json_decref(self->root);
    free(self->text.data);
    free(self);
    *self_p = NULL;
}

int cf_json_fail(cf_json_t *self, cf_json_err_t code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, args);
    va_end(args);
    self->code = code;
    return -1;
}

void cf_json_text_append(json_text_t *text, const void *data, size_t len)
{
    text->data = cf_grow(text->data, &text->cap, text->len + len + 1, 1);
    if (len)                    /* data may be NULL then (an empty msgpack str) */
        memcpy(text->data + text->len, data, len);
    text->len += len;
    text->data[text->len] = '\0';
}

static const char *json_type_name(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Packs value and what it holds; -1 (error set) when nested too deep. */
static int pack_value(cf_json_t *self, msgpack_packer *pk, json_t *value, int depth)
{
    const char *key;
    json_t *item;
    size_t index;
    switch (json_typeof(value)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        if (depth >= CF_JSON_MAX_DEPTH)
            return cf_json_fail(self, CF_JSON_ERR_DEPTH, "json: nested deeper than %d levels",
                                CF_JSON_MAX_DEPTH);
        if (json_is_array(value)) {
            msgpack_pack_array(pk, json_array_size(value));
            json_array_foreach(value, index, item)
                if (pack_value(self, pk, item, depth + 1) < 0)
                    return -1;
            return 0;
        }
        msgpack_pack_map(pk, json_object_size(value));
        json_object_foreach(value, key, item) {
            cf_pack_str(pk, key);                   /* keys cannot hold NUL: jansson refuses */
            if (pack_value(self, pk, item, depth + 1) < 0)
                return -1;
        }
        return 0;
    case JSON_STRING:
        cf_pack_strn(pk, json_string_value(value), json_string_length(value));
        return 0;
    case JSON_INTEGER: msgpack_pack_int64(pk, json_integer_value(value)); return 0;
    case JSON_REAL: msgpack_pack_double(pk, json_real_value(value)); return 0;
    case JSON_TRUE: msgpack_pack_true(pk); return 0;
    case JSON_FALSE: msgpack_pack_false(pk); return 0;
    default: msgpack_pack_nil(pk); return 0;
    }
}

int cf_json_to_msgpack(cf_json_t *self, const char *text, size_t len, int flags)
{
    assert(self && (text || len == 0));
    json_decref(self->root);
    self->root = NULL;
    msgpack_sbuffer_clear(&self->packed);
    self->code = CF_JSON_OK;
    self->error[0] = '\0';
    if (len > CF_JSON_MAX_TEXT)     /* an event is at most 64 KiB of msgpack: this is not one */
        return cf_json_fail(self, CF_JSON_ERR_SIZE, "json: %zu bytes exceeds the limit of %d bytes",
                            len, CF_JSON_MAX_TEXT);
    json_error_t error;
    self->root = json_loadb(text ? text : "", len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                            &error);
    if (!self->root) {
        if (strncmp(error.text, "\\u0000 is not allowed", 21) == 0)
            snprintf(error.text, sizeof error.text, "\\u0000 (NUL) is not allowed in a string");
        if (error.column > 0)
            return cf_json_fail(self, CF_JSON_ERR_SYNTAX, "json: %s at column %d", error.text,
                                error.column);
        return cf_json_fail(self, CF_JSON_ERR_SYNTAX, "json: %s", error.text);
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->packed, msgpack_sbuffer_write);
    if ((flags & CF_JSON_OBJECT) && !json_is_object(self->root))
        cf_json_fail(self, CF_JSON_ERR_TYPE, "json: %s, not an object",
                     json_type_name(self->root));
    else if (pack_value(self, &pk, self->root, 0) == 0)
        return 0;
    msgpack_sbuffer_clear(&self->packed);   /* a failed conversion leaves nothing behind */
    json_decref(self->root);
    self->root = NULL;
    return -1;
}

const void *cf_json_msgpack(const cf_json_t *self, size_t *size)
{
    assert(self && size);
    *size = self->packed.size;
    return self->packed.data;
}

const char *cf_json_member(const cf_json_t *self, const char *key)
{
    assert(self && key);
    json_t *member = json_is_object(self->root) ? json_object_get(self->root, key) : NULL;
    if (!json_is_string(member) || strlen(json_string_value(member)) != json_string_length(member))
        return NULL;
    return json_string_value(member);
}

const char *cf_json_error(const cf_json_t *self)
{
    assert(self);
    return self->error;
}

cf_json_err_t cf_json_error_code(const cf_json_t *self)
{
    assert(self);
    return self->code;
}
