/*  cf_frames: the frame parsers of every socket; see cf_frames.h. Each
    checks the frame count and the fixed-size frames before it reads one,
    so that a short or truncated message is refused, never read past.      */
#include "caseflow/cf_frames.h"
#include "caseflow/cf_proto.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

bool cf_frames_is_snapshot(cf_parts_t *parts)
{
    assert(parts);
    return cf_parts_size(parts) == 4 && !cf_parts_truncated(parts)
        && cf_parts_equals(parts, 1, CF_PROTO_SIGNATURE)
        && cf_parts_equals(parts, 2, CF_CMD_SNAPSHOT);
}

void cf_frames_request_id(cf_parts_t *parts, const void **id, size_t *len)
{
    assert(parts && id && len);
    bool fits = cf_parts_size(parts) > 3 && cf_parts_len(parts, 3) <= CF_PROTO_MAX_REQ_ID;
    *id = fits ? cf_parts_data(parts, 3) : "";
    *len = fits ? cf_parts_len(parts, 3) : 0;
    if (!*id)                   /* an empty frame's data may be NULL */
        *id = "";
}

const char *cf_frames_check_push(cf_parts_t *parts, char *reason, size_t reason_size)
{
    assert(parts && reason);
    size_t count = cf_parts_size(parts);
    if (count < 2 || !cf_parts_equals(parts, 1, CF_PROTO_SIGNATURE))
        return "signature: frame 0 must be CF01";
    if (count < 3 || !cf_parts_equals(parts, 2, CF_CMD_PUSH))
        return "command: expected PUSH";
    if (count < 4 || cf_parts_len(parts, 3) == 0 || cf_parts_len(parts, 3) > CF_PROTO_MAX_REQ_ID)
        return "request_id: frame 2 must be 1 to 64 bytes";
    size_t events = count - 4;
    if (events == 0 || events > CF_PROTO_MAX_EVENTS || cf_parts_truncated(parts)) {
        snprintf(reason, reason_size, "events: a PUSH carries 1 to %d events, got %s%zu",
                 CF_PROTO_MAX_EVENTS, cf_parts_truncated(parts) ? "more than " : "", events);
        return reason;
    }
    size_t bytes = cf_frames_push_bytes(parts);
    if (bytes > CF_PROTO_MAX_PUSH_BYTES) {
        snprintf(reason, reason_size, "push_bytes: the events of a PUSH are at most %d bytes, "
                 "got %zu", CF_PROTO_MAX_PUSH_BYTES, bytes);
        return reason;
    }
    return NULL;
}

size_t cf_frames_push_bytes(cf_parts_t *parts)
{
    assert(parts);
    size_t bytes = 0;
    for (size_t i = 4; i < cf_parts_size(parts); i++)
        bytes += cf_parts_len(parts, i);
    return bytes;
}

cf_frames_worker_t cf_frames_worker_command(cf_parts_t *parts)
{
    assert(parts);
    if (cf_parts_size(parts) < 3 || !cf_parts_equals(parts, 1, CF_PROTO_SIGNATURE))
        return CF_FRAMES_NONE;
    if (cf_parts_equals(parts, 2, CF_CMD_READY))
        return CF_FRAMES_READY;
    if (cf_parts_equals(parts, 2, CF_CMD_DONE))
        return CF_FRAMES_DONE;
    if (cf_parts_equals(parts, 2, CF_CMD_HEARTBEAT))
        return CF_FRAMES_HEARTBEAT;
    if (cf_parts_equals(parts, 2, CF_CMD_BYE))
        return CF_FRAMES_BYE;
    return CF_FRAMES_NONE;
}

int cf_frames_parse_done(cf_parts_t *parts, uint64_t *job_id)
{
    assert(parts && job_id);
    if (cf_frames_worker_command(parts) != CF_FRAMES_DONE || cf_parts_size(parts) < 5
        || cf_parts_len(parts, 3) != sizeof *job_id)
        return -1;
    memcpy(job_id, cf_parts_data(parts, 3), sizeof *job_id);
    return 0;
}

int cf_frames_parse_job(cf_parts_t *parts, uint64_t *job_id, bool *redo, size_t *events)
{
    assert(parts && job_id && redo && events);
    size_t count = cf_parts_size(parts);
    if (count < 4 || cf_parts_truncated(parts) || count - 3 > CF_PROTO_MAX_EVENTS
        || !cf_parts_equals(parts, 0, CF_PROTO_SIGNATURE)
        || !(cf_parts_equals(parts, 1, CF_CMD_JOB) || cf_parts_equals(parts, 1, CF_CMD_REDO))
        || cf_parts_len(parts, 2) != sizeof *job_id)
        return -1;
    memcpy(job_id, cf_parts_data(parts, 2), sizeof *job_id);
    *redo = cf_parts_equals(parts, 1, CF_CMD_REDO);
    *events = count - 3;
    return 0;
}

int cf_frames_parse_reply(cf_parts_t *parts, cf_frames_reply_t *reply)
{
    assert(parts && reply);
    memset(reply, 0, sizeof *reply);
    size_t count = cf_parts_size(parts);
    if (count < 3 || !cf_parts_equals(parts, 0, CF_PROTO_SIGNATURE))
        return -1;
    reply->is_ack = cf_parts_equals(parts, 1, CF_CMD_ACK);
    if (reply->is_ack ? count != 4 || cf_parts_truncated(parts)
                      : !cf_parts_equals(parts, 1, CF_CMD_ERROR))
        return -1;
    reply->request_id = cf_parts_data(parts, 2);
    reply->request_id_len = cf_parts_len(parts, 2);
    if (count >= 4) {
        reply->body = cf_parts_data(parts, 3);
        reply->body_len = cf_parts_len(parts, 3);
    }
    return 0;
}

/* The value of a string key in a map, or NULL. */
static const msgpack_object *frames_get(const msgpack_object *map, const char *key)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key)
            && memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

int cf_frames_parse_notice(cf_parts_t *parts, msgpack_unpacked *body, cf_frames_notice_t *notice)
{
    assert(parts && body && notice);
    memset(notice, 0, sizeof *notice);
    size_t count = cf_parts_size(parts);
    notice->topic = count && cf_parts_len(parts, 0) ? cf_parts_data(parts, 0) : "";
    notice->topic_len = count ? cf_parts_len(parts, 0) : 0;
    if (count < 2 || cf_unpack(body, cf_parts_data(parts, 1), cf_parts_len(parts, 1)) < 0
        || body->data.type != MSGPACK_OBJECT_MAP)
        return -1;
    notice->body = &body->data;
    const msgpack_object *publisher = frames_get(&body->data, "publisher");
    const msgpack_object *seq = frames_get(&body->data, "seq");
    const msgpack_object *id = frames_get(&body->data, "id");
    if (publisher && publisher->type == MSGPACK_OBJECT_STR) {
        notice->publisher = publisher->via.str.ptr;
        notice->publisher_len = publisher->via.str.size;
    }
    if (seq && seq->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        notice->has_seq = true;
        notice->seq = seq->via.u64;
    }
    if (id && id->type == MSGPACK_OBJECT_STR) {
        notice->id = id->via.str.ptr;
        notice->id_len = id->via.str.size;
    }
    return 0;
}
