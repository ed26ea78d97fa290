/*  cf_shard: an event's shard from its raw fields, keyless; see
    include/caseflow/cf_shard.h. The broker uses it on the frames it routes,
    the worker's decoder on the fields it validated, so both must agree:
    unit.cf_shard checks one against the other for every kind of event.    */
#include "caseflow/cf_shard.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <string.h>

cf_shard_by_t cf_shard_by(const char *name, size_t len)
{
    assert(name || len == 0);
    if (len >= 5 && memcmp(name, "case.", 5) == 0)
        return CF_SHARD_BY_CASE_REF;
    if (len == 13 && memcmp(name, "flow.observed", 13) == 0)
        return CF_SHARD_BY_ROUTE;
    return CF_SHARD_BY_EVENT_ID;
}

uint64_t cf_shard_hash(const void *data, size_t len)
{
    assert(data || len == 0);
    const unsigned char *p = data;
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

unsigned cf_shard_pick(uint64_t hash, unsigned shards)
{
    assert(shards >= 1 && shards <= CF_SHARD_MAX);
    return (unsigned) (hash % shards);
}

int cf_shard_of_frame(const void *data, size_t size, uint64_t *hash)
{
    assert(hash);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int rc = -1;
    if (data && size && cf_unpack(&result, data, size) == 0) {
        const msgpack_object *type = cf_unpack_get(&result.data, "event_type");
        if (type && type->type == MSGPACK_OBJECT_STR) {
            static const char *fields[] = { "case_ref", "route", "event_id" };
            cf_shard_by_t by = cf_shard_by(type->via.str.ptr, type->via.str.size);
            const msgpack_object *key = cf_unpack_get(&result.data, fields[by]);
            if (key && key->type == MSGPACK_OBJECT_STR) {
                *hash = cf_shard_hash(key->via.str.ptr, key->via.str.size);
                rc = 0;
            } else if (!key && by == CF_SHARD_BY_ROUTE) {
                *hash = cf_shard_hash("-", 1);
                rc = 0;
            }
        }
    }
    msgpack_unpacked_destroy(&result);
    return rc;
}
