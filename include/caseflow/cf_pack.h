/*  cf_pack: the few msgpack writes that every packer of caseflow repeats:
    strings from C strings or (pointer, length), absent values as nil, and
    map members (a string key and its value). Over msgpack-c's packer; bytes
    out, no I/O. The bounded reader of msgpack from peers is cf_unpack.     */
#ifndef CF_PACK_H
#define CF_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

/*  A C string (not NULL) as a msgpack str.                                  */
void cf_pack_str(msgpack_packer *pk, const char *s);

/*  len bytes of s as a msgpack str (s may be NULL when len is 0).          */
void cf_pack_strn(msgpack_packer *pk, const char *s, size_t len);

/*  A C string, or nil when s is NULL.                                       */
void cf_pack_str_or_nil(msgpack_packer *pk, const char *s);

/*  len bytes of s, or nil when there are none (s NULL or len 0): a
    protocol field that was not given is nil, never "".                      */
void cf_pack_strn_or_nil(msgpack_packer *pk, const char *s, size_t len);

/*  true or false.                                                           */
void cf_pack_bool(msgpack_packer *pk, bool value);

/*  Map members: the string key, then its value.                             */
void cf_pack_key_str(msgpack_packer *pk, const char *key, const char *value);
void cf_pack_key_uint(msgpack_packer *pk, const char *key, uint64_t value);
void cf_pack_key_real(msgpack_packer *pk, const char *key, double value);
void cf_pack_key_bool(msgpack_packer *pk, const char *key, bool value);

#endif
