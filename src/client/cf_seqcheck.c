/*  cf_seqcheck: (publisher, topic) -> last seq, on a cf_seqmap keyed by the
    publisher, a NUL byte and the topic, so that no two pairs share a key;
    outbox ids on a cf_recent, one stream per shard and one for the
    milestones; see cf_seqcheck.h.                                           */
#include "caseflow/cf_seqcheck.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_seqmap.h"
#include "caseflow/cf_shard.h"
#include "cf_recent.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQCHECK_SHARDS (CF_SHARD_MAX + 1)     /* the shards' outboxes, then the milestones' */

struct _cf_seqcheck_t {
    cf_seqmap_t *last;
    char *scratch;          /* the key being looked up */
    size_t scratch_size;
    cf_recent_t *ids;       /* outbox ids delivered lately */
};

cf_seqcheck_t *cf_seqcheck_new(void)
{
    cf_seqcheck_t *self = cf_calloc(1, sizeof *self);
    self->last = cf_seqmap_new();
    self->ids = cf_recent_new(SEQCHECK_SHARDS);
    return self;
}

void cf_seqcheck_destroy(cf_seqcheck_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_seqcheck_t *self = *self_p;
    cf_seqmap_destroy(&self->last);
    cf_recent_destroy(&self->ids);
    free(self->scratch);
    free(self);
    *self_p = NULL;
}

uint64_t cf_seqcheck_see(cf_seqcheck_t *self, const char *publisher, size_t publisher_len,
                         const char *topic, size_t topic_len, uint64_t seq, uint64_t *last)
{
    assert(self && (publisher || !publisher_len) && (topic || !topic_len));
    size_t len = publisher_len + 1 + topic_len;
    if (len > self->scratch_size) {
        self->scratch = cf_realloc(self->scratch, len);
        self->scratch_size = len;
    }
    if (publisher_len)
        memcpy(self->scratch, publisher, publisher_len);
    self->scratch[publisher_len] = '\0';
    if (topic_len)
        memcpy(self->scratch + publisher_len + 1, topic, topic_len);
    uint64_t previous = cf_seqmap_size(self->last) < CF_SEQCHECK_MAX_PAIRS
                      || cf_seqmap_last(self->last, self->scratch, len)
                      ? cf_seqmap_set(self->last, self->scratch, len, seq) : 0;
    if (last)
        *last = previous;
    return previous && seq > previous + 1 ? seq - previous - 1 : 0;
}

size_t cf_seqcheck_size(const cf_seqcheck_t *self)
{
    assert(self);
    return cf_seqmap_size(self->last);
}

/* The stream and entry id of an outbox id; false when it does not parse. */
static bool seqcheck_parse(const char *id, size_t len, unsigned *stream, unsigned long long *ms,
                           unsigned long long *n)
{
    char text[64];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, id, len);
    text[len] = '\0';
    unsigned shard = SEQCHECK_SHARDS - 1;    /* p-<ms>-<n>: the milestones' stream */
    int used = 0;
    bool parsed = text[0] == 'p'
                ? sscanf(text, "p-%llu-%llu%n", ms, n, &used) == 2
                : sscanf(text, "s%u-%llu-%llu%n", &shard, ms, n, &used) == 3;
    if (!parsed || (size_t) used != len || shard >= SEQCHECK_SHARDS
        || (text[0] != 'p' && shard == SEQCHECK_SHARDS - 1))
        return false;
    *stream = shard;
    return true;
}

bool cf_seqcheck_repeat(cf_seqcheck_t *self, const char *id, size_t len)
{
    assert(self && (id || !len));
    unsigned stream;
    unsigned long long ms, n;
    return seqcheck_parse(id, len, &stream, &ms, &n) && cf_recent_seen(self->ids, stream, ms, n);
}

void cf_seqcheck_floor(cf_seqcheck_t *self, const char *id, size_t len)
{
    assert(self && (id || !len));
    unsigned stream;
    unsigned long long ms, n;
    if (seqcheck_parse(id, len, &stream, &ms, &n))
        cf_recent_floor(self->ids, stream, ms, n);
}
