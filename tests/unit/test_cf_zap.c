/*  Tests of cf_zap over real tcp sockets on loopback: a client whose key is
    in the role's list connects and exchanges a message (and carries the
    role as User-Id), an unknown key and a key of another role fail the
    handshake (seen by the client's monitor, with status 400), a bad list
    line is refused, and a reload admits a key added to the file.           */
#include "cf_test_files.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "caseflow/cf_curve.h"
#include "caseflow/cf_zap.h"

static char s_dir[] = "/tmp/cf_zap_XXXXXX";
static char s_list[600], s_other[600];

typedef struct {
    void *ctx, *server;
    cf_curve_t *server_keys, *allowed, *unknown, *other;
    cf_zap_t *zap;
    char endpoint[128];
} fixture_t;

static void write_list(const char *path, const char *key_a, const char *key_b)
{
    FILE *file = fopen(path, "w");
    fprintf(file, "# comment\n\n%s\n%s\n", key_a, key_b ? key_b : "");
    fclose(file);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->ctx = zmq_ctx_new();
    f->server_keys = cf_curve_new();
    f->allowed = cf_curve_new();
    f->unknown = cf_curve_new();
    f->other = cf_curve_new();
    write_list(s_list, cf_curve_public(f->allowed), NULL);
    write_list(s_other, cf_curve_public(f->other), NULL);
    cf_zap_list_t lists[] = { { CF_ZAP_PRODUCERS, s_list }, { CF_ZAP_WORKERS, s_other },
                              { CF_ZAP_OPERATORS, NULL } };
    char err[256];
    f->zap = cf_zap_new(f->ctx, lists, 3, err, sizeof err);
    assert_non_null(f->zap);
    assert_int_equal(cf_zap_keys(f->zap), 2);
    f->server = zmq_socket(f->ctx, ZMQ_ROUTER);
    assert_int_equal(cf_curve_server(f->server_keys, f->server, "producers,operators"), 0);
    assert_int_equal(zmq_bind(f->server, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof f->endpoint;
    zmq_getsockopt(f->server, ZMQ_LAST_ENDPOINT, f->endpoint, &len);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    zmq_close(f->server);
    cf_zap_destroy(&f->zap);
    assert_null(f->zap);
    cf_curve_destroy(&f->server_keys);
    cf_curve_destroy(&f->allowed);
    cf_curve_destroy(&f->unknown);
    cf_curve_destroy(&f->other);
    zmq_ctx_term(f->ctx);
    free(f);
    return 0;
}

/* A DEALER with keys, connected to the server; its monitor, when asked. */
static void *client(fixture_t *f, cf_curve_t *keys, void **monitor)
{
    char pub_file[600], err[256];
    snprintf(pub_file, sizeof pub_file, "%s/server.pub", s_dir);
    FILE *file = fopen(pub_file, "w");
    fprintf(file, "%s\n", cf_curve_public(f->server_keys));
    fclose(file);
    assert_int_equal(cf_curve_set_server(keys, pub_file, err, sizeof err), 0);
    void *dealer = zmq_socket(f->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(cf_curve_client(keys, dealer), 0);
    if (monitor) {
        char name[64];
        snprintf(name, sizeof name, "inproc://monitor-%p", dealer);
        zmq_socket_monitor(dealer, name, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                           | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
        *monitor = zmq_socket(f->ctx, ZMQ_PAIR);
        zmq_setsockopt(*monitor, ZMQ_LINGER, &linger, sizeof linger);
        assert_int_equal(zmq_connect(*monitor, name), 0);
    }
    assert_int_equal(zmq_connect(dealer, f->endpoint), 0);
    return dealer;
}

/* Waits (up to 10 s, a loaded machine) for the monitor's first event;
   returns it, with its value (the ZAP status for a failed auth). */
static int handshake_event(void *monitor, int *value)
{
    int timeout = 10000;
    zmq_setsockopt(monitor, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, monitor, 0) < 0)
        return -1;
    uint16_t event;
    uint32_t v;
    memcpy(&event, zmq_msg_data(&msg), 2);
    memcpy(&v, (char *) zmq_msg_data(&msg) + 2, 4);
    zmq_msg_close(&msg);
    char address[256];
    zmq_recv(monitor, address, sizeof address, 0);
    *value = (int) v;
    return event;
}

static void test_allowed_key_exchanges(void **state)
{
    fixture_t *f = *state;
    void *dealer = client(f, f->allowed, NULL);
    assert_int_equal(zmq_send(dealer, "hello", 5, 0), 5);
    int timeout = 10000;
    zmq_setsockopt(f->server, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    assert_true(zmq_msg_recv(&id, f->server, 0) > 0);
    assert_int_equal(zmq_msg_recv(&body, f->server, 0), 5);
    assert_memory_equal(zmq_msg_data(&body), "hello", 5);
    assert_true(cf_zap_role_of(&body, CF_ZAP_PRODUCERS));
    assert_false(cf_zap_role_of(&body, CF_ZAP_OPERATORS));
    zmq_msg_send(&id, f->server, ZMQ_SNDMORE);
    zmq_send(f->server, "back", 4, 0);
    char reply[8];
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    assert_int_equal(zmq_recv(dealer, reply, sizeof reply, 0), 4);
    zmq_msg_close(&body);
    zmq_close(dealer);
}

/* key is refused with 400, and what it sent never arrives. */
static void expect_refused(fixture_t *f, cf_curve_t *key)
{
    void *monitor;
    void *dealer = client(f, key, &monitor);
    zmq_send(dealer, "sneak", 5, ZMQ_DONTWAIT);
    int status = 0;
    assert_int_equal(handshake_event(monitor, &status), ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert_int_equal(status, 400);
    char buf[16];
    assert_int_equal(zmq_recv(f->server, buf, sizeof buf, ZMQ_DONTWAIT), -1);
    zmq_close(dealer);
    zmq_close(monitor);
}

static void test_unknown_key_refused(void **state)
{
    expect_refused(*state, ((fixture_t *) *state)->unknown);
}

static void test_other_role_refused(void **state)
{
    expect_refused(*state, ((fixture_t *) *state)->other);    /* a worker key */
}

static void test_reload(void **state)
{
    fixture_t *f = *state;
    char err[256];
    FILE *file = fopen(s_list, "a");
    fputs("garbage\n", file);
    fclose(file);
    assert_int_equal(cf_zap_reload(f->zap, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 5"));
    assert_int_equal(cf_zap_keys(f->zap), 2);               /* the old lists stay */
    write_list(s_list, cf_curve_public(f->allowed), cf_curve_public(f->unknown));
    assert_int_equal(cf_zap_reload(f->zap, err, sizeof err), 0);
    assert_int_equal(cf_zap_keys(f->zap), 3);
    void *monitor;
    void *dealer = client(f, f->unknown, &monitor);
    int status = 0;
    assert_int_equal(handshake_event(monitor, &status), ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    zmq_close(dealer);
    zmq_close(monitor);
}

static void test_bad_list(void **unused)
{
    (void) unused;
    char path[600], err[256];
    snprintf(path, sizeof path, "%s/bad.list", s_dir);
    FILE *file = fopen(path, "w");
    fputs("tooshort\n", file);
    fclose(file);
    void *ctx = zmq_ctx_new();
    cf_zap_list_t lists[] = { { CF_ZAP_PRODUCERS, path } };
    assert_null(cf_zap_new(ctx, lists, 1, err, sizeof err));
    assert_non_null(strstr(err, "line 1"));
    lists[0].file = "/nonexistent/list";
    assert_null(cf_zap_new(ctx, lists, 1, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/list"));
    zmq_ctx_term(ctx);
}

int main(void)
{
    if (!mkdtemp(s_dir))
        return 1;
    snprintf(s_list, sizeof s_list, "%s/producers.list", s_dir);
    snprintf(s_other, sizeof s_other, "%s/workers.list", s_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_allowed_key_exchanges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_role_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
        cmocka_unit_test(test_bad_list) };
    return cf_test_dir_remove(s_dir, cmocka_run_group_tests(tests, NULL, NULL));
}
