/*  cf_msg (intake): what producers and late subscribers exchange with the
    broker's intake: PUSH and its ACK, whose per-event ack list a worker
    builds, the broker forwards and a producer reads; ERROR; SNAPSHOT. See
    cf_msg.h.                                                                */
#include "cf_msg_internal.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* ---- the ack list ----------------------------------------------------- */

static const char *const s_status_names[] = {
    [CF_ACK_ACCEPTED] = "accepted", [CF_ACK_DUPLICATE] = "duplicate",
    [CF_ACK_REJECTED] = "rejected", [CF_ACK_BUSY] = "busy" };
_Static_assert(sizeof s_status_names / sizeof *s_status_names == CF_ACK_STATUS_COUNT,
               "every ack status has its name");

const char *cf_ack_status_name(cf_ack_status_t status)
{
    return status < CF_ACK_STATUS_COUNT ? s_status_names[status] : NULL;
}

int cf_ack_status_parse(const char *name, size_t len, cf_ack_status_t *status)
{
    for (int i = 0; i < CF_ACK_STATUS_COUNT; i++)
        if (strlen(s_status_names[i]) == len && memcmp(s_status_names[i], name, len) == 0) {
            *status = (cf_ack_status_t) i;
            return 0;
        }
    return -1;
}

void cf_msg_pack_acks(msgpack_sbuffer *sbuf, const cf_ack_t *acks, size_t count)
{
    assert(sbuf && (acks || count == 0));
    msgpack_packer pk;
    msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, count);
    for (size_t i = 0; i < count; i++) {
        const cf_ack_t *ack = &acks[i];
        bool has_reason = ack->status == CF_ACK_REJECTED || ack->status == CF_ACK_BUSY;
        msgpack_pack_map(&pk, has_reason ? 3 : 2);
        cf_pack_key_str(&pk, "status", cf_ack_status_name(ack->status));
        cf_pack_str(&pk, "event_id");
        cf_pack_strn_or_nil(&pk, ack->event_id, ack->event_id_len);
        if (has_reason) {
            cf_pack_str(&pk, "reason");
            cf_pack_strn(&pk, ack->reason, ack->reason ? ack->reason_len : 0);
        }
    }
}

/* Reads one ack map; -1 when it has no valid status or a key of the wrong type. */
static int unpack_ack(const msgpack_object *map, cf_ack_t *ack)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return -1;
    *ack = (cf_ack_t) { CF_ACK_STATUS_COUNT, NULL, 0, NULL, 0 };
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key, *val = &map->via.map.ptr[i].val;
        bool is_str = val->type == MSGPACK_OBJECT_STR;
        bool is_reason = cf_unpack_str_equals(key, "reason");
        if (cf_unpack_str_equals(key, "status")) {
            if (!is_str || cf_ack_status_parse(val->via.str.ptr, val->via.str.size, &ack->status) < 0)
                return -1;
        } else if (is_reason || cf_unpack_str_equals(key, "event_id")) {
            if (!is_str && val->type != MSGPACK_OBJECT_NIL)
                return -1;
            *(is_reason ? &ack->reason : &ack->event_id) = is_str ? val->via.str.ptr : NULL;
            *(is_reason ? &ack->reason_len : &ack->event_id_len) = is_str ? val->via.str.size : 0;
        }   /* other keys are ignored: a later minor version may add some */
    }
    return ack->status == CF_ACK_STATUS_COUNT ? -1 : 0;
}

int cf_msg_unpack_acks(msgpack_unpacked *result, const void *data, size_t size,
                       cf_ack_t *acks, size_t max)
{
    assert(result && acks);
    if (!data || cf_unpack(result, data, size) < 0 || result->data.type != MSGPACK_OBJECT_ARRAY
        || result->data.via.array.size > max)
        return -1;      /* cf_unpack: a hostile header cannot make msgpack-c allocate gigabytes */
    const msgpack_object_array *array = &result->data.via.array;
    for (uint32_t i = 0; i < array->size; i++)
        if (unpack_ack(&array->ptr[i], &acks[i]) < 0)
            return -1;
    return (int) array->size;
}

