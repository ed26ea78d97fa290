/*  cf_commit_cache: an owner's cache of its shards' counter values and key
    types (cf_commit_cache.h). Each shard has its own table, allocated when
    its first entry comes and freed when it is dropped, so that a worker
    that owned hundreds of shards once holds memory only for those it
    commits now. An entry is one record in the shard's arena: its values
    (one, or a row's measures: cf_tuple), then its key and field (a type,
    for a typed key); the table is open addressing over slots that hold 32
    bits of the entry's hash beside the record's place. A lookup is one per
    counter field a commit writes (about 3 per event) and bound by memory
    latency, not by hashing: a miss past other entries reads only slots,
    and a hit one slot and one record (one or two cache lines, where an
    entry array apart from its bytes took three or four).                 */
#include "cf_commit_cache.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef enum { CACHE_VALUE, CACHE_TYPE } cache_kind_t;

/* An entry's record in its shard's arena, 8-byte aligned: the lengths and
   the values, then the key's bytes and the field's (a type, for a typed
   key) right after them, so that a hit reads one or two cache lines. The
   width is part of what names an entry, so that a value is never written
   over one of another width. */
typedef struct {
    uint32_t key_len;
    uint32_t len : 31, kind : 1;
    uint32_t width;             /* values: 0 for a type */
    uint32_t hash;              /* a hash's type: what is known of its fields (cf_commit_hash_t) */
    int64_t values[];           /* then the key's bytes and the field's */
} cache_entry_t;

#define CACHE_ANY_WIDTH SIZE_MAX    /* cache_slot: a field's entry whatever its width */

static const char *cache_bytes(const cache_entry_t *e)
{
    return (const char *) (e->values + e->width);
}

/* A slot of the open-addressing table: 32 bits of the entry's hash beside
   where its record is, so that a probe past another entry compares the
   hashes and touches that entry's record only when they are equal (1 time
   in 2^32), and growing the table reads no record. */
typedef struct {
    uint32_t hash;
    uint32_t at;                /* the record's offset / 8, + 1; 0 empty */
} cache_slot_t;

typedef struct {
    uint32_t drops;             /* how many times it was dropped: a ref's generation */
    uint64_t epoch;             /* 0: nothing kept */
    char *bytes;                /* the records */
    size_t bytes_len, bytes_cap;
    size_t n;
    uint32_t types;             /* of the n, the typed keys */
    cache_slot_t *slots;
    size_t nslots;
} cache_shard_t;

struct _cf_commit_cache_t {
    cache_shard_t *shards;
    unsigned nshards;
    size_t most, total;
    uint32_t hash_mask;         /* the bits of a hash kept (cf_commit_cache_test_hash_bits) */
};

cf_commit_cache_t *cf_commit_cache_new(unsigned shards, size_t most)
{
    cf_commit_cache_t *self = cf_calloc(1, sizeof *self);
    self->shards = cf_calloc(shards ? shards : 1, sizeof *self->shards);
    self->nshards = shards;
    self->most = most;
    self->hash_mask = UINT32_MAX;
    return self;
}

void cf_commit_cache_drop(cf_commit_cache_t *self, unsigned s)
{
    assert(self && s < self->nshards);
    cache_shard_t *sh = &self->shards[s];
    self->total -= sh->n;
    free(sh->bytes);
    free(sh->slots);
    uint32_t drops = sh->drops + 1;
    memset(sh, 0, sizeof *sh);
    sh->drops = drops;
}

void cf_commit_cache_clear(cf_commit_cache_t *self)
{
    assert(self);
    for (unsigned s = 0; s < self->nshards; s++)
        cf_commit_cache_drop(self, s);
}

void cf_commit_cache_destroy(cf_commit_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_commit_cache_t *self = *self_p;
    cf_commit_cache_clear(self);
    free(self->shards);
    free(self);
    *self_p = NULL;
}

cf_commit_cache_t *cf_commit_cache_begin(cf_commit_cache_t *self, unsigned s, uint64_t epoch)
{
    assert(self && s < self->nshards);
    if (self->shards[s].epoch != epoch)
        cf_commit_cache_drop(self, s);
    self->shards[s].epoch = epoch;
    return epoch ? self : NULL;
}

