/*  cf_seqcheck: (publisher, topic) -> last seq, an open-addressing table
    with linear probing that doubles at half load; see cf_seqcheck.h. A key
    is the publisher, a NUL byte and the topic, so that no two pairs share
    one.                                                                     */
#include "caseflow/cf_seqcheck.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;              /* NULL = empty slot */
    size_t len;
    uint64_t hash, last;
} seqcheck_slot_t;

struct _cf_seqcheck_t {
    seqcheck_slot_t *slots;
    size_t capacity, size;  /* capacity is a power of two */
    char *scratch;          /* the key being looked up */
    size_t scratch_size;
};

static uint64_t seqcheck_hash(const char *s, size_t len)
{
    uint64_t hash = 14695981039346656037ULL;       /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ (unsigned char) s[i]) * 1099511628211ULL;
    return hash;
}

cf_seqcheck_t *cf_seqcheck_new(void)
{
    cf_seqcheck_t *self = calloc(1, sizeof *self);
    if (!self || !(self->slots = calloc(16, sizeof *self->slots)))
        abort();
    self->capacity = 16;
    return self;
}

void cf_seqcheck_destroy(cf_seqcheck_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_seqcheck_t *self = *self_p;
    for (size_t i = 0; i < self->capacity; i++)
        free(self->slots[i].key);
    free(self->slots);
    free(self->scratch);
    free(self);
    *self_p = NULL;
}

static seqcheck_slot_t *seqcheck_probe(seqcheck_slot_t *slots, size_t capacity, const char *key,
                                       size_t len, uint64_t hash)
{
    size_t i = hash & (capacity - 1);
    while (slots[i].key && !(slots[i].hash == hash && slots[i].len == len
                             && memcmp(slots[i].key, key, len) == 0))
        i = (i + 1) & (capacity - 1);
    return &slots[i];
}

static void seqcheck_grow(cf_seqcheck_t *self)
{
    size_t capacity = self->capacity * 2;
    seqcheck_slot_t *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        abort();
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots[i].key)
            *seqcheck_probe(slots, capacity, self->slots[i].key, self->slots[i].len,
                            self->slots[i].hash) = self->slots[i];
    free(self->slots);
    self->slots = slots;
    self->capacity = capacity;
}

/* The slot of a key, a new one (last 0) when it was not there. */
static seqcheck_slot_t *seqcheck_slot(cf_seqcheck_t *self, const char *key, size_t len)
{
    if ((self->size + 1) * 2 > self->capacity)
        seqcheck_grow(self);
    uint64_t hash = seqcheck_hash(key, len);
    seqcheck_slot_t *slot = seqcheck_probe(self->slots, self->capacity, key, len, hash);
    if (!slot->key) {
        if (!(slot->key = malloc(len ? len : 1)))
            abort();
        memcpy(slot->key, key, len);
        *slot = (seqcheck_slot_t) { slot->key, len, hash, 0 };
        self->size++;
    }
    return slot;
}

uint64_t cf_seqcheck_see(cf_seqcheck_t *self, const char *publisher, size_t publisher_len,
                         const char *topic, size_t topic_len, uint64_t seq, uint64_t *last)
{
    assert(self && (publisher || !publisher_len) && (topic || !topic_len));
    size_t len = publisher_len + 1 + topic_len;
    if (len > self->scratch_size) {
        if (!(self->scratch = realloc(self->scratch, len)))
            abort();
        self->scratch_size = len;
    }
    if (publisher_len)
        memcpy(self->scratch, publisher, publisher_len);
    self->scratch[publisher_len] = '\0';
    if (topic_len)
        memcpy(self->scratch + publisher_len + 1, topic, topic_len);
    seqcheck_slot_t *slot = seqcheck_slot(self, self->scratch, len);
    uint64_t previous = slot->last;
    slot->last = seq;
    if (last)
        *last = previous;
    return previous && seq > previous + 1 ? seq - previous - 1 : 0;
}

size_t cf_seqcheck_size(const cf_seqcheck_t *self)
{
    assert(self);
    return self->size;
}
