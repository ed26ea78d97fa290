/*  Tests of cf_client against a fake broker (a ROUTER in a thread, on a
    loopback port) that answers by a script: statuses by event_id, busy
    then accepted, a lost request resent after its timeout, an ACK that does
    not fit ignored, a late ACK to a first attempt, ERROR, a reply sent
    twice, a broker that restarts holding a request (resent at once, not
    after its timeout), no broker at all, the stop flag, bad input, and
    200 000 events in one run.                                               */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "caseflow/cf_client.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "cf_test_ports.h"

typedef enum { FAKE_NORMAL, FAKE_BUSY_FIRST, FAKE_DROP_FIRST, FAKE_GARBAGE_FIRST, FAKE_ERROR,
               FAKE_TWICE, FAKE_LATE_FIRST, FAKE_RESTART_FIRST } fake_mode_t;

typedef struct {
    fake_mode_t mode;
    void *ctx, *router;
    char endpoint[64];
    pthread_t thread;
    atomic_int stop;
    atomic_int pushes;
    char ids[4][40];            /* the request ids of the first pushes */
    zmq_msg_t held[2];          /* FAKE_LATE_FIRST: the first push's peer and id */
} fake_t;

/* The status the fake gives an event, by its id's prefix. */
static cf_ack_t fake_ack(const void *data, size_t size)
{
    cf_ack_t ack = { CF_ACK_ACCEPTED, NULL, 0, NULL, 0 };
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t offset = 0;
    if (msgpack_unpack_next(&result, data, size, &offset) == MSGPACK_UNPACK_SUCCESS
        && result.data.type == MSGPACK_OBJECT_MAP && result.data.via.map.size > 0) {
        const msgpack_object *id = &result.data.via.map.ptr[0].val;
        if (id->type == MSGPACK_OBJECT_STR && id->via.str.size >= 3) {
            if (memcmp(id->via.str.ptr, "rej", 3) == 0)
                ack = (cf_ack_t) { CF_ACK_REJECTED, NULL, 0, "sex: 'z' is not one of f, m", 27 };
            else if (memcmp(id->via.str.ptr, "dup", 3) == 0)
                ack.status = CF_ACK_DUPLICATE;
        }
    }
    msgpack_unpacked_destroy(&result);
    return ack;
}

/* An ACK with the ack list body to peer's request id. */
static void fake_reply(fake_t *fake, zmq_msg_t *peer, zmq_msg_t *id, const void *body,
                       size_t size)
{
    cf_msg_send_ack(fake->router, 0, zmq_msg_data(peer), zmq_msg_size(peer), zmq_msg_data(id),
                    zmq_msg_size(id), body, size);
}

static void fake_send(fake_t *fake, cf_multipart_t *parts, const void *body, size_t size)
{
    fake_reply(fake, cf_multipart_at(parts, 0), cf_multipart_at(parts, 3), body, size);
}

