/*  cf_store's commit, against a real redis-server: each shard's call is
    whole or nothing (a counter that would overflow stops it before its first
    write), and the statuses tell the truth across retries of one request
    (cf_store_set_request): accepted for an event this request applied, in
    this attempt or an earlier one, duplicate for one another request
    applied. docs/reliability.md, "Acks", is the contract.                   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "caseflow/cf_store.h"
#include "cf_test_store.h"
#include "cf_test_relay.h"
#include <signal.h>
#include <unistd.h>

static void request(fixture_t *f, const char *id)
{
    cf_store_set_request(f->store, id, strlen(id));
}

/* A job spans two shards and one of them fails (a key of the wrong type):
   the other shard has committed. The retry of the same request reports all
   its events accepted and counts no duplicate; another request with the
   same events finds them all duplicate. */
static void test_retry_of_a_request_is_accepted(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[4];
    cf_ack_status_t status[4];
    cf_test_register(&ev[0], "r-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "r-1", CASE_A, CF_EV_CASE_SCREENED);
    cf_test_register(&ev[2], "r-2", CASE_B, "CH-AVR", "m", "\3");
    cf_test_stage(&ev[3], "r-3", CASE_B, CF_EV_CASE_SCREENED);
    assert_int_not_equal(cf_store_shard_of(f->store, &ev[0]), cf_store_shard_of(f->store, &ev[2]));

    request(f, "job-1");
    cf_test_integer(f, "SET cf:{s" CASE_B_SHARD "}:services oops");
    assert_int_equal(cf_store_apply(f->store, ev, 4, status), -1);
    assert_non_null(strstr(cf_store_error(f->store), "cf:{s" CASE_B_SHARD "}:services holds a string"));
    assert_int_equal(cf_test_marker_ttl(f, 47, "r-2"), -2);    /* CASE_B's shard: nothing */
    assert_int_equal(cf_test_marker_ttl(f, cf_store_shard_of(f->store, &ev[0]), "r-0") > 0, 1);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|ever|cases"), 1);  /* CASE_A's */
    cf_test_integer(f, "DEL cf:{s" CASE_B_SHARD "}:services");

    assert_string_equal(cf_test_apply(f, ev, 4), "aaaa");
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|ever|cases"), 2);
    assert_string_equal(cf_test_family_nonzero(f, "quality"), "");

    request(f, "job-2");
    assert_string_equal(cf_test_apply(f, ev, 4), "dddd");
    assert_string_equal(cf_test_family_nonzero(f, "quality"), "duplicate=4 ");
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|ever|cases"), 2);
}

/* Within one request an event twice is applied once: the second is a
   duplicate, in the first attempt and in a retry, and counted once (a
   retry used to count it again). Without a request, a marker counts as
   another request's. */
static void test_repeat_within_a_request(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    cf_test_register(&ev[0], "w-0", CASE_A, "CH-AVR", "m", "\3");
    ev[1] = ev[0];
    request(f, "job-7");
    assert_string_equal(cf_test_apply(f, ev, 2), "ad");
    /* the same request again (after a fence or an error): the repeat is
       still a duplicate, counted once, by the attempt that applied it */
    assert_string_equal(cf_test_apply(f, ev, 2), "ad");
    assert_string_equal(cf_test_family_nonzero(f, "quality"), "duplicate=1 ");
    cf_store_set_request(f->store, NULL, 0);
    assert_string_equal(cf_test_apply(f, ev, 1), "d");
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|ever|cases"), 1);
}

/* A job the broker bundled from the parts of two requests: each event's
   marker holds its own request's tag (cf_store_set_requests), so a retry
   of the bundle finds them accepted, each request's events apart from the
   other's; a later request with the same events finds them duplicate. The
   requests hold for one call only. */
static void test_bundle_of_two_requests(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_register(&ev[0], "b-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_register(&ev[1], "b-1", CASE_B, "CH-AVR", "m", "\3");
    cf_test_stage(&ev[2], "b-2", CASE_B, CF_EV_CASE_SCREENED);
    const uint64_t first[] = { 11, 22, 22 };
    request(f, "job-9");
    cf_store_set_requests(f->store, first, 3);
    assert_string_equal(cf_test_apply(f, ev, 3), "aaa");
    cf_store_set_requests(f->store, first, 3);  /* the bundle again: its own markers */
    assert_string_equal(cf_test_apply(f, ev, 3), "aaa");
    assert_string_equal(cf_test_family_nonzero(f, "quality"), "");
    const uint64_t swapped[] = { 22, 11, 11 };  /* each event under the other request */
    cf_store_set_requests(f->store, swapped, 3);
    assert_string_equal(cf_test_apply(f, ev, 3), "ddd");
    assert_string_equal(cf_test_family_nonzero(f, "quality"), "duplicate=3 ");
    assert_string_equal(cf_test_apply(f, ev, 3), "ddd");   /* job-9's own: none of them */
    cf_store_set_requests(f->store, first, 2);   /* two requests for three events */
    cf_ack_status_t status[3];
    assert_int_equal(cf_store_apply(f->store, ev, 3, status), -1);
    assert_non_null(strstr(cf_store_error(f->store), "3 events but 2 requests"));
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|ever|cases"), 2);
}

/* A funding counter one transaction short of the 64-bit limit: the next
   transaction's call fails before its first write (no dedupe marker, no
   counter, no notification), names the counter, and fails the same way
   when retried. The events stay unapplied, never duplicate. */
static void test_overflow_refuses_the_whole_call(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    cf_ack_status_t status[2];
    for (int i = 0; i < 2; i++) {
        cf_test_stage(&ev[i], i ? "big-1" : "big-0", CASE_A, CF_EV_FUNDING_TRANSACTION);
        strcpy(ev[i].donor, "US");
        ev[i].value = 1000000000000LL;
        strcpy(ev[i].currency, "USD");
    }
    request(f, "job-3");
    assert_string_equal(cf_test_apply(f, ev, 1), "a");
    unsigned shard = cf_store_shard_of(f->store, &ev[1]);
    const char *field = "day:2024-03-01|US|XM-DAC-1|USD|2|value";
    assert_int_equal(cf_test_get(f, "funding", field), 100000000000000LL);
    cf_test_integer(f, "HSET cf:{s%u}:funding %s 9223300000000000000", cf_store_shard_of(f->store, &ev[0]),
                    field);
    if (shard != cf_store_shard_of(f->store, &ev[0]))      /* the counter lives in each shard apart */
        cf_test_integer(f, "HSET cf:{s%u}:funding %s 9223300000000000000", shard, field);
    char *before = strdup(cf_test_dump(f, 1));

    request(f, "job-4");
    for (int attempt = 0; attempt < 2; attempt++) {
        assert_int_equal(cf_store_apply(f->store, &ev[1], 1, status), -1);
        assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_REDIS);
        const char *error = cf_store_error(f->store);
        if (!strstr(error, "would overflow") || !strstr(error, field))
            fail_msg("got '%s'", error);
        assert_string_equal(cf_test_dump(f, 1), before);
    }
    assert_int_equal(cf_test_marker_ttl(f, shard, "big-1"), -2);
    free(before);
}

/* Two stores (two workers) apply the events of the same few cases at the
   same time, in small batches, each its half, and now and then the other's
   batch too (a resend that races the first send): their commits collide
   (EXEC refuses one whose keys read changed), are read and computed again, the aggregates are those of one
   store applying everything alone, and each resent event is counted once
   and is a duplicate once. */
enum { RACE_CASES = 3, RACE_PER_CASE = 60, RACE_EVENTS = RACE_CASES * RACE_PER_CASE };

typedef struct {
    cf_store_t *store;
    cf_event_t *events;
    size_t from;
    int failed;
    size_t resent;
} race_t;

static void race_apply(race_t *r, size_t i)
{
    cf_ack_status_t status[3];
    size_t n = i + 3 <= RACE_EVENTS ? 3 : RACE_EVENTS - i;
    if (cf_store_apply(r->store, &r->events[i], n, status) < 0 && !r->failed) {
        r->failed = 1;
        fprintf(stderr, "race: %s\n", cf_store_error(r->store));
    }
}

static void *race_half(void *arg)
{
    race_t *r = arg;
    for (size_t i = r->from; i < RACE_EVENTS; i += 6) {
        race_apply(r, i);
        size_t other = r->from ? i - 3 : i + 3;
        if ((i / 6) % 4 == 0 && other < RACE_EVENTS) {
            race_apply(r, other);
            r->resent += other + 3 <= RACE_EVENTS ? 3 : RACE_EVENTS - other;
        }
    }
    return NULL;
}

static void race_events(cf_event_t *ev)
{
    static const char *const cases[RACE_CASES] = {
        "a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4", "b1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4",
        "c1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4" };
    static const cf_event_type_t types[] = { CF_EV_CASE_SCREENED, CF_EV_CASE_ASSISTED,
                                             CF_EV_CASE_DETAINED, CF_EV_CASE_RELEASED,
                                             CF_EV_CASE_REFERRED };
    for (size_t i = 0; i < RACE_EVENTS; i++) {
        char id[32];
        snprintf(id, sizeof id, "race-%zu", i);
        size_t c = i % RACE_CASES, k = i / RACE_CASES;
        if (k == RACE_PER_CASE / 2)
            cf_test_register(&ev[i], id, cases[c], "CH-AVR", "f", "\3");
        else
            cf_test_stage(&ev[i], id, cases[c], types[k % 5]);
        cf_test_at(&ev[i], T0 + (int64_t) k * 1000);
    }
}

static void test_two_workers_on_the_same_cases(void **state)
{
    fixture_t *f = *state;
    cf_event_t *ev = calloc(RACE_EVENTS, sizeof *ev);
    race_events(ev);
    race_t halves[2];
    pthread_t threads[2];
    for (int h = 0; h < 2; h++) {
        halves[h] = (race_t) { cf_store_new("127.0.0.1", cf_test_redis_port(f->redis),
                                            f->script_dir), ev, (size_t) h * 3, 0, 0 };
        assert_int_equal(pthread_create(&threads[h], NULL, race_half, &halves[h]), 0);
    }
    uint64_t conflicts = 0;
    size_t resent = 0;
    for (int h = 0; h < 2; h++) {
        pthread_join(threads[h], NULL);
        assert_int_equal(halves[h].failed, 0);
        conflicts += cf_store_conflicts(halves[h].store);
        resent += halves[h].resent;
        cf_store_destroy(&halves[h].store);
    }
    /* every family but quality, whose out_of_order and before_registration
       depend on the order by design (docs/storage.md, "Semantics") */
    static const char *const families[] = { "stage", "services", "detention", "vuln", "demo" };
    char *together[5];
    assert_int_equal(cf_test_get(f, "quality", "duplicate"), (int64_t) resent);
    assert_true(resent > 0);
    for (int i = 0; i < 5; i++)
        together[i] = strdup(cf_test_family_nonzero(f, families[i]));
    cf_test_integer(f, "FLUSHALL");
    cf_ack_status_t *status = calloc(RACE_EVENTS, sizeof *status);
    assert_int_equal(cf_store_apply(f->store, ev, RACE_EVENTS, status), 0);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(together[i], cf_test_family_nonzero(f, families[i]));
        free(together[i]);
    }
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|ever|cases"), RACE_CASES);
    assert_null(strstr(cf_test_family_nonzero(f, "quality"), "duplicate"));
    print_message("%llu transactions refused by EXEC (a key read changed) and computed again\n",
                  (unsigned long long) conflicts);
    free(status);
    free(ev);
}