void cf_commit_cache_test_hash_bits(cf_commit_cache_t *self, unsigned bits)
{
    assert(self && bits <= 32 && self->total == 0);
    self->hash_mask = bits == 32 ? UINT32_MAX : (UINT32_C(1) << bits) - 1;
}

/* The top 32 bits of cf_hash over kind, key and field. */
static uint32_t cache_hash(const cf_commit_cache_t *self, cache_kind_t kind, const char *key,
                           size_t key_len, const char *field, size_t len)
{
    return (uint32_t) (cf_hash2(key, key_len, field, len, (uint64_t) kind) >> 32) & self->hash_mask;
}

static cache_entry_t *cache_entry(const cache_shard_t *sh, const cache_slot_t *slot)
{
    return (cache_entry_t *) (sh->bytes + 8 * (size_t) (slot->at - 1));
}

/* The slot of (kind, key, field), whose hash is hash, in shard sh: its
   entry's, or the empty one where it would go. */
static cache_slot_t *cache_slot(const cache_shard_t *sh, uint32_t hash, cache_kind_t kind,
                                const char *key, size_t key_len, const char *field, size_t len,
                                size_t width)
{
    size_t mask = sh->nslots - 1;
    for (size_t at = hash & mask;; at = (at + 1) & mask) {
        cache_slot_t *slot = &sh->slots[at];
        if (!slot->at)
            return slot;
        if (slot->hash != hash)
            continue;
        const cache_entry_t *e = cache_entry(sh, slot);
        if (e->kind == kind && e->key_len == key_len && e->len == len
            && (e->width == width || width == CACHE_ANY_WIDTH)
            && memcmp(cache_bytes(e), key, key_len) == 0
            && memcmp(cache_bytes(e) + key_len, field, len) == 0)
            return slot;
    }
}

static const cache_entry_t *cache_find(const cf_commit_cache_t *self, unsigned s,
                                       cache_kind_t kind, const char *key, size_t key_len,
                                       const char *field, size_t len, size_t width)
{
    assert(self && s < self->nshards && key);
    const cache_shard_t *sh = &self->shards[s];
    if (!sh->epoch || !sh->n)
        return NULL;
    const cache_slot_t *slot = cache_slot(sh, cache_hash(self, kind, key, key_len, field, len),
                                          kind, key, key_len, field, len, width);
    return slot->at ? cache_entry(sh, slot) : NULL;
}

cf_commit_cache_hint_t cf_commit_cache_prefetch(const cf_commit_cache_t *self, unsigned s,
                                                const char *key, size_t key_len,
                                                const char *field, size_t len)
{
    assert(self && s < self->nshards && key);
    const cache_shard_t *sh = &self->shards[s];
    uint32_t hash = cache_hash(self, CACHE_VALUE, key, key_len, field, len);
    if (sh->epoch && sh->n)
        __builtin_prefetch(&sh->slots[hash & (sh->nslots - 1)]);
    return hash;
}

/* Entry e's values into values, and its ref: the shard's generation, and
   the record's place (+ 1) in its arena. */
static cf_commit_cache_ref_t cache_values(const cache_shard_t *sh, const cache_entry_t *e,
                                          int64_t *values)
{
    memcpy(values, e->values, e->width * sizeof *values);
    return (uint64_t) sh->drops << 32 | ((size_t) ((const char *) e - sh->bytes) / 8 + 1);
}

bool cf_commit_cache_values_ref(const cf_commit_cache_t *self, unsigned s, const char *key,
                                size_t key_len, const char *field, size_t len, int64_t *values,
                                size_t width, cf_commit_cache_ref_t *ref)
{
    assert(width >= 1);
    const cache_entry_t *e = cache_find(self, s, CACHE_VALUE, key, key_len, field, len, width);
    *ref = e ? cache_values(&self->shards[s], e, values) : 0;
    return e != NULL;
}

