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
#include "caseflow/cf_keys.h"
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
    assert_int_equal(cf_test_marker(f, &ev[2]), -1);           /* CASE_B's shard: nothing */
    assert_true(cf_test_marker(f, &ev[0]) >= 0);
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
    const char *row = "day:2024-03-01|US|XM-DAC-1|USD|2", *field = "day:2024-03-01|US|XM-DAC-1|USD|2|value";
    assert_int_equal(cf_test_get(f, "funding", field), 100000000000000LL);
    /* the row's tuple: transactions, value (cf_tuple) */
    cf_test_integer(f, "HSET cf:{s%u}:funding %s 1,9223300000000000000",
                    cf_store_shard_of(f->store, &ev[0]), row);
    if (shard != cf_store_shard_of(f->store, &ev[0]))      /* the counter lives in each shard apart */
        cf_test_integer(f, "HSET cf:{s%u}:funding %s 1,9223300000000000000", shard, row);
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
    assert_int_equal(cf_test_marker(f, &ev[1]), -1);
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
    /* the record keeps its epoch and worker; the connection's claim counts */
    assert_int_equal(cf_test_integer(f, "HINCRBY cf:{s" CASE_A_SHARD "}:owner epoch 0"), 5);
    assert_int_equal(cf_test_integer(f, "HINCRBY cf:{s" CASE_A_SHARD "}:owner claims 0"), 1);
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
    unsigned shard;                 /* with epoch: the shard it commits fenced */
    uint64_t epoch;                 /* 0: unfenced */
    int64_t fire_at;                /* not 0: fires the deadlines due then instead */
} other_t;

