/*  libFuzzer harness: the broker's intake frames (PUSH and SNAPSHOT), as
    cf_broker_intake.c reads them: [routing id, CF01, command, request id,
    events...] through cf_msg. Input: frames as in fuzz_frames.h.          */
#include "fuzz_frames.h"
#include "caseflow/cf_msg.h"

#include <assert.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_multipart_t *parts;
    if (!parts)
        parts = cf_multipart_new(4 + CF_MSG_MAX_EVENTS + 1);  /* as the broker's */
    fuzz_frames_fill(parts, data, size);
    if (cf_multipart_size(parts) == 0)
        return 0;           /* a ROUTER always has the routing id */
    const void *rid;
    size_t rid_len;
    cf_msg_request_id(parts, &rid, &rid_len);
    assert(rid && rid_len <= CF_MSG_MAX_REQ_ID);
    if (cf_msg_is_snapshot(parts)) {
        /* what passes has an id of 1 to 64 bytes, the one echoed */
        if (!cf_msg_check_snapshot(parts))
            assert(rid_len >= 1 && rid_len == cf_multipart_len(parts, 3));
        return 0;
    }
    char reason[128];
    const char *error = cf_msg_check_push(parts, reason, sizeof reason);
    if (!error) {
        size_t events = cf_multipart_size(parts) - 4;
        assert(events >= 1 && events <= CF_MSG_MAX_EVENTS && !cf_multipart_truncated(parts));
    } else {
        assert(strlen(error) < sizeof reason);
    }
    return 0;
}