/* An ACK of count events all with status. */
static void fake_send_all(fake_t *fake, zmq_msg_t *peer, zmq_msg_t *id, size_t count,
                          cf_ack_status_t status)
{
    static cf_ack_t acks[CF_MSG_MAX_EVENTS];
    for (size_t i = 0; i < count; i++)
        acks[i] = (cf_ack_t) { status, NULL, 0, NULL, 0 };
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    cf_msg_pack_acks(&sbuf, acks, count);
    fake_reply(fake, peer, id, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
}

/* FAKE_LATE_FIRST: holds the first push; when its resend comes, answers the
   first attempt (accepted) and then the resend (duplicate). */
static bool fake_late(fake_t *fake, cf_multipart_t *parts, int push, size_t events)
{
    if (push == 1) {
        zmq_msg_init(&fake->held[0]);
        zmq_msg_init(&fake->held[1]);
        zmq_msg_copy(&fake->held[0], cf_multipart_at(parts, 0));
        zmq_msg_copy(&fake->held[1], cf_multipart_at(parts, 3));
        return true;
    }
    if (push != 4)              /* the resend comes after the two others */
        return false;
    fake_send_all(fake, &fake->held[0], &fake->held[1], events, CF_ACK_ACCEPTED);
    fake_send_all(fake, cf_multipart_at(parts, 0), cf_multipart_at(parts, 3), events, CF_ACK_DUPLICATE);
    zmq_msg_close(&fake->held[0]);
    zmq_msg_close(&fake->held[1]);
    return true;
}

/* FAKE_RESTART_FIRST: the first push is lost with the broker, which comes
   back on the same endpoint as a new socket (a restart). */
static void fake_restart(fake_t *fake)
{
    zmq_close(fake->router);
    usleep(200 * 1000);             /* down for a while, as a broker is */
    fake->router = zmq_socket(fake->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(fake->router, ZMQ_LINGER, &linger, sizeof linger);
    for (int tries = 0; zmq_bind(fake->router, fake->endpoint) < 0 && tries < 100; tries++)
        usleep(20 * 1000);          /* the old listener closes in libzmq's thread */
}

static void fake_answer(fake_t *fake, cf_multipart_t *parts)
{
    int push = atomic_fetch_add(&fake->pushes, 1) + 1;
    size_t events = cf_multipart_size(parts) - 4;
    if (push <= 4)
        snprintf(fake->ids[push - 1], sizeof fake->ids[0], "%.*s", (int) cf_multipart_len(parts, 3),
                 (const char *) cf_multipart_data(parts, 3));
    if (fake->mode == FAKE_RESTART_FIRST && push == 1) {
        fake_restart(fake);
        return;
    }
    if ((fake->mode == FAKE_DROP_FIRST && push == 1)
        || (fake->mode == FAKE_LATE_FIRST && fake_late(fake, parts, push, events)))
        return;
    if (fake->mode == FAKE_GARBAGE_FIRST && push == 1) {
        fake_send(fake, parts, "\x91\x80", 2);                 /* one ack, and no status */
        return;
    }
    if (fake->mode == FAKE_ERROR) {
        cf_msg_send_error(fake->router, 0, cf_multipart_data(parts, 0),
                          cf_multipart_len(parts, 0), cf_multipart_data(parts, 3),
                          cf_multipart_len(parts, 3), "no events");
        return;
    }
    static cf_ack_t acks[CF_MSG_MAX_EVENTS];
    for (size_t i = 0; i < events; i++)
        acks[i] = fake->mode == FAKE_BUSY_FIRST && push == 1
                ? (cf_ack_t) { CF_ACK_BUSY, NULL, 0, "queue full", 10 }
                : fake_ack(cf_multipart_data(parts, 4 + i), cf_multipart_len(parts, 4 + i));
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    cf_msg_pack_acks(&sbuf, acks, events);
    fake_send(fake, parts, sbuf.data, sbuf.size);
    if (fake->mode == FAKE_TWICE)
        fake_send(fake, parts, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
}

static void *fake_run(void *arg)
{
    fake_t *fake = arg;
    cf_multipart_t *parts = cf_multipart_new(CF_MSG_MAX_EVENTS + 4);
    char reason[128];
    while (!atomic_load(&fake->stop)) {
        zmq_pollitem_t item = { fake->router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 20) <= 0)
            continue;
        while (cf_multipart_recv(parts, fake->router) == 0)
            if (!cf_msg_check_push(parts, reason, sizeof reason))
                fake_answer(fake, parts);
    }
    cf_multipart_destroy(&parts);
    return NULL;
}

static fake_t *fake_start(fake_mode_t mode)
{
    fake_t *fake = calloc(1, sizeof *fake);
    fake->mode = mode;
    fake->ctx = zmq_ctx_new();
    fake->router = zmq_socket(fake->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(fake->router, ZMQ_LINGER, &linger, sizeof linger);
    cf_test_bind_loopback(fake->router, fake->endpoint, sizeof fake->endpoint);
    pthread_create(&fake->thread, NULL, fake_run, fake);
    return fake;
}

static void fake_stop(fake_t **fake_p)
{
    fake_t *fake = *fake_p;
    atomic_store(&fake->stop, 1);
    pthread_join(fake->thread, NULL);
    zmq_close(fake->router);
    zmq_ctx_term(fake->ctx);
    free(fake);
    *fake_p = NULL;
}

/* Adds count events {"event_id": "<prefix><i>"}. */
static void add_events(cf_client_t *client, const char *prefix, int count)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    for (int i = 0; i < count; i++) {
        char id[32];
        int n = snprintf(id, sizeof id, "%s%d", prefix, i);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_sbuffer_clear(&sbuf);
        msgpack_pack_map(&pk, 1);
        msgpack_pack_str(&pk, 8);
        msgpack_pack_str_body(&pk, "event_id", 8);
        msgpack_pack_str(&pk, (size_t) n);
        msgpack_pack_str_body(&pk, id, (size_t) n);
        int64_t index = cf_client_add(client, sbuf.data, sbuf.size, id);
        assert_int_equal(index, (int64_t) cf_client_size(client) - 1);
    }
    msgpack_sbuffer_destroy(&sbuf);
}

static int s_ticks;

static void count_ticks(const cf_client_stats_t *stats, void *arg)
{
    (void) stats;
    (void) arg;
    s_ticks++;
}

static void test_statuses(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_NORMAL);
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 7);
    cf_client_set_window(client, 3);
    add_events(client, "ok-", 50);
    add_events(client, "rej-", 2);
    add_events(client, "dup-", 3);
    assert_int_equal(cf_client_add(client, "\xc0", 1, NULL), 55);
    s_ticks = 0;
    assert_int_equal(cf_client_run(client, count_ticks, NULL), 0);
    assert_true(s_ticks >= 1);                      /* at least the final call */
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.events, 56);
    assert_int_equal(stats.accepted, 51);
    assert_int_equal(stats.rejected, 2);
    assert_int_equal(stats.duplicate, 3);
    assert_int_equal(stats.unacked, 0);
    assert_int_equal(stats.requests, 8);            /* 56 / 7 */
    assert_int_equal(stats.resent, 0);
    const char *reason;
    assert_int_equal(cf_client_status(client, 50, &reason), CF_CLIENT_REJECTED);
    assert_string_equal(reason, "sex: 'z' is not one of f, m");
    assert_string_equal(cf_client_event_id(client, 50), "rej-0");
    assert_int_equal(cf_client_status(client, 0, &reason), CF_CLIENT_ACCEPTED);
    assert_null(reason);
    assert_int_equal(cf_client_status(client, 54, NULL), CF_CLIENT_DUPLICATE);
    assert_null(cf_client_event_id(client, 55));
    assert_string_equal(cf_client_status_name(CF_CLIENT_DUPLICATE), "duplicate");
    add_events(client, "ok2-", 3);                  /* a second run sends only the new ones */
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 54);
    assert_int_equal(stats.requests, 9);
    cf_client_destroy(&client);
    assert_null(client);
    cf_client_destroy(&client);
    fake_stop(&fake);
}