static void other_applies(void *arg)
{
    other_t *o = arg;
    cf_store_t *store = cf_store_new("127.0.0.1", o->port, o->script_dir);
    if (o->epoch)
        cf_store_set_fence(store, o->shard, o->epoch);
    cf_ack_status_t status[4];
    unsigned fired = 0;
    if (o->fire_at) {
        cf_test_default_rules(store);
        if (cf_store_fire_due(store, o->fire_at, 0, &fired) < 0 || fired != 1) {
            fprintf(stderr, "the other store fired %u: %s\n", fired, cf_store_error(store));
            _exit(3);
        }
    } else if (cf_store_apply(store, o->events, o->count, status) < 0) {
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
    other_t other = { cf_test_redis_port(f->redis), f->script_dir, theirs, 1, 0, 0, 0 };
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

/* ---- the owner's cache (docs/storage.md, "The owner's cache") ---------------- */

/* n funding transactions of the values given, in one shard, which the
   store owns under epoch 3 (its owner record says so, and its fence);
   the shard. */
static unsigned owned_fundings(fixture_t *f, cf_store_t *store, cf_event_t *ev, size_t n,
                               const char *prefix, const int64_t *values)
{
    int s = -1;
    for (size_t i = 0; i < n; i++) {
        char at[16];
        snprintf(at, sizeof at, "%.8s%u-", prefix, (unsigned) i % 100);
        s = (int) cf_test_funding(f, &ev[i], at, values[i], s);
    }
    cf_test_integer(f, "HSET cf:{s%d}:owner epoch 3 worker w1", s);
    cf_store_set_fence(store, (unsigned) s, 3);
    return (unsigned) s;
}

/* a funding row, kept as one field "<transactions>,<value>" (cf_tuple) */
#define FUNDING_ROW "day:2024-03-01|US|XM-DAC-1|USD|2"
#define FUNDING_VALUE FUNDING_ROW "|value"

/* A store that owns shard s under epoch 3 (with the default rules) applies
   ev through a relay that runs `other` just before the store's MULTI
   reaches Redis: its EXEC answers nil once, and ev is accepted when it
   reads and commits again. */
static void owner_refused_once(fixture_t *f, other_t *other, unsigned s, cf_event_t *ev)
{
    int port = 0;
    pid_t relay = cf_test_relay_start(&port, cf_test_redis_port(f->redis), "MULTI",
                                      other_applies, other);
    cf_store_t *store = cf_store_new("127.0.0.1", port, f->script_dir);
    cf_test_default_rules(store);
    cf_store_set_fence(store, s, 3);
    cf_ack_status_t status;
    if (cf_store_apply(store, ev, 1, &status) < 0)
        fail_msg("%s", cf_store_error(store));
    assert_int_equal(status, CF_ACK_ACCEPTED);
    assert_int_equal(cf_store_conflicts(store), 1);
    cf_store_destroy(&store);
    kill(relay, SIGKILL);
    cf_test_relay_reap(relay);
}

/* A fenced commit's counters are fenced by the owner record, not watched.
   Here the relay holds a fenced store's MULTI while another store commits
   another transaction of the same counter (another marker bucket, another
   case: nothing else of it watched); the first's EXEC must answer nil, so
   that it reads again and both values are counted (let through, it set the
   counter to its own value alone). The other store is the same owner on a
   new connection (its transaction sent on a connection given up while
   Redis stalled reaches Redis late): its claim on the owner record refuses
   it; or, with other_epoch 0, an unfenced commit (the broker could not
   record a new owner's epoch): its write of the owner record does. */
static void older_transaction_refused(fixture_t *f, uint64_t other_epoch, int64_t claims)
{
    cf_event_t mine, theirs;
    unsigned s = owned_fundings(f, f->store, &mine, 1, "cl-", (int64_t[]) { 5 });
    unsigned char digest[CF_KEYS_EID_DIGEST];
    unsigned bucket = cf_store_eid_digest(&mine, digest);
    for (int p = 0;; p++) {         /* another marker bucket: none of it watched by mine */
        char prefix[16];
        snprintf(prefix, sizeof prefix, "cm%d-", p);
        cf_test_funding(f, &theirs, prefix, 7, (int) s);
        if (cf_store_eid_digest(&theirs, digest) != bucket)
            break;
    }
    other_t other = { cf_test_redis_port(f->redis), f->script_dir, &theirs, 1, s, other_epoch,
                      0 };
    owner_refused_once(f, &other, s, &mine);
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 1200);
    assert_int_equal(cf_test_integer(f, "HINCRBY cf:{s%u}:owner claims 0", s), claims);
    assert_int_equal(cf_test_integer(f, "HINCRBY cf:{s%u}:owner epoch 0", s), 3);
}

static void test_claim_fences_an_older_connection(void **state)
{
    older_transaction_refused(*state, 3, 2);    /* the first store's claim, the second's */
}

static void test_unfenced_commit_fences_the_owners(void **state)
{
    older_transaction_refused(*state, 0, 1);    /* the first store's claim only */
}

/* The overdue timer fires a case's alert between an owner's reads and its
   MULTI (another store's, which never held a fence and so fires every
   shard's at once). The owner's transaction watches its shard's owner
   record and no state; the timer's stamp in the record (field "touched")
   refuses its EXEC, and it reads the case again: the alert fired once.
   Let through, the owner's state, read before the firing, would be
   written over the fired one, and the alert would fire again. */
static void test_timer_refuses_the_owners_transaction(void **state)
{
    fixture_t *f = *state;
    unsigned s = (unsigned) atoi(CASE_A_SHARD);
    cf_test_default_rules(f->store);
    assert_int_equal(cf_store_set_clock(f->store, T0), 0);  /* its deadline: the timer's */
    cf_event_t registered, screened;
    cf_test_register(&registered, "tr-r", CASE_A, "CH-AVR", "f", "\3");    /* a deadline */
    assert_string_equal(cf_test_apply(f, &registered, 1), "a");
    cf_test_stage(&screened, "tr-s", CASE_A, CF_EV_CASE_SCREENED);
    cf_test_at(&screened, T0 + 2000);
    cf_test_integer(f, "HSET cf:{s%u}:owner epoch 3 worker w1", s);
    other_t other = { cf_test_redis_port(f->redis), f->script_dir, NULL, 0, s, 0, T0 + 61 * DAY };
    owner_refused_once(f, &other, s, &screened);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|screened|now|cases"), 1);
    unsigned fired;
    assert_int_equal(cf_store_fire_due(f->store, T0 + 400 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 0);                     /* once */
}

/* The commands one apply of ev sends, by name. */
typedef struct {
    long long hmget, type, watch;
} sent_t;

static sent_t apply_counting(fixture_t *f, cf_store_t *store, cf_event_t *ev, const char *want)
{
    sent_t before = { cf_test_calls(f, "hmget"), cf_test_calls(f, "type"),
                      cf_test_calls(f, "watch") };
    cf_ack_status_t status;
    if (cf_store_apply(store, ev, 1, &status) < 0)
        fail_msg("%s", cf_store_error(store));
    assert_int_equal(status, want[0] == 'a' ? CF_ACK_ACCEPTED : CF_ACK_DUPLICATE);
    return (sent_t) { cf_test_calls(f, "hmget") - before.hmget,
                      cf_test_calls(f, "type") - before.type,
                      cf_test_calls(f, "watch") - before.watch };
}

/* A new case needs no TYPE check: the read round's EXISTS of its case keys
   tells an absent key from one of another type (MGET answers nil for
   both), so a fenced store with its cache warm sends no check round for a
   batch of new cases; a case key of another type is still refused, and
   named. */
static void test_new_case_needs_no_type_check(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_register(&ev[0], "nc-0", CASE_A, "CH-AVR", "f", "\3");
    unsigned s = cf_store_shard_of(f->store, &ev[0]);
    for (int n = 0, found = 1; found < 3; n++) {       /* two more cases of CASE_A's shard */
        char case_id[40];
        snprintf(case_id, sizeof case_id, "%032x", n);
        cf_test_register(&ev[found], found == 1 ? "nc-1" : "nc-2", case_id, "CH-AVR", "m", "\3");
        found += cf_store_shard_of(f->store, &ev[found]) == s;
    }
    cf_test_integer(f, "HSET cf:{s%u}:owner epoch 3 worker w1", s);
    cf_store_set_fence(f->store, s, 3);
    apply_counting(f, f->store, &ev[0], "a");           /* the cache learns the shard's keys */
    sent_t fenced = apply_counting(f, f->store, &ev[1], "a");
    assert_int_equal(fenced.type, 0);
    assert_int_equal(fenced.watch, 1);                  /* the read round's: no check round */
    cf_test_integer(f, "HSET cf:{s%u}:case:%s bits 1", s, ev[2].case_id);   /* not a state */
    cf_ack_status_t status;
    assert_int_equal(cf_store_apply(f->store, &ev[2], 1, &status), -1);
    assert_non_null(strstr(cf_store_error(f->store), ev[2].case_id));
    assert_non_null(strstr(cf_store_error(f->store), "hash"));
}

/* Only a shard-batch with a registration counts its case keys (EXISTS):
   any other event's case is most likely there. One whose case is absent
   (it came before its registration) has its key's TYPE checked by the
   commit instead, and is applied; a key of another type is refused, named,
   nothing of it written. */
static void test_exists_only_with_a_registration(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_stage(&ev[0], "ex-0", CASE_A, CF_EV_CASE_SCREENED);
    cf_test_stage(&ev[1], "ex-1", CASE_B, CF_EV_CASE_SCREENED);
    cf_test_register(&ev[2], "ex-2", CASE_B, "CH-AVR", "f", "\3");
    int64_t exists = cf_test_calls(f, "exists"), types = cf_test_calls(f, "type");
    apply_counting(f, f->store, &ev[0], "a");
    assert_int_equal(cf_test_calls(f, "exists"), exists);              /* none asked */
    assert_true(cf_test_calls(f, "type") > types);
    assert_non_null(strstr(cf_test_case_state(f, atoi(CASE_A_SHARD), CASE_A), "applied=1 "));
    cf_test_integer(f, "HSET cf:{s%s}:case:%s bits 1", CASE_B_SHARD, CASE_B);  /* not a state */
    char *before = strdup(cf_test_dump(f, 1));
    cf_ack_status_t status;
    assert_int_equal(cf_store_apply(f->store, &ev[1], 1, &status), -1);
    assert_non_null(strstr(cf_store_error(f->store), CASE_B));
    assert_non_null(strstr(cf_store_error(f->store), "holds a hash, not a string"));
    assert_string_equal(before, cf_test_dump(f, 1));
    free(before);
    exists = cf_test_calls(f, "exists");
    assert_int_equal(cf_store_apply(f->store, &ev[2], 1, &status), -1);    /* asked */
    assert_int_equal(cf_test_calls(f, "exists"), exists + 1);
}

/* The owner's cache assumes only the owner writes its shard's counters; an
   unfenced commit of the shard (the broker could not record its new
   owner's epoch) writes them all the same. Its stamp in the owner record,
   read by the owner's next commit, drops the owner's cache: the counters
   are read again, nothing lost (with the cache, the owner set them back
   to its own values). */
static void test_unfenced_commit_refuses_the_owners_cache(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    unsigned s = owned_fundings(f, f->store, ev, 3, "uc-", (int64_t[]) { 5, 7, 11 });
    cf_ack_status_t status;
    if (cf_store_apply(f->store, &ev[0], 1, &status) < 0)     /* the owner's cache fills */
        fail_msg("%s", cf_store_error(f->store));
    cf_store_t *unfenced = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), f->script_dir);
    if (cf_store_apply(unfenced, &ev[1], 1, &status) < 0)
        fail_msg("%s", cf_store_error(unfenced));
    cf_store_destroy(&unfenced);
    assert_true(apply_counting(f, f->store, &ev[2], "a").hmget > 2);  /* the counters too */
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 2300);
    /* the stamp is known now: the next commit trusts its cache again */
    cf_event_t more;
    cf_test_funding(f, &more, "ud-", 13, (int) s);
    assert_int_equal(apply_counting(f, f->store, &more, "a").hmget, 2);
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 3600);
}

