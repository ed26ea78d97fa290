/*  cf_owners: which worker owns each shard, by rendezvous (highest random
    weight) hashing: shard s goes to the worker whose score for s is the
    highest. A worker that joins takes about shards / n of them, each from
    whoever had it; one that leaves gives away exactly its own; nothing else
    moves (docs/reliability.md, "Ownership and fencing"). Pure: names in,
    owners out; the broker keeps the epochs (cf_broker_route.c).           */
#ifndef CF_OWNERS_H
#define CF_OWNERS_H

#include <stddef.h>
#include <stdint.h>

/*  The score of worker (its label) for shard.                               */
uint64_t cf_owners_score(const char *worker, unsigned shard);

/*  For each of the shards, the index in workers (n labels, distinct) of its
    owner, into owner[shards]; -1 for every shard when n is 0.              */
void cf_owners_assign(const char *const *workers, size_t n, unsigned shards, int *owner);

#endif
