/*  cf_proto (intake side): the per-event acknowledgement list that a worker
    builds, the broker forwards and a producer reads; see cf_proto.h. The
    worker's READY body is in cf_proto_worker.c.                             */
#include "caseflow/cf_proto.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

static const char *s_status_names[CF_ACK_STATUS_COUNT] = {
    "accepted", "duplicate", "rejected", "busy" };

const char *cf_ack_status_name(cf_ack_status_t status)
{
    return status < CF_ACK_STATUS_COUNT ? s_status_names[status] : NULL;
}

int cf_ack_status_parse(const char *name, size_t len, cf_ack_status_t *status)
{
    for (int i = 0; i < CF_ACK_STATUS_COUNT; i++)
        if (strlen(s_status_names[i]) == len && memcmp(s_status_names[i], name, len) == 0) {
            *status = (cf_ack_status_t) i;
            return 0;
        }
    return -1;
}

static void pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

void cf_proto_pack_acks(msgpack_sbuffer *sbuf, const cf_ack_t *acks, size_t count)
{
    assert(sbuf && (acks || count == 0));
    msgpack_packer pk;
    msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, count);
    for (size_t i = 0; i < count; i++) {
        const cf_ack_t *ack = &acks[i];
        bool has_reason = ack->status == CF_ACK_REJECTED || ack->status == CF_ACK_BUSY;
        msgpack_pack_map(&pk, has_reason ? 3 : 2);
        pack_str(&pk, "status", 6);
        const char *name = cf_ack_status_name(ack->status);
        pack_str(&pk, name, strlen(name));
        pack_str(&pk, "event_id", 8);
        if (ack->event_id && ack->event_id_len)
            pack_str(&pk, ack->event_id, ack->event_id_len);
        else
            msgpack_pack_nil(&pk);
        if (has_reason) {
            pack_str(&pk, "reason", 6);
            pack_str(&pk, ack->reason ? ack->reason : "", ack->reason ? ack->reason_len : 0);
        }
    }
}

static bool key_is(const msgpack_object *key, const char *name)
{
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(name)
        && memcmp(key->via.str.ptr, name, key->via.str.size) == 0;
}

/* Reads one ack map; -1 when it has no valid status or a key of the wrong type. */
static int unpack_ack(const msgpack_object *map, cf_ack_t *ack)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return -1;
    *ack = (cf_ack_t) { CF_ACK_STATUS_COUNT, NULL, 0, NULL, 0 };
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key, *val = &map->via.map.ptr[i].val;
        bool is_str = val->type == MSGPACK_OBJECT_STR;
        if (key_is(key, "status")) {
            if (!is_str || cf_ack_status_parse(val->via.str.ptr, val->via.str.size, &ack->status) < 0)
                return -1;
        } else if (key_is(key, "event_id") || key_is(key, "reason")) {
            if (!is_str && val->type != MSGPACK_OBJECT_NIL)
                return -1;
            const char **text = key_is(key, "reason") ? &ack->reason : &ack->event_id;
            size_t *len = key_is(key, "reason") ? &ack->reason_len : &ack->event_id_len;
            *text = is_str ? val->via.str.ptr : NULL;
            *len = is_str ? val->via.str.size : 0;
        }   /* other keys are ignored: a later minor version may add some */
    }
    return ack->status == CF_ACK_STATUS_COUNT ? -1 : 0;
}

int cf_proto_unpack_acks(msgpack_unpacked *result, const void *data, size_t size,
                         cf_ack_t *acks, size_t max)
{
    assert(result && acks);
    if (!data || cf_unpack(result, data, size) < 0 || result->data.type != MSGPACK_OBJECT_ARRAY
        || result->data.via.array.size > max)
        return -1;      /* cf_unpack: a hostile header cannot make msgpack-c allocate gigabytes */
    const msgpack_object_array *array = &result->data.via.array;
    for (uint32_t i = 0; i < array->size; i++)
        if (unpack_ack(&array->ptr[i], &acks[i]) < 0)
            return -1;
    return (int) array->size;
}
