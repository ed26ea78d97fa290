/*  cf_owners: which worker owns each shard, by rendezvous (highest random
    weight) hashing with bounded loads: every (worker, shard) pair has a
    score, and the pairs are taken from the highest score down, each shard
    going to the first worker that wants it and holds fewer than
    ceil(shards / n). So the workers hold shards / n each, give or take one.
    Plain rendezvous gave the busier of two workers 35 of 64 shards on
    average and 37 or more a quarter of the time (2 000 random pairs of
    names), and that worker set the pace of both. A worker that joins or
    leaves still moves little more than its share (unit.cf_owners counts
    them), where plain rendezvous moved exactly its share
    (docs/reliability.md, "Ownership and fencing"). Pure: names in, owners out, the same for the
    same names in any order; the broker keeps the epochs (cf_broker_route.c). */
#ifndef CF_OWNERS_H
#define CF_OWNERS_H

#include <stddef.h>
#include <stdint.h>

/*  The score of worker (its label) for shard.                               */
uint64_t cf_owners_score(const char *worker, unsigned shard);

/*  For each of the shards, the index in workers (n labels, distinct) of its
    owner, into owner[shards]; -1 for every shard when n is 0. No worker
    gets more than ceil(shards / n).                                        */
void cf_owners_assign(const char *const *workers, size_t n, unsigned shards, int *owner);

#endif
