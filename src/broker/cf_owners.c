/*  cf_owners: rendezvous hashing of shards to workers; see cf_owners.h.    */
#include "cf_owners.h"
#include "caseflow/cf_shard.h"

#include <assert.h>
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

void cf_owners_assign(const char *const *workers, size_t n, unsigned shards, int *owner)
{
    assert((workers || n == 0) && owner);
    for (unsigned s = 0; s < shards; s++) {
        int best = -1;
        uint64_t top = 0;
        for (size_t w = 0; w < n; w++) {
            uint64_t score = cf_owners_score(workers[w], s);
            if (best < 0 || score > top || (score == top && strcmp(workers[w], workers[best]) < 0))
                best = (int) w, top = score;
        }
        owner[s] = best;
    }
}
