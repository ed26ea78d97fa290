/*  libFuzzer harness: the broker's worker socket (READY, DONE, HEARTBEAT,
    BYE), as cf_broker.c reads them: cf_msg for the envelope, the READY
    body (cf_msg_parse_ready) and the ack array a DONE carries
    (cf_msg_unpack_acks). Input: frames as in fuzz_frames.h.              */
#include "fuzz_frames.h"
#include "caseflow/cf_msg.h"

#include <assert.h>
#include <string.h>

static cf_ack_t s_acks[CF_MSG_MAX_JOB_EVENTS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_multipart_t *parts;
    if (!parts)
        parts = cf_multipart_new(64);
    fuzz_frames_fill(parts, data, size);
    uint64_t job_id;
    cf_msg_ready_t ready;
    msgpack_unpacked result;
    switch (cf_msg_worker_command(parts)) {
    case CF_MSG_READY:
        cf_msg_parse_ready(parts, &ready);
        assert(memchr(ready.host, '\0', sizeof ready.host));
        break;
    case CF_MSG_DONE:
        if (cf_msg_parse_done(parts, &job_id) < 0)
            break;
        msgpack_unpacked_init(&result);
        int n = cf_msg_unpack_acks(&result, cf_multipart_data(parts, 4), cf_multipart_len(parts, 4),
                                     s_acks, CF_MSG_MAX_JOB_EVENTS);
        assert(n <= CF_MSG_MAX_JOB_EVENTS);
        for (int i = 0; i < n; i++)
            assert(s_acks[i].status < CF_ACK_STATUS_COUNT);
        msgpack_unpacked_destroy(&result);
        break;
    default:
        break;
    }
    return 0;
}
