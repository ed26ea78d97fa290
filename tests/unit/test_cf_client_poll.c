/*  Tests of the cf_client run that the caller drives a pass at a time
    (cf_client_poll, cf_client_poll_end, cf_client_queued,
    cf_client_set_on_final) against the fake broker of cf_test_fake_broker:
    requests go out as events are added, without waiting for earlier ACKs,
    up to the window; each event is told once as it becomes final; an idle
    client is not stuck, a stuck one ends at its deadline; what is not final
    when the run ends becomes unacked.                                       */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_client.h"
#include "caseflow/cf_loop.h"
#include "cf_test_fake_broker.h"
#include "cf_test_ports.h"

#define POLL_EVENTS 64

typedef struct {
    int told[POLL_EVENTS];      /* times each event was told final */
    cf_client_status_t status[POLL_EVENTS];
    size_t final;
} finals_t;

static void on_final(size_t index, cf_client_status_t status, void *arg)
{
    finals_t *f = arg;
    assert_true(index < POLL_EVENTS && status != CF_CLIENT_PENDING);
    f->told[index]++;
    f->status[index] = status;
    f->final++;
}

/* Polls until want events are final or 3 s have gone; 0, or what the last
   poll returned when not 0. */
static int poll_until(cf_client_t *client, finals_t *f, size_t want)
{
    int64_t start = cf_clock_ms();
    while (f->final < want && cf_clock_ms() - start < 3000) {
        int rc = cf_client_poll(client, 50);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void test_poll_sends_without_waiting(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_NORMAL);
    finals_t f = { 0 };
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 5);
    cf_client_set_window(client, 3);
    cf_client_set_on_final(client, on_final, &f);
    cf_test_add_events(client, "ok-", 5);
    assert_int_equal(cf_client_queued(client), 5);
    assert_int_equal(poll_until(client, &f, 5), 0);
    assert_int_equal(f.final, 5);
    /* 20 more at once: three requests go in the first pass, before any ACK
       to them can have come; the fourth waits for a slot in the window */
    cf_test_add_events(client, "dup-", 20);
    assert_int_equal(cf_client_poll(client, 0), 0);
    cf_client_stats_t stats;
    cf_client_stats(client, &stats);
    assert_true(stats.requests >= 4);       /* the first and three more */
    assert_true(cf_client_queued(client) <= 5);
    assert_int_equal(poll_until(client, &f, 25), 0);
    assert_int_equal(cf_client_queued(client), 0);
    cf_test_add_events(client, "rej-", 2);  /* added between passes, as they come */
    assert_int_equal(poll_until(client, &f, 27), 0);
    assert_int_equal(cf_client_poll_end(client), 0);
    for (int i = 0; i < 27; i++)
        assert_int_equal(f.told[i], 1);
    assert_int_equal(f.status[0], CF_CLIENT_ACCEPTED);
    assert_int_equal(f.status[24], CF_CLIENT_DUPLICATE);
    assert_int_equal(f.status[26], CF_CLIENT_REJECTED);
    cf_client_stats(client, &stats);
    assert_int_equal(stats.accepted, 5);
    assert_int_equal(stats.duplicate, 20);
    assert_int_equal(stats.rejected, 2);
    assert_int_equal(stats.requests, 6);
    assert_int_equal(cf_client_poll_end(client), 0);        /* no run: nothing to do */
    cf_client_destroy(&client);
    fake_stop(&fake);
}

/* cf_client_run tells each event too, once. */
static void test_run_tells_finals(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_BUSY_FIRST);
    finals_t f = { 0 };
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 10);
    cf_client_set_on_final(client, on_final, &f);
    cf_test_add_events(client, "ok-", 25);
    assert_int_equal(cf_client_run(client, NULL, NULL), 0);
    assert_int_equal(f.final, 25);
    for (int i = 0; i < 25; i++)
        assert_true(f.told[i] == 1 && f.status[i] == CF_CLIENT_ACCEPTED);
    cf_client_destroy(&client);
    fake_stop(&fake);
}

/* An idle client polled past its deadline goes on; a request that gets no
   ACK ends the run at the deadline (1), and ending the run makes it
   unacked, told once. */
