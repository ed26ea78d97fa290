/*  A DEALER and a ROUTER over inproc for the codec's round trips; see
    cf_test_wire.h.                                                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <zmq.h>
#include "cf_test_wire.h"

void cf_test_wire_open(cf_test_wire_t *wire, size_t max)
{
    memset(wire, 0, sizeof *wire);
    wire->ctx = zmq_ctx_new();
    wire->router = zmq_socket(wire->ctx, ZMQ_ROUTER);
    wire->dealer = zmq_socket(wire->ctx, ZMQ_DEALER);
    int timeout = 1000, linger = 0;
    memcpy(wire->id, "dealer", 6);
    wire->id_len = 6;
    zmq_setsockopt(wire->dealer, ZMQ_ROUTING_ID, wire->id, wire->id_len);
    zmq_setsockopt(wire->router, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(wire->dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(wire->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(wire->dealer, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(wire->router, "inproc://cf-test-wire"), 0);
    assert_int_equal(zmq_connect(wire->dealer, "inproc://cf-test-wire"), 0);
    wire->parts = cf_multipart_new(max);
}

void cf_test_wire_close(cf_test_wire_t *wire)
{
    cf_multipart_destroy(&wire->parts);
    zmq_close(wire->dealer);
    zmq_close(wire->router);
    zmq_ctx_term(wire->ctx);
}

cf_multipart_t *cf_test_wire_recv(cf_test_wire_t *wire, void *socket)
{
    assert_int_equal(cf_multipart_wait(wire->parts, socket), 0);
    return wire->parts;
}
