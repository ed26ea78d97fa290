/*  cf_hash: the one hash of the in-memory tables (the fold's sums and case
    index, the owner's cache, a commit's key table, the counter sets, the
    producer's sequence map). It reads eight bytes at a step where FNV-1a,
    which each of them had its own copy of, read one: on a worker hashing
    counter field names was 5 % of its CPU (docs/performance.md).

    Not for anything that leaves the process: its values may change between
    versions, and on a big-endian machine they differ. A shard is chosen by
    cf_shard_hash (FNV-1a, part of the protocol), never by this.           */
#ifndef CF_HASH_H
#define CF_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*  The last mixing step of SplitMix64 / MurmurHash3: every input bit moves
    about half of the output bits, so that the low bits a table masks are
    as good as the high ones.                                              */
static inline uint64_t cf_hash_mix(uint64_t h)
{
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    return h ^ h >> 31;
}

/*  A 64-bit hash of len bytes at data, different for each seed (a table
    that hashes several kinds of key passes the kind as the seed).         */
static inline uint64_t cf_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = cf_hash_mix(seed + UINT64_C(0x9e3779b97f4a7c15) * (len + 1));
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 32;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
    }
    return cf_hash_mix(h);
}

/*  The hash of a key followed by a field, as one: what (key, field) pairs
    need, without copying them together first. The length of key is mixed
    in, so that ("ab", "c") and ("a", "bc") differ.                         */
static inline uint64_t cf_hash2(const void *key, size_t key_len, const void *field,
                                size_t field_len, uint64_t seed)
{
    return cf_hash(field, field_len, cf_hash(key, key_len, seed));
}

#endif
