/*  cf_outbox_batch: what a batch of notifications changes in the
    publisher's state (cf_outbox_internal.h): each body is read once, for its
    case_id, stage, persons and limit.                                      */
#include "cf_outbox_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends raw bytes (a buffer may still be empty: no NULL to memcpy). */
static void batch_append(msgpack_sbuffer *out, const msgpack_sbuffer *in)
{
    if (in->size)
        msgpack_sbuffer_write(out, in->data, in->size);
}

void cf_outbox_batch_init(outbox_batch_t *b)
{
    memset(b, 0, sizeof *b);
    msgpack_sbuffer_init(&b->figures);
    msgpack_sbuffer_init(&b->alerts);
    if (!msgpack_zone_init(&b->zone, MSGPACK_ZONE_CHUNK_SIZE))
        abort();                /* out of memory */
}

void cf_outbox_batch_free(outbox_batch_t *b)
{
    msgpack_sbuffer_destroy(&b->figures);
    msgpack_sbuffer_destroy(&b->alerts);
    msgpack_zone_destroy(&b->zone);
}

void cf_outbox_batch_clear(outbox_batch_t *b)
{
    b->programmes = 0;
    b->nfigures = b->nalerts = 0;
    msgpack_sbuffer_clear(&b->figures);
    msgpack_sbuffer_clear(&b->alerts);
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

static void batch_key(msgpack_sbuffer *buf, const char *a, size_t alen, const char *b)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
    msgpack_pack_str(&pk, alen + 1 + strlen(b));
    msgpack_pack_str_body(&pk, a, alen);
    msgpack_pack_str_body(&pk, "|", 1);
    msgpack_pack_str_body(&pk, b, strlen(b));
}

static void batch_close(outbox_batch_t *b, const batch_body_t *body, const char *limit)
{
    if (!body->case_id)
        return;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b->alerts, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_str_with_body(&pk, "c", 1);
    batch_key(&b->alerts, body->case_id, body->case_id_len, limit);
    b->nalerts++;
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
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b->figures, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_str_with_body(&pk, topic + 5, len - 5);    /* <programme>.<stage> */
    b->figures.data[b->figures.size - (len - 5) + plen] = '|';
    msgpack_pack_int(&pk, 1);
    msgpack_pack_int64(&pk, body->persons);
    b->nfigures++;
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
        msgpack_packer pk;
        msgpack_packer_init(&pk, &b->alerts, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_str_with_body(&pk, "o", 1);
        char limit[32];
        snprintf(limit, sizeof limit, "%.*s", (int) parsed.limit_len, parsed.limit);
        batch_key(&b->alerts, parsed.case_id, parsed.case_id_len, limit);
        msgpack_pack_str_with_body(&pk, body, body_len);
        b->nalerts++;
    }
}

void cf_outbox_batch_pack(const outbox_batch_t *b, msgpack_sbuffer *returns,
                          msgpack_sbuffer *state)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, returns, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, b->programmes);
    for (size_t p = 0; p < b->programmes; p++) {
        msgpack_pack_str_with_body(&pk, b->returns[p].name, strlen(b->returns[p].name));
        msgpack_pack_array(&pk, 2);
        msgpack_pack_int64(&pk, b->returns[p].cases);
        msgpack_pack_int64(&pk, b->returns[p].persons);
    }
    msgpack_packer_init(&pk, state, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "figures", 7);
    msgpack_pack_array(&pk, b->nfigures);
    batch_append(state, &b->figures);
    msgpack_pack_str_with_body(&pk, "alerts", 6);
    msgpack_pack_array(&pk, b->nalerts);
    batch_append(state, &b->alerts);
}
