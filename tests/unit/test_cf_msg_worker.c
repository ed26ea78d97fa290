/*  Tests of cf_msg (workers): every builder's message read back by its
    parser over a DEALER and a ROUTER (READY, DONE with its notifications,
    HEARTBEAT both ways, BYE, JOB, REDO, EXIT); JOB at and past its limits
    (events, job id size); DONE and commands of the wrong shape; the READY
    body keeping its defaults when parts of it are missing.                 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_msg.h"
#include "cf_test_wire.h"

/* Fills parts with the frames given as strings. */
static void fill(cf_multipart_t *parts, const char *const *frames, size_t n)
{
    cf_multipart_clear(parts);
    for (size_t i = 0; i < n; i++)
        cf_multipart_add(parts, frames[i], strlen(frames[i]));
}

/* Two notifications: ("case.P.departed", {}) and ("reject", [..]). */
static void two_notices(const void *arg, size_t index, const char **topic, size_t *topic_len,
                        const char **body, size_t *body_len)
{
    assert_string_equal(arg, "notes");
    *topic = index == 0 ? "case.P.departed" : "reject";
    *topic_len = strlen(*topic);
    *body = index == 0 ? "\x80" : "\x91\xc0";
    *body_len = index == 0 ? 1 : 2;
}

static void test_worker_builders_roundtrip(void **unused)
{
    (void) unused;
    cf_test_wire_t wire;
    cf_test_wire_open(&wire, 16);
    cf_msg_ready_t ready = { 3, 4242, "worker-host" }, out;
    assert_int_equal(cf_msg_send_ready(wire.dealer, 0, &ready), 0);
    cf_multipart_t *parts = cf_test_wire_recv(&wire, wire.router);
    assert_true(cf_multipart_equals(parts, 0, "dealer"));
    assert_int_equal(cf_msg_worker_command(parts), CF_MSG_READY);
    assert_int_equal(cf_msg_parse_ready(parts, &out), 0);
    assert_int_equal(out.credit, 3);
    assert_int_equal(out.pid, 4242);
    assert_string_equal(out.host, "worker-host");

    assert_int_equal(cf_msg_send_done(wire.dealer, 0, 77, "\x90", 1, 2, two_notices, "notes"), 0);
    parts = cf_test_wire_recv(&wire, wire.router);
    uint64_t job_id = 0;
    assert_int_equal(cf_msg_worker_command(parts), CF_MSG_DONE);
    assert_int_equal(cf_msg_parse_done(parts, &job_id), 0);
    assert_int_equal(job_id, 77);
    assert_int_equal(cf_multipart_size(parts), 5 + 4);
    assert_true(cf_multipart_equals(parts, 4, "\x90"));
    assert_true(cf_multipart_equals(parts, 5, "case.P.departed"));
    assert_true(cf_multipart_equals(parts, 7, "reject"));
    assert_int_equal(cf_msg_send_done(wire.dealer, 0, 78, "\x90", 1, 0, NULL, NULL), 0);
    parts = cf_test_wire_recv(&wire, wire.router);
    assert_int_equal(cf_msg_parse_done(parts, &job_id), 0);
    assert_int_equal(cf_multipart_size(parts), 5);      /* no notifications */

    assert_int_equal(cf_msg_send_heartbeat(wire.dealer, 0, NULL, 0), 0);
    assert_int_equal(cf_msg_worker_command(cf_test_wire_recv(&wire, wire.router)),
                     CF_MSG_HEARTBEAT);
    assert_int_equal(cf_msg_send_bye(wire.dealer, 0), 0);
    parts = cf_test_wire_recv(&wire, wire.router);
    assert_int_equal(cf_msg_worker_command(parts), CF_MSG_BYE);
    assert_true(cf_msg_signed(parts, 1));
    assert_int_equal(cf_msg_parse_ready(parts, &out), -1);     /* not a READY: defaults */
    assert_int_equal(out.credit, 1);

    zmq_msg_t events[2];
    zmq_msg_init_size(&events[0], 1);
    memcpy(zmq_msg_data(&events[0]), "\x80", 1);
    zmq_msg_init_size(&events[1], 2);
    memcpy(zmq_msg_data(&events[1]), "\x81\xc0", 2);
    static cf_msg_job_t job;
    const cf_msg_fence_t fences[] = { { 34, 7 }, { 1023, UINT64_C(1) << 40 } };
    const uint64_t same[] = { 9, 9 }, two[] = { 9, UINT64_MAX };
    assert_int_equal(cf_msg_send_job(wire.router, 0, wire.id, wire.id_len, false, 42, same,
                                     fences, 2, events, 2), 0);
    parts = cf_test_wire_recv(&wire, wire.dealer);
    assert_int_equal(cf_multipart_len(parts, 3), 8);     /* one request: its id once */
    assert_int_equal(cf_msg_parse_job(parts, &job), 0);
    assert_int_equal(job.job_id, 42);
    assert_int_equal(job.request_id[0], 9);
    assert_int_equal(job.request_id[1], 9);
    assert_false(job.redo);
    assert_int_equal(job.events, 2);
    assert_int_equal(job.fences, 2);
    assert_int_equal(job.fence[0].shard, 34);
    assert_int_equal(job.fence[0].epoch, 7);
    assert_int_equal(job.fence[1].shard, 1023);
    assert_true(job.fence[1].epoch == UINT64_C(1) << 40);
    assert_true(cf_multipart_equals(parts, CF_MSG_JOB_FIRST_EVENT + 1, "\x81\xc0"));
    assert_false(cf_msg_is_exit(parts));
    assert_int_equal(cf_msg_send_job(wire.router, 0, wire.id, wire.id_len, true, 43, same, NULL,
                                     0, events, 1), 0);
    parts = cf_test_wire_recv(&wire, wire.dealer);
    assert_int_equal(cf_msg_parse_job(parts, &job), 0);
    assert_true(job.redo);
    assert_int_equal(job.events, 1);
    assert_int_equal(job.fences, 0);
    /* a bundle of two requests' events: an id per event */
    assert_int_equal(cf_msg_send_job(wire.router, 0, wire.id, wire.id_len, false, 44, two, NULL,
                                     0, events, 2), 0);
    parts = cf_test_wire_recv(&wire, wire.dealer);
    assert_int_equal(cf_multipart_len(parts, 3), 16);
    assert_int_equal(cf_msg_parse_job(parts, &job), 0);
    assert_int_equal(job.request_id[0], 9);
    assert_true(job.request_id[1] == UINT64_MAX);
    assert_int_equal(zmq_msg_size(&events[1]), 2);     /* the caller's messages are kept */
    zmq_msg_close(&events[0]);
    zmq_msg_close(&events[1]);

    assert_int_equal(cf_msg_send_heartbeat(wire.router, 0, wire.id, wire.id_len), 0);
    parts = cf_test_wire_recv(&wire, wire.dealer);
    assert_false(cf_msg_is_exit(parts));
    assert_int_equal(cf_msg_parse_job(parts, &job), -1);
    assert_int_equal(cf_msg_send_exit(wire.router, 0, wire.id, wire.id_len), 0);
    assert_true(cf_msg_is_exit(cf_test_wire_recv(&wire, wire.dealer)));
    cf_test_wire_close(&wire);
}

