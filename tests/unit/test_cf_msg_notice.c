/*  Tests of cf_msg (notifications): a body stamped by the broker's builder
    and sent is read back by the subscriber's parser with its stamp and its
    own entries; bodies that are no map, and notifications without a body
    or with keys of the wrong type; a body with a key of the stamp is
    refused, and what a worker may publish in its DONE (issue 15, item 4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_msg.h"
#include "caseflow/cf_unpack.h"

static void test_stamp_roundtrip(void **unused)
{
    (void) unused;
    void *ctx = zmq_ctx_new();
    void *in = zmq_socket(ctx, ZMQ_PAIR), *out = zmq_socket(ctx, ZMQ_PAIR);
    zmq_bind(in, "inproc://notice-test");
    zmq_connect(out, "inproc://notice-test");
    msgpack_sbuffer stamped;
    msgpack_sbuffer_init(&stamped);
    const char body[] = "\x82\xa5stage\xa8" "departed\xa7persons\x02";
    cf_msg_notice_t stamp = { .topic = "case.P.departed", .topic_len = 15, .publisher = "pub1",
                              .publisher_len = 4, .has_seq = true, .seq = 300, .id = "s3-1-0",
                              .id_len = 6, .time = 1700000000123 };
    assert_int_equal(cf_msg_pack_notice(&stamped, &stamp, body, sizeof body - 1), 0);
    assert_int_equal(cf_msg_send_notice(out, 0, &stamp, stamped.data, stamped.size), 0);
    cf_multipart_t *parts = cf_multipart_new(4);
    assert_int_equal(cf_multipart_wait(parts, in), 0);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_msg_notice_t n;
    assert_int_equal(cf_msg_parse_notice(parts, &result, &n), 0);
    assert_int_equal(n.topic_len, 15);
    assert_memory_equal(n.topic, "case.P.departed", 15);
    assert_int_equal(n.publisher_len, 4);
    assert_true(n.has_seq);
    assert_int_equal(n.seq, 300);
    assert_int_equal(n.id_len, 6);
    assert_memory_equal(n.id, "s3-1-0", 6);
    assert_int_equal(n.time, 1700000000123);
    assert_int_equal(n.body->via.map.size, 5 + 2);      /* the stamp, then its own */
    const msgpack_object *persons = cf_unpack_get(n.body, "persons");
    assert_true(persons && persons->via.u64 == 2);
    assert_true(cf_unpack_str_equals(cf_unpack_get(n.body, "topic"), "case.P.departed"));

    stamp.id = NULL;                                    /* a stats notification: no id */
    assert_int_equal(cf_msg_pack_notice(&stamped, &stamp, "\x80", 1), 0);
    assert_int_equal(cf_unpack(&result, stamped.data, stamped.size), 0);
    assert_int_equal(result.data.via.map.size, 4);
    assert_null(cf_unpack_get(&result.data, "id"));
    assert_int_equal(cf_msg_pack_notice(&stamped, &stamp, "\x90", 1), -1);  /* not a map */
    assert_int_equal(cf_msg_pack_notice(&stamped, &stamp, "\x81\xa1" "a", 3), -1);  /* cut */
    stamp.topic_len = 0;
    assert_int_equal(cf_msg_pack_notice(&stamped, &stamp, "\x80", 1), -1);  /* no topic */
    msgpack_unpacked_destroy(&result);
    msgpack_sbuffer_destroy(&stamped);
    cf_multipart_destroy(&parts);
    zmq_close(in);
    zmq_close(out);
    zmq_ctx_term(ctx);
}

/* A body cannot bring its own seq, publisher, id, topic or time: before,
   they were copied after the broker's and a subscriber read the forged
   ones. However the key is spelt (fixstr, str 8, str 16). */
static void test_stamp_keys_refused(void **unused)
{
    (void) unused;
    msgpack_sbuffer stamped;
    msgpack_sbuffer_init(&stamped);
    cf_msg_notice_t stamp = { .topic = "reject", .topic_len = 6, .publisher = "pub1",
                              .publisher_len = 4, .has_seq = true, .seq = 1 };
    static const struct { const char *body; size_t size; } forged[] = {
        { "\x82\xa1x\x01\xa3seq\xce\x00\x0f\x42\x3f", 13 },
        { "\x81\xa9publisher\xa4" "fake", 15 },
        { "\x81\xa2id\xa8s9-99999", 12 },
        { "\x81\xa5topic\xa1x", 8 },
        { "\x81\xa4time\x00", 7 },
        { "\x81\xd9\x03seq\x01", 7 },
        { "\x81\xda\x00\x03seq\x01", 8 },
        { "\xde\x00\x02\xa1x\x81\xa3seq\x01\xa3seq\x02", 15 },  /* one nested, one not */
    };
    for (size_t i = 0; i < sizeof forged / sizeof *forged; i++)
        assert_int_equal(cf_msg_pack_notice(&stamped, &stamp, forged[i].body, forged[i].size), -1);
    /* the same words as values, or nested, are the body's own */
    assert_int_equal(cf_msg_pack_notice(&stamped, &stamp, "\x82\xa1x\xa3seq\xa1y\x81\xa2id\x01",
                                        14), 0);
    msgpack_sbuffer_destroy(&stamped);
}

