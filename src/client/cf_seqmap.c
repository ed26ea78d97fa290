/*  cf_seqmap: key -> last sequence number, open addressing with linear
    probing and doubling at 1/2 load; see cf_seqmap.h.                       */
#include "caseflow/cf_seqmap.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *topic;        /* NULL = empty slot */
    size_t len;
    uint64_t hash;
    uint64_t last;
} seqmap_slot_t;

struct _cf_seqmap_t {
    seqmap_slot_t *slots;
    size_t capacity, size;     /* capacity is a power of two */
};

static uint64_t seqmap_hash(const char *s, size_t len)
{
    return cf_hash(s, len, 0);
}

cf_seqmap_t *cf_seqmap_new(void)
{
    cf_seqmap_t *self = cf_calloc(1, sizeof *self);
    self->slots = cf_calloc(16, sizeof *self->slots);
    self->capacity = 16;
    return self;
}

void cf_seqmap_destroy(cf_seqmap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_seqmap_t *self = *self_p;
    for (size_t i = 0; i < self->capacity; i++)
        free(self->slots[i].topic);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static seqmap_slot_t *seqmap_probe(seqmap_slot_t *slots, size_t capacity, const char *topic,
                                   size_t len, uint64_t hash)
{
    size_t i = hash & (capacity - 1);
    while (slots[i].topic && !(slots[i].hash == hash && slots[i].len == len
                               && memcmp(slots[i].topic, topic, len) == 0))
        i = (i + 1) & (capacity - 1);
    return &slots[i];
}

static void seqmap_grow(cf_seqmap_t *self)
{
    size_t capacity = self->capacity * 2;
    seqmap_slot_t *slots = cf_calloc(capacity, sizeof *slots);
    for (size_t i = 0; i < self->capacity; i++) {
        seqmap_slot_t *old = &self->slots[i];
        if (old->topic)
            *seqmap_probe(slots, capacity, old->topic, old->len, old->hash) = *old;
    }
    free(self->slots);
    self->slots = slots;
    self->capacity = capacity;
}

/* The slot of topic, a new one (last 0) when it was not there. */
static seqmap_slot_t *seqmap_slot(cf_seqmap_t *self, const char *topic, size_t len)
{
    if ((self->size + 1) * 2 > self->capacity)
        seqmap_grow(self);
    uint64_t hash = seqmap_hash(topic, len);
    seqmap_slot_t *slot = seqmap_probe(self->slots, self->capacity, topic, len, hash);
    if (!slot->topic) {
        slot->topic = cf_malloc(len + 1);
        memcpy(slot->topic, topic, len);
        slot->topic[len] = '\0';
        slot->len = len;
        slot->hash = hash;
        self->size++;
    }
    return slot;
}

uint64_t cf_seqmap_next(cf_seqmap_t *self, const char *topic, size_t len)
{
    assert(self && topic);
    return ++seqmap_slot(self, topic, len)->last;
}

uint64_t cf_seqmap_set(cf_seqmap_t *self, const char *topic, size_t len, uint64_t value)
{
    assert(self && topic);
    seqmap_slot_t *slot = seqmap_slot(self, topic, len);
    uint64_t previous = slot->last;
    slot->last = value;
    return previous;
}

uint64_t cf_seqmap_last(const cf_seqmap_t *self, const char *topic, size_t len)
{
    assert(self && topic);
    uint64_t hash = seqmap_hash(topic, len);
    return seqmap_probe(self->slots, self->capacity, topic, len, hash)->last;
}

size_t cf_seqmap_size(const cf_seqmap_t *self)
{
    assert(self);
    return self->size;
}
