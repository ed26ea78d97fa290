/*  Tests of cf_proto: ack lists survive pack and unpack with their ids and
    reasons, ack bodies of the wrong shape are refused as a whole, status
    names parse both ways, and the READY body keeps its defaults when parts
    of it are missing.                                                       */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_proto.h"

static void test_status_names(void **state)
{
    (void) state;
    for (int i = 0; i < CF_ACK_STATUS_COUNT; i++) {
        cf_ack_status_t status;
        const char *name = cf_ack_status_name((cf_ack_status_t) i);
        assert_int_equal(cf_ack_status_parse(name, strlen(name), &status), 0);
        assert_int_equal(status, i);
    }
    cf_ack_status_t status;
    assert_int_equal(cf_ack_status_parse("accept", 6, &status), -1);
    assert_int_equal(cf_ack_status_parse("acceptedx", 9, &status), -1);
    assert_null(cf_ack_status_name(CF_ACK_STATUS_COUNT));
}

static void test_acks_roundtrip(void **state)
{
    (void) state;
    const cf_ack_t in[] = {
        { CF_ACK_ACCEPTED, "e-1", 3, NULL, 0 },
        { CF_ACK_DUPLICATE, "e-2", 3, "ignored", 7 },   /* reason only for rejected, busy */
        { CF_ACK_REJECTED, NULL, 0, "persons[1].sex: 'z' is not one of f, m, x, u", 44 },
        { CF_ACK_BUSY, "e-4", 3, "queue full", 10 },
    };
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    cf_proto_pack_acks(&sbuf, in, 4);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t out[4];
    assert_int_equal(cf_proto_unpack_acks(&result, sbuf.data, sbuf.size, out, 4), 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(out[i].status, in[i].status);
        assert_int_equal(out[i].event_id_len, in[i].event_id_len);
        if (in[i].event_id)
            assert_memory_equal(out[i].event_id, in[i].event_id, in[i].event_id_len);
        else
            assert_null(out[i].event_id);
    }
    assert_null(out[0].reason);
    assert_null(out[1].reason);
    assert_int_equal(out[2].reason_len, 44);
    assert_memory_equal(out[2].reason, in[2].reason, 44);
    assert_memory_equal(out[3].reason, "queue full", 10);
    assert_int_equal(cf_proto_unpack_acks(&result, sbuf.data, sbuf.size, out, 3), -1);
    msgpack_sbuffer_clear(&sbuf);
    cf_proto_pack_acks(&sbuf, in, 0);
    assert_int_equal(cf_proto_unpack_acks(&result, sbuf.data, sbuf.size, out, 4), 0);
    msgpack_unpacked_destroy(&result);
    msgpack_sbuffer_destroy(&sbuf);
}

/* Packs one ack list of a single map with the given entries. */
static void pack_one(msgpack_sbuffer *sbuf, const char *status, int id_type)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
    msgpack_sbuffer_clear(sbuf);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, status ? 2 : 1);
    if (status) {
        msgpack_pack_str(&pk, 6);
        msgpack_pack_str_body(&pk, "status", 6);
        msgpack_pack_str(&pk, strlen(status));
        msgpack_pack_str_body(&pk, status, strlen(status));
    }
    msgpack_pack_str(&pk, 8);
    msgpack_pack_str_body(&pk, "event_id", 8);
    if (id_type == 0)
        msgpack_pack_nil(&pk);
    else
        msgpack_pack_int(&pk, 7);
}

static void test_malformed_acks(void **state)
{
    (void) state;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t acks[4];
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    pack_one(&sbuf, "accepted", 0);
    assert_int_equal(cf_proto_unpack_acks(&result, sbuf.data, sbuf.size, acks, 4), 1);
    assert_null(acks[0].event_id);
    pack_one(&sbuf, "maybe", 0);                    /* unknown status */
    assert_int_equal(cf_proto_unpack_acks(&result, sbuf.data, sbuf.size, acks, 4), -1);
    pack_one(&sbuf, NULL, 0);                       /* no status */
    assert_int_equal(cf_proto_unpack_acks(&result, sbuf.data, sbuf.size, acks, 4), -1);
    pack_one(&sbuf, "accepted", 1);                 /* event_id not a string */
    assert_int_equal(cf_proto_unpack_acks(&result, sbuf.data, sbuf.size, acks, 4), -1);
    static const struct { const char *bytes; size_t size; } bodies[] = {
        { "\x81\xa1x\x01", 4 },                     /* a map, not an array */
        { "\x91\x01", 2 },                          /* an item that is not a map */
        { "\x91\x80", 2 },                          /* a map without status */
        { "\x90\xc0", 2 },                          /* bytes after the array */
        { "\x92\x80", 2 },                          /* truncated */
        { "\xdd\xff\xff\xff\xff", 5 },              /* 4G acks promised in 5 bytes */
        { "", 0 },
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++)
        assert_int_equal(cf_proto_unpack_acks(&result, bodies[i].bytes, bodies[i].size, acks, 4),
                         -1);
    assert_int_equal(cf_proto_unpack_acks(&result, NULL, 0, acks, 4), -1);
    msgpack_sbuffer_destroy(&sbuf);
    msgpack_unpacked_destroy(&result);
}

static void test_ready(void **state)
{
    (void) state;
    cf_ready_t in = { 3, 4242, "worker-host" }, out;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    cf_proto_pack_ready(&sbuf, &in);
    assert_int_equal(cf_proto_parse_ready(sbuf.data, sbuf.size, &out), 0);
    assert_int_equal(out.credit, 3);
    assert_int_equal(out.pid, 4242);
    assert_string_equal(out.host, "worker-host");
    assert_int_equal(cf_proto_parse_ready("\x80", 1, &out), 0);     /* empty map: defaults */
    assert_int_equal(out.credit, 1);
    assert_string_equal(out.host, "?");
    assert_int_equal(cf_proto_parse_ready("\x90", 1, &out), -1);    /* not a map */
    assert_int_equal(cf_proto_parse_ready(NULL, 0, &out), -1);
    msgpack_sbuffer_destroy(&sbuf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_acks_roundtrip),
        cmocka_unit_test(test_malformed_acks),
        cmocka_unit_test(test_ready),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
