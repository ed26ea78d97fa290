/*  Tests of cf_multipart: whole multipart messages, the bound on parts, and
    the non-blocking receive.                                                */
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

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_bounded_multipart) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
