/*  cf_unpack: a header-only walk over one msgpack value, then msgpack-c's
    unpacker on bytes known to be well-formed; see cf_unpack.h. The walk
    keeps a stack of how many children each open container still owes, so
    it uses no recursion and no allocation. The same walk finds a few keys
    of a top-level map (cf_unpack_fields) for the broker, which reads two
    strings of every event it routes and has no use for the rest decoded.   */
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The big-endian number of `width` bytes at p. */
static size_t unpack_be(const unsigned char *p, int width)
{
    size_t value = 0;
    for (int i = 0; i < width; i++)
        value = value << 8 | p[i];
    return value;
}

/* Reads the header at *pos: moves *pos past it and its length field, and
   says how many payload bytes (skip) and child values (children) follow and
   whether it opens an array or map (even an empty one). false on the unused
   byte 0xc1 or a length field cut short. */
static bool unpack_header(const unsigned char *p, size_t size, size_t *pos, size_t *skip,
                          size_t *children, bool *container)
{
    unsigned b = p[(*pos)++];
    int width = 0;              /* bytes of a length field */
    size_t extra = 0;           /* fixed payload bytes besides the length */
    enum { FIXED, BYTES, ITEMS, PAIRS } kind = FIXED;
    *skip = *children = 0;
    *container = (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return true;
    if (b <= 0x8f) { *children = 2 * (b & 0x0f); return true; }
    if (b <= 0x9f) { *children = b & 0x0f; return true; }
    if (b <= 0xbf) { *skip = b & 0x1f; return true; }
    switch (b) {
    case 0xc4: case 0xc5: case 0xc6: kind = BYTES; width = 1 << (b - 0xc4); break;
    case 0xc7: case 0xc8: case 0xc9: kind = BYTES; width = 1 << (b - 0xc7); extra = 1; break;
    case 0xca: extra = 4; break;
    case 0xcb: extra = 8; break;
    case 0xcc: case 0xcd: case 0xce: case 0xcf: extra = (size_t) 1 << (b - 0xcc); break;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: extra = (size_t) 1 << (b - 0xd0); break;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: extra = 1 + ((size_t) 1 << (b - 0xd4)); break;
    case 0xd9: case 0xda: case 0xdb: kind = BYTES; width = 1 << (b - 0xd9); break;
    case 0xdc: case 0xdd: kind = ITEMS; width = 2 << (b - 0xdc); break;
    case 0xde: case 0xdf: kind = PAIRS; width = 2 << (b - 0xde); break;
    default: return false;      /* 0xc1, never used */
    }
    if ((size_t) width > size - *pos)
        return false;
    size_t length = unpack_be(p + *pos, width);
    *pos += (size_t) width;
    *skip = extra + (kind == BYTES ? length : 0);
    *children = kind == ITEMS ? length : kind == PAIRS ? 2 * length : 0;
    return true;
}

/* True when the header byte b opens a msgpack str (fixstr, str 8/16/32):
   what msgpack-c decodes as MSGPACK_OBJECT_STR. */
static bool unpack_is_str(unsigned b)
{
    return (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
}

/* cf_unpack_scan's walk; when the value is a map, it also fills fields[i]
   from the first entry of that map whose key is the str keys[i] (n of
   them; n = 0 for a plain scan). Only the top level is looked at, so the
   entries are the children at depth 1, a key while their count owed is odd
   after the decrement (a map owes 2 per entry, key first). */
static int unpack_walk(const unsigned char *p, size_t size, size_t *end, const char *const *keys,
                       size_t n, cf_unpack_field_t *fields)
{
    size_t owed[CF_UNPACK_MAX_DEPTH + 1];   /* children each open level still owes */
    int depth = 0;
    size_t pos = 0;
    bool map = false;                       /* the top-level value is a map */
    size_t want = n;                        /* the field the next value fills; n: none */
    size_t klen[CF_UNPACK_FIELDS_MAX];      /* strlen of each key, once */
    owed[0] = 1;
    for (size_t i = 0; i < n; i++) {
        fields[i] = (cf_unpack_field_t) { NULL, 0, false };
        klen[i] = strlen(keys[i]);
    }
    while (depth >= 0) {
        if (owed[depth] == 0) {
            depth--;
            continue;
        }
        owed[depth]--;
        size_t skip, children, start = pos;
        bool container;
        if (pos >= size || !unpack_header(p, size, &pos, &skip, &children, &container))
            return CF_UNPACK_INVALID;
        if (skip > size - pos || children > size - pos - skip)
            return CF_UNPACK_INVALID;       /* every child takes at least a byte */
        if (n == 0 || depth > 1)
            ;                               /* the plain scan, or below the entries */
        else if (depth == 0)
            map = (p[start] >= 0x80 && p[start] <= 0x8f) || p[start] == 0xde || p[start] == 0xdf;
        else if (map) {
            bool str = unpack_is_str(p[start]);
            if (owed[1] % 2 == 1) {         /* a key: the field it names, if still unseen */
                want = n;
                for (size_t i = 0; str && i < n && want == n; i++)
                    if (!fields[i].present && klen[i] == skip
                        && memcmp(p + pos, keys[i], skip) == 0)
                        want = i;
            } else if (want < n) {          /* that key's value */
                fields[want] = (cf_unpack_field_t) { str ? (const char *) p + pos : NULL,
                                                     str ? skip : 0, true };
                want = n;
            }
        }
        pos += skip;
        if (container && depth == CF_UNPACK_MAX_DEPTH)
            return CF_UNPACK_TOO_DEEP;      /* msgpack-c counts empty ones too */
        if (children)
            owed[++depth] = children;
    }
    *end = pos;
    return 0;
}

int cf_unpack_scan(const void *data, size_t size, size_t *end)
{
    assert((data || size == 0) && end);
    return unpack_walk(data, size, end, NULL, 0, NULL);
}

int cf_unpack_fields(const void *data, size_t size, const char *const *keys, size_t n,
                     cf_unpack_field_t *fields)
{
    assert((data || size == 0) && (keys || n == 0) && (fields || n == 0));
    assert(n <= CF_UNPACK_FIELDS_MAX);
    size_t end = 0;
    int rc = unpack_walk(data, size, &end, keys, n, fields);
    if (rc < 0)
        return rc;
    return end == size ? 0 : CF_UNPACK_INVALID;
}

int cf_unpack(msgpack_unpacked *result, const void *data, size_t size)
{
    assert(result && (data || size == 0));
    size_t end = 0, offset = 0;
    int rc = cf_unpack_scan(data, size, &end);
    if (rc < 0)
        return rc;
    if (end != size)
        return CF_UNPACK_INVALID;
    msgpack_unpack_return ret = msgpack_unpack_next(result, data, size, &offset);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
        abort();                /* the walk bounded the request: this is the heap */
    return ret == MSGPACK_UNPACK_SUCCESS && offset == size ? 0 : CF_UNPACK_INVALID;
}

const msgpack_object *cf_unpack_get(const msgpack_object *map, const char *key)
{
    assert(key);
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (cf_unpack_str_equals(&map->via.map.ptr[i].key, key))
            return &map->via.map.ptr[i].val;
    return NULL;
}

bool cf_unpack_str_equals(const msgpack_object *obj, const char *text)
{
    assert(obj && text);
    size_t len = strlen(text);
    return obj->type == MSGPACK_OBJECT_STR && obj->via.str.size == len
        && (len == 0 || memcmp(obj->via.str.ptr, text, len) == 0);
}
