/*  cf_commit_internal: what the builder (cf_commit.c), its check round
    (cf_commit_checks.c) and its writes (cf_commit_emit.c) share: the
    builder's state, its items and checks, and the small helpers they use.
    Not part of the store's interface.                                     */
#ifndef CF_COMMIT_INTERNAL_H
#define CF_COMMIT_INTERNAL_H

#include "cf_commit.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_outbox_notes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The kinds, in the order their commands go out. */
typedef enum {
    OP_TYPE, OP_SET, OP_HSET, OP_INCR, OP_ZADD, OP_ZREM, OP_XADD, OP_KINDS
} commit_kind_t;

/* Kinds whose items of one key are one command. */
static inline bool commit_grouped(commit_kind_t kind)
{
    return kind == OP_INCR || kind == OP_HSET || kind == OP_ZADD || kind == OP_ZREM
        || kind == OP_XADD;
}

typedef struct {
    size_t off, len;
} commit_str_t;

/* A key, whether its type check is asked already (once per key) and is to
   be sent whatever the cache has seen, and the family of its counters (-1:
   none, every field a scalar). */
typedef struct {
    commit_str_t name;
    bool typed;
    bool recheck;               /* cf_commit_type_checked: the caller did not confirm its type */
    int family;
    int hash_next;              /* a counter hash: what the cache knows of its fields after
                                   EXEC (cf_commit_hash_t, from its HLEN or HGETALL); -1: as
                                   before */
} commit_key_t;

/* A field a counter hash's HGETALL gave that the commit does not write:
   kept in the cache after EXEC, so that the cache holds every field. */
typedef struct {
    size_t key;
    commit_str_t field;
    size_t v;                   /* its values: loaded_vals[v .. v + w) */
    unsigned w;
} commit_loaded_t;

typedef struct {
    commit_kind_t kind;
    size_t key;
    size_t seq;
    commit_str_t a, b;          /* field / value / member / topic, body / type */
    int64_t n;                  /* delta, ttl, score, time */
    /* a counter: a is the hash field it is kept in (its row, for a
       measure), whole the length of the field added to; the measure's
       index in the row's width values, at vals[v] over the items of one
       field */
    size_t whole, v;
    unsigned m, w;
    bool known;                 /* a field's first item: the cache gave its values, */
    cf_commit_cache_ref_t ref;  /* ... from this entry, set again after EXEC */
    cf_commit_cache_hint_t hint;    /* where the cache looks for it (commit_know) */
} commit_item_t;

/* One reply the check round waits for. */
typedef enum { CHECK_WATCH, CHECK_HMGET, CHECK_TYPE, CHECK_HLEN, CHECK_HGETALL } check_kind_t;
typedef struct {
    check_kind_t kind;
    size_t at, n;               /* its items: order[at .. at + n) */
} commit_check_t;

struct _cf_commit_t {
    char *bytes;                /* every string given, copied */
    size_t bytes_len, bytes_cap;
    commit_key_t *keys;         /* key k is keys[k - 1] */
    size_t nkeys, keys_cap;
    size_t *slots;              /* open addressing over keys: index + 1, 0 empty */
    size_t nslots;
    commit_item_t *items;
    size_t nitems, items_cap;
    size_t notes;
    size_t *order;              /* items sorted (cf_commit_checks) */
    bool *same;                 /* same[p]: order[p] adds to the field of order[p - 1] */
    size_t order_cap, same_cap;
    bool sorted;
    commit_check_t *checks;
    size_t nchecks, checks_cap, next_check;
    size_t wrong_hash;          /* key + 1 of a hash Redis refused, 0 none */
    char refusal[300];          /* a check the cache's values failed; "" */
    const char **argv;          /* one command, being emitted */
    size_t *argvlen;
    size_t argv_cap;
    char (*nums)[24];           /* its numbers */
    size_t nums_cap;
    char *texts;                /* its tuples (CF_TUPLE_TEXT_MAX each) */
    size_t texts_cap;
    char *packed;               /* its notifications (cf_outbox_notes_pack) */
    size_t packed_cap;
    char *compressed;           /* the same, compressed (cf_outbox_notes_compress) */
    size_t compressed_cap;
    int64_t *vals;              /* the counters' values, by field (checks) */
    size_t nvals, vals_cap;
    const redisReply **found;   /* an HGETALL's value of each field read, NULL absent */
    size_t found_cap;
    commit_loaded_t *loaded;    /* the other fields HGETALL gave */
    size_t nloaded, loaded_cap;
    int64_t *loaded_vals;
    size_t nloaded_vals, loaded_vals_cap;
};

static inline const char *commit_text(const cf_commit_t *self, commit_str_t s)
{
    return self->bytes + s.off;
}

static inline int commit_compare_str(const cf_commit_t *self, commit_str_t a, commit_str_t b)
{
    int c = memcmp(commit_text(self, a), commit_text(self, b), a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static inline const commit_item_t *commit_at(const cf_commit_t *self, size_t p)
{
    return &self->items[self->order[p]];
}

/* The length of the run of items that starts at order position p: one
   command's. */
static inline size_t commit_run(const cf_commit_t *self, size_t p)
{
    const commit_item_t *first = commit_at(self, p);
    size_t run = 1;
    size_t most = first->kind == OP_XADD ? CF_OUTBOX_NOTES_MAX : SIZE_MAX;
    if (commit_grouped(first->kind))
        while (p + run < self->nitems && run < most && commit_at(self, p + run)->kind == first->kind
               && commit_at(self, p + run)->key == first->key)
            run++;
    return run;
}

/* Whether the counter item at order position p adds to the same field as
   the one before it, in the run that starts at start (worked out once, as
   the items were sorted: each pass over a commit's counters asks it). */
static inline bool commit_same_field(const cf_commit_t *self, size_t p, size_t start)
{
    return p > start && self->same[p];
}

static inline void commit_arg(cf_commit_t *self, size_t *argc, const char *s, size_t len)
{
    self->argv[*argc] = s;
    self->argvlen[(*argc)++] = len;
}

static inline void commit_arg_str(cf_commit_t *self, size_t *argc, commit_str_t s)
{
    commit_arg(self, argc, commit_text(self, s), s.len);
}

static inline void commit_arg_key(cf_commit_t *self, size_t *argc, size_t k)
{
    commit_arg_str(self, argc, self->keys[k - 1].name);
}

/*  Copies data into the arena, with a NUL after it.                        */
commit_str_t cf_commit_copy(cf_commit_t *self, const void *data, size_t len);
/*  Sorts the items once (kind, key, field, order added): order[].          */
void cf_commit_sort(cf_commit_t *self);
/*  Gives each counter field its values' place in vals[].                   */
void cf_commit_place(cf_commit_t *self);
/*  Room for a command of n arguments in argv[], argvlen[] and nums[].      */
void cf_commit_argv_reserve(cf_commit_t *self, size_t n);

#endif
