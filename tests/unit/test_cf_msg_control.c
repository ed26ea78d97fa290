/*  Tests of cf_msg (control): every request read back by the broker's
    parser and every reply by the operator's, over a DEALER and a ROUTER;
    requests of the wrong shape and the reasons they get; the bodies of OK
    (status with its workers, workers, drain, pause) and of ERROR packed and
    read back.                                                               */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_msg.h"
#include "caseflow/cf_unpack.h"
#include "cf_test_wire.h"

static void test_requests_roundtrip(void **unused)
{
    (void) unused;
    cf_test_wire_t wire;
    cf_test_wire_open(&wire, 5);
    const cf_msg_command_t commands[] = {
        CF_MSG_STATUS, CF_MSG_WORKERS, CF_MSG_DRAIN, CF_MSG_PAUSE, CF_MSG_RESUME };
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const char *worker = commands[i] == CF_MSG_DRAIN ? "w12" : NULL;
        assert_int_equal(cf_msg_send_control(wire.dealer, 0, commands[i], worker), 0);
        cf_msg_control_t request;
        char reason[160];
        assert_null(cf_msg_parse_control(cf_test_wire_recv(&wire, wire.router), &request, reason,
                                         sizeof reason));
        assert_int_equal(request.command, commands[i]);
        assert_string_equal(request.worker, worker ? worker : "");
    }
    cf_test_wire_close(&wire);
}

/* What a request of the given frames (after the routing id) is told. */
static const char *refused(cf_multipart_t *parts, const char *const *frames, size_t n,
                           char *reason, size_t size)
{
    cf_multipart_clear(parts);
    cf_multipart_add(parts, "op", 2);
    for (size_t i = 0; i < n; i++)
        cf_multipart_add(parts, frames[i], strlen(frames[i]));
    cf_msg_control_t request;
    return cf_msg_parse_control(parts, &request, reason, size);
}

static void test_bad_requests(void **unused)
{
    (void) unused;
    cf_multipart_t *parts = cf_multipart_new(5);
    char reason[160];
    const char *sig[] = { "CF02", "STATUS" };
    assert_string_equal(refused(parts, sig, 2, reason, sizeof reason),
                        "signature: frame 0 must be CF01, frame 1 the command");
    const char *drain[] = { "CF01", "DRAIN" };
    assert_string_equal(refused(parts, drain, 2, reason, sizeof reason),
                        "DRAIN needs one worker id (such as w1; WORKERS lists them)");
    const char *long_id[] = { "CF01", "DRAIN", "w123456789012345" };   /* 16 bytes */
    assert_non_null(strstr(refused(parts, long_id, 3, reason, sizeof reason), "DRAIN needs"));
    const char *empty_id[] = { "CF01", "DRAIN", "" };
    assert_non_null(strstr(refused(parts, empty_id, 3, reason, sizeof reason), "DRAIN needs"));
    const char *extra[] = { "CF01", "STATUS", "now" };
    assert_string_equal(refused(parts, extra, 3, reason, sizeof reason),
                        "unknown command 'STATUS' (or extra frames): expected STATUS, WORKERS, "
                        "DRAIN <id>, PAUSE or RESUME");
    const char *odd[] = { "CF01", "ST\x01TUS\xff" };
    assert_string_equal(refused(parts, odd, 2, reason, sizeof reason),
                        "unknown command 'ST?TUS?': expected STATUS, WORKERS, DRAIN <id>, "
                        "PAUSE or RESUME");
    const char *ok[] = { "CF01", "OK" };        /* a reply's word is no request */
    assert_non_null(strstr(refused(parts, ok, 2, reason, sizeof reason), "unknown command"));
    cf_multipart_destroy(&parts);
}

static const msgpack_object *decode(msgpack_unpacked *result, const cf_msg_control_reply_t *reply)
{
    assert_int_equal(cf_unpack(result, reply->body, reply->body_len), 0);
    return &result->data;
}

