/*  cf_msg (notifications): [topic, body] from the broker's XPUB to its
    subscribers. The broker stamps each body, written by a worker's script,
    the outbox reader or itself, with the keys every notification carries
    (docs/protocol.md, section 4); a subscriber reads them back. Those keys
    are the broker's alone: a body that brings one is refused, and what a
    worker may publish in its DONE is checked here too. See cf_msg.h.      */
#include "cf_msg_internal.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* The keys of the stamp, which only the broker writes. */
static const char *const s_stamp_keys[] = { "id", "topic", "publisher", "seq", "time" };

/* The topics a worker may publish in its DONE: the notifications it makes
   itself. The others come from the outboxes (the scripts write them in the
   same call as the state they announce) or from the broker (stats). */
static const char *const s_worker_topics[] = { "reject" };

#define NOTICE_STAMP_KEYS (sizeof s_stamp_keys / sizeof *s_stamp_keys)
_Static_assert(NOTICE_STAMP_KEYS <= CF_UNPACK_FIELDS_MAX, "one walk finds every stamp key");

/* Checks that body is exactly one msgpack map and returns its entry count
   and header length, so that its entries can be copied as they are, and
   whether its top level carries a key of the stamp (in any string format,
   the same key to a subscriber): all in one walk, as the broker does this
   for every notification it publishes. */
static int notice_map_header(const unsigned char *body, size_t size, uint32_t *entries,
                             size_t *header, bool *stamped)
{
    cf_unpack_field_t field[NOTICE_STAMP_KEYS];   /* the walk allocates nothing */
    if (size == 0 || cf_unpack_fields(body, size, s_stamp_keys, NOTICE_STAMP_KEYS, field) != 0)
        return -1;
    if (body[0] >= 0x80 && body[0] <= 0x8f) {           /* fixmap */
        *entries = body[0] & 0x0f;
        *header = 1;
    } else if (body[0] == 0xde) {                       /* map 16 */
        *entries = (uint32_t) body[1] << 8 | body[2];
        *header = 3;
    } else if (body[0] == 0xdf) {                       /* map 32 */
        *entries = (uint32_t) body[1] << 24 | (uint32_t) body[2] << 16
                 | (uint32_t) body[3] << 8 | body[4];
        *header = 5;
    } else {
        return -1;
    }
    *stamped = false;
    for (size_t k = 0; k < NOTICE_STAMP_KEYS; k++)
        *stamped |= field[k].present;
    return 0;
}

/* The msgpack string at p (one whole value, end bytes), or false. */
static bool notice_str(const unsigned char *p, size_t end, const unsigned char **str,
                       size_t *len)
{
    size_t skip;
    if (p[0] >= 0xa0 && p[0] <= 0xbf)
        skip = 1;
    else if (p[0] >= 0xd9 && p[0] <= 0xdb)      /* str 8, 16, 32 */
        skip = 1 + ((size_t) 1 << (p[0] - 0xd9));
    else
        return false;
    *str = p + skip;
    *len = end - skip;
    return true;
}

/* The first stamp key, in the body's order, that a body (a checked map of
   entries after its header) carries at its top level, or NULL: for the
   reason that names it, once notice_map_header found one. */
static const char *notice_stamp_key(const unsigned char *body, size_t size, size_t header,
                                    uint32_t entries)
{
    size_t pos = header, end;
    for (uint64_t i = 0; i < 2 * (uint64_t) entries; i++, pos += end) {
        if (cf_unpack_scan(body + pos, size - pos, &end) != 0)
            return s_stamp_keys[0];     /* cannot happen: the whole map was walked */
        const unsigned char *key;
        size_t len;
        if (i % 2 || !notice_str(body + pos, end, &key, &len))
            continue;
        for (size_t k = 0; k < NOTICE_STAMP_KEYS; k++)
            if (strlen(s_stamp_keys[k]) == len && memcmp(s_stamp_keys[k], key, len) == 0)
                return s_stamp_keys[k];
    }
    return NULL;
}

