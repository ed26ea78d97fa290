/*  libFuzzer harness: the producer's replies (ACK, ERROR), as cf_client
    reads them: cf_msg_parse_reply, then cf_msg_unpack_acks on an ACK's
    body; the same frames as a subscriber's SNAPSHOT answer
    (cf_msg_parse_snapshot). Input: frames as in fuzz_frames.h.            */
#include "fuzz_frames.h"
#include "caseflow/cf_msg.h"

#include <assert.h>

static cf_ack_t s_acks[CF_MSG_MAX_EVENTS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_multipart_t *parts;
    if (!parts)
        parts = cf_multipart_new(8);    /* as the client's */
    fuzz_frames_fill(parts, data, size);
    cf_msg_reply_t reply;
    if (cf_msg_parse_snapshot(parts, &reply) == 0)
        assert(cf_multipart_size(parts) == 4 && reply.request_id);
    if (cf_msg_parse_reply(parts, &reply) < 0 || !reply.is_ack)
        return 0;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int n = cf_msg_unpack_acks(&result, reply.body, reply.body_len, s_acks, CF_MSG_MAX_EVENTS);
    for (int i = 0; i < n; i++) {
        assert(s_acks[i].status < CF_ACK_STATUS_COUNT);
        assert(!s_acks[i].reason_len || s_acks[i].reason);
    }
    msgpack_unpacked_destroy(&result);
    return 0;
}
