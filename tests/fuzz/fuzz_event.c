/*  libFuzzer harness: the event decoder and validator (cf_event_decode),
    the code every worker runs on every event frame a producer sends. The
    input is one event frame. On success the event must not keep more than
    the schema allows; on failure the reason must be printable ASCII.      */
#include "caseflow/cf_event.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cf_event_t event;
    char reason[CF_REASON_MAX];
    int rc = cf_event_decode(&event, data, size, reason, sizeof reason);
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
