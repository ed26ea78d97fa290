/*  cf_pack: the few msgpack writes that every packer of caseflow repeats:
    strings from C strings or (pointer, length), absent values as nil, and
    map members (a string key and its value). Over msgpack-c's packer; bytes
    out, no I/O. The bounded reader of msgpack from peers is cf_unpack.     */
#ifndef CF_PACK_H
#define CF_PACK_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <msgpack.h>

/*  len bytes of s as a msgpack str (s may be NULL when len is 0).          */
static inline void cf_pack_strn(msgpack_packer *pk, const char *s, size_t len)
{
    assert(pk && (s || len == 0));
    msgpack_pack_str(pk, len);
    if (len)                    /* s may be NULL, which memcpy may not see */
        msgpack_pack_str_body(pk, s, len);
}

/*  A C string (not NULL) as a msgpack str. Inline, as are the map members
    of a string key below, so that a literal's length is worked out when
    compiling: the fold and the notices pack keys for every event.          */
static inline void cf_pack_str(msgpack_packer *pk, const char *s)
{
    assert(pk && s);
    cf_pack_strn(pk, s, strlen(s));
}

/*  A C string, or nil when s is NULL.                                       */
void cf_pack_str_or_nil(msgpack_packer *pk, const char *s);

/*  len bytes of s, or nil when there are none (s NULL or len 0): a
    protocol field that was not given is nil, never "".                      */
void cf_pack_strn_or_nil(msgpack_packer *pk, const char *s, size_t len);

/*  true or false.                                                           */
void cf_pack_bool(msgpack_packer *pk, bool value);

/*  Map members: the string key, then its value.                             */
static inline void cf_pack_key_str(msgpack_packer *pk, const char *key, const char *value)
{
    cf_pack_str(pk, key);
    cf_pack_str(pk, value);
}

static inline void cf_pack_key_uint(msgpack_packer *pk, const char *key, uint64_t value)
{
    cf_pack_str(pk, key);
    msgpack_pack_uint64(pk, value);
}

void cf_pack_key_real(msgpack_packer *pk, const char *key, double value);
void cf_pack_key_bool(msgpack_packer *pk, const char *key, bool value);

#endif
