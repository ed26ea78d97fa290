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
    /* The fields by cf_shard_by_t, then event_type: read in one walk over
       the frame's headers, with no decoding (the broker does this for
       every event it routes). */
    static const char *const keys[] = { "case_ref", "route", "event_id", "event_type" };
    cf_unpack_field_t field[4];
    if (!data || !size || cf_unpack_fields(data, size, keys, 4, field) != 0 || !field[3].str)
        return -1;
    cf_shard_by_t by = cf_shard_by(field[3].str, field[3].len);
    if (field[by].str)
        *hash = cf_shard_hash(field[by].str, field[by].len);
    else if (!field[by].present && by == CF_SHARD_BY_ROUTE)
        *hash = cf_shard_hash("-", 1);
    else
        return -1;
    return 0;
}
