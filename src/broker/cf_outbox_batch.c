/*  cf_outbox_batch: what a batch of notifications changes in the
    publisher's state (cf_outbox_internal.h): each body is read once, for its
    case_id, stage, persons and limit, and merged as it comes, so that the
    commit writes each field once: the figures summed per programme and
    stage, the last word on each overdue alert (they come in the order they
    were published, so the open set is what a subscriber who saw them all
    would hold).                                                            */
#include "cf_outbox_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_shard.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_SLOTS_MIN 64          /* the index's first size; it doubles at half full */

static void items_free(outbox_items_t *set)
{
    free(set->items);
    free(set->slots);
}

static void items_clear(outbox_items_t *set)
{
    set->count = 0;
    if (set->slots)
        memset(set->slots, 0, set->nslots * sizeof *set->slots);
}

void cf_outbox_batch_init(outbox_batch_t *b)
{
    memset(b, 0, sizeof *b);
    if (!msgpack_zone_init(&b->zone, MSGPACK_ZONE_CHUNK_SIZE))
        abort();                /* out of memory */
}

void cf_outbox_batch_free(outbox_batch_t *b)
{
    items_free(&b->figures);
    items_free(&b->alerts);
    free(b->bytes);
    msgpack_zone_destroy(&b->zone);
}

void cf_outbox_batch_clear(outbox_batch_t *b)
{
    b->programmes = 0;
    b->bytes_len = 0;
    b->opened = 0;
    items_clear(&b->figures);
    items_clear(&b->alerts);
}

/* Appends len bytes to the batch's bytes; returns their offset. */
static size_t batch_bytes(outbox_batch_t *b, const void *data, size_t len)
{
    b->bytes = cf_grow(b->bytes, &b->bytes_cap, b->bytes_len + len + 1, 1);
    size_t at = b->bytes_len;
    if (len)
        memcpy(b->bytes + at, data, len);
    b->bytes_len += len;
    return at;
}

/* Puts item index i into the index (a free slot found by linear probing). */
static void items_index(outbox_items_t *set, const char *bytes, size_t i)
{
    const outbox_item_t *item = &set->items[i];
    size_t mask = set->nslots - 1, slot = cf_shard_hash(bytes + item->key, item->key_len) & mask;
    while (set->slots[slot])
        slot = (slot + 1) & mask;
    set->slots[slot] = (uint32_t) (i + 1);
}

/* The item of the field "a|b", added (zeroed) when new. */
static outbox_item_t *batch_item(outbox_batch_t *b, outbox_items_t *set, const char *a,
                                 size_t alen, const char *z, size_t zlen)
{
    size_t key = batch_bytes(b, a, alen), len = alen + 1 + zlen;
    batch_bytes(b, "|", 1);
    batch_bytes(b, z, zlen);
    if (2 * (set->count + 1) > set->nslots) {       /* grow and index again */
        set->nslots = set->nslots ? 2 * set->nslots : BATCH_SLOTS_MIN;
        free(set->slots);
        set->slots = cf_calloc(set->nslots, sizeof *set->slots);
        for (size_t i = 0; i < set->count; i++)
            items_index(set, b->bytes, i);
    }
    size_t mask = set->nslots - 1, slot = cf_shard_hash(b->bytes + key, len) & mask;
    for (; set->slots[slot]; slot = (slot + 1) & mask) {
        outbox_item_t *item = &set->items[set->slots[slot] - 1];
        if (item->key_len == len && !memcmp(b->bytes + item->key, b->bytes + key, len)) {
            b->bytes_len = key;     /* known: the field's copy is not kept */
            return item;
        }
    }
    set->items = cf_grow(set->items, &set->capacity, set->count + 1, sizeof *set->items);
    outbox_item_t *item = &set->items[set->count];
    memset(item, 0, sizeof *item);
    item->key = key;
    item->key_len = len;
    set->slots[slot] = (uint32_t) ++set->count;
    return item;
}

/* The last word on the alert "<case_id>|<limit>": open with body, or closed. */
static void batch_alert(outbox_batch_t *b, const char *case_id, size_t case_id_len,
                        const char *limit, size_t limit_len, const char *body, size_t body_len)
{
    outbox_item_t *item = batch_item(b, &b->alerts, case_id, case_id_len, limit, limit_len);
    b->opened -= item->open;
    b->opened += body != NULL;
    item->open = body != NULL;
    if (body) {
        item->body = batch_bytes(b, body, body_len);
        item->body_len = body_len;
    }
}