/* A commit fenced with an epoch that the shard's owner record no longer
   holds (the broker gave the shard to another worker since) writes nothing
   and is not tried again: its events are left busy, another shard's commit
   of the same call stands. With the epoch the record holds, the same
   events commit. */
static void test_fence(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    cf_ack_status_t status[3];
    cf_test_register(&ev[0], "fe-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "fe-1", CASE_A, CF_EV_CASE_SCREENED);
    cf_event_t other;
    cf_test_register(&other, "fe-b", CASE_B, "CH-AVR", "m", "\3");
    cf_event_t all[3] = { ev[0], other, ev[1] };
    cf_test_integer(f, "HSET cf:{s" CASE_A_SHARD "}:owner epoch 5 worker w2");
    cf_store_set_fence(f->store, (unsigned) atoi(CASE_A_SHARD), 4);
    uint64_t conflicts = cf_store_conflicts(f->store);
    assert_int_equal(cf_store_apply(f->store, all, 3, status), 0);
    assert_int_equal(status[0], CF_ACK_BUSY);
    assert_int_equal(status[1], CF_ACK_ACCEPTED);                   /* CASE_B's shard: unfenced */
    assert_int_equal(status[2], CF_ACK_BUSY);
    assert_int_equal(cf_store_fenced(f->store), 2);
    assert_int_equal(cf_store_conflicts(f->store), conflicts);      /* not tried again */
    assert_int_equal(cf_test_integer(f, "EXISTS cf:{s" CASE_A_SHARD "}:case:" CASE_A), 0);
    assert_int_equal(cf_test_integer(f, "HLEN cf:{s" CASE_A_SHARD "}:owner"), 2);
    cf_store_set_fence(f->store, (unsigned) atoi(CASE_B_SHARD), 9);   /* a shard not touched */
    cf_store_set_fence(f->store, (unsigned) atoi(CASE_A_SHARD), 5);
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");
    assert_int_equal(cf_store_fenced(f->store), 0);
    /* a later batch of the fenced shard reads the case's state */
    cf_event_t later;
    cf_test_stage(&later, "fe-3", CASE_A, CF_EV_CASE_ASSISTED);
    assert_string_equal(cf_test_apply(f, &later, 1), "a");
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|screened|now|cases"), 0);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|assisted|now|cases"), 1);
    cf_store_clear_fences(f->store);
    cf_test_integer(f, "HINCRBY cf:{s" CASE_A_SHARD "}:owner epoch 1");
    cf_test_stage(&ev[0], "fe-2", CASE_A, CF_EV_CASE_DEPARTED);
    assert_string_equal(cf_test_apply(f, ev, 1), "a");            /* unfenced: any epoch */
}

