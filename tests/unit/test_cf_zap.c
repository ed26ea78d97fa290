/*  Tests of cf_zap over real tcp sockets on loopback: a client whose key is
    in the role's list connects and exchanges a message (and carries the
    role and its key as User-Id), an unknown key and a key of another role fail the
    handshake (seen by the client's cf_handshake, with status 400), a bad
    list line is refused, a reload admits a key added to the file, and a
    key removed on reload is no longer current on the connection it opened
    before (nor when it is in another role's list), while a kept one is. The
    connection limit: with a cap of 2 a third client is refused (400) and
    gets in once one of the two leaves; a plain handler does the same for
    NULL-mechanism clients; a domain cannot be limited twice.               */
#include "cf_test_files.h"
#include "cf_test_ports.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "caseflow/cf_curve.h"
#include "caseflow/cf_handshake.h"
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
    cf_test_bind_loopback(f->server, f->endpoint, sizeof f->endpoint);
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

/* A DEALER with keys (NULL: plain) connected to endpoint, with its
   handshake watcher. */
static void *client_to(void *ctx, const char *endpoint, cf_curve_t *server_keys,
                       cf_curve_t *keys, cf_handshake_t **handshake)
{
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (keys) {
        char pub_file[600], err[256];
        snprintf(pub_file, sizeof pub_file, "%s/server.pub", s_dir);
        FILE *file = fopen(pub_file, "w");
        fprintf(file, "%s\n", cf_curve_public(server_keys));
        fclose(file);
        assert_int_equal(cf_curve_set_server(keys, pub_file, err, sizeof err), 0);
        assert_int_equal(cf_curve_client(keys, dealer), 0);
    }
    *handshake = cf_handshake_new(ctx, dealer);
    assert_non_null(*handshake);
    assert_int_equal(zmq_connect(dealer, endpoint), 0);
    return dealer;
}

static void *client(fixture_t *f, cf_curve_t *keys, cf_handshake_t **handshake)
{
    return client_to(f->ctx, f->endpoint, f->server_keys, keys, handshake);
}

static void client_close(void *dealer, cf_handshake_t **handshake)
{
    cf_handshake_destroy(handshake);
    assert_null(*handshake);
    zmq_close(dealer);
}

/* The next handshake's outcome, waiting up to 10 s (a loaded machine). */
static int handshake_outcome(cf_handshake_t *handshake)
{
    return cf_handshake_wait(handshake, 10000);
}

static void test_allowed_key_exchanges(void **state)
{
    fixture_t *f = *state;
    cf_handshake_t *handshake;
    void *dealer = client(f, f->allowed, &handshake);
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
    assert_string_equal(cf_zap_key_of(&body), cf_curve_public(f->allowed));
    assert_true(cf_zap_current(f->zap, &body));
    zmq_msg_send(&id, f->server, ZMQ_SNDMORE);
    zmq_send(f->server, "back", 4, 0);
    char reply[8];
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    assert_int_equal(zmq_recv(dealer, reply, sizeof reply, 0), 4);
    assert_true(cf_handshake_ever_succeeded(handshake));
    assert_int_equal(cf_handshake_refused(handshake), 0);
    zmq_msg_close(&body);
    client_close(dealer, &handshake);
}

/* key is refused with 400, and what it sent never arrives. */
static void expect_refused(fixture_t *f, cf_curve_t *key)
{
    cf_handshake_t *handshake;
    void *dealer = client(f, key, &handshake);
    zmq_send(dealer, "sneak", 5, ZMQ_DONTWAIT);
    assert_int_equal(handshake_outcome(handshake), 400);
    assert_int_equal(cf_handshake_refused(handshake), 400);
    assert_false(cf_handshake_ever_succeeded(handshake));
    char buf[16];
    assert_int_equal(zmq_recv(f->server, buf, sizeof buf, ZMQ_DONTWAIT), -1);
    client_close(dealer, &handshake);
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
    cf_handshake_t *handshake;
    void *dealer = client(f, f->unknown, &handshake);
    assert_int_equal(handshake_outcome(handshake), 0);
    client_close(dealer, &handshake);
}

/* A message from key, received on the server: its metadata as the broker
   sees it. */