typedef struct {
    const char *case_id, *limit;
    size_t case_id_len, limit_len;
    int64_t persons;
} batch_body_t;

/* The body's case_id, limit and persons, decoded by msgpack-c into the
   batch's zone (msgpack_unpack: msgpack_unpack_next would make a zone per
   body); the same values as msgpack_unpack_next would give: one value at
   the start of body, bytes after it ignored, the last of a key's entries
   of the right type counting. */
static void batch_read_body(outbox_batch_t *b, const char *body, size_t len, batch_body_t *out)
{
    memset(out, 0, sizeof *out);
    msgpack_object data;
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack(body, len, &off, &b->zone, &data);
    if ((rc == MSGPACK_UNPACK_SUCCESS || rc == MSGPACK_UNPACK_EXTRA_BYTES)
        && data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < data.via.map.size; i++) {
            const msgpack_object_kv *kv = &data.via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR)
                continue;
            const char *k = kv->key.via.str.ptr;
            size_t klen = kv->key.via.str.size;
            /* the strings point into body: the zone only holds the tree */
            if (klen == 7 && !memcmp(k, "case_id", 7) && kv->val.type == MSGPACK_OBJECT_STR)
                out->case_id = kv->val.via.str.ptr, out->case_id_len = kv->val.via.str.size;
            else if (klen == 5 && !memcmp(k, "limit", 5) && kv->val.type == MSGPACK_OBJECT_STR)
                out->limit = kv->val.via.str.ptr, out->limit_len = kv->val.via.str.size;
            else if (klen == 7 && !memcmp(k, "persons", 7)
                     && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                out->persons = (int64_t) kv->val.via.u64;
        }
    msgpack_zone_clear(&b->zone);
}

static void batch_close(outbox_batch_t *b, const batch_body_t *body, const char *limit)
{
    if (body->case_id)
        batch_alert(b, body->case_id, body->case_id_len, limit, strlen(limit), NULL, 0);
}

static void batch_return(outbox_batch_t *b, const char *programme, size_t len, int64_t persons)
{
    size_t p = 0;
    while (p < b->programmes && (strlen(b->returns[p].name) != len
                                 || memcmp(b->returns[p].name, programme, len)))
        p++;
    if (p == OUTBOX_PROGRAMMES)
        return;         /* more programmes in one batch than it holds: not in practice */
    if (p == b->programmes) {
        memcpy(b->returns[p].name, programme, len);
        b->returns[p].name[len] = '\0';
        b->returns[p].cases = b->returns[p].persons = 0;
        b->programmes++;
    }
    b->returns[p].cases++;
    b->returns[p].persons += persons;
}

/* case.<programme>.<stage>: figures, returns, and the alerts it closes. */
static void batch_case(outbox_batch_t *b, const char *topic, size_t len, const batch_body_t *body)
{
    const char *dot = len > 5 ? memrchr(topic + 5, '.', len - 5) : NULL;
    if (!dot || (size_t) (dot - topic - 5) > CF_PROGRAMME_MAX)
        return;
    size_t plen = (size_t) (dot - topic - 5), slen = len - plen - 6;
    outbox_item_t *figure = batch_item(b, &b->figures, topic + 5, plen, dot + 1, slen);
    figure->cases++;
    figure->persons += body->persons;
    int stage = cf_vocab_stage_find(dot + 1, slen);
    if (stage == CF_STAGE_ARRIVED)
        batch_return(b, topic + 5, plen, body->persons);
    for (int limit = 0; limit < CF_LIMIT_COUNT; limit++)
        if (cf_vocab_limit_ended_by((cf_limit_t) limit, (cf_stage_t) stage))
            batch_close(b, body, cf_vocab_limit_name(limit));
}

void cf_outbox_batch_note(outbox_batch_t *b, const char *topic, size_t topic_len,
                          const char *body, size_t body_len)
{
    assert(b && topic && body);
    batch_body_t parsed;
    batch_read_body(b, body, body_len, &parsed);
    if (topic_len > 5 && !memcmp(topic, "case.", 5)) {
        batch_case(b, topic, topic_len, &parsed);
    } else if (topic_len > 14 && !memcmp(topic, "alert.overdue.", 14) && parsed.case_id
               && parsed.limit) {
        batch_alert(b, parsed.case_id, parsed.case_id_len, parsed.limit,
                    strnlen(parsed.limit, parsed.limit_len < 31 ? parsed.limit_len : 31),
                    body, body_len);
    }
}
