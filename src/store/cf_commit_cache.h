/*  cf_commit_cache: what a store that owns shards knows of them from its own
    commits (docs/storage.md, "The owner's cache"): per shard, the epoch it
    belongs to, the exact values of the counter fields its commits read or
    wrote (a row's measures together, for a field that holds a tuple:
    cf_tuple), the keys whose type they checked and, of a counter hash,
    whether it holds every field of it (cf_commit_hash_t). Only the owner
    writes a fenced shard, so what its last commit left there is what Redis
    holds: the next commit of the shard under the same epoch reads only what
    the cache does not know (cf_commit_checks). Bounded: a shard that would
    take the store past `most` entries has its cache dropped. No I/O.      */
#ifndef CF_COMMIT_CACHE_H
#define CF_COMMIT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  The entries a store keeps over all its shards (counter fields and typed
    keys): with ~100 bytes each, a few megabytes at most.                   */
#define CF_COMMIT_CACHE_MOST 65536

typedef struct _cf_commit_cache_t cf_commit_cache_t;

cf_commit_cache_t *cf_commit_cache_new(unsigned shards, size_t most);
void cf_commit_cache_destroy(cf_commit_cache_t **self_p);

/*  Shard s's cache for a commit under epoch: the cache, or NULL when there
    is none to use (epoch 0, an unfenced commit: whatever the shard had is
    dropped). A cache of another epoch is dropped first and starts empty.  */
cf_commit_cache_t *cf_commit_cache_begin(cf_commit_cache_t *self, unsigned s, uint64_t epoch);

/*  Forgets shard s: a commit of it failed, was refused or not fenced.     */
void cf_commit_cache_drop(cf_commit_cache_t *self, unsigned s);

/*  Forgets every shard (a new connection).                                  */
void cf_commit_cache_clear(cf_commit_cache_t *self);

/*  A scalar counter field's value as shard s's last commit left it: true
    and *value, or false when unknown.                                     */
bool cf_commit_cache_value(const cf_commit_cache_t *self, unsigned s, const char *key,
                           size_t key_len, const char *field, size_t len, int64_t *value);

/*  An entry found, as cf_commit_cache_values_ref names it (0: none): good
    until its shard's cache is dropped, so that a commit sets the value of a
    field it found without looking it up again.                            */
typedef uint64_t cf_commit_cache_ref_t;

/*  The width values of a field (1: a scalar; a tuple's measures), the
    entry in *ref: true, or false (*ref 0) when unknown. A field kept with
    another width is another entry.                                         */
bool cf_commit_cache_values_ref(const cf_commit_cache_t *self, unsigned s, const char *key,
                                size_t key_len, const char *field, size_t len, int64_t *values,
                                size_t width, cf_commit_cache_ref_t *ref);

/*  Where a field's entry is looked for: its hash, worked out once.        */
typedef uint32_t cf_commit_cache_hint_t;

/*  Starts loading where the entry of a field would be, so that the
    lookups of a commit's fields, asked for together first, wait for memory
    together rather than one after the other; returns the field's hint for
    cf_commit_cache_field.                                                  */
cf_commit_cache_hint_t cf_commit_cache_prefetch(const cf_commit_cache_t *self, unsigned s,
                                                const char *key, size_t key_len,
                                                const char *field, size_t len);

typedef enum {
    CF_COMMIT_FIELD_UNKNOWN,        /* no value of the field kept */
    CF_COMMIT_FIELD_KNOWN,          /* its values, of the width asked */
    CF_COMMIT_FIELD_OTHER_WIDTH     /* kept, with another width */
} cf_commit_field_t;

/*  What the cache knows of a field whose hint cf_commit_cache_prefetch
    gave: KNOWN, its width values and entry in *ref; else *ref 0, and, when
    other_widths, whether it keeps the field with another width (what a
    commit needs to know of a field of a hash the cache holds whole).      */
cf_commit_field_t cf_commit_cache_field(const cf_commit_cache_t *self, unsigned s,
                                        cf_commit_cache_hint_t hint, const char *key,
                                        size_t key_len, const char *field, size_t len,
                                        int64_t *values, size_t width, bool other_widths,
                                        cf_commit_cache_ref_t *ref);
/*  Sets the values of entry ref of shard s (its width of them): true, or
    false (nothing done) when ref is 0 or the shard's cache was dropped
    since (put the values by their key then).                              */
bool cf_commit_cache_set(cf_commit_cache_t *self, unsigned s, cf_commit_cache_ref_t ref,
                         const int64_t *values, size_t width);

/*  Whether key was checked absent or of `type` by a commit of shard s.     */
bool cf_commit_cache_typed(const cf_commit_cache_t *self, unsigned s, const char *key,
                           size_t key_len, const char *type);

/*  What a shard's cache knows of a counter hash's fields, beside their
    values (docs/storage.md, "The owner's cache"): a hash read whole, or
    found empty, by the owner's commit has every field it holds in the
    cache, so that a field the cache does not know is absent and its commit
    reads nothing. A small one is read whole at its next check.            */
typedef enum {
    CF_COMMIT_HASH_SOME,        /* the fields its commits read or wrote (not typed: none) */
    CF_COMMIT_HASH_LARGE,       /* ... of a hash too large to read whole */
    CF_COMMIT_HASH_SMALL,       /* ... of a hash small enough to read whole (HGETALL) */
    CF_COMMIT_HASH_ALL          /* every field the hash holds */
} cf_commit_hash_t;
/*  At most this many fields are read whole into a shard's cache at once.   */
#define CF_COMMIT_HASH_READ_MOST 256
cf_commit_hash_t cf_commit_cache_hash(const cf_commit_cache_t *self, unsigned s, const char *key,
                                      size_t key_len);
/*  Types key a hash, and says what is known of its fields. -1 at the bound. */
int cf_commit_cache_put_hash(cf_commit_cache_t *self, unsigned s, const char *key,
                             size_t key_len, cf_commit_hash_t what);
/*  Keeps a value or a type for shard s (after its commit's EXEC). -1 when
    the store is at its bound: the shard's cache was dropped.               */
int cf_commit_cache_put_value(cf_commit_cache_t *self, unsigned s, const char *key,
                              size_t key_len, const char *field, size_t len, int64_t value);
int cf_commit_cache_put_values(cf_commit_cache_t *self, unsigned s, const char *key,
                               size_t key_len, const char *field, size_t len,
                               const int64_t *values, size_t width);
int cf_commit_cache_put_type(cf_commit_cache_t *self, unsigned s, const char *key,
                             size_t key_len, const char *type);

/*  Changes whenever shard s's typed keys do (one typed, or all dropped):
    what a caller worked out from cf_commit_cache_typed holds while it is
    the same.                                                               */
uint64_t cf_commit_cache_types_version(const cf_commit_cache_t *self, unsigned s);
/*  The entries shard s holds; over every shard.                            */
size_t cf_commit_cache_entries(const cf_commit_cache_t *self, unsigned s);
size_t cf_commit_cache_total(const cf_commit_cache_t *self);

/*  For tests: keeps only the low `bits` (0-32) of each entry's hash, so
    that entries share hashes (0: all of them) and must still be told apart
    by their bytes. Only on a cache that holds nothing.                      */
void cf_commit_cache_test_hash_bits(cf_commit_cache_t *self, unsigned bits);

#endif
