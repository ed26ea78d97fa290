/*  libFuzzer harness: the event decoder and validator (cf_event_decode),
    the code every worker runs on every event frame a producer sends. The
    input is one event frame. On success the event must not keep more than
    the schema allows; on failure the reason must be printable ASCII. The
    broker's shard rule reads the same frames: its header walk must give
    what decoding the whole frame gives (cf_test_unpack.h), for the shard
    and for cf_unpack_fields, and the decoder's shard when it decodes.      */
#include "caseflow/cf_event.h"
#include "cf_test_unpack.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cf_event_t event;
    char reason[CF_REASON_MAX];
    int rc = cf_event_decode(&event, data, size, reason, sizeof reason);
    static const char *const keys[] = { "case_ref", "route", "event_id", "event_type" };
    assert(cf_test_fields_agree(data, size, keys, 4));
    uint64_t hash = 1, before = 1;
    int shard_rc = cf_shard_of_frame(data, size, &hash);
    assert(shard_rc == cf_test_shard_of_frame(data, size, &before) && hash == before);
    assert(rc < 0 || (shard_rc == 0 && hash == event.shard_hash));
    assert(memchr(event.event_id, '\0', sizeof event.event_id));
    assert(memchr(event.case_ref, '\0', sizeof event.case_ref));
    if (rc == 0) {
        assert(event.person_count <= CF_PERSONS_MAX && event.transit_count <= CF_TRANSIT_MAX);
        assert(cf_event_type_name(event.type));
    } else {
        assert(reason[0] && !event.case_ref[0]);
        for (const char *c = reason; *c; c++)
            assert(*c >= 0x20 && *c < 0x7f);
    }
    return 0;
}
