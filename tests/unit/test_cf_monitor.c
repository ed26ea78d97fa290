/*  Tests of cf_monitor on a real tcp socket on loopback: the reader gets
    the ACCEPTED event of a connection (its value a descriptor) and then its
    DISCONNECTED; with nothing pending a non-blocking read is -1.            */
#include "cf_test_ports.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <zmq.h>
#include "caseflow/cf_monitor.h"

static void test_accepted_then_disconnected(void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new(), *server = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0, timeout = 10000;
    zmq_setsockopt(server, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_socket_monitor(server, "inproc://test-monitor",
                                        ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED), 0);
    void *reader = cf_monitor_reader(ctx, "inproc://test-monitor");
    assert_non_null(reader);
    zmq_setsockopt(reader, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    uint16_t event;
    uint32_t value;
    assert_int_equal(cf_monitor_read(reader, ZMQ_DONTWAIT, &event, &value), -1);
    char endpoint[128];
    cf_test_bind_loopback(server, endpoint, sizeof endpoint);
    void *client = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(client, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(client, endpoint), 0);
    assert_int_equal(cf_monitor_read(reader, 0, &event, &value), 0);
    assert_int_equal(event, ZMQ_EVENT_ACCEPTED);
    assert_true(value > 2);                 /* a descriptor, past stdin..stderr */
    zmq_close(client);
    assert_int_equal(cf_monitor_read(reader, 0, &event, &value), 0);
    assert_int_equal(event, ZMQ_EVENT_DISCONNECTED);
    zmq_close(server);
    zmq_close(reader);
    zmq_ctx_term(ctx);
}

static void test_no_monitor(void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new();
    void *reader = cf_monitor_reader(ctx, "not an endpoint");
    assert_null(reader);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_accepted_then_disconnected),
                                        cmocka_unit_test(test_no_monitor) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
