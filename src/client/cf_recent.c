/*  cf_recent: a ring of the remembered ids in arrival order, each chained
    into a bucket of a hash table (FNV-1a of the id, cf_shard_hash), so that looking up,
    adding and forgetting the oldest are O(1); see cf_recent.h.             */
#include "cf_recent.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_shard.h"

#include <assert.h>
#include <stdlib.h>

#define RECENT_NONE     UINT32_MAX
#define RECENT_BUCKETS  (CF_RECENT_IDS * 2)     /* chains of 0.5 on average when full */

_Static_assert((RECENT_BUCKETS & (RECENT_BUCKETS - 1)) == 0, "buckets are a power of two");

typedef struct {
    uint64_t ms, seq;
    uint32_t stream;
    uint32_t next;              /* in its bucket's chain, RECENT_NONE */
} recent_id_t;

typedef struct {
    uint64_t ms, seq;
    bool set;
} recent_floor_t;

struct _cf_recent_t {
    recent_id_t *ring;          /* ring[(oldest + i) % CF_RECENT_IDS], i < count */
    size_t ring_size;           /* allocated, grows up to CF_RECENT_IDS */
    uint32_t oldest, count;
    uint32_t *buckets;          /* RECENT_BUCKETS heads, allocated at the first id */
    recent_floor_t *floors;     /* per stream */
    unsigned streams;
};

cf_recent_t *cf_recent_new(unsigned streams)
{
    assert(streams >= 1);
    cf_recent_t *self = cf_calloc(1, sizeof *self);
    self->floors = cf_calloc(streams, sizeof *self->floors);
    self->streams = streams;
    return self;
}

void cf_recent_destroy(cf_recent_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_recent_t *self = *self_p;
    free(self->ring);
    free(self->buckets);
    free(self->floors);
    free(self);
    *self_p = NULL;
}

static uint32_t recent_bucket(unsigned stream, uint64_t ms, uint64_t seq)
{
    uint64_t words[3] = { stream, ms, seq };
    return (uint32_t) (cf_shard_hash(words, sizeof words) & (RECENT_BUCKETS - 1));
}

static bool recent_after(uint64_t ms, uint64_t seq, const recent_floor_t *floor)
{
    return !floor->set || ms > floor->ms || (ms == floor->ms && seq > floor->seq);
}

void cf_recent_floor(cf_recent_t *self, unsigned stream, uint64_t ms, uint64_t seq)
{
    assert(self && stream < self->streams);
    recent_floor_t *floor = &self->floors[stream];
    if (recent_after(ms, seq, floor))
        *floor = (recent_floor_t) { ms, seq, true };
}

/* Forgets the oldest id: out of its chain, and into its stream's floor. */
static void recent_forget(cf_recent_t *self)
{
    uint32_t slot = self->oldest;
    const recent_id_t *id = &self->ring[slot];
    uint32_t *link = &self->buckets[recent_bucket(id->stream, id->ms, id->seq)];
    while (*link != slot)
        link = &self->ring[*link].next;
    *link = id->next;
    cf_recent_floor(self, id->stream, id->ms, id->seq);
    self->oldest = (self->oldest + 1) % CF_RECENT_IDS;
    self->count--;
}

bool cf_recent_seen(cf_recent_t *self, unsigned stream, uint64_t ms, uint64_t seq)
{
    assert(self && stream < self->streams);
    if (!recent_after(ms, seq, &self->floors[stream]))
        return true;
    if (!self->buckets) {
        self->buckets = cf_malloc(RECENT_BUCKETS * sizeof *self->buckets);
        for (uint32_t i = 0; i < RECENT_BUCKETS; i++)
            self->buckets[i] = RECENT_NONE;
    }
    uint32_t bucket = recent_bucket(stream, ms, seq);
    for (uint32_t i = self->buckets[bucket]; i != RECENT_NONE; i = self->ring[i].next)
        if (self->ring[i].stream == stream && self->ring[i].ms == ms && self->ring[i].seq == seq)
            return true;
    if (self->count == CF_RECENT_IDS)
        recent_forget(self);
    uint32_t slot = (self->oldest + self->count) % CF_RECENT_IDS;
    if (slot >= self->ring_size)        /* still growing: the ring has not wrapped yet */
        self->ring = cf_grow(self->ring, &self->ring_size, (size_t) slot + 1, sizeof *self->ring);
    self->ring[slot] = (recent_id_t) { ms, seq, stream, self->buckets[bucket] };
    self->buckets[bucket] = slot;
    self->count++;
    return false;
}

uint32_t cf_recent_size(const cf_recent_t *self)
{
    assert(self);
    return self->count;
}