/* A fenced store's second batch of a shard reads no counter it wrote in the
   first: its check round is empty (the read round's WATCH and the HMGETs
   of the owner record and the marker bucket are all it sends before MULTI), where an unfenced
   store watches and reads the counter hashes again; what both write is the
   same. */
static void test_owner_cache_spares_the_checks(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    owned_fundings(f, f->store, ev, 2, "oc-", (int64_t[]) { 5, 7 });
    apply_counting(f, f->store, &ev[0], "a");
    sent_t fenced = apply_counting(f, f->store, &ev[1], "a");
    assert_int_equal(fenced.hmget, 2);          /* the owner record's, the markers', no counter's */
    assert_int_equal(fenced.type, 0);
    assert_int_equal(fenced.watch, 1);          /* the read round's */
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 1200);
    static const char *const families[] = { "funding", "quality", "stage" };
    enum { FAMILIES = sizeof families / sizeof *families };
    char *cached[FAMILIES];
    for (size_t i = 0; i < FAMILIES; i++)
        cached[i] = strdup(cf_test_family_nonzero(f, families[i]));

    cf_test_integer(f, "FLUSHALL");             /* the same, unfenced */
    cf_store_clear_fences(f->store);
    apply_counting(f, f->store, &ev[0], "a");
    sent_t full = apply_counting(f, f->store, &ev[1], "a");
    assert_true(full.hmget > 1);
    assert_int_equal(full.watch, 2);            /* the reads', the counters' */
    for (size_t i = 0; i < FAMILIES; i++) {
        assert_string_equal(cached[i], cf_test_family_nonzero(f, families[i]));
        free(cached[i]);
    }
}