/* Empties parts and puts in the head of a JOB (job id 42) with request ids
   ids of len bytes and the fences map fences, before its event frames. */
static void job_head(cf_multipart_t *parts, const char *command, const char *ids, size_t len,
                     const char *fences)
{
    cf_multipart_clear(parts);
    cf_multipart_add(parts, "CF01", 4);
    cf_multipart_add(parts, command, strlen(command));
    cf_multipart_add(parts, "\x2a\0\0\0\0\0\0\0", 8);
    cf_multipart_add(parts, ids, len);
    cf_multipart_add(parts, fences, strlen(fences));
}

static void test_job(void **unused)
{
    (void) unused;
    cf_multipart_t *parts = cf_multipart_new(CF_MSG_JOB_FIRST_EVENT + CF_MSG_MAX_JOB_EVENTS + 1);
    static cf_msg_job_t job;
    static const char ids[] = "\x07\0\0\0\0\0\0\0\x08\0\0\0\0\0\0\0";
    job_head(parts, "REDO", ids, 8, "\x81\x05\x03");     /* {5: 3} */
    cf_multipart_add(parts, "\x80", 1);
    assert_int_equal(cf_msg_parse_job(parts, &job), 0);
    assert_int_equal(job.job_id, 42);
    assert_int_equal(job.request_id[0], 7);
    assert_true(job.redo);
    assert_int_equal(job.events, 1);
    assert_int_equal(job.fences, 1);
    assert_int_equal(job.fence[0].shard, 5);
    /* request ids neither one nor one per event */
    static const size_t wrong[] = { 0, 7, 9, 16 };
    for (size_t w = 0; w < sizeof wrong / sizeof *wrong; w++) {
        job_head(parts, "JOB", ids, wrong[w], "\x80");
        cf_multipart_add(parts, "\x80", 1);
        assert_int_equal(cf_msg_parse_job(parts, &job), -1);
    }
    job_head(parts, "JOB", ids, 16, "\x80");
    cf_multipart_add(parts, "\x80", 1);
    cf_multipart_add(parts, "\x80", 1);
    assert_int_equal(cf_msg_parse_job(parts, &job), 0);     /* two events, an id each */
    assert_int_equal(job.request_id[0], 7);
    assert_int_equal(job.request_id[1], 8);
    /* a JOB holds more events than a PUSH (the broker bundles several), up
       to CF_MSG_MAX_JOB_EVENTS; one more fits the buffer but is no JOB */
    job_head(parts, "JOB", ids, 8, "\x80");
    for (int i = 0; i < CF_MSG_MAX_JOB_EVENTS; i++)
        cf_multipart_add(parts, "\x80", 1);
    assert_true(CF_MSG_MAX_JOB_EVENTS > CF_MSG_MAX_EVENTS);
    assert_int_equal(cf_msg_parse_job(parts, &job), 0);
    assert_int_equal(job.events, CF_MSG_MAX_JOB_EVENTS);
    cf_multipart_add(parts, "\x80", 1);
    assert_false(cf_multipart_truncated(parts));
    assert_int_equal(cf_msg_parse_job(parts, &job), -1);
    /* fences that are not a map of uint to uint, or more than one per event */
    static const char *const bad[] = { "\x80\x80", "\x90", "\x81\xa1s\x03", "\x81\x05\xff",
                                       "\x82\x01\x01\x02\x02" };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        job_head(parts, "JOB", ids, 8, bad[b]);
        cf_multipart_add(parts, "\x80", 1);
        assert_int_equal(cf_msg_parse_job(parts, &job), -1);
    }
    cf_multipart_clear(parts);
    cf_multipart_add(parts, "CF01", 4);
    cf_multipart_add(parts, "JOB", 3);
    cf_multipart_add(parts, "1234", 4);             /* job id not 8 bytes */
    cf_multipart_add(parts, "\x07\0\0\0\0\0\0\0", 8);
    cf_multipart_add(parts, "\x80", 1);
    cf_multipart_add(parts, "\x80", 1);
    assert_int_equal(cf_msg_parse_job(parts, &job), -1);
    cf_multipart_destroy(&parts);
}

