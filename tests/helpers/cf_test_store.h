/*  Helpers for tests of cf_store: hand-built events, an apply that collects
    statuses and notifications, and text snapshots of what Redis holds (a
    family summed over shards, one hash, the whole database) so that tests
    can compare exact contents. Strings returned here belong to the fixture
    and live until its teardown (cf_test_notes_clear frees them too).       */
#ifndef CF_TEST_STORE_H
#define CF_TEST_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_store.h"
#include "cf_test_redis.h"

#define RAW_REF     "RAW-CASE-REF-0042"                     /* must never reach Redis */
#define CASE_A      "a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define CASE_B      "0000000b000000000000000000000000"
/*  Their shards among 64 (cf_test_shard: FNV-1a 64 of the case_id, which
    stands in for the case_ref; unit.cf_store checks both).                 */
#define CASE_A_SHARD    "13"
#define CASE_B_SHARD    "47"
#define T0          1709251200000LL                         /* 2024-03-01T00:00:00Z */

typedef struct {
    char topic[96];
    char case_id[40], programme[40], stage[16], event_id[72];
    int64_t occurred_at;
    int persons;
    int has_raw;                /* the body holds RAW_REF somewhere */
} cf_test_note_t;

typedef struct {
    cf_test_redis_t *redis;
    cf_store_t *store;
    redisContext *raw;          /* a plain connection to inspect Redis */
    const char *script_dir;
    cf_test_note_t *notes;
    size_t note_count;
    char **garbage;             /* strings handed out, freed at clear */
    size_t garbage_count;
    char (*cursor)[48];         /* last outbox entry read, per shard */
} fixture_t;

/*  cmocka setup and teardown: a throw-away redis-server, a store with the
    tree's scripts connected to it, and a plain connection (f->raw).        */
int cf_test_store_setup(void **state);
int cf_test_store_teardown(void **state);
/*  Hands store the default rules (cf_rules_new), as a worker without a
    rules file.                                                             */
void cf_test_default_rules(cf_store_t *store);

/*  A case.registered of persons (sexes "fmu...", one age band index per
    person in bands), host CHE, origin SRB, route central_mediterranean,
    case_ref RAW_REF, occurred_at T0.                                      */
void cf_test_register(cf_event_t *ev, const char *id, const char *case_id, const char *programme,
                      const char *sexes, const char *bands);

#define HOUR        3600000LL
#define DAY         (24 * HOUR)

/*  Sets the event's occurred_at and returns it.                            */
cf_event_t *cf_test_at(cf_event_t *ev, int64_t t);

/*  An event of any other type with only the envelope filled (case_ref RAW_REF). */
void cf_test_stage(cf_event_t *ev, const char *id, const char *case_id, cf_event_type_t type);

/*  A funding transaction of `value` (donor US, in USD, on T0's day): a
    stateless event whose counters are the same fields each time, with an
    event_id "<prefix><n>" that puts it in shard s (any when s < 0), by
    f->store's count; its shard.                                           */
unsigned cf_test_funding(fixture_t *f, cf_event_t *ev, const char *prefix, int64_t value, int s);

/*  Sets each event's shard_hash as cf_event_decode would, the case_id
    standing in for the case_ref (every hand-built event has case_ref
    RAW_REF): the helpers that build events call it, and cf_test_apply
    again, for events changed since.                                        */
void cf_test_shard(cf_event_t *ev, size_t n);

/*  test_cf_store_families's set for order independence: thirteen events of
    each of twelve cases (two departures, arrivals, detentions and releases
    each, a referral, values and risks); returns how many (CF_TEST_ORDER_EVENTS). */
#define CF_TEST_ORDER_EVENTS    (12 * 13)
size_t cf_test_order_events(cf_event_t *ev);

/*  Shuffles n events with rand_r(seed).                                     */
void cf_test_shuffle(cf_event_t *ev, size_t n, unsigned *seed);

/*  A flow.observed of count on route western_balkans, day days after T0.   */
cf_event_t *cf_test_flow(cf_event_t *ev, const char *id, int day, uint64_t count);

/*  Applies; fails the test unless it returns 0. Returns one char per event:
    'a' accepted, 'd' duplicate. The notifications the outboxes got are
    appended to f->notes (shard by shard, in order within a shard).        */
const char *cf_test_apply(fixture_t *f, cf_event_t *events, size_t count);

/*  "name=value " for every field of the family summed over the shards, in
    name order; _nonzero leaves out the fields that sum to 0.              */
const char *cf_test_family(fixture_t *f, const char *family);
const char *cf_test_family_nonzero(fixture_t *f, const char *family);
int64_t cf_test_get(fixture_t *f, const char *family, const char *name);
int cf_test_has(fixture_t *f, const char *family, const char *name);
size_t cf_test_count_words(const char *text);

/*  "topic topic " in emission order, or sorted.                            */
const char *cf_test_topics(fixture_t *f);
const char *cf_test_sorted_topics(fixture_t *f);

/*  "field=value " of one hash, in field order.                             */
const char *cf_test_hgetall(fixture_t *f, const char *key);
/*  The state of case_id in shard, as cf_fold_describe_case writes it ("a=b "
    pairs, sorted); NULL when Redis holds none.                             */
const char *cf_test_case_state(fixture_t *f, unsigned shard, const char *case_id);

/*  Every key (everything = 0: without eid and quality keys) and its value,
    in key order; a case state as cf_fold_describe_case writes it. Never the
    owner records, which hold stamps that differ from run to run.           */
const char *cf_test_dump(fixture_t *f, int everything);

/*  How many keys have part in their name.                                  */
size_t cf_test_count_keys(fixture_t *f, const char *part);

/*  The generation event's dedupe marker was written in; -1 when there is
    none.                                                                    */
int64_t cf_test_marker(fixture_t *f, const cf_event_t *event);

/*  Redis's clock over eid_ttl: the markers' generation now.                 */
int64_t cf_test_generation(fixture_t *f, uint32_t eid_ttl);

/*  How many dedupe markers there are, and in how many keys (*keys).       */
int64_t cf_test_markers(fixture_t *f, int64_t *keys);

/*  Runs a command on f->raw; its integer reply (0 for a status reply).    */
int64_t cf_test_integer(fixture_t *f, const char *format, ...);

/*  How many times Redis ran command `name` (lower case), from INFO
    commandstats: 0 for one it has not run.                                 */
int64_t cf_test_calls(fixture_t *f, const char *name);


/*  Forgets the notifications and frees the strings handed out.            */
void cf_test_notes_clear(fixture_t *f);

#endif