static void receive_from(fixture_t *f, cf_curve_t *key, zmq_msg_t *body, void **dealer,
                         cf_handshake_t **handshake)
{
    *dealer = client(f, key, handshake);
    assert_int_equal(zmq_send(*dealer, "x", 1, 0), 1);
    int timeout = 10000;
    zmq_setsockopt(f->server, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_msg_t id;
    zmq_msg_init(&id);
    zmq_msg_init(body);
    assert_true(zmq_msg_recv(&id, f->server, 0) > 0);
    assert_int_equal(zmq_msg_recv(body, f->server, 0), 1);
    zmq_msg_close(&id);
}

static void test_revoked_on_reload(void **state)
{
    fixture_t *f = *state;
    char err[256];
    write_list(s_list, cf_curve_public(f->allowed), cf_curve_public(f->unknown));
    assert_int_equal(cf_zap_reload(f->zap, err, sizeof err), 0);
    cf_handshake_t *kept_handshake, *gone_handshake;
    void *kept_dealer, *gone_dealer;
    zmq_msg_t kept, gone;
    receive_from(f, f->allowed, &kept, &kept_dealer, &kept_handshake);
    receive_from(f, f->unknown, &gone, &gone_dealer, &gone_handshake);
    assert_true(cf_zap_current(f->zap, &kept));
    assert_true(cf_zap_current(f->zap, &gone));
    /* the second key leaves the producers' list for the workers' one: it was
       admitted as a producer, so it is no longer current */
    write_list(s_list, cf_curve_public(f->allowed), NULL);
    write_list(s_other, cf_curve_public(f->other), cf_curve_public(f->unknown));
    assert_int_equal(cf_zap_reload(f->zap, err, sizeof err), 0);
    assert_true(cf_zap_current(f->zap, &kept));
    assert_false(cf_zap_current(f->zap, &gone));
    assert_true(cf_zap_role_of(&gone, CF_ZAP_PRODUCERS));    /* libzmq keeps the User-Id */
    /* and a message with no User-Id (not from a CURVE connection) is not */
    zmq_msg_t bare;
    zmq_msg_init_size(&bare, 1);
    assert_false(cf_zap_current(f->zap, &bare));
    assert_null(cf_zap_key_of(&bare));
    zmq_msg_close(&bare);
    zmq_msg_close(&kept);
    zmq_msg_close(&gone);
    client_close(kept_dealer, &kept_handshake);
    client_close(gone_dealer, &gone_handshake);
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

/* A ROUTER admitting domain (CURVE with keys, else plain), limited to
   max connections, bound on a free loopback port written to endpoint. */
static void *limited_server(void *ctx, cf_zap_t *zap, cf_curve_t *keys, const char *domain,
                            size_t max, char *endpoint, size_t endpoint_size)
{
    void *server = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0, timeout = 10000;
    zmq_setsockopt(server, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(server, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (keys)
        assert_int_equal(cf_curve_server(keys, server, domain), 0);
    else
        zmq_setsockopt(server, ZMQ_ZAP_DOMAIN, domain, strlen(domain));
    char err[256];
    assert_int_equal(cf_zap_limit(zap, server, domain, max, err, sizeof err), 0);
    cf_test_bind_loopback(server, endpoint, (unsigned) endpoint_size);
    return server;
}

/* Two clients get in; the third is refused (400), and nothing it sent
   arrives, until one of the two leaves: then its retry gets in, and what
   it sends arrives. */
static void expect_capped_at_two(void *ctx, cf_zap_t *zap, const char *domain,
                                 cf_curve_t *server_keys, cf_curve_t *keys)
{
    char endpoint[128];
    void *server = limited_server(ctx, zap, server_keys, domain, 2, endpoint, sizeof endpoint);
    void *dealer[3];
    cf_handshake_t *handshake[3];
    for (int i = 0; i < 2; i++) {
        dealer[i] = client_to(ctx, endpoint, server_keys, keys, &handshake[i]);
        assert_int_equal(handshake_outcome(handshake[i]), 0);
    }
    dealer[2] = client_to(ctx, endpoint, server_keys, keys, &handshake[2]);
    zmq_send(dealer[2], "early", 5, ZMQ_DONTWAIT);
    assert_int_equal(handshake_outcome(handshake[2]), 400);
    size_t open = 0;
    uint64_t refused = 0;
    cf_zap_connections(zap, domain, &open, &refused);
    assert_true(refused >= 1);
    assert_true(open >= 2 && open <= 3);        /* the third's retry may be open */
    char buf[16];
    assert_int_equal(zmq_recv(server, buf, sizeof buf, ZMQ_DONTWAIT), -1);
    client_close(dealer[0], &handshake[0]);
    int outcome = 400;
    for (int tries = 0; tries < 100 && outcome == 400; tries++) {
        assert_int_equal(cf_handshake_retry(handshake[2], endpoint), 0);
        outcome = handshake_outcome(handshake[2]);
    }
    assert_int_equal(outcome, 0);
    zmq_send(dealer[2], "late", 4, 0);
    assert_true(zmq_recv(server, buf, sizeof buf, 0) > 0);     /* its routing id */
    assert_int_equal(zmq_recv(server, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "late", 4);
    client_close(dealer[1], &handshake[1]);
    client_close(dealer[2], &handshake[2]);
    zmq_close(server);
}

static void test_limit_curve(void **state)
{
    fixture_t *f = *state;
    expect_capped_at_two(f->ctx, f->zap, CF_ZAP_PRODUCERS, f->server_keys, f->allowed);
    char err[256];
    void *again = zmq_socket(f->ctx, ZMQ_ROUTER);
    assert_int_equal(cf_zap_limit(f->zap, again, CF_ZAP_PRODUCERS, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "limited already"));
    zmq_close(again);
}

static void test_limit_plain(void **unused)
{
    (void) unused;
    void *ctx = zmq_ctx_new();
    char err[256];
    cf_zap_t *zap = cf_zap_new_plain(ctx, err, sizeof err);
    assert_non_null(zap);
    assert_int_equal(cf_zap_keys(zap), 0);
    zmq_msg_t bare;                             /* plain: every connection is current */
    zmq_msg_init_size(&bare, 1);
    assert_true(cf_zap_current(zap, &bare));
    zmq_msg_close(&bare);
    expect_capped_at_two(ctx, zap, CF_ZAP_SUBSCRIBERS, NULL, NULL);
    cf_zap_destroy(&zap);
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
        cmocka_unit_test_setup_teardown(test_revoked_on_reload, setup, teardown),
        cmocka_unit_test(test_bad_list),
        cmocka_unit_test_setup_teardown(test_limit_curve, setup, teardown),
        cmocka_unit_test(test_limit_plain) };
    return cf_test_dir_remove(s_dir, cmocka_run_group_tests(tests, NULL, NULL));
}
