/*  Tests of cf_handshake over real tcp sockets on loopback: a handshake
    with a plain server succeeds and is seen as such; with nothing listening
    no outcome comes and nothing counts as refused; each ZAP status is
    explained in words; a server that goes and comes back on the same
    endpoint (a broker restart) is seen as a reconnection, once. The refusals themselves (400, from the broker's ZAP
    handler, and cf_handshake_retry getting in later) are in test_cf_zap.c. */
#include "cf_test_ports.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_loop.h"

static void *plain_socket(void *ctx, int type)
{
    void *socket = zmq_socket(ctx, type);
    int linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    return socket;
}

/* Whether handshake says the connection came back within timeout_ms. */
static bool reconnected_within(cf_handshake_t *handshake, int timeout_ms)
{
    for (int64_t until = cf_clock_ms() + timeout_ms; cf_clock_ms() < until;) {
        if (cf_handshake_reconnected(handshake))
            return true;
        usleep(10 * 1000);
    }
    return false;
}

static void test_success_seen(void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new(), *server = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(server, ZMQ_LINGER, &linger, sizeof linger);
    char endpoint[128];
    cf_test_bind_loopback(server, endpoint, sizeof endpoint);
    void *client = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(client, ZMQ_LINGER, &linger, sizeof linger);
    cf_handshake_t *handshake = cf_handshake_new(ctx, client);
    assert_non_null(handshake);
    assert_false(cf_handshake_ever_succeeded(handshake));
    assert_int_equal(zmq_connect(client, endpoint), 0);
    assert_int_equal(cf_handshake_wait(handshake, 10000), 0);
    assert_true(cf_handshake_ever_succeeded(handshake));
    assert_int_equal(cf_handshake_refused(handshake), 0);
    assert_int_equal(cf_handshake_keep_trying(handshake, endpoint), 0);
    cf_handshake_destroy(&handshake);
    assert_null(handshake);
    cf_handshake_destroy(&handshake);
    zmq_close(client);
    zmq_close(server);
    zmq_ctx_term(ctx);
}

static void test_nobody_there(void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new(), *client = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(client, ZMQ_LINGER, &linger, sizeof linger);
    cf_handshake_t *handshake = cf_handshake_new(ctx, client);
    assert_int_equal(zmq_connect(client, "tcp://127.0.0.1:1"), 0);
    assert_int_equal(cf_handshake_wait(handshake, 300), -1);
    assert_int_equal(cf_handshake_refused(handshake), 0);
    assert_false(cf_handshake_ever_succeeded(handshake));
    cf_handshake_destroy(&handshake);
    zmq_close(client);
    zmq_ctx_term(ctx);
}

static void test_server_restart_seen(void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new(), *server = plain_socket(ctx, ZMQ_ROUTER);
    char endpoint[128];
    cf_test_bind_loopback(server, endpoint, sizeof endpoint);
    void *client = plain_socket(ctx, ZMQ_DEALER);
    cf_handshake_t *handshake = cf_handshake_new(ctx, client);
    assert_int_equal(zmq_connect(client, endpoint), 0);
    assert_int_equal(cf_handshake_wait(handshake, 10000), 0);
    assert_false(cf_handshake_reconnected(handshake));     /* the first one is no return */
    zmq_close(server);
    usleep(300 * 1000);
    assert_false(cf_handshake_reconnected(handshake));     /* lost, not back yet */
    server = plain_socket(ctx, ZMQ_ROUTER);
    assert_int_equal(zmq_bind(server, endpoint), 0);
    assert_true(reconnected_within(handshake, 5000));
    assert_false(cf_handshake_reconnected(handshake));     /* told once */
    assert_int_equal(cf_handshake_refused(handshake), 0);
    cf_handshake_destroy(&handshake);
    zmq_close(client);
    zmq_close(server);
    zmq_ctx_term(ctx);
}

static void test_explained(void **state)
{
    (void) state;
    assert_non_null(strstr(cf_handshake_explain(400), "ZAP 400"));
    assert_non_null(strstr(cf_handshake_explain(400), "allow-list"));
    assert_non_null(strstr(cf_handshake_explain(400), "connection limit"));
    assert_non_null(strstr(cf_handshake_explain(300), "ZAP 300"));
    assert_non_null(strstr(cf_handshake_explain(500), "ZAP 500"));
    assert_non_null(strstr(cf_handshake_explain(0), "refused"));
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_success_seen),
                                        cmocka_unit_test(test_nobody_there),
                                        cmocka_unit_test(test_server_restart_seen),
                                        cmocka_unit_test(test_explained) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
