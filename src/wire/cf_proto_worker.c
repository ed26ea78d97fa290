/*  cf_proto (worker side): the READY body that a worker sends when it joins.
    The intake side's acks are in cf_proto.c.                                */
#include "caseflow/cf_proto.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void ready_pack_key(msgpack_packer *pk, const char *key)
{
    msgpack_pack_str(pk, strlen(key));
    msgpack_pack_str_body(pk, key, strlen(key));
}

void cf_proto_pack_ready(msgpack_sbuffer *sbuf, const cf_ready_t *ready)
{
    assert(sbuf && ready);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    ready_pack_key(&pk, "credit");
    msgpack_pack_unsigned_int(&pk, ready->credit);
    ready_pack_key(&pk, "pid");
    msgpack_pack_unsigned_int(&pk, ready->pid);
    ready_pack_key(&pk, "host");
    msgpack_pack_str(&pk, strlen(ready->host));
    msgpack_pack_str_body(&pk, ready->host, strlen(ready->host));
}

static bool ready_key_is(const msgpack_object *key, const char *name)
{
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(name)
        && memcmp(key->via.str.ptr, name, key->via.str.size) == 0;
}

static void ready_take(cf_ready_t *ready, const msgpack_object *key, const msgpack_object *val)
{
    bool is_uint = val->type == MSGPACK_OBJECT_POSITIVE_INTEGER && val->via.u64 <= 0xffffffffu;
    if (ready_key_is(key, "credit") && is_uint)
        ready->credit = (unsigned) val->via.u64;
    else if (ready_key_is(key, "pid") && is_uint)
        ready->pid = (unsigned) val->via.u64;
    else if (ready_key_is(key, "host") && val->type == MSGPACK_OBJECT_STR)
        snprintf(ready->host, sizeof ready->host, "%.*s", (int) val->via.str.size,
                 val->via.str.ptr);
}

int cf_proto_parse_ready(const void *data, size_t size, cf_ready_t *ready)
{
    assert(ready);
    *ready = (cf_ready_t) { .credit = 1, .pid = 0, .host = "?" };
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int status = -1;
    if (data && cf_unpack(&result, data, size) == 0 && result.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < result.data.via.map.size; i++)
            ready_take(ready, &result.data.via.map.ptr[i].key, &result.data.via.map.ptr[i].val);
        status = 0;
    }
    msgpack_unpacked_destroy(&result);
    return status;
}
