/*  cf_test_frames: event frames as a producer sends them; see the header. */
#include "cf_test_frames.h"

#include <string.h>

static void frames_pack_kv(msgpack_packer *pk, const char *key, const char *value)
{
    msgpack_pack_str(pk, strlen(key));
    msgpack_pack_str_body(pk, key, strlen(key));
    msgpack_pack_str(pk, strlen(value));
    msgpack_pack_str_body(pk, value, strlen(value));
}

void cf_test_pack_registration(msgpack_sbuffer *sbuf, const char *event_id, const char *ref)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 10);
    frames_pack_kv(&pk, "event_id", event_id);
    frames_pack_kv(&pk, "event_type", "case.registered");
    msgpack_pack_str(&pk, 14);
    msgpack_pack_str_body(&pk, "schema_version", 14);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str(&pk, 11);
    msgpack_pack_str_body(&pk, "occurred_at", 11);
    msgpack_pack_int64(&pk, 1554076800000LL);
    frames_pack_kv(&pk, "case_ref", ref);
    frames_pack_kv(&pk, "programme", "CH-AVR");
    frames_pack_kv(&pk, "programme_type", "avrr");
    frames_pack_kv(&pk, "host_country", "CHE");
    frames_pack_kv(&pk, "origin_country", "SRB");
    msgpack_pack_str(&pk, 7);
    msgpack_pack_str_body(&pk, "persons", 7);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 3);
    frames_pack_kv(&pk, "sex", "f");
    frames_pack_kv(&pk, "age_band", "18-59");
    frames_pack_kv(&pk, "role", "principal");
}