/* The owner fires its shard's overdue alerts (cf_store_fire_due): that
   commit writes no counter, so its next batch still trusts its cache, as
   after another worker's firing. */
static void test_owner_cache_kept_by_its_timer(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    unsigned s = (unsigned) atoi(CASE_A_SHARD);
    cf_test_default_rules(f->store);
    assert_int_equal(cf_store_set_clock(f->store, T0), 0);  /* its deadline: the timer's */
    cf_test_register(&ev[0], "ot-r", CASE_A, "CH-AVR", "f", "\3");    /* a deadline in s */
    cf_test_funding(f, &ev[1], "ot-", 5, (int) s);
    cf_test_funding(f, &ev[2], "ou-", 7, (int) s);
    cf_test_integer(f, "HSET cf:{s%u}:owner epoch 3 worker w1", s);
    cf_store_set_fence(f->store, s, 3);
    cf_ack_status_t status[2];
    if (cf_store_apply(f->store, ev, 2, status) < 0)    /* the owner's cache fills */
        fail_msg("%s", cf_store_error(f->store));
    cf_store_clear_fences(f->store);                    /* as after its job */
    unsigned fired;
    assert_int_equal(cf_store_fire_due(f->store, T0 + 61 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 1);
    cf_store_set_fence(f->store, s, 3);
    assert_int_equal(apply_counting(f, f->store, &ev[2], "a").hmget, 2);    /* no counter's */
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 1200);
}

