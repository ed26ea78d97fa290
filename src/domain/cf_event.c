/*  cf_event: turns the bytes of one event into a checked cf_event_t, or into a
    reason that names the field at fault. The pipeline runs from the outside
    in: the size, then a walk over the raw msgpack that proves the bytes hold
    exactly one complete object (so msgpack-c never reserves room for elements
    that are not there, nor hits its nesting limit), then the map's keys, the
    envelope, which fields the event's type takes, and finally each value
    through the schema in cf_event_rules.c, whose checks are in
    cf_event_check.c. Values are checked in field-table order, not key order,
    so a bad value gets the same reason however the keys are arranged (only
    unknown and repeated keys are reported in map order). The only memory
    used beyond the stack is msgpack-c's zone, freed before returning.       */
#include "cf_event_internal.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- the map --------------------------------------------------------------- */

/* The field id of each key (-1 unknown, -2 not a string), found once for
   the three passes over the keys below. A valid event has at most one key
   per field; the keys of a longer map past those are looked up each time. */
typedef struct {
    int id[CF_F_COUNT_ALL];
    uint32_t kept;
} event_keys_t;

static int event_key_find(const msgpack_object *key)
{
    return key->type == MSGPACK_OBJECT_STR ? cf_event_field_find(key->via.str.ptr, key->via.str.size)
                                           : -2;
}

static void event_keys(event_keys_t *keys, const msgpack_object *map)
{
    keys->kept = map->via.map.size < CF_F_COUNT_ALL ? map->via.map.size : CF_F_COUNT_ALL;
    for (uint32_t i = 0; i < keys->kept; i++)
        keys->id[i] = event_key_find(&map->via.map.ptr[i].key);
}

static int event_key(const event_keys_t *keys, const msgpack_object *map, uint32_t i)
{
    return i < keys->kept ? keys->id[i] : event_key_find(&map->via.map.ptr[i].key);
}

/* Fills event_id and source_system ahead of every other check, when each
   appears once and is valid, so a rejection can still be acknowledged by id
   and counted by source. Writes no reason. One pass over the keys for
   both. */
static void event_prefill(cf_event_t *event, const msgpack_object *map, const event_keys_t *keys)
{
    cf_decode_t quiet = { event, NULL, 0 };
    const cf_field_id_t ids[] = { CF_F_EVENT_ID, CF_F_SOURCE_SYSTEM };
    const msgpack_object *found[] = { NULL, NULL };
    size_t count[] = { 0, 0 };
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        int id = event_key(keys, map, i);
        for (size_t j = 0; j < sizeof ids / sizeof *ids; j++)
            if (id == (int) ids[j]) {
                found[j] = &map->via.map.ptr[i].val;
                count[j]++;
            }
    }
    for (size_t j = 0; j < sizeof ids / sizeof *ids; j++)
        if (count[j] == 1)
            cf_event_field_check(&quiet, ids[j], found[j]);
}

/* Indexes the values by field; rejects non-string and repeated keys. Unknown
   names wait until the type is known. */
static int event_collect(cf_decode_t *d, const msgpack_object *map, const event_keys_t *keys,
                         const msgpack_object **values)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            return cf_event_fail(d, "event: a key is not a string (got %s)", cf_event_got(key));
        int id = event_key(keys, map, i);
        if (id < 0)
            continue;
        if (values[id])
            return cf_event_fail(d, "%s: appears twice", cf_event_field_name(id));
        values[id] = &map->via.map.ptr[i].val;
    }
    return 0;
}

static int event_type(cf_decode_t *d, const msgpack_object *value)
{
    if (!value)
        return cf_event_fail(d, "event_type: required");
    if (value->type != MSGPACK_OBJECT_STR)
        return cf_event_fail(d, "event_type: expected a string, got %s", cf_event_got(value));
    int type = cf_event_type_find(value->via.str.ptr, value->via.str.size);
    if (type >= 0) {
        d->event->type = (cf_event_type_t) type;
        return 0;
    }
    char echo[CF_ECHO_BUF];
    return cf_event_fail(d, "event_type: '%s' is not a known event type",
                         cf_event_echo(echo, value->via.str.ptr, value->via.str.size));
}

/* event_id, event_type and schema_version, which decide how to read the rest. */
static int event_envelope(cf_decode_t *d, const msgpack_object *const *values)
{
    if (!values[CF_F_EVENT_ID])
        return cf_event_fail(d, "event_id: required");
    if (cf_event_field_check(d, CF_F_EVENT_ID, values[CF_F_EVENT_ID]) < 0)
        return -1;
    if (event_type(d, values[CF_F_EVENT_TYPE]) < 0)
        return -1;
    if (!values[CF_F_SCHEMA_VERSION])
        return cf_event_fail(d, "schema_version: required");
    return cf_event_field_check(d, CF_F_SCHEMA_VERSION, values[CF_F_SCHEMA_VERSION]);
}

