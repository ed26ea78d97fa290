/*  Tests of cf_frames: each socket's frame parser at and past its limits
    (events per PUSH, bytes per PUSH, request id, JOB size, truncated
    messages), on messages built with cf_parts_add.                        */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "caseflow/cf_frames.h"
#include "caseflow/cf_proto.h"

/* Fills parts with the frames given as strings, then `extra` copies of frame. */
static void fill(cf_parts_t *parts, const char *const *frames, size_t n, const void *frame,
                 size_t frame_len, size_t extra)
{
    cf_parts_clear(parts);
    for (size_t i = 0; i < n; i++)
        cf_parts_add(parts, frames[i], strlen(frames[i]));
    for (size_t i = 0; i < extra; i++)
        cf_parts_add(parts, frame, frame_len);
}

static void test_push_limits(void **unused)
{
    (void) unused;
    cf_parts_t *parts = cf_parts_new(4 + CF_PROTO_MAX_EVENTS + 1);
    const char *head[] = { "who", "CF01", "PUSH", "1.1" };
    char reason[128];
    fill(parts, head, 4, "\x80", 1, CF_PROTO_MAX_EVENTS);
    assert_null(cf_frames_check_push(parts, reason, sizeof reason));
    fill(parts, head, 4, "\x80", 1, 0);
    assert_string_equal(cf_frames_check_push(parts, reason, sizeof reason),
                        "events: a PUSH carries 1 to 1000 events, got 0");
    fill(parts, head, 4, "\x80", 1, CF_PROTO_MAX_EVENTS + 1);
    assert_string_equal(cf_frames_check_push(parts, reason, sizeof reason),
                        "events: a PUSH carries 1 to 1000 events, got 1001");
    fill(parts, head, 4, "\x80", 1, CF_PROTO_MAX_EVENTS + 5);     /* past the buffer */
    assert_true(cf_parts_truncated(parts));
    assert_non_null(strstr(cf_frames_check_push(parts, reason, sizeof reason), "more than"));
    size_t big = CF_PROTO_MAX_PUSH_BYTES / 16 + 1;     /* 16 of them: just over */
    char *event = calloc(1, big);
    fill(parts, head, 4, event, big, 16);
    assert_non_null(strstr(cf_frames_check_push(parts, reason, sizeof reason),
                           "push_bytes: the events of a PUSH are at most 16777216 bytes"));
    fill(parts, head, 4, event, big - 1, 16);
    assert_null(cf_frames_check_push(parts, reason, sizeof reason));
    free(event);
    const char *long_id[] = { "who", "CF01", "PUSH",
        "0123456789012345678901234567890123456789012345678901234567890123x" };
    fill(parts, long_id, 4, "\x80", 1, 1);
    assert_string_equal(cf_frames_check_push(parts, reason, sizeof reason),
                        "request_id: frame 2 must be 1 to 64 bytes");
    const void *rid;
    size_t rid_len;
    cf_frames_request_id(parts, &rid, &rid_len);
    assert_int_equal(rid_len, 0);       /* too long to echo */
    const char *bad[] = { "who", "CF02", "PUSH", "1" };
    fill(parts, bad, 4, "\x80", 1, 1);
    assert_string_equal(cf_frames_check_push(parts, reason, sizeof reason),
                        "signature: frame 0 must be CF01");
    const char *snap[] = { "who", "CF01", "SNAPSHOT", "s1" };
    fill(parts, snap, 4, NULL, 0, 0);
    assert_true(cf_frames_is_snapshot(parts));
    cf_frames_request_id(parts, &rid, &rid_len);
    assert_int_equal(rid_len, 2);
    cf_parts_destroy(&parts);
}