int cf_msg_pack_notice(msgpack_sbuffer *out, const cf_msg_notice_t *notice, const void *body,
                       size_t size)
{
    assert(out && notice && notice->publisher);
    uint32_t entries;
    size_t header;
    bool stamped;
    if (notice->topic_len == 0 || notice_map_header(body, size, &entries, &header, &stamped) < 0
        || stamped)
        return -1;
    msgpack_sbuffer_clear(out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, entries + (notice->id ? 5 : 4));
    if (notice->id) {
        cf_pack_str(&pk, "id");
        cf_pack_strn(&pk, notice->id, notice->id_len);
    }
    cf_pack_str(&pk, "topic");
    cf_pack_strn(&pk, notice->topic, notice->topic_len);
    cf_pack_str(&pk, "publisher");
    cf_pack_strn(&pk, notice->publisher, notice->publisher_len);
    cf_pack_key_uint(&pk, "seq", notice->seq);
    cf_pack_str(&pk, "time");
    msgpack_pack_int64(&pk, notice->time);
    msgpack_sbuffer_write(out, (const char *) body + header, size - header);
    return 0;
}

const char *cf_msg_check_worker_notice(const void *topic, size_t topic_len, const void *body,
                                       size_t size, char *reason, size_t reason_size)
{
    assert(reason && (topic || topic_len == 0) && (body || size == 0));
    bool known = false;
    for (size_t t = 0; t < sizeof s_worker_topics / sizeof *s_worker_topics && !known; t++)
        known = strlen(s_worker_topics[t]) == topic_len
             && memcmp(s_worker_topics[t], topic, topic_len) == 0;
    if (!known)
        return "topic: a worker publishes reject only";
    uint32_t entries;
    size_t header;
    bool stamped;
    if (size > CF_MSG_MAX_WORKER_NOTICE_BYTES) {
        snprintf(reason, reason_size, "body: %zu bytes exceeds the limit of %d", size,
                 CF_MSG_MAX_WORKER_NOTICE_BYTES);
        return reason;
    }
    if (notice_map_header(body, size, &entries, &header, &stamped) < 0)
        return "body: not one msgpack map";
    if (stamped) {
        snprintf(reason, reason_size, "body: the key %s is the broker's",
                 notice_stamp_key(body, size, header, entries));
        return reason;
    }
    return NULL;
}

int cf_msg_send_notice(void *socket, int flags, const cf_msg_notice_t *notice,
                       const void *stamped, size_t size)
{
    assert(socket && notice && stamped);
    if (msg_send_frame(socket, flags, notice->topic, notice->topic_len, true) < 0)
        return -1;
    return msg_send_frame(socket, flags, stamped, size, false);
}

int cf_msg_parse_notice(cf_multipart_t *parts, msgpack_unpacked *body, cf_msg_notice_t *notice)
{
    assert(parts && body && notice);
    memset(notice, 0, sizeof *notice);
    size_t count = cf_multipart_size(parts);
    notice->topic = count && cf_multipart_len(parts, 0) ? cf_multipart_data(parts, 0) : "";
    notice->topic_len = count ? cf_multipart_len(parts, 0) : 0;
    if (count < 2
        || cf_unpack(body, cf_multipart_data(parts, 1), cf_multipart_len(parts, 1)) < 0
        || body->data.type != MSGPACK_OBJECT_MAP)
        return -1;
    notice->body = &body->data;
    const msgpack_object *publisher = cf_unpack_get(&body->data, "publisher");
    const msgpack_object *seq = cf_unpack_get(&body->data, "seq");
    const msgpack_object *id = cf_unpack_get(&body->data, "id");
    const msgpack_object *time = cf_unpack_get(&body->data, "time");
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
    if (time && (time->type == MSGPACK_OBJECT_POSITIVE_INTEGER
                 || time->type == MSGPACK_OBJECT_NEGATIVE_INTEGER))
        notice->time = time->via.i64;
    return 0;
}
