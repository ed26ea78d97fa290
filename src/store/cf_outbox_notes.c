/*  cf_outbox_notes: an outbox entry's notifications and their ids; see
    cf_outbox_notes.h. The writer is cf_commit (one XADD per shard-commit,
    its notifications packed here by cf_outbox_notes_pack);
    the readers are the broker's publisher (cf_outbox.c) and caseflow-alert's
    sinks (cf_alert_sink.c), which must agree on both.                     */
#include "caseflow/cf_outbox_notes.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NOTES_SEQ_MAX   (UINT64_MAX / CF_OUTBOX_NOTES_MAX)  /* 2^56 - 1: every number fits */

static bool notes_named(const redisReply *r, const char *name)
{
    return r->len == strlen(name) && memcmp(r->str, name, r->len) == 0;
}

/* Whether fields is an entry of the first layout: topic T body B. */
static bool notes_legacy(const redisReply *fields)
{
    return fields->elements == 4 && notes_named(fields->element[0], "topic")
        && notes_named(fields->element[2], "body");
}

/* Whether fields is an entry of the packed layout (its value unchecked). */
static bool notes_packed(const redisReply *fields)
{
    return fields->elements == 2 && notes_named(fields->element[0], CF_OUTBOX_NOTES_FIELD);
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

/* The notifications of packed value v: how many, 0 when it is malformed
   or holds none or too many; notification k into *note when k is below.
   Stops at k + 1 when check is false (the value was checked before). */
static size_t notes_unpack(const redisReply *v, size_t k, cf_outbox_note_t *note, bool check)
{
    size_t at = 0, n = 0;
    while (at < v->len && (check || n <= k)) {
        cf_outbox_note_t one;
        if (n == CF_OUTBOX_NOTES_MAX
            || !notes_unpack_string(v->str, v->len, &at, &one.topic, &one.topic_len)
            || !notes_unpack_string(v->str, v->len, &at, &one.body, &one.body_len))
            return 0;
        if (n++ == k)
            *note = one;
    }
    return n;
}

size_t cf_outbox_notes_count(const redisReply *fields)
{
    if (!fields || fields->type != REDIS_REPLY_ARRAY || fields->elements == 0
        || fields->elements % 2 || fields->elements > 2 * CF_OUTBOX_NOTES_MAX)
        return 0;
    for (size_t i = 0; i < fields->elements; i++)
        if (fields->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    if (notes_packed(fields))
        return notes_unpack(fields->element[1], SIZE_MAX, NULL, true);
    return notes_legacy(fields) ? 1 : fields->elements / 2;
}

cf_outbox_note_t cf_outbox_notes_get(const redisReply *fields, size_t k)
{
    assert(k < cf_outbox_notes_count(fields));
    if (notes_packed(fields)) {
        cf_outbox_note_t note = { 0 };
        notes_unpack(fields->element[1], k, &note, false);
        return note;
    }
    const redisReply *topic, *body;
    if (notes_legacy(fields))
        topic = fields->element[1], body = fields->element[3];
    else
        topic = fields->element[2 * k], body = fields->element[2 * k + 1];
    return (cf_outbox_note_t) { topic->str, body->str, topic->len, body->len };
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
    int n = cf_fmt(buf, CF_OUTBOX_NOTES_ID_MAX, "%s%" PRIu64 "-%" PRIu64, prefix, ms,
                   cf_outbox_notes_number(seq, k));
    assert(n > 0 && n < CF_OUTBOX_NOTES_ID_MAX);   /* prefixes are short: "s1023-", "p-" */
    return n;
}
