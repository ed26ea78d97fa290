/*  cf_outbox_pack: the packs in which the reader thread hands entries to
    the broker's loop (cf_outbox.h): one frame of many entries, each its
    lengths and bytes, written by cf_outbox_pack_entry and walked by
    cf_outbox_entry_next, which checks every length against what is left.  */
#include "cf_outbox.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

/* A pack's entry: its three lengths (native order: the pack never leaves
   the process), then the topic's, body's and id's bytes. */
typedef struct {
    uint32_t topic_len, body_len, id_len;
} outbox_entry_head_t;

void cf_outbox_pack_entry(msgpack_sbuffer *pack, const cf_outbox_entry_t *entry)
{
    assert(pack && entry && entry->topic_len <= UINT32_MAX && entry->body_len <= UINT32_MAX
           && entry->id_len <= UINT32_MAX);
    outbox_entry_head_t head = { (uint32_t) entry->topic_len, (uint32_t) entry->body_len,
                                 (uint32_t) entry->id_len };
    msgpack_sbuffer_write(pack, (const char *) &head, sizeof head);
    msgpack_sbuffer_write(pack, entry->topic, entry->topic_len);
    msgpack_sbuffer_write(pack, entry->body, entry->body_len);
    msgpack_sbuffer_write(pack, entry->id, entry->id_len);
}

int cf_outbox_entry_next(const void *pack, size_t size, size_t *pos, cf_outbox_entry_t *entry)
{
    assert((pack || size == 0) && pos && entry);
    outbox_entry_head_t head;
    if (*pos > size || size - *pos < sizeof head)
        return -1;
    const char *p = (const char *) pack + *pos;
    memcpy(&head, p, sizeof head);
    size_t left = size - *pos - sizeof head;
    if (head.topic_len > left || head.body_len > left - head.topic_len
        || head.id_len > left - head.topic_len - head.body_len)
        return -1;
    p += sizeof head;
    entry->topic = p;
    entry->topic_len = head.topic_len;
    entry->body = p + head.topic_len;
    entry->body_len = head.body_len;
    entry->id = p + head.topic_len + head.body_len;
    entry->id_len = head.id_len;
    *pos += sizeof head + (size_t) head.topic_len + head.body_len + head.id_len;
    return 0;
}
