/*  libFuzzer harness: the broker's worker socket (READY, DONE, HEARTBEAT,
    BYE), as cf_broker.c reads them: cf_frames for the envelope, then
    cf_proto_parse_ready for a READY body and cf_proto_unpack_acks for the
    ack array a DONE carries. Input: frames as in fuzz_frames.h.          */
#include "fuzz_frames.h"
#include "caseflow/cf_frames.h"
#include "caseflow/cf_proto.h"

#include <assert.h>
#include <string.h>

static cf_ack_t s_acks[CF_PROTO_MAX_EVENTS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_parts_t *parts;
    if (!parts)
        parts = cf_parts_new(64);
    fuzz_frames_fill(parts, data, size);
    uint64_t job_id;
    cf_ready_t ready;
    msgpack_unpacked result;
    switch (cf_frames_worker_command(parts)) {
    case CF_FRAMES_READY:
        cf_proto_parse_ready(cf_parts_size(parts) > 3 ? cf_parts_data(parts, 3) : NULL,
                             cf_parts_size(parts) > 3 ? cf_parts_len(parts, 3) : 0, &ready);
        assert(memchr(ready.host, '\0', sizeof ready.host));
        break;
    case CF_FRAMES_DONE:
        if (cf_frames_parse_done(parts, &job_id) < 0)
            break;
        msgpack_unpacked_init(&result);
        int n = cf_proto_unpack_acks(&result, cf_parts_data(parts, 4), cf_parts_len(parts, 4),
                                     s_acks, CF_PROTO_MAX_EVENTS);
        assert(n <= CF_PROTO_MAX_EVENTS);
        for (int i = 0; i < n; i++)
            assert(s_acks[i].status < CF_ACK_STATUS_COUNT);
        msgpack_unpacked_destroy(&result);
        break;
    default:
        break;
    }
    return 0;
}
