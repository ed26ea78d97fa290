/*  cf_store_probes, against a real redis-server: a fenced shard's read
    round probes the types of only the fixed keys its events' types have
    written, and a key the owner's cache vouches for that the read round did
    not probe is checked by the commit before its first write, so that a
    key set to another type behind the owner's back still refuses the batch
    whole (docs/storage.md, "The owner's cache").                           */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_store.h"
#include "cf_test_store.h"

typedef struct {
    int64_t hlen, xlen, zcard, type;
} probes_t;

static probes_t probes_now(fixture_t *f)
{
    return (probes_t) { cf_test_calls(f, "hlen"), cf_test_calls(f, "xlen"),
                        cf_test_calls(f, "zcard"), cf_test_calls(f, "type") };
}

/* Applies n events in one call, all accepted or all duplicate (want[0]);
   the probes and TYPE checks Redis ran for it. */
static probes_t apply_probing(fixture_t *f, cf_event_t *ev, size_t n, const char *want)
{
    probes_t before = probes_now(f);
    cf_ack_status_t status[4];
    assert_true(n <= 4);
    if (cf_store_apply(f->store, ev, n, status) < 0)
        fail_msg("%s", cf_store_error(f->store));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(status[i], want[0] == 'a' ? CF_ACK_ACCEPTED : CF_ACK_DUPLICATE);
    probes_t after = probes_now(f);
    return (probes_t) { after.hlen - before.hlen, after.xlen - before.xlen,
                        after.zcard - before.zcard, after.type - before.type };
}

/* CASE_A's shard, owned by f->store under epoch 3, with a registration of
   CASE_A and then a funding transaction applied, each alone in its batch:
   its cache vouches for the keys both wrote (stage, demo, quality, the
   deadlines, the outbox, funding), and the store knows what each type
   writes. */
static unsigned owned_and_learnt(fixture_t *f)
{
    cf_event_t reg, fund;
    cf_test_register(&reg, "pr-reg", CASE_A, "CH-AVR", "f", "\3");
    unsigned s = cf_store_shard_of(f->store, &reg);
    cf_test_integer(f, "HSET cf:{s%u}:owner epoch 3 worker w1", s);
    cf_store_set_fence(f->store, s, 3);
    apply_probing(f, &reg, 1, "a");
    cf_test_funding(f, &fund, "pr-f", 5, (int) s);
    apply_probing(f, &fund, 1, "a");
    return s;
}

/* A batch of funding transactions probes the funding hash alone, where
   the cache vouches for the registration's keys too (all of them probed
   before: four HLENs and an XLEN); a registration probes what registrations
   wrote. */
static void test_probes_what_the_types_write(void **state)
{
    fixture_t *f = *state;
    unsigned s = owned_and_learnt(f);
    cf_event_t ev[2];
    cf_test_funding(f, &ev[0], "pr-g", 7, (int) s);
    probes_t funding = apply_probing(f, ev, 1, "a");
    assert_int_equal(funding.hlen, 1);
    assert_int_equal(funding.xlen, 0);
    assert_int_equal(funding.type, 0);
    cf_test_register(&ev[1], "pr-reg2", CASE_A, "CH-AVR", "f", "\3");
    probes_t registration = apply_probing(f, &ev[1], 1, "a");
    assert_int_equal(registration.hlen, 3);     /* the three hashes registrations wrote */
    assert_int_equal(registration.xlen, 1);     /* the outbox */
    assert_int_equal(registration.type, 0);     /* nothing it wrote went unprobed */
}

/* A key the cache vouches for, written by a batch whose types never wrote
   it before (a funding transaction sent again counts a duplicate in the
   quality hash, which only a registration sent again had written), is not
   probed by the read round: the commit checks its type before its first
   write. Set to a string behind the owner's back, it refuses the batch
   whole, nothing of it written: without the check, EXEC would write the
   fresh transaction's marker and counter and fail the quality's HSET. The
   store has learnt from it: the next such batch probes the quality hash. */
static void test_unprobed_key_checked_by_the_commit(void **state)
{
    fixture_t *f = *state;
    unsigned s = owned_and_learnt(f);
    cf_event_t ev[2];
    cf_test_register(&ev[0], "pr-reg", CASE_A, "CH-AVR", "f", "\3");
    apply_probing(f, ev, 1, "d");               /* quality: vouched for */
    cf_test_funding(f, &ev[0], "pr-f", 5, (int) s);     /* owned_and_learnt's, again */
    cf_test_funding(f, &ev[1], "pr-h", 11, (int) s);
    cf_test_integer(f, "RENAME cf:{s%u}:quality cf:{s%u}:quality-kept", s, s);
    cf_test_integer(f, "SET cf:{s%u}:quality not-a-hash", s);
    char *before = strdup(cf_test_dump(f, 1));
    cf_ack_status_t status[2];
    assert_int_equal(cf_store_apply(f->store, ev, 2, status), -1);
    char want[120];
    snprintf(want, sizeof want, "WRONGTYPE commit: cf:{s%u}:quality holds a string, not a hash",
             s);
    assert_non_null(strstr(cf_store_error(f->store), want));
    assert_string_equal(before, cf_test_dump(f, 1));   /* no marker, no counter: nothing */
    free(before);

    cf_test_integer(f, "DEL cf:{s%u}:quality", s);
    cf_test_integer(f, "RENAME cf:{s%u}:quality-kept cf:{s%u}:quality", s, s);
    if (cf_store_apply(f->store, ev, 2, status) < 0)
        fail_msg("%s", cf_store_error(f->store));
    assert_int_equal(status[0], CF_ACK_DUPLICATE);
    assert_int_equal(status[1], CF_ACK_ACCEPTED);      /* the refused batch applied nothing */
    probes_t learnt = apply_probing(f, &ev[1], 1, "d");
    assert_int_equal(learnt.hlen, 2);           /* funding and quality, now */
    assert_int_equal(learnt.type, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probes_what_the_types_write, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_unprobed_key_checked_by_the_commit,
                                        cf_test_store_setup, cf_test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