static void test_poll_deadline_and_end(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_DROP_FIRST);
    finals_t f = { 0 };
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_batch(client, 10);
    cf_client_set_timeout(client, 10000);       /* no resend within the test */
    cf_client_set_deadline(client, 300);
    cf_client_set_on_final(client, on_final, &f);
    int64_t start = cf_clock_ms();
    while (cf_clock_ms() - start < 500)         /* nothing added: not stuck */
        assert_int_equal(cf_client_poll(client, 50), 0);
    cf_test_add_events(client, "ok-", 3);       /* the fake drops this one */
    int rc = 0;
    start = cf_clock_ms();
    while (rc == 0 && cf_clock_ms() - start < 3000)
        rc = cf_client_poll(client, 50);
    assert_int_equal(rc, 1);
    assert_true(cf_clock_ms() - start >= 250);
    assert_int_equal(f.final, 0);
    assert_int_equal(cf_client_poll(client, 0), 1);     /* over stays over */
    assert_int_equal(cf_client_poll_end(client), 0);
    assert_int_equal(f.final, 3);
    const char *reason;
    assert_int_equal(cf_client_status(client, 0, &reason), CF_CLIENT_UNACKED);
    assert_string_equal(reason, "no ACK, sent once (gave up after 0.3 s without progress)");
    cf_client_destroy(&client);
    fake_stop(&fake);
}

/* A run ended by the caller while a request is out; and one a client is
   destroyed in the middle of (nothing leaks, nobody is told). */
static void test_poll_ended_early(void **state)
{
    (void) state;
    fake_t *fake = fake_start(FAKE_DROP_FIRST);
    finals_t f = { 0 };
    cf_client_t *client = cf_client_new(fake->endpoint);
    cf_client_set_on_final(client, on_final, &f);
    cf_test_add_events(client, "ok-", 2);
    assert_int_equal(cf_client_poll(client, 10), 0);
    cf_test_add_events(client, "ok2-", 1);
    assert_int_equal(cf_client_poll_end(client), 0);
    assert_int_equal(f.final, 3);
    const char *reason;
    assert_int_equal(cf_client_status(client, 0, &reason), CF_CLIENT_UNACKED);
    assert_string_equal(reason, "no ACK, sent once (the run was ended first)");
    cf_client_status(client, 2, &reason);
    assert_string_equal(reason, "never sent (the run was ended first)");
    cf_test_add_events(client, "ok3-", 2);      /* a new run after the end */
    assert_int_equal(poll_until(client, &f, 5), 0);
    assert_int_equal(cf_client_status(client, 4, NULL), CF_CLIENT_ACCEPTED);
    cf_test_add_events(client, "ok4-", 1);
    assert_int_equal(cf_client_poll(client, 0), 0);
    size_t told = f.final;
    cf_client_destroy(&client);
    assert_int_equal(f.final, told);
    fake_stop(&fake);
}

/* Nothing listens: with a connect timeout a pass says so (-1). */
static void test_poll_unreachable(void **state)
{
    (void) state;
    char endpoint[64];
    cf_test_free_endpoint(endpoint, sizeof endpoint);
    cf_client_t *client = cf_client_new(endpoint);
    cf_client_set_connect_timeout(client, 200);
    cf_test_add_events(client, "ok-", 1);
    int rc = 0;
    int64_t start = cf_clock_ms();
    while (rc == 0 && cf_clock_ms() - start < 5000)
        rc = cf_client_poll(client, 50);
    assert_int_equal(rc, -1);
    assert_int_equal(cf_client_error_code(client), CF_CLIENT_ERR_UNREACHABLE);
    assert_int_equal(cf_client_poll_end(client), -1);
    assert_int_equal(cf_client_status(client, 0, NULL), CF_CLIENT_UNACKED);
    cf_client_destroy(&client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poll_sends_without_waiting),
        cmocka_unit_test(test_run_tells_finals),
        cmocka_unit_test(test_poll_deadline_and_end),
        cmocka_unit_test(test_poll_ended_early),
        cmocka_unit_test(test_poll_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
