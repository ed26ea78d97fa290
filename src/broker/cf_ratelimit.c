/*  cf_ratelimit: token buckets per producer, and the bytes each holds; see
    cf_ratelimit.h. The table is open addressing with linear probing over
    twice max_peers slots, so a probe stays short; entries are removed only
    by the sweep, which rebuilds the table, so there are no tombstones.
    Buckets are refilled lazily, when their producer is next seen.          */
#include "caseflow/cf_ratelimit.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define RATELIMIT_SWEEP_MS 100      /* at most one sweep of a full table this often */

typedef struct {
    uint64_t key;                   /* keyed hash of the routing id; 0 = empty slot */
    double tokens;
    int64_t at;                     /* when tokens was last brought up to date */
    size_t held;                    /* bytes taken by cf_ratelimit_hold, not yet released */
} bucket_t;

struct _cf_ratelimit_t {
    double rate, burst;
    size_t max_peers, size, slots;  /* slots: a power of two >= 2 * max_peers */
    bucket_t *table;
    int64_t swept_at;
    bool swept;
    unsigned char key[crypto_shorthash_KEYBYTES];
};

cf_ratelimit_t *cf_ratelimit_new(double rate, double burst, size_t max_peers)
{
    assert(rate > 0 && burst >= 1 && max_peers >= 1);
    if (sodium_init() < 0)
        abort();
    cf_ratelimit_t *self = cf_calloc(1, sizeof *self);
    self->rate = rate;
    self->burst = burst;
    self->max_peers = max_peers;
    self->slots = 16;
    while (self->slots < 2 * max_peers)
        self->slots *= 2;
    self->table = cf_calloc(self->slots, sizeof *self->table);
    crypto_shorthash_keygen(self->key);
    return self;
}

void cf_ratelimit_destroy(cf_ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->table);
    free(*self_p);
    *self_p = NULL;
}

/* Brings a bucket up to now. */
static void ratelimit_refill(const cf_ratelimit_t *self, bucket_t *b, int64_t now)
{
    if (now > b->at) {
        b->tokens += (double) (now - b->at) * self->rate / 1000.0;
        if (b->tokens > self->burst)
            b->tokens = self->burst;
    }
    b->at = now;
}

/* The slot of key: its bucket, or the empty slot where it would go. */
static bucket_t *ratelimit_slot(cf_ratelimit_t *self, uint64_t key)
{
    size_t i = (size_t) key & (self->slots - 1);
    while (self->table[i].key && self->table[i].key != key)
        i = (i + 1) & (self->slots - 1);
    return &self->table[i];
}

/* Forgets every producer whose bucket is full again and who holds nothing,
   rebuilding the table. */
static void ratelimit_sweep(cf_ratelimit_t *self, int64_t now)
{
    bucket_t *old = self->table;
    self->table = cf_calloc(self->slots, sizeof *self->table);
    self->size = 0;
    for (size_t i = 0; i < self->slots; i++) {
        if (!old[i].key)
            continue;
        ratelimit_refill(self, &old[i], now);
        if (old[i].tokens >= self->burst && !old[i].held)
            continue;
        *ratelimit_slot(self, old[i].key) = old[i];
        self->size++;
    }
    free(old);
    self->swept_at = now;
    self->swept = true;
}

static uint64_t ratelimit_key(const cf_ratelimit_t *self, const void *id, size_t id_len)
{
    assert(id || id_len == 0);
    unsigned char hash[crypto_shorthash_BYTES];
    crypto_shorthash(hash, id, id_len, self->key);
    uint64_t key;
    memcpy(&key, hash, sizeof key);
    return key | 1;                         /* never 0, the empty slot */
}

/* The bucket of id, brought up to now; a new one (full) when it has none,
   or NULL when the table is full of producers that cannot be forgotten. */
static bucket_t *ratelimit_bucket(cf_ratelimit_t *self, const void *id, size_t id_len,
                                  int64_t now)
{
    uint64_t key = ratelimit_key(self, id, id_len);
    bucket_t *b = ratelimit_slot(self, key);
    if (!b->key) {
        if (self->size == self->max_peers) {
            if (self->swept && now - self->swept_at < RATELIMIT_SWEEP_MS)
                return NULL;
            ratelimit_sweep(self, now);
            if (self->size == self->max_peers)
                return NULL;
            b = ratelimit_slot(self, key);
        }
        *b = (bucket_t) { key, self->burst, now, 0 };
        self->size++;
    }
    ratelimit_refill(self, b, now);
    return b;
}

cf_ratelimit_result_t cf_ratelimit_take(cf_ratelimit_t *self, const void *id, size_t id_len,
                                        size_t n, int64_t now_ms)
{
    assert(self);
    bucket_t *b = ratelimit_bucket(self, id, id_len, now_ms);
    if (!b)
        return CF_RATELIMIT_FULL;
    if (b->tokens < (double) n)
        return CF_RATELIMIT_OVER;
    b->tokens -= (double) n;
    return CF_RATELIMIT_OK;
}

cf_ratelimit_result_t cf_ratelimit_check(cf_ratelimit_t *self, const void *id, size_t id_len,
                                         size_t n, int64_t now_ms)
{
    assert(self);
    bucket_t *b = ratelimit_bucket(self, id, id_len, now_ms);
    if (!b)
        return CF_RATELIMIT_FULL;
    return b->tokens < (double) n ? CF_RATELIMIT_OVER : CF_RATELIMIT_OK;
}

cf_ratelimit_result_t cf_ratelimit_hold(cf_ratelimit_t *self, const void *id, size_t id_len,
                                        size_t bytes, size_t max, int64_t now_ms)
{
    assert(self);
    bucket_t *b = ratelimit_bucket(self, id, id_len, now_ms);
    if (!b)
        return CF_RATELIMIT_FULL;
    if (bytes > max || b->held > max - bytes)
        return CF_RATELIMIT_OVER;
    b->held += bytes;
    return CF_RATELIMIT_OK;
}

void cf_ratelimit_release(cf_ratelimit_t *self, const void *id, size_t id_len, size_t bytes)
{
    assert(self);
    bucket_t *b = ratelimit_slot(self, ratelimit_key(self, id, id_len));
    assert(b->key && b->held >= bytes);     /* a bucket that holds is never swept */
    b->held -= bytes;
}

size_t cf_ratelimit_held(cf_ratelimit_t *self, const void *id, size_t id_len)
{
    assert(self);
    bucket_t *b = ratelimit_slot(self, ratelimit_key(self, id, id_len));
    return b->key ? b->held : 0;
}

size_t cf_ratelimit_size(const cf_ratelimit_t *self)
{
    assert(self);
    return self->size;
}