static void test_worker_commands(void **unused)
{
    (void) unused;
    cf_multipart_t *parts = cf_multipart_new(8);
    const char *done[] = { "w", "CF01", "DONE", "12345678", "\x90" };
    fill(parts, done, 5);
    uint64_t id;
    assert_int_equal(cf_msg_worker_command(parts), CF_MSG_DONE);
    assert_int_equal(cf_msg_parse_done(parts, &id), 0);
    const char *short_done[] = { "w", "CF01", "DONE", "1234", "\x90" };
    fill(parts, short_done, 5);
    assert_int_equal(cf_msg_parse_done(parts, &id), -1);
    const char *hb[] = { "w", "CF01", "HEARTBEAT" };
    fill(parts, hb, 3);
    assert_int_equal(cf_msg_worker_command(parts), CF_MSG_HEARTBEAT);
    const char *unknown[] = { "w", "CF01", "NOPE" };
    fill(parts, unknown, 3);
    assert_int_equal(cf_msg_worker_command(parts), CF_MSG_NONE);
    assert_true(cf_msg_signed(parts, 1));           /* a caseflow message all the same */
    const char *unsigned_hb[] = { "w", "CF02", "HEARTBEAT" };
    fill(parts, unsigned_hb, 3);
    assert_int_equal(cf_msg_worker_command(parts), CF_MSG_NONE);
    assert_false(cf_msg_signed(parts, 1));
    const char *exit_extra[] = { "CF01", "EXIT", "x" };
    fill(parts, exit_extra, 3);
    assert_false(cf_msg_is_exit(parts));
    cf_multipart_destroy(&parts);
}

static void test_ready_body(void **unused)
{
    (void) unused;
    cf_multipart_t *parts = cf_multipart_new(8);
    cf_msg_ready_t out;
    const char *empty_map[] = { "w", "CF01", "READY", "\x80" };
    fill(parts, empty_map, 4);
    assert_int_equal(cf_msg_parse_ready(parts, &out), 0);           /* defaults */
    assert_int_equal(out.credit, 1);
    assert_int_equal(out.pid, 0);
    assert_string_equal(out.host, "?");
    const char *array[] = { "w", "CF01", "READY", "\x90" };
    fill(parts, array, 4);
    assert_int_equal(cf_msg_parse_ready(parts, &out), -1);          /* not a map */
    const char *bare[] = { "w", "CF01", "READY" };
    fill(parts, bare, 3);
    assert_int_equal(cf_msg_parse_ready(parts, &out), -1);          /* no body */
    assert_string_equal(out.host, "?");
    /* {"credit": -1, "pid": 2^32, "host": 7}: each of the wrong type or range */
    const char odd[] = "\x83\xa6" "credit\xff\xa3pid\xcf\0\0\0\x01\0\0\0\0\xa4host\x07";
    cf_multipart_clear(parts);
    for (size_t i = 0; i < 3; i++)
        cf_multipart_add(parts, bare[i], strlen(bare[i]));
    cf_multipart_add(parts, odd, sizeof odd - 1);
    assert_int_equal(cf_msg_parse_ready(parts, &out), 0);
    assert_int_equal(out.credit, 1);
    assert_int_equal(out.pid, 0);
    assert_string_equal(out.host, "?");
    cf_multipart_destroy(&parts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_builders_roundtrip),
        cmocka_unit_test(test_job),
        cmocka_unit_test(test_worker_commands),
        cmocka_unit_test(test_ready_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
