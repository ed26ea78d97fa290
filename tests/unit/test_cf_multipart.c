/*  Tests of cf_multipart: whole multipart messages, the bound on parts, the
    non-blocking receive, and parts allocated as a message needs them.      */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <zmq.h>
#include "caseflow/cf_multipart.h"

static void send_parts(void *socket, int count)
{
    for (int i = 0; i < count; i++)
        zmq_send(socket, "abc", 3, i + 1 < count ? ZMQ_SNDMORE : 0);
}

static void test_bounded_multipart(void **unused)
{
    (void) unused;
    void *ctx = zmq_ctx_new();
    void *in = zmq_socket(ctx, ZMQ_PAIR), *out = zmq_socket(ctx, ZMQ_PAIR);
    zmq_bind(in, "inproc://parts-test");
    zmq_connect(out, "inproc://parts-test");
    cf_multipart_t *parts = cf_multipart_new(4);
    assert_int_equal(cf_multipart_recv(parts, in), -1);        /* nothing waiting */
    send_parts(out, 3);
    send_parts(out, 6);                                     /* more than the bound */
    send_parts(out, 1);
    assert_int_equal(cf_multipart_recv(parts, in), 0);
    assert_int_equal(cf_multipart_size(parts), 3);
    assert_false(cf_multipart_truncated(parts));
    assert_true(cf_multipart_equals(parts, 2, "abc"));
    assert_false(cf_multipart_equals(parts, 2, "ab"));
    assert_false(cf_multipart_equals(parts, 3, "abc"));        /* no such part */
    assert_int_equal(cf_multipart_recv(parts, in), 0);
    assert_int_equal(cf_multipart_size(parts), 4);
    assert_true(cf_multipart_truncated(parts));
    assert_int_equal(cf_multipart_recv(parts, in), 0);          /* still in step */
    assert_int_equal(cf_multipart_size(parts), 1);
    assert_int_equal(cf_multipart_len(parts, 0), 3);
    cf_multipart_destroy(&parts);
    assert_null(parts);
    zmq_close(in);
    zmq_close(out);
    zmq_ctx_term(ctx);
}

/* Part i holds "i" repeated to i % 70 bytes: small ones live inside their
   zmq_msg_t (libzmq keeps up to 33 bytes there), larger ones outside, so
   that growing the buffer (a move of every zmq_msg_t) is seen to keep
   both kinds. */
static size_t part_text(int i, char *buf)
{
    size_t len = (size_t) (i % 70);
    for (size_t k = 0; k < len; k++)
        buf[k] = (char) ('a' + (i + (int) k) % 26);
    return len;
}

static void check_parts(cf_multipart_t *parts, int count)
{
    char want[80];
    assert_int_equal(cf_multipart_size(parts), count);
    for (int i = 0; i < count; i++) {
        size_t len = part_text(i, want);
        assert_int_equal(cf_multipart_len(parts, (size_t) i), len);
        assert_memory_equal(cf_multipart_data(parts, (size_t) i), want, len);
    }
}

static void test_parts_grow(void **unused)
{
    (void) unused;
    enum { MAX = 1000 };
    char text[80];
    cf_multipart_t *parts = cf_multipart_new(MAX);
    for (int i = 0; i < MAX; i++)
        cf_multipart_add(parts, text, part_text(i, text));
    assert_false(cf_multipart_truncated(parts));
    check_parts(parts, MAX);
    cf_multipart_add(parts, "x", 1);                     /* past the bound */
    assert_true(cf_multipart_truncated(parts));
    assert_int_equal(cf_multipart_size(parts), MAX);

    void *ctx = zmq_ctx_new();
    void *in = zmq_socket(ctx, ZMQ_PAIR), *out = zmq_socket(ctx, ZMQ_PAIR);
    zmq_bind(in, "inproc://grow-test");
    zmq_connect(out, "inproc://grow-test");
    for (int round = 0; round < 2; round++) {            /* a fresh buffer, then a reused one */
        cf_multipart_t *got = round ? parts : cf_multipart_new(MAX);
        for (int i = 0; i < 700; i++)
            zmq_send(out, text, part_text(i, text), i + 1 < 700 ? ZMQ_SNDMORE : 0);
        assert_int_equal(cf_multipart_wait(got, in), 0);
        assert_false(cf_multipart_truncated(got));
        check_parts(got, 700);
        if (!round)
            cf_multipart_destroy(&got);
    }
    cf_multipart_destroy(&parts);
    zmq_close(in);
    zmq_close(out);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_bounded_multipart),
                                        cmocka_unit_test(test_parts_grow) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