/* The cache is the epoch's: a commit under another epoch (the broker gave
   the shard again) reads the counters again, then keeps them for the
   next. */
static void test_owner_cache_dropped_on_a_new_epoch(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    unsigned s = owned_fundings(f, f->store, ev, 3, "oe-", (int64_t[]) { 5, 7, 9 });
    apply_counting(f, f->store, &ev[0], "a");
    /* what another owner wrote in between: seen under the new epoch */
    cf_test_integer(f, "HSET cf:{s%u}:funding " FUNDING_ROW " 0,100000", s);
    cf_test_integer(f, "HSET cf:{s%u}:owner epoch 4", s);
    cf_store_set_fence(f->store, s, 4);
    assert_true(apply_counting(f, f->store, &ev[1], "a").hmget > 2);
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 100700);
    assert_int_equal(apply_counting(f, f->store, &ev[2], "a").hmget, 2);
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 101600);
}

/* Just before the fenced store's MULTI: its owner record is touched (EXEC
   answers nil) and the counter is edited. */
static void touch_owner(void *arg)
{
    const int *port = arg;
    redisContext *c = redisConnect("127.0.0.1", *port);
    if (!c || c->err)
        _exit(3);
    unsigned s = (unsigned) port[1];
    freeReplyObject(redisCommand(c, "HSET cf:{s%u}:owner worker w1-again", s));
    freeReplyObject(redisCommand(c, "HSET cf:{s%u}:funding " FUNDING_ROW " 0,100000", s));
    redisFree(c);
}

/* EXEC's nil drops the cache: the attempt again reads the counters, so
   that the value written adds to what Redis holds, not to what the cache
   held. */
static void test_owner_cache_dropped_on_exec_nil(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    unsigned s = owned_fundings(f, f->store, ev, 2, "on-", (int64_t[]) { 5, 4242 });
    int args[2] = { cf_test_redis_port(f->redis), (int) s };
    int port = 0;
    /* the second batch's counter value, as the cache has it (500 + 424200),
       is in its commit only */
    pid_t relay = cf_test_relay_start(&port, args[0], "424700", touch_owner, args);
    cf_store_t *store = cf_store_new("127.0.0.1", port, f->script_dir);
    cf_store_set_fence(store, s, 3);
    apply_counting(f, store, &ev[0], "a");
    apply_counting(f, store, &ev[1], "a");
    assert_int_equal(cf_store_conflicts(store), 1);
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 524200);
    cf_store_destroy(&store);
    kill(relay, SIGKILL);
    cf_test_relay_reap(relay);
}

/* A connection dropped, whichever call saw it, drops every shard's cache:
   the next connection may reach a Redis that lost writes but kept the
   owner records (here, the counter set back by hand while the store was
   away), and the fenced shard's next commit reads its counters again. */