static void test_job(void **unused)
{
    (void) unused;
    cf_parts_t *parts = cf_parts_new(3 + CF_PROTO_MAX_EVENTS + 1);
    uint64_t id = 0;
    bool redo = false;
    size_t events = 0;
    cf_parts_clear(parts);
    cf_parts_add(parts, "CF01", 4);
    cf_parts_add(parts, "REDO", 4);
    cf_parts_add(parts, "\x2a\0\0\0\0\0\0\0", 8);
    cf_parts_add(parts, "\x80", 1);
    assert_int_equal(cf_frames_parse_job(parts, &id, &redo, &events), 0);
    assert_int_equal(id, 42);
    assert_true(redo);
    assert_int_equal(events, 1);
    for (int i = 0; i < CF_PROTO_MAX_EVENTS; i++)   /* 1001 events: fits the buffer, not a JOB */
        cf_parts_add(parts, "\x80", 1);
    assert_int_equal(cf_frames_parse_job(parts, &id, &redo, &events), -1);
    cf_parts_clear(parts);
    cf_parts_add(parts, "CF01", 4);
    cf_parts_add(parts, "JOB", 3);
    cf_parts_add(parts, "1234", 4);                 /* job id not 8 bytes */
    cf_parts_add(parts, "\x80", 1);
    assert_int_equal(cf_frames_parse_job(parts, &id, &redo, &events), -1);
    cf_parts_destroy(&parts);
}

static void test_worker_and_reply(void **unused)
{
    (void) unused;
    cf_parts_t *parts = cf_parts_new(8);
    const char *done[] = { "w", "CF01", "DONE", "12345678", "\x90" };
    fill(parts, done, 5, NULL, 0, 0);
    uint64_t id;
    assert_int_equal(cf_frames_worker_command(parts), CF_FRAMES_DONE);
    assert_int_equal(cf_frames_parse_done(parts, &id), 0);
    const char *short_done[] = { "w", "CF01", "DONE", "1234", "\x90" };
    fill(parts, short_done, 5, NULL, 0, 0);
    assert_int_equal(cf_frames_parse_done(parts, &id), -1);
    const char *hb[] = { "w", "CF01", "HEARTBEAT" };
    fill(parts, hb, 3, NULL, 0, 0);
    assert_int_equal(cf_frames_worker_command(parts), CF_FRAMES_HEARTBEAT);
    const char *unknown[] = { "w", "CF01", "NOPE" };
    fill(parts, unknown, 3, NULL, 0, 0);
    assert_int_equal(cf_frames_worker_command(parts), CF_FRAMES_NONE);

    cf_frames_reply_t reply;
    const char *ack[] = { "CF01", "ACK", "1.1", "\x90" };
    fill(parts, ack, 4, NULL, 0, 0);
    assert_int_equal(cf_frames_parse_reply(parts, &reply), 0);
    assert_true(reply.is_ack);
    assert_int_equal(reply.request_id_len, 3);
    fill(parts, ack, 3, NULL, 0, 0);            /* an ACK without its body */
    assert_int_equal(cf_frames_parse_reply(parts, &reply), -1);
    const char *error[] = { "CF01", "ERROR", "" };
    fill(parts, error, 3, NULL, 0, 0);
    assert_int_equal(cf_frames_parse_reply(parts, &reply), 0);
    assert_false(reply.is_ack);
    assert_int_equal(reply.body_len, 0);
    cf_parts_destroy(&parts);
}

static void test_notice(void **unused)
{
    (void) unused;
    cf_parts_t *parts = cf_parts_new(4);
    msgpack_unpacked body;
    msgpack_unpacked_init(&body);
    cf_frames_notice_t n;
    /* {"publisher": "p", "seq": 3, "id": "s0-1"} */
    const char map[] = "\x83\xa9publisher\xa1p\xa3seq\x03\xa2id\xa4s0-1";
    cf_parts_clear(parts);
    cf_parts_add(parts, "stats", 5);
    cf_parts_add(parts, map, sizeof map - 1);
    assert_int_equal(cf_frames_parse_notice(parts, &body, &n), 0);
    assert_int_equal(n.topic_len, 5);
    assert_int_equal(n.publisher_len, 1);
    assert_true(n.has_seq);
    assert_int_equal(n.seq, 3);
    assert_int_equal(n.id_len, 4);
    cf_parts_clear(parts);
    cf_parts_add(parts, "stats", 5);
    cf_parts_add(parts, "\x91\x80", 2);        /* an array, not a map */
    assert_int_equal(cf_frames_parse_notice(parts, &body, &n), -1);
    assert_int_equal(n.topic_len, 5);
    cf_parts_clear(parts);
    cf_parts_add(parts, "t", 1);               /* no body */
    assert_int_equal(cf_frames_parse_notice(parts, &body, &n), -1);
    msgpack_unpacked_destroy(&body);
    cf_parts_destroy(&parts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_limits),
        cmocka_unit_test(test_job),
        cmocka_unit_test(test_worker_and_reply),
        cmocka_unit_test(test_notice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
