/*  cf_outbox_notes: an outbox entry's notifications and their ids; see
    cf_outbox_notes.h. The writer is cf_commit (one XADD per shard-commit,
    its notifications packed and compressed here); the readers are the
    broker's publisher (cf_outbox_reader.c) and caseflow-alert's sinks
    (cf_alert_sink.c), which must agree on both.                           */
#include "caseflow/cf_outbox_notes.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <lz4.h>

#define NOTES_SEQ_MAX   (UINT64_MAX / CF_OUTBOX_NOTES_MAX)  /* 2^56 - 1: every number fits */
#define NOTES_LEN_BYTES 4       /* a compressed value's length of its packed value */
#define NOTES_LZ4_RATIO 255     /* LZ4 makes no block smaller than about 1/255 of its input */

_Static_assert(CF_OUTBOX_NOTES_MAX_BYTES <= LZ4_MAX_INPUT_SIZE, "a packed value is one LZ4 block");

/* One buffer a compressed entry was decompressed into, kept until release. */
typedef struct notes_block {
    struct notes_block *next;
    char data[];
} notes_block_t;

struct _cf_outbox_notes_t {
    cf_outbox_note_t note[CF_OUTBOX_NOTES_MAX];     /* the last entry read's */
    size_t count;                                   /* how many */
    notes_block_t *blocks;
};

cf_outbox_notes_t *cf_outbox_notes_new(void)
{
    return cf_calloc(1, sizeof(cf_outbox_notes_t));
}

void cf_outbox_notes_release(cf_outbox_notes_t *self)
{
    assert(self);
    while (self->blocks) {
        notes_block_t *next = self->blocks->next;
        free(self->blocks);
        self->blocks = next;
    }
}

void cf_outbox_notes_destroy(cf_outbox_notes_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_outbox_notes_release(*self_p);
    free(*self_p);
    *self_p = NULL;
}

static bool notes_named(const redisReply *r, const char *name)
{
    return r->len == strlen(name) && memcmp(r->str, name, r->len) == 0;
}

static void notes_put_u32(char *at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        at[i] = (char) (v >> (8 * i) & 0xff);
}

static size_t notes_get_u32(const char *at)
{
    const unsigned char *u = (const unsigned char *) at;
    return (size_t) u[0] | (size_t) u[1] << 8 | (size_t) u[2] << 16 | (size_t) u[3] << 24;
}

/* One string of packed value v (len bytes) at *at: its length, bytes and
   NUL. False when they run past the end or the NUL is missing. */
static bool notes_unpack_string(const char *v, size_t len, size_t *at, const char **s,
                                size_t *s_len)
{
    if (len - *at < 4)
        return false;
    size_t n = notes_get_u32(v + *at);
    *at += 4;
    if (len - *at <= n || v[*at + n] != '\0')
        return false;
    *s = v + *at;
    *s_len = n;
    *at += n + 1;
    return true;
}

/* Indexes the notifications of packed value v (len bytes): how many, 0
   when it is malformed or holds none or too many. */
static size_t notes_unpack(cf_outbox_notes_t *self, const char *v, size_t len)
{
    size_t at = 0, n = 0;
    while (at < len) {
        cf_outbox_note_t *one = &self->note[n];
        if (n == CF_OUTBOX_NOTES_MAX
            || !notes_unpack_string(v, len, &at, &one->topic, &one->topic_len)
            || !notes_unpack_string(v, len, &at, &one->body, &one->body_len))
            return 0;
        n++;
    }
    return n;
}

/* Decompresses value v of the LZ4 layout into a new block and indexes it:
   as notes_unpack. The length it gives is checked against what its bytes
   can hold before anything is allocated, so a forged one costs nothing. */
static size_t notes_unpack_lz4(cf_outbox_notes_t *self, const redisReply *v)
{
    if (v->len <= NOTES_LEN_BYTES)
        return 0;
    size_t len = notes_get_u32(v->str), body = v->len - NOTES_LEN_BYTES;
    if (len == 0 || len > CF_OUTBOX_NOTES_MAX_BYTES || len / NOTES_LZ4_RATIO > body)
        return 0;
    notes_block_t *block = cf_malloc(sizeof *block + len + 1);
    int got = LZ4_decompress_safe(v->str + NOTES_LEN_BYTES, block->data, (int) body, (int) len);
    if (got < 0 || (size_t) got != len) {
        free(block);
        return 0;
    }
    block->data[len] = '\0';
    block->next = self->blocks;
    self->blocks = block;
    return notes_unpack(self, block->data, len);
}

