/*  cf_outbox_notes: an outbox entry's notifications and their ids; see
    cf_outbox_notes.h. The writer is cf_commit (one XADD per shard-commit);
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

size_t cf_outbox_notes_count(const redisReply *fields)
{
    if (!fields || fields->type != REDIS_REPLY_ARRAY || fields->elements == 0
        || fields->elements % 2 || fields->elements > 2 * CF_OUTBOX_NOTES_MAX)
        return 0;
    for (size_t i = 0; i < fields->elements; i++)
        if (fields->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    return notes_legacy(fields) ? 1 : fields->elements / 2;
}

cf_outbox_note_t cf_outbox_notes_get(const redisReply *fields, size_t k)
{
    assert(k < cf_outbox_notes_count(fields));
    const redisReply *topic, *body;
    if (notes_legacy(fields))
        topic = fields->element[1], body = fields->element[3];
    else
        topic = fields->element[2 * k], body = fields->element[2 * k + 1];
    return (cf_outbox_note_t) { topic->str, body->str, topic->len, body->len };
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