cf_commit_field_t cf_commit_cache_field(const cf_commit_cache_t *self, unsigned s,
                                        cf_commit_cache_hint_t hint, const char *key,
                                        size_t key_len, const char *field, size_t len,
                                        int64_t *values, size_t width, bool other_widths,
                                        cf_commit_cache_ref_t *ref)
{
    assert(self && s < self->nshards && key && width >= 1 && ref);
    assert(hint == cache_hash(self, CACHE_VALUE, key, key_len, field, len));
    const cache_shard_t *sh = &self->shards[s];
    *ref = 0;
    if (!sh->epoch || !sh->n)
        return CF_COMMIT_FIELD_UNKNOWN;
    const cache_slot_t *slot = cache_slot(sh, hint, CACHE_VALUE, key, key_len, field, len, width);
    if (slot->at) {
        *ref = cache_values(sh, cache_entry(sh, slot), values);
        return CF_COMMIT_FIELD_KNOWN;
    }
    if (!other_widths)
        return CF_COMMIT_FIELD_UNKNOWN;
    slot = cache_slot(sh, hint, CACHE_VALUE, key, key_len, field, len, CACHE_ANY_WIDTH);
    return slot->at ? CF_COMMIT_FIELD_OTHER_WIDTH : CF_COMMIT_FIELD_UNKNOWN;
}

bool cf_commit_cache_value(const cf_commit_cache_t *self, unsigned s, const char *key,
                           size_t key_len, const char *field, size_t len, int64_t *value)
{
    cf_commit_cache_ref_t ref;
    return cf_commit_cache_values_ref(self, s, key, key_len, field, len, value, 1, &ref);
}

bool cf_commit_cache_set(cf_commit_cache_t *self, unsigned s, cf_commit_cache_ref_t ref,
                         const int64_t *values, size_t width)
{
    assert(self && s < self->nshards);
    cache_shard_t *sh = &self->shards[s];
    if (!ref || (uint32_t) (ref >> 32) != sh->drops)
        return false;
    /* not dropped since: the records it held then are where they were */
    size_t at = 8 * (size_t) ((uint32_t) ref - 1);
    assert(at < sh->bytes_len);
    cache_entry_t *e = (cache_entry_t *) (sh->bytes + at);
    assert(e->kind == CACHE_VALUE && e->width == width);
    memcpy(e->values, values, width * sizeof *values);
    return true;
}

bool cf_commit_cache_typed(const cf_commit_cache_t *self, unsigned s, const char *key,
                           size_t key_len, const char *type)
{
    return cache_find(self, s, CACHE_TYPE, key, key_len, type, strlen(type), 0) != NULL;
}

cf_commit_hash_t cf_commit_cache_hash(const cf_commit_cache_t *self, unsigned s, const char *key,
                                      size_t key_len)
{
    const cache_entry_t *e = cache_find(self, s, CACHE_TYPE, key, key_len, "hash", 4, 0);
    return e ? (cf_commit_hash_t) e->hash : CF_COMMIT_HASH_SOME;
}

/* Doubles shard sh's table and puts every slot in again (by the hash it
   holds: no record is read). */
static void cache_rehash(cache_shard_t *sh)
{
    cache_slot_t *old = sh->slots;
    size_t nold = sh->nslots;
    sh->nslots = nold ? 2 * nold : 64;
    sh->slots = cf_calloc(sh->nslots, sizeof *sh->slots);
    for (size_t i = 0; i < nold; i++) {
        if (!old[i].at)
            continue;
        size_t at = old[i].hash & (sh->nslots - 1);
        while (sh->slots[at].at)
            at = (at + 1) & (sh->nslots - 1);
        sh->slots[at] = old[i];
    }
    free(old);
}

/* Keeps (kind, key, field) with its width values in shard s: its entry, or
   NULL when the store is at its bound (the shard's cache is dropped). */