/* Runs count events through a fake in mode; returns the client. */
static cf_client_t *run_mode(fake_t *fake, int count, int timeout_ms, int deadline_ms)
{
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 10);
    cf_client_set_timeout(client, timeout_ms);
    cf_client_set_deadline(client, deadline_ms);
    add_events(client, "ok-", count);
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    return client;
}

static void test_busy_then_accepted(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_BUSY_FIRST);
    cf_client_t *client = run_mode(fake, 25, 5000, 5000);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 25);
    assert_int_equal(stats.busy, 10);
    assert_int_equal(stats.resent, 10);
    cf_client_destroy(&client);
    fake_stop(&fake);
}

/* With busy final, the busy ack is the event's answer: nothing is resent. */
static void test_busy_final(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_BUSY_FIRST);
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 10);
    cf_client_set_busy_final(client, 1);
    add_events(client, "ok-", 25);
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 15);
    assert_int_equal(stats.busy, 10);
    assert_int_equal(stats.resent, 0);
    assert_int_equal(stats.unacked, 0);
    size_t busy = 0;
    for (size_t i = 0; i < cf_client_size(client); i++) {
        const char *reason;
        if (cf_client_status(client, i, &reason) == CF_CLIENT_BUSY) {
            assert_string_equal(reason, "queue full");
            busy++;
        }
    }
    assert_int_equal(busy, 10);
    assert_string_equal(cf_client_status_name(CF_CLIENT_BUSY), "busy");
    cf_client_destroy(&client);
    fake_stop(&fake);
}

