/*  cf_pack: msgpack strings, nil for what is absent, and map members; see
    cf_pack.h (where the string packers that run per event are inline).     */
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <string.h>

void cf_pack_str_or_nil(msgpack_packer *pk, const char *s)
{
    if (s)
        cf_pack_str(pk, s);
    else
        msgpack_pack_nil(pk);
}

void cf_pack_strn_or_nil(msgpack_packer *pk, const char *s, size_t len)
{
    if (s && len)
        cf_pack_strn(pk, s, len);
    else
        msgpack_pack_nil(pk);
}

void cf_pack_bool(msgpack_packer *pk, bool value)
{
    if (value)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void cf_pack_key_real(msgpack_packer *pk, const char *key, double value)
{
    cf_pack_str(pk, key);
    msgpack_pack_double(pk, value);
}

void cf_pack_key_bool(msgpack_packer *pk, const char *key, bool value)
{
    cf_pack_str(pk, key);
    cf_pack_bool(pk, value);
}
