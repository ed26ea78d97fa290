/*  libFuzzer harness: the control socket, both ends. The input as the
    broker's control socket reads a request [routing id, CF01, command,
    worker id?] (cf_msg_parse_control), and as caseflow-ctl reads a reply
    [CF01, OK|ERROR, body] (cf_msg_parse_control_reply, then the readers of
    the status, worker, pause and error bodies). Input: frames as in
    fuzz_frames.h.                                                           */
#include "fuzz_frames.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <string.h>

/* A refusal is printable ASCII; a request names a known command, and only
   DRAIN a worker (whose id the broker looks up as it is). */
static void check_request(cf_multipart_t *parts)
{
    cf_msg_control_t request;
    char reason[160];
    const char *error = cf_msg_parse_control(parts, &request, reason, sizeof reason);
    if (error) {
        for (const char *c = error; *c; c++)
            assert(*c >= 0x20 && *c < 0x7f);
        return;
    }
    assert(request.command >= CF_MSG_STATUS && request.command <= CF_MSG_RESUME);
    assert(memchr(request.worker, '\0', sizeof request.worker));
    assert(request.command == CF_MSG_DRAIN || request.worker[0] == '\0');
}

static void check_reply(cf_multipart_t *parts)
{
    cf_msg_control_reply_t reply;
    msgpack_unpacked result;
    if (cf_msg_parse_control_reply(parts, &reply) < 0)
        return;
    msgpack_unpacked_init(&result);
    if (cf_unpack(&result, reply.body, reply.body_len) == 0) {
        cf_msg_status_t status;
        cf_msg_worker_t worker;
        char reason[512];
        const msgpack_object *workers = cf_msg_read_status(&result.data, &status);
        assert(!workers || workers->via.array.size == status.workers);
        for (size_t i = 0; workers && i < status.workers; i++) {
            cf_msg_read_worker(&workers->via.array.ptr[i], &worker);
            assert(memchr(worker.id, '\0', sizeof worker.id)
                   && memchr(worker.host, '\0', sizeof worker.host));
        }
        cf_msg_read_worker(&result.data, &worker);
        cf_msg_read_paused(&result.data);
        cf_msg_read_control_error(&result.data, reason, sizeof reason);
    }
    msgpack_unpacked_destroy(&result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_multipart_t *parts;
    if (!parts)
        parts = cf_multipart_new(5);    /* as the broker's */
    fuzz_frames_fill(parts, data, size);
    if (cf_multipart_size(parts) > 0)   /* a ROUTER always has the routing id */
        check_request(parts);
    check_reply(parts);
    return 0;
}