static void test_worker_notice(void **unused)
{
    (void) unused;
    char reason[96];
    const char ok[] = "\x82\xa8" "event_id\xc0\xa6reason\xa1x";
    assert_null(cf_msg_check_worker_notice("reject", 6, ok, sizeof ok - 1, reason, sizeof reason));
    assert_string_equal(cf_msg_check_worker_notice("case.P.arrived", 14, ok, sizeof ok - 1, reason,
                                                   sizeof reason),
                        "topic: a worker publishes reject only");
    assert_non_null(cf_msg_check_worker_notice("rejects", 7, ok, sizeof ok - 1, reason,
                                               sizeof reason));
    assert_non_null(cf_msg_check_worker_notice("", 0, ok, sizeof ok - 1, reason, sizeof reason));
    assert_string_equal(cf_msg_check_worker_notice("reject", 6, "\x90", 1, reason, sizeof reason),
                        "body: not one msgpack map");
    assert_string_equal(cf_msg_check_worker_notice("reject", 6, "\x81\xa3seq\x01", 6, reason,
                                                   sizeof reason),
                        "body: the key seq is the broker's");
    /* two of the stamp's keys: the reason names the body's first (the one
       walk only says that there is one) */
    assert_string_equal(cf_msg_check_worker_notice("reject", 6, "\x82\xa4time\x00\xa3seq\x01", 12,
                                                   reason, sizeof reason),
                        "body: the key time is the broker's");
    assert_string_equal(cf_msg_check_worker_notice("reject", 6, "\x82\xa1x\x01\xd9\x02id\x01", 9,
                                                   reason, sizeof reason),
                        "body: the key id is the broker's");
    char big[CF_MSG_MAX_WORKER_NOTICE_BYTES + 1];
    memset(big, 0, sizeof big);         /* {nil: 1019 bytes of bin 16}: 1024 bytes */
    memcpy(big, "\x81\xc0\xc5\x03\xfb", 5);
    assert_string_equal(cf_msg_check_worker_notice("reject", 6, big, sizeof big, reason,
                                                   sizeof reason),
                        "body: 1025 bytes exceeds the limit of 1024");
    assert_null(cf_msg_check_worker_notice("reject", 6, big, sizeof big - 1, reason,
                                           sizeof reason));
}

static void test_notice_shapes(void **unused)
{
    (void) unused;
    cf_multipart_t *parts = cf_multipart_new(4);
    msgpack_unpacked body;
    msgpack_unpacked_init(&body);
    cf_msg_notice_t n;
    /* {"publisher": "p", "seq": 3, "id": "s0-1"} */
    const char map[] = "\x83\xa9publisher\xa1p\xa3seq\x03\xa2id\xa4s0-1";
    cf_multipart_clear(parts);
    cf_multipart_add(parts, "stats", 5);
    cf_multipart_add(parts, map, sizeof map - 1);
    assert_int_equal(cf_msg_parse_notice(parts, &body, &n), 0);
    assert_int_equal(n.topic_len, 5);
    assert_int_equal(n.publisher_len, 1);
    assert_true(n.has_seq);
    assert_int_equal(n.seq, 3);
    assert_int_equal(n.id_len, 4);
    assert_int_equal(n.time, 0);
    /* {"publisher": 1, "seq": -3, "id": nil}: none of them read */
    const char odd[] = "\x83\xa9publisher\x01\xa3seq\xfd\xa2id\xc0";
    cf_multipart_clear(parts);
    cf_multipart_add(parts, "stats", 5);
    cf_multipart_add(parts, odd, sizeof odd - 1);
    assert_int_equal(cf_msg_parse_notice(parts, &body, &n), 0);
    assert_null(n.publisher);
    assert_false(n.has_seq);
    assert_null(n.id);
    cf_multipart_clear(parts);
    cf_multipart_add(parts, "stats", 5);
    cf_multipart_add(parts, "\x91\x80", 2);        /* an array, not a map */
    assert_int_equal(cf_msg_parse_notice(parts, &body, &n), -1);
    assert_int_equal(n.topic_len, 5);
    cf_multipart_clear(parts);
    cf_multipart_add(parts, "t", 1);               /* no body */
    assert_int_equal(cf_msg_parse_notice(parts, &body, &n), -1);
    msgpack_unpacked_destroy(&body);
    cf_multipart_destroy(&parts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp_roundtrip),
        cmocka_unit_test(test_notice_shapes),
        cmocka_unit_test(test_stamp_keys_refused),
        cmocka_unit_test(test_worker_notice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
