/*  Tests of cf_store_events: a batch's marker digests and buckets, worked
    out with each case's bucket once (cf_store_eid_digests, through
    cf_store_group), are each event's own (cf_store_eid_digest), however
    the batch's cases repeat and share the table's probe runs; and the
    batch laid out by shard (cf_store_group: the store's cf_store_batch_t).
    No Redis: the store is never connected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_event.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"

enum { CASES = 400, EVENTS = 1000 };

static void test_batch_digests_are_each_events(void **unused)
{
    (void) unused;
    cf_store_t *store = cf_store_new("127.0.0.1", 1, "/nonexistent");
    cf_event_t *events = calloc(EVENTS, sizeof *events);
    assert_non_null(events);
    for (int i = 0; i < EVENTS; i++) {
        cf_event_t *e = &events[i];
        bool flow = i % 10 == 9;        /* an event without a case now and then */
        e->type = flow ? CF_EV_FLOW_OBSERVED : CF_EV_CASE_REGISTERED;
        e->shard_hash = (uint64_t) i * 2654435761u;
        snprintf(e->event_id, sizeof e->event_id, "ev-%d", i);
        if (!flow)
            snprintf(e->case_id, sizeof e->case_id, "%032x", (unsigned) (i * 7 % CASES));
    }
    cf_store_group(store, events, EVENTS);
    for (int i = 0; i < EVENTS; i++) {
        unsigned char want[CF_KEYS_EID_DIGEST];
        assert_int_equal(store->batch->buckets[i], cf_store_eid_digest(&events[i], want));
        assert_memory_equal(store->batch->digests[i], want, sizeof want);
    }
    /* a next batch, smaller, of other cases: the table is cleared between
       batches (a slot left from the first would name an event past this
       batch's end) */
    cf_event_t *next = calloc(20, sizeof *next);
    assert_non_null(next);
    for (int i = 0; i < 20; i++) {
        next[i].type = CF_EV_CASE_REGISTERED;
        snprintf(next[i].event_id, sizeof next[i].event_id, "next-%d", i);
        snprintf(next[i].case_id, sizeof next[i].case_id, "%032x", (unsigned) (CASES + i % 7));
    }
    cf_store_group(store, next, 20);
    for (int i = 0; i < 20; i++) {
        unsigned char want[CF_KEYS_EID_DIGEST];
        assert_int_equal(store->batch->buckets[i], cf_store_eid_digest(&next[i], want));
    }
    free(next);
    free(events);
    cf_store_destroy(&store);
}

/* cf_store_group lays a batch out by shard: the groups in shard order,
   each the events of its shard in their order, the same again for a
   larger batch (the batch's arrays grow); cf_store_batch_destroy nulls. */
static void test_batch_grouped_by_shard(void **unused)
{
    (void) unused;
    cf_store_t *store = cf_store_new("127.0.0.1", 1, "/nonexistent");
    for (int count = 50; count <= 3000; count *= 60) {
        cf_event_t *events = calloc((size_t) count, sizeof *events);
        assert_non_null(events);
        for (int i = 0; i < count; i++) {
            events[i].type = CF_EV_CASE_REGISTERED;
            events[i].shard_hash = (uint64_t) i * 2654435761u;
            snprintf(events[i].event_id, sizeof events[i].event_id, "g-%d", i);
            snprintf(events[i].case_id, sizeof events[i].case_id, "%032x", (unsigned) i);
        }
        cf_store_group(store, events, (size_t) count);
        const cf_store_batch_t *batch = store->batch;
        assert_true(batch->groups > 0);
        assert_int_equal(batch->start[0], 0);
        assert_int_equal(batch->start[batch->groups], count);
        for (size_t g = 0; g < batch->groups; g++) {
            assert_true(batch->start[g] < batch->start[g + 1]);
            if (g)
                assert_true(batch->group_shard[g - 1] < batch->group_shard[g]);
            for (size_t k = batch->start[g]; k < batch->start[g + 1]; k++) {
                size_t i = batch->order[k];
                assert_int_equal(cf_store_shard_of(store, &events[i]), batch->group_shard[g]);
                if (k > batch->start[g])
                    assert_true(batch->order[k - 1] < i);
            }
        }
        free(events);
    }
    cf_store_destroy(&store);
    assert_null(store);
    cf_store_batch_t *batch = cf_store_batch_new();
    cf_store_batch_destroy(&batch);
    assert_null(batch);
    cf_store_batch_destroy(&batch);     /* NULL is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_digests_are_each_events),
        cmocka_unit_test(test_batch_grouped_by_shard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