static void test_lost_and_garbled_replies(void **state)
{
    (void) state;
    for (fake_mode_t mode = FAKE_DROP_FIRST; mode <= FAKE_GARBAGE_FIRST; mode++) {
        fake_t *fake = fake_start(mode);
        cf_client_t *client = run_mode(fake, 25, 100, 5000);
        cf_client_stats_t stats;
        cf_client_stats(client, &stats);
        assert_int_equal(stats.accepted, 25);
        assert_int_equal(stats.requests, 4);        /* the first one twice */
        assert_int_equal(stats.resent, 10);
        assert_string_equal(fake->ids[0], "1.1");
        assert_string_equal(fake->ids[3], "1.2");       /* a resend has a new id */
        cf_client_destroy(&client);
        fake_stop(&fake);
    }
}

/* The first attempt's ACK, late, still answers the request; the resend's
   ACK then matches nothing. */
static void test_late_first_ack(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_LATE_FIRST);
    cf_client_t *client = run_mode(fake, 25, 100, 5000);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 25);
    assert_int_equal(stats.duplicate, 0);
    assert_string_equal(fake->ids[3], "1.2");
    cf_client_destroy(&client);
    fake_stop(&fake);
}

/* A broker that restarts while it holds the only request: the request
   goes again as soon as the connection is back, long before its 5 s
   timeout (and within the 3 s deadline, which the timeout would miss). */
static void test_resent_on_reconnect(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_RESTART_FIRST);
    int64_t start = cf_clock_ms();
    cf_client_t *client = run_mode(fake, 10, 5000, 3000);
    int64_t took = cf_clock_ms() - start;
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 10);
    assert_int_equal(stats.requests, 2);
    assert_string_equal(fake->ids[1], "1.2");
    if (took > 2000)
        fail_msg("the resend came %lld ms after the start", (long long) took);
    cf_client_destroy(&client);
    fake_stop(&fake);
}

static void test_error_and_twice(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_ERROR);
    cf_client_t *client = run_mode(fake, 5, 5000, 5000);
    const char *reason;
    assert_int_equal(cf_client_status(client, 4, &reason), CF_CLIENT_UNACKED);
    assert_string_equal(reason, "request refused by the broker: no events");
    cf_client_destroy(&client);
    fake_stop(&fake);

    fake = fake_start(FAKE_TWICE);                  /* the second ACK matches nothing */
    client = run_mode(fake, 35, 5000, 5000);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 35);
    cf_client_destroy(&client);
    fake_stop(&fake);
}

/* A client of 30 events, 10 a request, 2 in flight, for a free endpoint
   (written into endpoint): nothing listens there. */
static cf_client_t *no_broker_client(char *endpoint, size_t size, int deadline_ms)
{
    cf_test_free_endpoint(endpoint, size);
    cf_client_t *client = cf_client_new(endpoint);
    cf_client_set_batch(client, 10);
    cf_client_set_window(client, 2);
    cf_client_set_deadline(client, deadline_ms);
    add_events(client, "ok-", 30);
    return client;
}

static void test_no_broker(void **state)
{
    (void) state;
    char endpoint[64];
    cf_client_t *client = no_broker_client(endpoint, sizeof endpoint, 400);
    cf_client_set_timeout(client, 50);
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.unacked, 30);
    const char *reason;
    assert_int_equal(cf_client_status(client, 0, &reason), CF_CLIENT_UNACKED);
    if (!strstr(reason, "no ACK, sent ") || !strstr(reason, "gave up after 0.4 s without progress"))
        fail_msg("reason: %s", reason);
    cf_client_status(client, 29, &reason);
    assert_string_equal(reason, "never sent (gave up after 0.4 s without progress)");
    cf_client_destroy(&client);
}