static cache_entry_t *cache_put_entry(cf_commit_cache_t *self, unsigned s, cache_kind_t kind,
                                      const char *key, size_t key_len, const char *field,
                                      size_t len, const int64_t *values, size_t width)
{
    assert(self && s < self->nshards && key && (field || !len));
    assert(key_len <= UINT32_MAX && len <= INT32_MAX);
    cache_shard_t *sh = &self->shards[s];
    assert(sh->epoch);                          /* cf_commit_cache_begin gave it one */
    if (2 * (sh->n + 1) > sh->nslots)
        cache_rehash(sh);
    uint32_t hash = cache_hash(self, kind, key, key_len, field, len);
    cache_slot_t *slot = cache_slot(sh, hash, kind, key, key_len, field, len, width);
    if (slot->at) {
        if (width)
            memcpy(cache_entry(sh, slot)->values, values, width * sizeof *values);
        return cache_entry(sh, slot);
    }
    if (self->total >= self->most) {            /* at the bound: this shard checks in full */
        uint64_t epoch = sh->epoch;
        cf_commit_cache_drop(self, s);
        sh->epoch = epoch;
        return NULL;
    }
    size_t size = (sizeof(cache_entry_t) + width * sizeof *values + key_len + len + 7)
                & ~(size_t) 7;
    assert(sh->bytes_len / 8 < UINT32_MAX);
    sh->bytes = cf_grow(sh->bytes, &sh->bytes_cap, sh->bytes_len + size, 1);
    cache_entry_t *e = (cache_entry_t *) (sh->bytes + sh->bytes_len);
    e->key_len = (uint32_t) key_len;
    e->len = (uint32_t) len;
    e->kind = kind;
    e->width = (uint32_t) width;
    e->hash = CF_COMMIT_HASH_SOME;
    if (width)
        memcpy(e->values, values, width * sizeof *values);
    memcpy((char *) cache_bytes(e), key, key_len);
    if (len)
        memcpy((char *) cache_bytes(e) + key_len, field, len);
    *slot = (cache_slot_t) { hash, (uint32_t) (sh->bytes_len / 8 + 1) };
    sh->bytes_len += size;
    sh->n++;
    sh->types += kind == CACHE_TYPE;
    self->total++;
    return e;
}

static int cache_put(cf_commit_cache_t *self, unsigned s, cache_kind_t kind, const char *key,
                     size_t key_len, const char *field, size_t len, const int64_t *values,
                     size_t width)
{
    return cache_put_entry(self, s, kind, key, key_len, field, len, values, width) ? 0 : -1;
}

int cf_commit_cache_put_value(cf_commit_cache_t *self, unsigned s, const char *key,
                              size_t key_len, const char *field, size_t len, int64_t value)
{
    return cache_put(self, s, CACHE_VALUE, key, key_len, field, len, &value, 1);
}

int cf_commit_cache_put_values(cf_commit_cache_t *self, unsigned s, const char *key,
                               size_t key_len, const char *field, size_t len,
                               const int64_t *values, size_t width)
{
    assert(width >= 1);
    return cache_put(self, s, CACHE_VALUE, key, key_len, field, len, values, width);
}

int cf_commit_cache_put_type(cf_commit_cache_t *self, unsigned s, const char *key,
                             size_t key_len, const char *type)
{
    return cache_put(self, s, CACHE_TYPE, key, key_len, type, strlen(type), NULL, 0);
}

int cf_commit_cache_put_hash(cf_commit_cache_t *self, unsigned s, const char *key,
                             size_t key_len, cf_commit_hash_t what)
{
    cache_entry_t *e = cache_put_entry(self, s, CACHE_TYPE, key, key_len, "hash", 4, NULL, 0);
    if (!e)
        return -1;
    e->hash = what;
    return 0;
}

size_t cf_commit_cache_entries(const cf_commit_cache_t *self, unsigned s)
{
    assert(self && s < self->nshards);
    return self->shards[s].n;
}

uint64_t cf_commit_cache_types_version(const cf_commit_cache_t *self, unsigned s)
{
    assert(self && s < self->nshards);
    return (uint64_t) self->shards[s].drops << 32 | self->shards[s].types;
}

size_t cf_commit_cache_total(const cf_commit_cache_t *self)
{
    assert(self);
    return self->total;
}
