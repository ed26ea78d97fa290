/*  Tests of cf_client_run against a fake broker (cf_test_fake_broker: a
    ROUTER in a thread, on a loopback port) that answers by a script: statuses by event_id, busy
    then accepted, a lost request resent after its timeout, an ACK that does
    not fit ignored, a late ACK to a first attempt, ERROR, a reply sent
    twice, a broker that restarts holding a request (resent at once, not
    after its timeout), no broker at all, the stop flag, bad input, and
    200 000 events in one run. The run a caller drives (cf_client_poll) is
    test_cf_client_poll.c's.                                                */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_client.h"
#include "caseflow/cf_loop.h"
#include "cf_test_fake_broker.h"
#include "cf_test_ports.h"

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
    cf_test_add_events(client, "ok-", 50);
    cf_test_add_events(client, "rej-", 2);
    cf_test_add_events(client, "dup-", 3);
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
    cf_test_add_events(client, "ok2-", 3);                  /* a second run sends only the new ones */
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
    cf_test_add_events(client, "ok-", count);
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
    cf_test_add_events(client, "ok-", 25);
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
    cf_test_add_events(client, "ok-", 30);
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
    cf_test_add_events(client, "ok-", 25);
    int64_t started = cf_clock_ms();
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    assert_true(cf_clock_ms() - started >= 800);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 25);
    cf_client_destroy(&client);
    fake_stop(&fake);
}

/* Two brokers: the first takes every request and answers none. After the
   ACK timeout with nothing heard, the client moves to the second and
   resends there at once; every event is accepted, once. */
static void test_failover_on_silence(void **state)
{
    (void) state;
    fake_t *silent = fake_start(FAKE_SILENT), *good = fake_start(FAKE_NORMAL);
    char list[160];
    snprintf(list, sizeof list, "%s,%s", silent->endpoint, good->endpoint);
    cf_client_t *client = cf_client_new(list);
    assert_string_equal(cf_client_endpoint(client), list);     /* not connected yet */
    cf_client_set_batch(client, 10);
    cf_client_set_timeout(client, 300);
    cf_client_set_deadline(client, 5000);
    cf_test_add_events(client, "ok-", 25);
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 25);
    assert_int_equal(stats.failovers, 1);
    assert_int_equal(stats.resent, 25);
    assert_string_equal(cf_client_endpoint(client), good->endpoint);
    assert_true(atomic_load(&silent->pushes) >= 1);
    cf_client_destroy(&client);
    fake_stop(&silent);
    fake_stop(&good);
}

/* Nothing listens at the first endpoint of the list: with a connect
   timeout the client tries the next instead of giving up; with no broker
   at any of them it gives up naming the list. A malformed list is the
   endpoint's error. */
static void test_failover_when_unreachable(void **state)
{
    (void) state;
    fake_t *good = fake_start(FAKE_NORMAL);
    char nobody[64], nobody2[64], list[200];
    cf_test_free_endpoint(nobody, sizeof nobody);
    snprintf(list, sizeof list, "%s, %s", nobody, good->endpoint);
    cf_client_t *client = cf_client_new(list);
    cf_client_set_connect_timeout(client, 300);
    cf_test_add_events(client, "ok-", 5);
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 5);
    assert_int_equal(stats.failovers, 1);
    cf_client_destroy(&client);
    fake_stop(&good);

    cf_test_free_endpoint(nobody2, sizeof nobody2);
    snprintf(list, sizeof list, "%s,%s", nobody, nobody2);
    client = cf_client_new(list);
    cf_client_set_connect_timeout(client, 200);
    cf_test_add_events(client, "ok-", 5);
    assert_int_equal(cf_client_run(client, NULL, NULL), -1);
    assert_int_equal(cf_client_error_code(client), CF_CLIENT_ERR_UNREACHABLE);
    if (!strstr(cf_client_error(client), list))
        fail_msg("error: %s", cf_client_error(client));
    cf_client_destroy(&client);

    client = cf_client_new("tcp://127.0.0.1:1,,tcp://127.0.0.1:2");
    assert_int_equal(cf_client_connect(client), -1);
    assert_int_equal(cf_client_error_code(client), CF_CLIENT_ERR_ENDPOINT);
    assert_non_null(strstr(cf_client_error(client), "empty endpoint"));
    cf_client_destroy(&client);
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
    cf_test_add_events(client, "ok-", 3);
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
    cf_test_add_events(client, "ok-", 1);
    assert_int_equal(cf_client_run(client, NULL, NULL), -1);
    cf_client_destroy(&client);
}

static void test_many_events(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_NORMAL);
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 1000);
    cf_test_add_events(client, "ok-", 200000);
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
        cmocka_unit_test(test_failover_on_silence),
        cmocka_unit_test(test_failover_when_unreachable),
        cmocka_unit_test(test_stop_flag_and_bad_input),
        cmocka_unit_test(test_many_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