static void test_owner_cache_dropped_with_the_connection(void **state)
{
    fixture_t *f = *state;
    signal(SIGPIPE, SIG_IGN);
    cf_event_t ev[2], other;
    unsigned s = owned_fundings(f, f->store, ev, 2, "oy-", (int64_t[]) { 5, 7 });
    cf_test_register(&other, "oy-b", CASE_B, "CH-AVR", "m", "\3");
    assert_int_not_equal(cf_store_shard_of(f->store, &other), s);
    int port = 0, redis = cf_test_redis_port(f->redis);
    pid_t relay = cf_test_relay_start(&port, redis, NULL, NULL, NULL);
    cf_store_t *store = cf_store_new("127.0.0.1", port, f->script_dir);
    cf_store_set_fence(store, s, 3);
    apply_counting(f, store, &ev[0], "a");
    kill(relay, SIGKILL);
    cf_test_relay_reap(relay);
    relay = cf_test_relay_start(&port, redis, NULL, NULL, NULL);
    cf_test_integer(f, "HSET cf:{s%u}:funding " FUNDING_ROW " 0,100000", s);
    cf_ack_status_t status;
    assert_int_equal(cf_store_apply(store, &other, 1, &status), -1);  /* another shard's call */
    assert_int_equal(cf_store_error_code(store), CF_STORE_ERR_IO);
    assert_true(apply_counting(f, store, &ev[1], "a").hmget > 2);
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 100700);
    cf_store_destroy(&store);
    kill(relay, SIGKILL);
    cf_test_relay_reap(relay);
}

/* A counter the cache knows is checked as strictly as one read: a batch
   that would take it past a signed 64-bit integer is refused, with the
   same words, and nothing of it written. */
static void test_owner_cache_refuses_an_overflow(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    cf_ack_status_t status;
    unsigned s = owned_fundings(f, f->store, ev, 2, "ov-",
                                (int64_t[]) { 1000000000000LL, 1000000000000LL });
    cf_test_integer(f, "HSET cf:{s%u}:funding " FUNDING_ROW " 0,9223222036854775807", s);
    apply_counting(f, f->store, &ev[0], "a");
    assert_int_equal(cf_test_get(f, "funding", FUNDING_VALUE), 9223322036854775807LL);
    char *before = strdup(cf_test_dump(f, 1));
    long long hmget = cf_test_calls(f, "hmget");
    assert_int_equal(cf_store_apply(f->store, &ev[1], 1, &status), -1);
    /* the owner's, the markers': the counter's value is the cache's */
    assert_int_equal(cf_test_calls(f, "hmget") - hmget, 2);
    char want[200];
    snprintf(want, sizeof want, "counter would overflow: cf:{s%u}:funding " FUNDING_VALUE
             " (9223322036854775807 + 100000000000000)", s);
    assert_non_null(strstr(cf_store_error(f->store), want));
    assert_string_equal(before, cf_test_dump(f, 1));
    free(before);
}

/* A counter hash the owner's cache vouches for, set to a string behind the
   owner's back (an operator's mistake): the read round's type probe
   answers WRONGTYPE, the cache is dropped, and the batch is refused whole
   with the check round's words, nothing of it written. Without the probe
   the cache spared the check, and EXEC wrote everything but that HSET: a
   marker without its counts. */
static void test_owner_cache_probes_its_keys(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    cf_ack_status_t status;
    unsigned s = owned_fundings(f, f->store, ev, 2, "op-", (int64_t[]) { 5, 7 });
    apply_counting(f, f->store, &ev[0], "a");           /* the cache fills */
    cf_test_integer(f, "SET cf:{s%u}:funding not-a-hash", s);
    char *before = strdup(cf_test_dump(f, 1));
    assert_int_equal(cf_store_apply(f->store, &ev[1], 1, &status), -1);
    char want[120];
    snprintf(want, sizeof want, "WRONGTYPE commit: cf:{s%u}:funding holds a string, not a hash", s);
    assert_non_null(strstr(cf_store_error(f->store), want));
    assert_string_equal(before, cf_test_dump(f, 1));   /* no marker, no state: nothing */
    free(before);
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
        cmocka_unit_test_setup_teardown(test_claim_fences_an_older_connection,
                                        cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_unfenced_commit_fences_the_owners,
                                        cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_timer_refuses_the_owners_transaction,
                                        cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_unfenced_commit_refuses_the_owners_cache,
                                        cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_new_case_needs_no_type_check, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_exists_only_with_a_registration,
                                        cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_owner_cache_spares_the_checks, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_owner_cache_kept_by_its_timer, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_owner_cache_dropped_on_a_new_epoch,
                                        cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_owner_cache_dropped_on_exec_nil, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_owner_cache_probes_its_keys, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_owner_cache_refuses_an_overflow, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_owner_cache_dropped_with_the_connection,
                                        cf_test_store_setup, cf_test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
