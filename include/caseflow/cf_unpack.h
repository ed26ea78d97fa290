/*  cf_unpack: msgpack-c's unpacker behind a bounds walk, for bytes from a
    peer.

    msgpack-c allocates an array's or map's objects as soon as it reads the
    header, so five bytes ("array of 2^32 - 1 items") make it ask for
    about 100 GB. The walk reads only the headers and checks that every
    declared length fits in the bytes that are left (each child takes at
    least one byte) and that nesting stays within CF_UNPACK_MAX_DEPTH, so the
    unpacker then allocates at most a small multiple of the input size.
    Bytes in, objects out; no sockets.                                       */
#ifndef CF_UNPACK_H
#define CF_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <msgpack.h>

#define CF_UNPACK_MAX_DEPTH     16      /* nested arrays and maps; msgpack-c fails (as out of memory) at 32 */

#define CF_UNPACK_FIELDS_MAX    8       /* keys one cf_unpack_fields looks for */

#define CF_UNPACK_INVALID       (-1)    /* not msgpack, truncated, or bytes after the value */
#define CF_UNPACK_TOO_DEEP      (-2)    /* nested deeper than CF_UNPACK_MAX_DEPTH */

/*  Walks the one msgpack value at the start of data. Returns 0 and sets
    *end to the offset just after it, or CF_UNPACK_INVALID or
    CF_UNPACK_TOO_DEEP.                                                      */
int cf_unpack_scan(const void *data, size_t size, size_t *end);

/*  One entry of a map, as cf_unpack_fields finds it.                       */
typedef struct {
    const char *str;        /* the value's bytes when it is a str, else NULL */
    size_t len;             /* their length */
    bool present;           /* the map has the key (its first entry counts) */
} cf_unpack_field_t;

/*  What cf_unpack then cf_unpack_get(result, keys[i]) would give for each
    of n string keys (n at most CF_UNPACK_FIELDS_MAX), without decoding:
    the same bytes are accepted (one value, exactly size bytes, within
    CF_UNPACK_MAX_DEPTH), and fields[i] says whether the top-level map has
    the key keys[i] and, when its value is a str, where that str's bytes
    are in data. A value that is not a map has none of the keys. Returns 0,
    CF_UNPACK_INVALID or CF_UNPACK_TOO_DEEP (fields then mean nothing). The
    walk reads headers only: no allocation, no recursion.                    */
int cf_unpack_fields(const void *data, size_t size, const char *const *keys, size_t n,
                     cf_unpack_field_t *fields);

/*  Decodes size bytes that must be exactly one msgpack value into *result
    (msgpack_unpacked_init'ed by the caller, who destroys it; a previous
    value in it is freed). Returns 0, CF_UNPACK_INVALID or
    CF_UNPACK_TOO_DEEP. Out of memory aborts.                                */
int cf_unpack(msgpack_unpacked *result, const void *data, size_t size);

/*  The value of the string key `key` in a decoded map, or NULL when map is
    NULL, not a map, or has no such key.                                     */
const msgpack_object *cf_unpack_get(const msgpack_object *map, const char *key);

/*  True when obj is a msgpack str holding exactly the C string text.        */
bool cf_unpack_str_equals(const msgpack_object *obj, const char *text);

#endif