/* Another worker's batch, applied from the relay's child just before the
   store's MULTI reaches Redis. */
typedef struct {
    int port;
    const char *script_dir;
    cf_event_t *events;
    size_t count;
} other_t;

static void other_applies(void *arg)
{
    other_t *o = arg;
    cf_store_t *store = cf_store_new("127.0.0.1", o->port, o->script_dir);
    cf_ack_status_t status[4];
    if (cf_store_apply(store, o->events, o->count, status) < 0) {
        fprintf(stderr, "the other store: %s\n", cf_store_error(store));
        _exit(3);
    }
    cf_store_destroy(&store);
}

/* Two stores on one shard, interleaved: the first reads and checks, and
   just before its MULTI reaches Redis the second commits a stage of the
   same case (a state the first watched, and counters it checked). The
   first's EXEC answers nil and writes nothing; it reads, folds and commits
   again, once: every event counted once, as when the two batches are
   applied one after the other. */
static void test_exec_refused_reads_again(void **state)
{
    fixture_t *f = *state;
    cf_event_t mine[2], theirs[1];
    cf_test_register(&mine[0], "i-a0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&mine[1], "i-a1", CASE_A, CF_EV_FUNDING_TRANSACTION);
    strcpy(mine[1].donor, "US");
    mine[1].value = 5;
    strcpy(mine[1].currency, "USD");
    cf_test_at(&mine[0], T0 + 1000);
    cf_test_stage(&theirs[0], "i-b0", CASE_A, CF_EV_CASE_SCREENED);
    cf_test_at(&theirs[0], T0 + 2000);
    other_t other = { cf_test_redis_port(f->redis), f->script_dir, theirs, 1 };
    int port = 0;
    pid_t relay = cf_test_relay_start(&port, cf_test_redis_port(f->redis), "MULTI",
                                      other_applies, &other);
    cf_store_t *store = cf_store_new("127.0.0.1", port, f->script_dir);
    cf_store_set_request(store, "job-i", 5);
    cf_ack_status_t status[2];
    if (cf_store_apply(store, mine, 2, status) < 0)
        fail_msg("%s", cf_store_error(store));
    assert_int_equal(status[0], CF_ACK_ACCEPTED);
    assert_int_equal(status[1], CF_ACK_ACCEPTED);
    assert_int_equal(cf_store_conflicts(store), 1);
    cf_store_destroy(&store);
    kill(relay, SIGKILL);
    cf_test_relay_reap(relay);

    static const char *const families[] = { "stage", "services", "quality", "funding", "demo" };
    enum { FAMILIES = sizeof families / sizeof *families };
    char *interleaved[FAMILIES];
    for (size_t i = 0; i < FAMILIES; i++)
        interleaved[i] = strdup(cf_test_family_nonzero(f, families[i]));
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|ever|cases"), 1);
    assert_null(strstr(interleaved[2], "duplicate"));
    cf_test_integer(f, "FLUSHALL");
    assert_string_equal(cf_test_apply(f, theirs, 1), "a");
    assert_string_equal(cf_test_apply(f, mine, 2), "aa");
    for (size_t i = 0; i < FAMILIES; i++) {
        assert_string_equal(interleaved[i], cf_test_family_nonzero(f, families[i]));
        free(interleaved[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retry_of_a_request_is_accepted, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_bundle_of_two_requests, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_repeat_within_a_request, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_overflow_refuses_the_whole_call, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_two_workers_on_the_same_cases, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_fence, cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_exec_refused_reads_again, cf_test_store_setup,
                                        cf_test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
