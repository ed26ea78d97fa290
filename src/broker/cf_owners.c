/*  cf_owners: rendezvous hashing of shards to workers, with bounded loads;
    see cf_owners.h.                                                         */
#include "cf_owners.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_shard.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

uint64_t cf_owners_score(const char *worker, unsigned shard)
{
    assert(worker);
    /* FNV-1a of the label, then a splitmix64 finaliser over it and the
       shard: FNV alone spreads short, similar labels (w1, w2) poorly */
    uint64_t z = cf_shard_hash(worker, strlen(worker)) ^ (0x9e3779b97f4a7c15ull * (shard + 1));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One (worker, shard) pair and its score. */
typedef struct {
    uint64_t score;
    const char *worker;
    uint32_t w, shard;
} owners_pair_t;

/* Highest score first; ties (rare: 64 bits) by name, then shard, so that
   the order of the names given does not matter. */
static int owners_compare(const void *x, const void *y)
{
    const owners_pair_t *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    int c = strcmp(a->worker, b->worker);
    if (c)
        return c;
    return (a->shard > b->shard) - (a->shard < b->shard);
}

void cf_owners_assign(const char *const *workers, size_t n, unsigned shards, int *owner)
{
    assert((workers || n == 0) && owner);
    for (unsigned s = 0; s < shards; s++)
        owner[s] = -1;
    if (n == 0 || shards == 0)
        return;
    owners_pair_t *pairs = cf_malloc(n * shards * sizeof *pairs);
    size_t *held = cf_calloc(n, sizeof *held);
    for (size_t w = 0, k = 0; w < n; w++)
        for (unsigned s = 0; s < shards; s++, k++)
            pairs[k] = (owners_pair_t) { cf_owners_score(workers[w], s), workers[w],
                                         (uint32_t) w, s };
    qsort(pairs, n * shards, sizeof *pairs, owners_compare);
    /* n * cap >= shards, so every shard is taken before the pairs run out:
       a shard left over would mean every worker full, shards taken */
    size_t cap = (shards + n - 1) / n, left = shards;
    for (size_t k = 0; k < n * shards && left; k++) {
        const owners_pair_t *p = &pairs[k];
        if (owner[p->shard] >= 0 || held[p->w] == cap)
            continue;
        owner[p->shard] = (int) p->w;
        held[p->w]++;
        left--;
    }
    free(held);
    free(pairs);
}
