/*  cf_test_unpack: the references the header walk of cf_unpack_fields is
    compared with, by unit.cf_unpack, unit.cf_shard, the event fuzz harness
    and the cf_broker_cpu driver: the frame decoded whole by cf_unpack, its
    keys looked up with cf_unpack_get. cf_test_shard_of_frame is
    cf_shard_of_frame as it was before the walk: the shard of every frame
    must stay what it gives. Header only (static), so that the fuzz
    harnesses, which link no test support, can include it too.              */
#ifndef CF_TEST_UNPACK_H
#define CF_TEST_UNPACK_H

#include "caseflow/cf_shard.h"
#include "caseflow/cf_unpack.h"

#include <stdbool.h>
#include <string.h>

static inline int cf_test_shard_of_frame(const void *data, size_t size, uint64_t *hash)
{
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

/*  Whether cf_unpack_fields gives for the n keys what cf_unpack and
    cf_unpack_get give: the same return code and, on success, the same
    presence and the same str bytes (at the same place in data) per key.    */
static inline bool cf_test_fields_agree(const void *data, size_t size, const char *const *keys,
                                        size_t n)
{
    cf_unpack_field_t field[CF_UNPACK_FIELDS_MAX];
    if (n > CF_UNPACK_FIELDS_MAX)
        return false;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int rc = cf_unpack(&result, data, size);
    bool agree = cf_unpack_fields(data, size, keys, n, field) == rc;
    for (size_t i = 0; agree && rc == 0 && i < n; i++) {
        const msgpack_object *v = cf_unpack_get(&result.data, keys[i]);
        bool str = v && v->type == MSGPACK_OBJECT_STR;
        agree = field[i].present == (v != NULL) && (field[i].str != NULL) == str
             && (!str || (field[i].len == v->via.str.size
                          && (v->via.str.size == 0 || field[i].str == v->via.str.ptr
                              || memcmp(field[i].str, v->via.str.ptr, v->via.str.size) == 0)));
    }
    msgpack_unpacked_destroy(&result);
    return agree;
}

#endif