static void test_replies_roundtrip(void **unused)
{
    (void) unused;
    cf_test_wire_t wire;
    cf_test_wire_open(&wire, 4);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_msg_control_reply_t reply;

    cf_msg_status_t status = { 61000, true, 5, 2, 1, 3, 100, 90, 7, 2.5, 2.0, 5.0, 2 }, s;
    cf_msg_worker_t workers[2] = {
        { "w1", "host-a", 11, 2, 1, 3, 4, 40, 250, false },
        { "w2", "host-b", 12, 1, 0, 0, 0, 0, 10, true } }, w;
    cf_msg_pack_status(&pk, &status);
    for (size_t i = 0; i < 2; i++)
        cf_msg_pack_worker(&pk, &workers[i]);
    assert_int_equal(cf_msg_send_control_ok(wire.router, 0, wire.id, wire.id_len, sbuf.data,
                                            sbuf.size), 0);
    assert_int_equal(cf_msg_parse_control_reply(cf_test_wire_recv(&wire, wire.dealer), &reply),
                     0);
    assert_true(reply.ok);
    const msgpack_object *array = cf_msg_read_status(decode(&result, &reply), &s);
    assert_int_equal(s.uptime_ms, 61000);
    assert_true(s.paused);
    assert_int_equal(s.inflight_events, 3);
    assert_int_equal(s.events_busy, 7);
    assert_true(s.in_per_s == 2.5 && s.rate_seconds == 5.0);
    assert_int_equal(s.workers, 2);
    assert_non_null(array);
    cf_msg_read_worker(&array->via.array.ptr[1], &w);
    assert_string_equal(w.id, "w2");
    assert_string_equal(w.host, "host-b");
    assert_int_equal(w.pid, 12);
    assert_int_equal(w.heartbeat_age_ms, 10);
    assert_true(w.draining);

    msgpack_sbuffer_clear(&sbuf);
    cf_msg_pack_workers(&pk, 1);
    cf_msg_pack_worker(&pk, &workers[0]);
    cf_msg_send_control_ok(wire.router, 0, wire.id, wire.id_len, sbuf.data, sbuf.size);
    assert_int_equal(cf_msg_parse_control_reply(cf_test_wire_recv(&wire, wire.dealer), &reply),
                     0);
    const msgpack_object *list = decode(&result, &reply);
    assert_int_equal(list->type, MSGPACK_OBJECT_ARRAY);
    cf_msg_read_worker(&list->via.array.ptr[0], &w);
    assert_int_equal(w.events_done, 40);
    assert_false(w.draining);

    msgpack_sbuffer_clear(&sbuf);
    cf_msg_pack_drained(&pk, "w2", 3);
    cf_msg_send_control_ok(wire.router, 0, wire.id, wire.id_len, sbuf.data, sbuf.size);
    cf_msg_parse_control_reply(cf_test_wire_recv(&wire, wire.dealer), &reply);
    cf_msg_read_worker(decode(&result, &reply), &w);
    assert_string_equal(w.id, "w2");
    assert_int_equal(w.jobs_held, 3);
    assert_true(w.draining);

    msgpack_sbuffer_clear(&sbuf);
    cf_msg_pack_paused(&pk, true);
    cf_msg_send_control_ok(wire.router, 0, wire.id, wire.id_len, sbuf.data, sbuf.size);
    cf_msg_parse_control_reply(cf_test_wire_recv(&wire, wire.dealer), &reply);
    assert_true(cf_msg_read_paused(decode(&result, &reply)));

    assert_int_equal(cf_msg_send_control_error(wire.router, 0, wire.id, wire.id_len,
                                               "no connected worker has id 'w9'"), 0);
    assert_int_equal(cf_msg_parse_control_reply(cf_test_wire_recv(&wire, wire.dealer), &reply),
                     0);
    assert_false(reply.ok);
    char reason[64];
    cf_msg_read_control_error(decode(&result, &reply), reason, sizeof reason);
    assert_string_equal(reason, "no connected worker has id 'w9'");
    cf_msg_read_status(&result.data, &s);       /* what is missing reads as 0 */
    assert_int_equal(s.uptime_ms, 0);
    assert_int_equal(s.workers, 0);

    assert_int_equal(cf_msg_send_ack(wire.router, 0, wire.id, wire.id_len, "1", 1, "\x90", 1), 0);
    assert_int_equal(cf_msg_parse_control_reply(cf_test_wire_recv(&wire, wire.dealer), &reply),
                     -1);           /* not a control reply */
    msgpack_unpacked_destroy(&result);
    msgpack_sbuffer_destroy(&sbuf);
    cf_test_wire_close(&wire);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_roundtrip),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_replies_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