/* Nothing listens at the endpoint: with a connect timeout the run ends
   then, saying so, long before its deadline. */
static void test_unreachable(void **state)
{
    (void) state;
    char endpoint[64];
    cf_client_t *client = no_broker_client(endpoint, sizeof endpoint, 60000);
    cf_client_set_connect_timeout(client, 300);
    int64_t started = cf_clock_ms();
    assert_int_equal(cf_client_run(client, NULL, NULL), -1);
    assert_true(cf_clock_ms() - started < 30000);       /* not the deadline */
    assert_int_equal(cf_client_error_code(client), CF_CLIENT_ERR_UNREACHABLE);
    if (!strstr(cf_client_error(client), "no broker answers at ")
        || !strstr(cf_client_error(client), endpoint))
        fail_msg("error: %s", cf_client_error(client));
    const char *reason;
    assert_int_equal(cf_client_status(client, 0, &reason), CF_CLIENT_UNACKED);
    assert_string_equal(reason, "not delivered (no broker answers)");
    cf_client_status(client, 29, &reason);
    assert_string_equal(reason, "never sent (no broker answers)");
    cf_client_destroy(&client);
}

/* A broker that answers the handshake but takes longer than the connect
   timeout to ACK is only slow: the run goes on to the ACK. */
static void test_slow_broker_is_not_unreachable(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_LATE_FIRST);
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 10);
    cf_client_set_timeout(client, 800);     /* the first request's ACK comes after its resend */
    cf_client_set_connect_timeout(client, 200);
    add_events(client, "ok-", 25);
    int64_t started = cf_clock_ms();
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    assert_true(cf_clock_ms() - started >= 800);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 25);
    cf_client_destroy(&client);
    fake_stop(&fake);
}

static void test_stop_flag_and_bad_input(void **state)
{
    (void) state;
    char endpoint[64];
    cf_test_free_endpoint(endpoint, sizeof endpoint);
    cf_client_t *client = cf_client_new(endpoint);
    volatile sig_atomic_t stop = 1;
    cf_client_set_stop_flag(client, &stop);
    assert_int_equal(cf_client_add(client, "", 0, "x"), -1);
    assert_int_equal(cf_client_error_code(client), CF_CLIENT_ERR_INPUT);
    add_events(client, "ok-", 3);
    cf_client_set_batch(client, 2);
    cf_client_set_window(client, 1);
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    const char *reason;
    assert_int_equal(cf_client_status(client, 0, &reason), CF_CLIENT_UNACKED);
    assert_string_equal(reason, "no ACK, sent once (interrupted)");
    cf_client_status(client, 2, &reason);
    assert_string_equal(reason, "never sent (interrupted)");
    cf_client_destroy(&client);

    client = cf_client_new("tcp://no-port-here");
    assert_int_equal(cf_client_connect(client), -1);
    assert_int_equal(cf_client_error_code(client), CF_CLIENT_ERR_ENDPOINT);
    assert_non_null(strstr(cf_client_error(client), "intake endpoint 'tcp://no-port-here'"));
    add_events(client, "ok-", 1);
    assert_int_equal(cf_client_run(client, NULL, NULL), -1);
    cf_client_destroy(&client);
}

static void test_many_events(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_NORMAL);
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 1000);
    add_events(client, "ok-", 200000);
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 200000);
    assert_string_equal(cf_client_event_id(client, 199999), "ok-199999");
    cf_client_destroy(&client);
    fake_stop(&fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_busy_then_accepted),
        cmocka_unit_test(test_busy_final),
        cmocka_unit_test(test_lost_and_garbled_replies),
        cmocka_unit_test(test_late_first_ack),
        cmocka_unit_test(test_resent_on_reconnect),
        cmocka_unit_test(test_error_and_twice),
        cmocka_unit_test(test_no_broker),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_slow_broker_is_not_unreachable),
        cmocka_unit_test(test_stop_flag_and_bad_input),
        cmocka_unit_test(test_many_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