/* cf_outbox_notes_read's count, without keeping it. */
static size_t notes_index(cf_outbox_notes_t *self, const redisReply *fields)
{
    if (!fields || fields->type != REDIS_REPLY_ARRAY || fields->elements == 0
        || fields->elements % 2 || fields->elements > 2 * CF_OUTBOX_NOTES_MAX)
        return 0;
    for (size_t i = 0; i < fields->elements; i++)
        if (fields->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    const redisReply *name = fields->element[0], *value = fields->element[1];
    if (fields->elements == 2 && notes_named(name, CF_OUTBOX_NOTES_LZ4_FIELD))
        return notes_unpack_lz4(self, value);
    if (fields->elements == 2 && notes_named(name, CF_OUTBOX_NOTES_FIELD))
        return notes_unpack(self, value->str, value->len);
    if (fields->elements == 4 && notes_named(name, "topic")
        && notes_named(fields->element[2], "body")) {
        self->note[0] = (cf_outbox_note_t) { value->str, fields->element[3]->str, value->len,
                                             fields->element[3]->len };
        return 1;
    }
    size_t n = fields->elements / 2;
    for (size_t k = 0; k < n; k++) {
        const redisReply *topic = fields->element[2 * k], *body = fields->element[2 * k + 1];
        self->note[k] = (cf_outbox_note_t) { topic->str, body->str, topic->len, body->len };
    }
    return n;
}

size_t cf_outbox_notes_read(cf_outbox_notes_t *self, const redisReply *fields)
{
    assert(self);
    return self->count = notes_index(self, fields);
}

cf_outbox_note_t cf_outbox_notes_get(const cf_outbox_notes_t *self, size_t k)
{
    assert(self && k < self->count);
    return self->note[k];
}

size_t cf_outbox_notes_pack(char *at, const char *topic, size_t topic_len, const void *body,
                            size_t body_len)
{
    assert(at && topic && (body || !body_len));
    assert(topic_len <= UINT32_MAX && body_len <= UINT32_MAX);
    char *p = at;
    notes_put_u32(p, (uint32_t) topic_len);
    memcpy(p + 4, topic, topic_len);
    p[4 + topic_len] = '\0';
    p += 4 + topic_len + 1;
    notes_put_u32(p, (uint32_t) body_len);
    if (body_len)
        memcpy(p + 4, body, body_len);
    p[4 + body_len] = '\0';
    return cf_outbox_notes_packed_len(topic_len, body_len);
}

size_t cf_outbox_notes_compress_bound(size_t len)
{
    assert(len <= CF_OUTBOX_NOTES_MAX_BYTES);
    return NOTES_LEN_BYTES + (size_t) LZ4_compressBound((int) len);
}

size_t cf_outbox_notes_compress(char *out, const char *packed, size_t len)
{
    assert(out && packed && len <= CF_OUTBOX_NOTES_MAX_BYTES);
    notes_put_u32(out, (uint32_t) len);
    int n = LZ4_compress_default(packed, out + NOTES_LEN_BYTES, (int) len,
                                 LZ4_compressBound((int) len));
    assert(n > 0);          /* it cannot fail with a bound's room */
    return NOTES_LEN_BYTES + (size_t) n;
}

/* A decimal number of at most 20 digits, without sign or spaces, at p:
   where it ends, or NULL. */
static const char *notes_number(const char *p, uint64_t *v)
{
    if (*p < '0' || *p > '9')
        return NULL;
    char *end;
    errno = 0;
    *v = strtoull(p, &end, 10);
    return errno ? NULL : end;
}

bool cf_outbox_notes_entry(const char *entry_id, uint64_t *ms, uint64_t *seq)
{
    assert(entry_id && ms && seq);
    const char *p = notes_number(entry_id, ms);
    if (!p || *p != '-' || !(p = notes_number(p + 1, seq)) || *p)
        return false;
    return *seq <= NOTES_SEQ_MAX;
}

void cf_outbox_notes_prefix(char buf[CF_OUTBOX_NOTES_PREFIX_MAX], unsigned stream,
                            unsigned shards)
{
    assert(buf);
    if (stream < shards)
        cf_fmt(buf, CF_OUTBOX_NOTES_PREFIX_MAX, "s%u-", stream);
    else
        memcpy(buf, "p-", 3);
}

int cf_outbox_notes_id(char buf[CF_OUTBOX_NOTES_ID_MAX], const char *prefix,
                       const char *entry_id, size_t k)
{
    assert(buf && prefix && k < CF_OUTBOX_NOTES_MAX);
    uint64_t ms, seq;
    if (!cf_outbox_notes_entry(entry_id, &ms, &seq))
        return -1;
    return cf_outbox_notes_id_of(buf, prefix, ms, seq, k);
}

int cf_outbox_notes_id_of(char buf[CF_OUTBOX_NOTES_ID_MAX], const char *prefix, uint64_t ms,
                          uint64_t seq, size_t k)
{
    assert(buf && prefix && k < CF_OUTBOX_NOTES_MAX && seq <= NOTES_SEQ_MAX);
    int n = cf_fmt(buf, CF_OUTBOX_NOTES_ID_MAX, "%s%" PRIu64 "-%" PRIu64, prefix, ms,
                   cf_outbox_notes_number(seq, k));
    assert(n > 0 && n < CF_OUTBOX_NOTES_ID_MAX);   /* prefixes are short: "s1023-", "p-" */
    return n;
}
