/*  cf_commit_cache: an owner's cache of its shards' counter values and key
    types (cf_commit_cache.h). Each shard has its own table, allocated when
    its first entry comes and freed when it is dropped, so that a worker
    that owned hundreds of shards once holds memory only for those it
    commits now: an entry is a key and a field (a type, for a typed key)
    copied into the shard's arena, found by open addressing.              */
#include "cf_commit_cache.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef enum { CACHE_VALUE, CACHE_TYPE } cache_kind_t;

typedef struct {
    size_t off, key_len, len;   /* key then field in the arena */
    int64_t value;
    cache_kind_t kind;
} cache_entry_t;

typedef struct {
    uint64_t epoch;             /* 0: nothing kept */
    char *bytes;
    size_t bytes_len, bytes_cap;
    cache_entry_t *entries;
    size_t n, entries_cap;
    size_t *slots;              /* index + 1, 0 empty */
    size_t nslots;
} cache_shard_t;

struct _cf_commit_cache_t {
    cache_shard_t *shards;
    unsigned nshards;
    size_t most, total;
};

cf_commit_cache_t *cf_commit_cache_new(unsigned shards, size_t most)
{
    cf_commit_cache_t *self = cf_calloc(1, sizeof *self);
    self->shards = cf_calloc(shards ? shards : 1, sizeof *self->shards);
    self->nshards = shards;
    self->most = most;
    return self;
}

void cf_commit_cache_drop(cf_commit_cache_t *self, unsigned s)
{
    assert(self && s < self->nshards);
    cache_shard_t *sh = &self->shards[s];
    self->total -= sh->n;
    free(sh->bytes);
    free(sh->entries);
    free(sh->slots);
    memset(sh, 0, sizeof *sh);
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

static uint64_t cache_hash(cache_kind_t kind, const char *key, size_t key_len, const char *field,
                           size_t len)
{
    uint64_t h = 14695981039346656037u ^ (uint64_t) kind;
    for (size_t i = 0; i < key_len; i++)
        h = (h ^ (unsigned char) key[i]) * 1099511628211u;
    h = (h ^ 0xff) * 1099511628211u;            /* a separator no key byte run imitates */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) field[i]) * 1099511628211u;
    return h;
}

/* The slot of (kind, key, field) in shard sh: its entry's, or the empty one
   where it would go. */
static size_t *cache_slot(const cache_shard_t *sh, cache_kind_t kind, const char *key,
                          size_t key_len, const char *field, size_t len)
{
    size_t mask = sh->nslots - 1;
    for (size_t at = cache_hash(kind, key, key_len, field, len) & mask;; at = (at + 1) & mask) {
        if (!sh->slots[at])
            return &sh->slots[at];
        const cache_entry_t *e = &sh->entries[sh->slots[at] - 1];
        if (e->kind == kind && e->key_len == key_len && e->len == len
            && memcmp(sh->bytes + e->off, key, key_len) == 0
            && memcmp(sh->bytes + e->off + key_len, field, len) == 0)
            return &sh->slots[at];
    }
}

static const cache_entry_t *cache_find(const cf_commit_cache_t *self, unsigned s,
                                       cache_kind_t kind, const char *key, size_t key_len,
                                       const char *field, size_t len)
{
    assert(self && s < self->nshards && key);
    const cache_shard_t *sh = &self->shards[s];
    if (!sh->epoch || !sh->n)
        return NULL;
    size_t at = *cache_slot(sh, kind, key, key_len, field, len);
    return at ? &sh->entries[at - 1] : NULL;
}

bool cf_commit_cache_value(const cf_commit_cache_t *self, unsigned s, const char *key,
                           size_t key_len, const char *field, size_t len, int64_t *value)
{
    const cache_entry_t *e = cache_find(self, s, CACHE_VALUE, key, key_len, field, len);
    if (e)
        *value = e->value;
    return e != NULL;
}

bool cf_commit_cache_typed(const cf_commit_cache_t *self, unsigned s, const char *key,
                           size_t key_len, const char *type)
{
    return cache_find(self, s, CACHE_TYPE, key, key_len, type, strlen(type)) != NULL;
}

/* Doubles shard sh's table and puts every entry in again. */
static void cache_rehash(cache_shard_t *sh)
{
    free(sh->slots);
    sh->nslots = sh->nslots ? 2 * sh->nslots : 64;
    sh->slots = cf_calloc(sh->nslots, sizeof *sh->slots);
    for (size_t i = 0; i < sh->n; i++) {
        const cache_entry_t *e = &sh->entries[i];
        *cache_slot(sh, e->kind, sh->bytes + e->off, e->key_len, sh->bytes + e->off + e->key_len,
                    e->len) = i + 1;
    }
}

static int cache_put(cf_commit_cache_t *self, unsigned s, cache_kind_t kind, const char *key,
                     size_t key_len, const char *field, size_t len, int64_t value)
{
    assert(self && s < self->nshards && key && (field || !len));
    cache_shard_t *sh = &self->shards[s];
    assert(sh->epoch);                          /* cf_commit_cache_begin gave it one */
    if (2 * (sh->n + 1) > sh->nslots)
        cache_rehash(sh);
    size_t *slot = cache_slot(sh, kind, key, key_len, field, len);
    if (*slot) {
        sh->entries[*slot - 1].value = value;
        return 0;
    }
    if (self->total >= self->most) {            /* at the bound: this shard checks in full */
        uint64_t epoch = sh->epoch;
        cf_commit_cache_drop(self, s);
        sh->epoch = epoch;
        return -1;
    }
    sh->entries = cf_grow(sh->entries, &sh->entries_cap, sh->n + 1, sizeof *sh->entries);
    sh->bytes = cf_grow(sh->bytes, &sh->bytes_cap, sh->bytes_len + key_len + len + 1, 1);
    cache_entry_t *e = &sh->entries[sh->n];
    *e = (cache_entry_t) { sh->bytes_len, key_len, len, value, kind };
    memcpy(sh->bytes + sh->bytes_len, key, key_len);
    if (len)
        memcpy(sh->bytes + sh->bytes_len + key_len, field, len);
    sh->bytes_len += key_len + len;
    *slot = ++sh->n;
    self->total++;
    return 0;
}

int cf_commit_cache_put_value(cf_commit_cache_t *self, unsigned s, const char *key,
                              size_t key_len, const char *field, size_t len, int64_t value)
{
    return cache_put(self, s, CACHE_VALUE, key, key_len, field, len, value);
}

int cf_commit_cache_put_type(cf_commit_cache_t *self, unsigned s, const char *key,
                             size_t key_len, const char *type)
{
    return cache_put(self, s, CACHE_TYPE, key, key_len, type, strlen(type), 0);
}

size_t cf_commit_cache_entries(const cf_commit_cache_t *self, unsigned s)
{
    assert(self && s < self->nshards);
    return self->shards[s].n;
}

size_t cf_commit_cache_total(const cf_commit_cache_t *self)
{
    assert(self);
    return self->total;
}
