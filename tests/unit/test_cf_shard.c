/*  Tests of cf_shard: FNV-1a 64 against its published vectors; the worked
    example of docs/protocol.md ("Shards"); the rule applied to a frame (the
    broker's way) and by cf_event_decode (the worker's) giving the same hash
    for every kind of event, before the case_ref is pseudonymised; frames
    the rule cannot read; the rule's header walk giving what decoding the
    whole frame gave (tests/helpers/cf_test_unpack.h) on the bench's events,
    on every prefix and on byte changes of them.                            */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_event.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_shard.h"
#include "cf_bench_gen.h"
#include "cf_test_unpack.h"

static void test_hash_and_pick(void **state)
{
    (void) state;
    /* the FNV reference vectors (offset basis; "a"; "foobar") */
    assert_true(cf_shard_hash("", 0) == UINT64_C(0xcbf29ce484222325));
    assert_true(cf_shard_hash("a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
    assert_true(cf_shard_hash("foobar", 6) == UINT64_C(0x85944171f73967e8));
    /* docs/protocol.md's worked example */
    assert_true(cf_shard_hash("BEL-2019-000123", 15) == UINT64_C(0x5fe940bcf09f58a2));
    assert_int_equal(cf_shard_pick(UINT64_C(0x5fe940bcf09f58a2), 64), 34);
    assert_int_equal(cf_shard_pick(UINT64_C(0x5fe940bcf09f58a2), 8), 2);
    assert_int_equal(cf_shard_pick(UINT64_C(0x5fe940bcf09f58a2), 1), 0);
    assert_int_equal(cf_shard_by("case.closed", 11), CF_SHARD_BY_CASE_REF);
    assert_int_equal(cf_shard_by("flow.observed", 13), CF_SHARD_BY_ROUTE);
    assert_int_equal(cf_shard_by("funding.transaction", 19), CF_SHARD_BY_EVENT_ID);
    assert_int_equal(cf_shard_by("case", 4), CF_SHARD_BY_EVENT_ID);
}

/* The hash of the frame of json by both ways; they must agree, and equal
   the hash of key. */
static void check_agree(const char *json, const char *key)
{
    cf_json_t *j = cf_json_new();
    assert_int_equal(cf_json_to_msgpack(j, json, strlen(json), CF_JSON_OBJECT), 0);
    size_t size;
    const void *frame = cf_json_msgpack(j, &size);
    uint64_t broker = 0;
    assert_int_equal(cf_shard_of_frame(frame, size, &broker), 0);
    cf_event_t event;
    char reason[CF_REASON_MAX];
    if (cf_event_decode(&event, frame, size, reason, sizeof reason) < 0)
        fail_msg("%s", reason);
    assert_true(event.shard_hash == broker);
    assert_true(broker == cf_shard_hash(key, strlen(key)));
    cf_json_destroy(&j);
}

static void test_frame_and_decoder_agree(void **state)
{
    (void) state;
    check_agree("{\"event_id\":\"e-1\",\"event_type\":\"case.registered\",\"schema_version\":1,"
                "\"occurred_at\":1546327920000,\"case_ref\":\"BEL-2019-000123\",\"case_seq\":1,"
                "\"programme\":\"CH-AVR\",\"programme_type\":\"avrr\",\"host_country\":\"CHE\","
                "\"origin_country\":\"MKD\",\"route\":\"western_balkans\","
                "\"persons\":[{\"sex\":\"m\",\"age_band\":\"18-59\",\"role\":\"principal\"}]}",
                "BEL-2019-000123");
    check_agree("{\"event_id\":\"e-2\",\"event_type\":\"case.closed\",\"schema_version\":1,"
                "\"occurred_at\":1546327920000,\"case_ref\":\"BEL-2019-000123\",\"case_seq\":2,"
                "\"reason\":\"completed\"}", "BEL-2019-000123");
    check_agree("{\"event_id\":\"e-3\",\"event_type\":\"flow.observed\",\"schema_version\":1,"
                "\"occurred_at\":1546884000000,\"point\":\"Lampedusa\",\"country\":\"ITA\","
                "\"from_country\":\"LBY\",\"to_country\":\"ITA\",\"route\":\"central_mediterranean\","
                "\"count\":845}", "central_mediterranean");
    check_agree("{\"event_id\":\"e-4\",\"event_type\":\"flow.observed\",\"schema_version\":1,"
                "\"occurred_at\":1546884000000,\"point\":\"Ventimiglia\",\"country\":\"ITA\","
                "\"from_country\":\"ITA\",\"to_country\":\"FRA\",\"count\":367}", "-");
    check_agree("{\"event_id\":\"e-5\",\"event_type\":\"funding.transaction\",\"schema_version\":1,"
                "\"occurred_at\":1547287200000,\"project_id\":\"XM-DAC-47066\",\"donor\":\"INL\","
                "\"transaction_type\":11,\"value\":650000.0,\"currency\":\"USD\"}", "e-5");
}

static void test_unreadable_frames(void **state)
{
    (void) state;
    uint64_t hash = 7;
    assert_int_equal(cf_shard_of_frame(NULL, 0, &hash), -1);
    assert_int_equal(cf_shard_of_frame("\xc1", 1, &hash), -1);             /* not msgpack */
    assert_int_equal(cf_shard_of_frame("\x91\x01", 2, &hash), -1);         /* not a map */
    /* {"event_type": 1} and {"event_type": "case.x", "case_ref": 5} */
    assert_int_equal(cf_shard_of_frame("\x81\xaa" "event_type\x01", 13, &hash), -1);
    assert_int_equal(cf_shard_of_frame("\x82\xaa" "event_type\xa6" "case.x\xa8" "case_ref\x05",
                                       29, &hash), -1);
    /* a case event without its case_ref */
    assert_int_equal(cf_shard_of_frame("\x81\xaa" "event_type\xa6" "case.x", 19, &hash), -1);
    assert_int_equal(hash, 7);
}

/* The rule on size bytes at data: the same answer, and hash, as decoding
   the whole frame. */
static void check_same(const void *data, size_t size, const char *what, size_t index)
{
    uint64_t now = 1, before = 1;
    int rc = cf_shard_of_frame(data, size, &now);
    if (rc != cf_test_shard_of_frame(data, size, &before) || now != before)
        fail_msg("%s %zu (%zu bytes): rc %d, hash %016llx, was %016llx", what, index, size, rc,
                 (unsigned long long) now, (unsigned long long) before);
}

static void test_same_as_decoding(void **state)
{
    (void) state;
    cf_bench_gen_t *gen = cf_bench_gen_new(1, 0);
    cf_bench_gen_fill(gen, 5000);
    unsigned char copy[4096];
    for (size_t i = 0; i < cf_bench_gen_size(gen); i++) {
        size_t size;
        const unsigned char *data = cf_bench_gen_data(gen, i, &size);
        uint64_t hash;
        assert_int_equal(cf_shard_of_frame(data, size, &hash), 0);
        check_same(data, size, "event", i);
        if (i % 50)
            continue;
        assert_true(size < sizeof copy);
        for (size_t cut = 0; cut < size; cut++)
            check_same(data, cut, "prefix of event", i);
        memcpy(copy, data, size);
        for (size_t at = 0; at < size; at++) {      /* each byte changed, a few ways */
            static const unsigned char to[] = { 0x00, 0x7f, 0x80, 0x8f, 0x91, 0xa0, 0xa8,
                                                0xbf, 0xc0, 0xc1, 0xc4, 0xd9, 0xdc, 0xde,
                                                0xdf, 0xff };
            for (size_t t = 0; t < sizeof to; t++) {
                copy[at] = to[t];
                check_same(copy, size, "changed event", i);
            }
            copy[at] = data[at];
        }
    }
    cf_bench_gen_destroy(&gen);
    /* the key before its type, twice, of the wrong type, nested, and bytes after */
    static const struct { const char *bytes; size_t size; } odd[] = {
        { "\x82\xa8" "case_ref\xa1" "c\xaa" "event_type\xa6" "case.x", 30 },
        { "\x83\xaa" "event_type\xa6" "case.x\xa8" "case_ref\xa1" "c\xa8" "case_ref\xa1" "d",
          41 },
        { "\x83\xaa" "event_type\xa6" "case.x\xa8" "case_ref\x01\xa8" "case_ref\xa1" "d",
          40 },
        { "\x82\xaa" "event_type\xad" "flow.observed\xa5" "route\xc0", 33 },
        { "\x81\xaa" "event_type\xad" "flow.observed", 26 },
        { "\x82\xaa" "event_type\xa1" "f\xa8" "event_id\x81\xa8" "event_id\xa1" "e", 35 },
        { "\x82\xaa" "event_type\xa1" "f\xa8" "event_id\xa1" "e\xc0", 26 },
        { "\x82\xaa" "event_type\xc4\x01" "f\xa8" "event_id\xa1" "e", 26 },
    };
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
        for (size_t size = 0; size <= odd[i].size; size++)
            check_same(odd[i].bytes, size, "odd frame", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_pick),
        cmocka_unit_test(test_frame_and_decoder_agree),
        cmocka_unit_test(test_unreadable_frames),
        cmocka_unit_test(test_same_as_decoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