/* ---- builders --------------------------------------------------------- */

int cf_msg_send_push(void *socket, int flags, const void *request_id, size_t request_id_len,
                     const void *const *events, const size_t *sizes, size_t count)
{
    assert(events && sizes && count > 0);
    const void *data[] = { request_id };
    size_t size[] = { request_id_len };
    if (msg_send(socket, flags, NULL, 0, CF_MSG_PUSH, data, size, 1, true) < 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (msg_send_frame(socket, flags, events[i], sizes[i], i + 1 < count) < 0)
            return -1;
    return 0;
}

int cf_msg_send_snapshot_request(void *socket, int flags, const void *request_id,
                                 size_t request_id_len)
{
    const void *data[] = { request_id };
    size_t size[] = { request_id_len };
    return msg_send(socket, flags, NULL, 0, CF_MSG_SNAPSHOT, data, size, 1, false);
}

/* [to, CF01, command, request id, body]: the broker's three answers. */
static int intake_answer(void *socket, int flags, const void *to, size_t to_len,
                         cf_msg_command_t command, const void *request_id,
                         size_t request_id_len, const void *body, size_t body_size)
{
    assert(to);
    const void *data[] = { request_id, body };
    size_t size[] = { request_id_len, body_size };
    return msg_send(socket, flags, to, to_len, command, data, size, 2, false);
}

int cf_msg_send_ack(void *socket, int flags, const void *to, size_t to_len,
                    const void *request_id, size_t request_id_len, const void *acks,
                    size_t acks_size)
{
    return intake_answer(socket, flags, to, to_len, CF_MSG_ACK, request_id, request_id_len,
                         acks, acks_size);
}

int cf_msg_send_error(void *socket, int flags, const void *to, size_t to_len,
                      const void *request_id, size_t request_id_len, const char *reason)
{
    assert(reason);
    return intake_answer(socket, flags, to, to_len, CF_MSG_ERROR, request_id, request_id_len,
                         reason, strlen(reason));
}

int cf_msg_send_snapshot(void *socket, int flags, const void *to, size_t to_len,
                         const void *request_id, size_t request_id_len, const void *body,
                         size_t size)
{
    return intake_answer(socket, flags, to, to_len, CF_MSG_SNAPSHOT, request_id,
                         request_id_len, body, size);
}

/* ---- parsers ---------------------------------------------------------- */

bool cf_msg_is_snapshot(cf_multipart_t *parts)
{
    assert(parts);
    return cf_multipart_size(parts) == 4 && !cf_multipart_truncated(parts)
        && msg_is(parts, 1, CF_MSG_SNAPSHOT);
}

cf_msg_command_t cf_msg_intake_command(cf_multipart_t *parts)
{
    assert(parts);
    return msg_is(parts, 1, CF_MSG_PUSH) ? CF_MSG_PUSH
         : msg_is(parts, 1, CF_MSG_SNAPSHOT) ? CF_MSG_SNAPSHOT : CF_MSG_NONE;
}

/* Whether frame 3 is a request id of 1 to CF_MSG_MAX_REQ_ID bytes. */
static bool msg_request_id_valid(cf_multipart_t *parts)
{
    return cf_multipart_size(parts) > 3 && cf_multipart_len(parts, 3) > 0
        && cf_multipart_len(parts, 3) <= CF_MSG_MAX_REQ_ID;
}

#define MSG_REQUEST_ID_REASON "request_id: frame 2 must be 1 to 64 bytes"
_Static_assert(CF_MSG_MAX_REQ_ID == 64, "the reason names the limit");

const char *cf_msg_check_snapshot(cf_multipart_t *parts)
{
    assert(parts);
    return msg_request_id_valid(parts) ? NULL : MSG_REQUEST_ID_REASON;
}

void cf_msg_request_id(cf_multipart_t *parts, const void **id, size_t *len)
{
    assert(parts && id && len);
    bool fits = cf_multipart_size(parts) > 3 && cf_multipart_len(parts, 3) <= CF_MSG_MAX_REQ_ID;
    *id = fits ? cf_multipart_data(parts, 3) : "";
    *len = fits ? cf_multipart_len(parts, 3) : 0;
    if (!*id)                   /* an empty frame's data may be NULL */
        *id = "";
}

const char *cf_msg_check_push(cf_multipart_t *parts, char *reason, size_t reason_size)
{
    assert(parts && reason);
    size_t count = cf_multipart_size(parts);
    if (count < 2 || !cf_multipart_equals(parts, 1, CF_MSG_SIGNATURE))
        return "signature: frame 0 must be CF01";
    if (count >= 3 && msg_is(parts, 1, CF_MSG_SNAPSHOT))   /* not cf_msg_is_snapshot's shape */
        return "snapshot: expected CF01, SNAPSHOT, request id (3 frames)";
    if (count < 3 || !msg_is(parts, 1, CF_MSG_PUSH))
        return "command: expected PUSH or SNAPSHOT";
    if (!msg_request_id_valid(parts))
        return MSG_REQUEST_ID_REASON;
    size_t events = count - 4;
    if (events == 0 || events > CF_MSG_MAX_EVENTS || cf_multipart_truncated(parts)) {
        /* truncated: the receive buffer kept a few frames past the limit,
           not how many came; the limit is what the reply can say */
        if (cf_multipart_truncated(parts))
            snprintf(reason, reason_size, "events: a PUSH carries 1 to %d events, got more "
                     "than %d", CF_MSG_MAX_EVENTS, CF_MSG_MAX_EVENTS);
        else
            snprintf(reason, reason_size, "events: a PUSH carries 1 to %d events, got %zu",
                     CF_MSG_MAX_EVENTS, events);
        return reason;
    }
    size_t bytes = cf_msg_push_bytes(parts);
    if (bytes > CF_MSG_MAX_PUSH_BYTES) {
        snprintf(reason, reason_size, "push_bytes: the events of a PUSH are at most %d bytes, "
                 "got %zu", CF_MSG_MAX_PUSH_BYTES, bytes);
        return reason;
    }
    return NULL;
}

size_t cf_msg_push_bytes(cf_multipart_t *parts)
{
    assert(parts);
    size_t bytes = 0;
    for (size_t i = 4; i < cf_multipart_size(parts); i++)
        bytes += cf_multipart_len(parts, i);
    return bytes;
}

/* Fills reply from [CF01, command, request id, body?]. */
static void intake_reply(cf_multipart_t *parts, cf_msg_reply_t *reply)
{
    reply->request_id = cf_multipart_data(parts, 2);
    reply->request_id_len = cf_multipart_len(parts, 2);
    if (cf_multipart_size(parts) >= 4) {
        reply->body = cf_multipart_data(parts, 3);
        reply->body_len = cf_multipart_len(parts, 3);
    }
}

int cf_msg_parse_reply(cf_multipart_t *parts, cf_msg_reply_t *reply)
{
    assert(parts && reply);
    memset(reply, 0, sizeof *reply);
    size_t count = cf_multipart_size(parts);
    if (count < 3)
        return -1;
    reply->is_ack = msg_is(parts, 0, CF_MSG_ACK);
    if (reply->is_ack ? count != 4 || cf_multipart_truncated(parts)
                      : !msg_is(parts, 0, CF_MSG_ERROR))
        return -1;
    intake_reply(parts, reply);
    return 0;
}

int cf_msg_parse_snapshot(cf_multipart_t *parts, cf_msg_reply_t *reply)
{
    assert(parts && reply);
    memset(reply, 0, sizeof *reply);
    if (cf_multipart_size(parts) != 4 || cf_multipart_truncated(parts)
        || !msg_is(parts, 0, CF_MSG_SNAPSHOT))
        return -1;
    intake_reply(parts, reply);
    return 0;
}