/* Every key, in map order, must be a field the type takes. */
static int event_allowed(cf_decode_t *d, const msgpack_object *map, const event_keys_t *keys)
{
    cf_event_type_t type = d->event->type;
    uint64_t allowed = cf_event_fields_allowed(type);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key;
        int id = event_key(keys, map, i);
        if (id >= 0 && (allowed & CF_FIELD_BIT(id)))
            continue;
        if (id == CF_F_CASE_REF || id == CF_F_CASE_SEQ)
            return cf_event_fail(d, "%s: not allowed for %s", cf_event_field_name(id),
                                 cf_event_type_name(type));
        char echo[CF_ECHO_BUF];
        return cf_event_fail(d, "%s: unknown field for %s",
                             cf_event_echo(echo, key->via.str.ptr, key->via.str.size),
                             cf_event_type_name(type));
    }
    return 0;
}

/* The type's required fields, then every value, in field order. */
static int event_fields(cf_decode_t *d, const msgpack_object *const *values)
{
    cf_event_type_t type = d->event->type;
    uint64_t required = cf_event_fields_required(type);
    for (int id = 0; id < CF_F_COUNT_ALL; id++)
        if ((required & CF_FIELD_BIT(id)) && !values[id])
            return cf_event_fail(d, "%s: required for %s", cf_event_field_name(id),
                                 cf_event_type_name(type));
    for (int id = CF_F_OCCURRED_AT; id < CF_F_COUNT_ALL; id++)
        if (values[id] && cf_event_field_check(d, id, values[id]) < 0)
            return -1;
    return cf_event_fields_finish(d, values);
}

static int event_map(cf_decode_t *d, const msgpack_object *map, size_t trailing)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return cf_event_fail(d, "event: not a map");
    event_keys_t keys;
    event_keys(&keys, map);
    event_prefill(d->event, map, &keys);
    if (trailing)
        return cf_event_fail(d, "event: extra bytes after the map");
    const msgpack_object *values[CF_F_COUNT_ALL] = { NULL };
    if (event_collect(d, map, &keys, values) < 0 || event_envelope(d, values) < 0
        || event_allowed(d, map, &keys) < 0 || event_fields(d, values) < 0)
        return -1;
    return 0;
}

/* Keeps only what a rejection reports (event_id, source_system); above all
   no raw case_ref survives a failed decode. */
static void event_clear_failed(cf_event_t *event)
{
    char event_id[sizeof event->event_id], source[sizeof event->source_system];
    memcpy(event_id, event->event_id, sizeof event_id);
    memcpy(source, event->source_system, sizeof source);
    memset(event, 0, sizeof *event);
    memcpy(event->event_id, event_id, sizeof event_id);
    memcpy(event->source_system, source, sizeof source);
}

/* The hash of the event's shard key, from the raw fields (cf_shard's rule,
   the one the broker applies to the frame). */
static uint64_t event_shard_hash(const cf_event_t *event)
{
    const char *name = cf_event_type_name(event->type);
    switch (cf_shard_by(name, strlen(name))) {
    case CF_SHARD_BY_CASE_REF:
        return cf_shard_hash(event->case_ref, strlen(event->case_ref));
    case CF_SHARD_BY_ROUTE:
        return event->route[0] ? cf_shard_hash(event->route, strlen(event->route))
                               : cf_shard_hash("-", 1);
    default:
        return cf_shard_hash(event->event_id, strlen(event->event_id));
    }
}

/* ---- public ---------------------------------------------------------------- */

/* Fills *event and returns 0, or returns -1 with the reason; on failure
   only event_id and source_system may be left set. See cf_event.h. */
int cf_event_decode(cf_event_t *event, const void *data, size_t size,
                    char *reason, size_t reason_size)
{
    assert(event);
    assert(data || size == 0);
    memset(event, 0, sizeof *event);
    if (reason && reason_size)
        reason[0] = '\0';
    cf_decode_t d = { event, reason, reason_size };
    if (size > CF_EVENT_MAX_BYTES)
        return cf_event_fail(&d, "event: %zu bytes exceeds the limit of %d bytes",
                             size, CF_EVENT_MAX_BYTES);
    size_t end = 0;     /* the walk bounds what msgpack-c will allocate */
    int scan = size ? cf_unpack_scan(data, size, &end) : CF_UNPACK_INVALID;
    if (scan == CF_UNPACK_TOO_DEEP)
        return cf_event_fail(&d, "event: nested deeper than %d levels", CF_UNPACK_MAX_DEPTH);
    if (scan < 0)
        return cf_event_fail(&d, "event: not valid msgpack");

    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t offset = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&result, data, end, &offset);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
        abort();                        /* the walk bounds the zone: this is the heap */
    int rc = ret == MSGPACK_UNPACK_SUCCESS && offset == end
           ? event_map(&d, &result.data, size - end)
           : cf_event_fail(&d, "event: not valid msgpack");
    msgpack_unpacked_destroy(&result);
    if (rc < 0)
        event_clear_failed(event);
    else
        event->shard_hash = event_shard_hash(event);
    return rc;
}
