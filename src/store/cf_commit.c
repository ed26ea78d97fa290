/*  cf_commit: builds one shard's commit as plain Redis commands (cf_commit.h;
    docs/storage.md, "The commit"). Items are kept over one byte arena and
    sorted once, by kind (in the order the commands go out) and key, so that
    the items of one kind and key become one command; counters also by
    field, so that a field added twice is read and written once; the
    notifications keep the order they were added in, one stream entry of up
    to CF_OUTBOX_NOTES_MAX of them (cf_outbox_notes.h). The check round's
    replies give each counter's new value, computed here in 64-bit integers
    (never Lua's doubles), so that the writes set exact values. A counter
    hash of a family with measures keeps each row's measures in one field
    (cf_tuple): its items are sorted by that field, which is read once and
    written once with all its measures, the ones not added to as they were. */
#include "cf_commit.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"
#include "caseflow/cf_hash.h"
#include "caseflow/cf_outbox_notes.h"
#include "caseflow/cf_tuple.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kinds, in the order their commands go out. */
typedef enum {
    OP_TYPE, OP_SET, OP_HSET, OP_INCR, OP_ZADD, OP_ZREM, OP_XADD, OP_KINDS
} commit_kind_t;

/* Kinds whose items of one key are one command. */
static bool commit_grouped(commit_kind_t kind)
{
    return kind == OP_INCR || kind == OP_HSET || kind == OP_ZADD || kind == OP_ZREM
        || kind == OP_XADD;
}

typedef struct {
    size_t off, len;
} commit_str_t;

/* A key, whether its type check is asked already (once per key), and the
   family of its counters (-1: none, every field a scalar). */
typedef struct {
    commit_str_t name;
    bool typed;
    int family;
    int hash_next;              /* a counter hash: what the cache knows of its fields after
                                   EXEC (cf_commit_hash_t, from its HLEN or HGETALL), -1 as before */
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
    size_t order_cap;
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
    int64_t *vals;              /* the counters' values, by field (checks) */
    size_t nvals, vals_cap;
    const redisReply **found;   /* an HGETALL's value of each field read, NULL absent */
    size_t found_cap;
    commit_loaded_t *loaded;    /* the other fields HGETALL gave */
    size_t nloaded, loaded_cap;
    int64_t *loaded_vals;
    size_t nloaded_vals, loaded_vals_cap;
};

cf_commit_t *cf_commit_new(void)
{
    return cf_calloc(1, sizeof(cf_commit_t));
}

void cf_commit_destroy(cf_commit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_commit_t *self = *self_p;
    free(self->bytes);
    free(self->keys);
    free(self->slots);
    free(self->items);
    free(self->order);
    free(self->checks);
    free(self->argv);
    free(self->argvlen);
    free(self->nums);
    free(self->texts);
    free(self->packed);
    free(self->vals);
    free(self->found);
    free(self->loaded);
    free(self->loaded_vals);
    free(self);
    *self_p = NULL;
}

void cf_commit_reset(cf_commit_t *self)
{
    assert(self);
    self->bytes_len = 0;
    self->nkeys = 0;
    self->nitems = 0;
    self->notes = 0;
    self->sorted = false;
    self->nchecks = self->next_check = 0;
    self->wrong_hash = 0;
    self->refusal[0] = '\0';
    self->nloaded = self->nloaded_vals = 0;
    if (self->slots)
        memset(self->slots, 0, self->nslots * sizeof *self->slots);
}

/* Copies data into the arena, with a NUL after it, so that a key or a type
   is a C string too. */
static commit_str_t commit_copy(cf_commit_t *self, const void *data, size_t len)
{
    commit_str_t s = { self->bytes_len, len };
    self->bytes = cf_grow(self->bytes, &self->bytes_cap, self->bytes_len + len + 1, 1);
    if (len)
        memcpy(self->bytes + self->bytes_len, data, len);
    self->bytes[self->bytes_len + len] = '\0';
    self->bytes_len += len + 1;
    return s;
}

static const char *commit_text(const cf_commit_t *self, commit_str_t s)
{
    return self->bytes + s.off;
}

static uint64_t commit_hash(const char *s, size_t len)
{
    return cf_hash(s, len, 0);
}

/* Doubles the table and puts every key in again. */
static void commit_rehash(cf_commit_t *self)
{
    free(self->slots);
    self->nslots = self->nslots ? 2 * self->nslots : 64;
    self->slots = cf_calloc(self->nslots, sizeof *self->slots);
    for (size_t i = 0; i < self->nkeys; i++) {
        size_t at = commit_hash(self->bytes + self->keys[i].name.off, self->keys[i].name.len)
                  & (self->nslots - 1);
        while (self->slots[at])
            at = (at + 1) & (self->nslots - 1);
        self->slots[at] = i + 1;
    }
}

/* The slot of key: its index's, or the empty one where it would go. */
static size_t *commit_key_slot(const cf_commit_t *self, const char *key, size_t len)
{
    size_t at = commit_hash(key, len) & (self->nslots - 1);
    for (; self->slots[at]; at = (at + 1) & (self->nslots - 1)) {
        const commit_str_t *k = &self->keys[self->slots[at] - 1].name;
        if (k->len == len && memcmp(self->bytes + k->off, key, len) == 0)
            break;
    }
    return &self->slots[at];
}

size_t cf_commit_find(const cf_commit_t *self, const char *key, size_t len)
{
    assert(self && key);
    return self->nkeys ? *commit_key_slot(self, key, len) : 0;
}

size_t cf_commit_key(cf_commit_t *self, const char *key, size_t len)
{
    assert(self && key && len);
    if (2 * (self->nkeys + 1) > self->nslots)
        commit_rehash(self);
    size_t *slot = commit_key_slot(self, key, len);
    if (*slot)
        return *slot;
    self->keys = cf_grow(self->keys, &self->keys_cap, self->nkeys + 1, sizeof *self->keys);
    commit_key_t *k = &self->keys[self->nkeys++];
    k->name = commit_copy(self, key, len);
    k->typed = false;
    k->family = -1;
    k->hash_next = -1;
    *slot = self->nkeys;
    return self->nkeys;
}

static commit_item_t *commit_add(cf_commit_t *self, commit_kind_t kind, size_t k)
{
    assert(k >= 1 && k <= self->nkeys && !self->sorted);
    self->items = cf_grow(self->items, &self->items_cap, self->nitems + 1, sizeof *self->items);
    commit_item_t *item = &self->items[self->nitems];
    memset(item, 0, sizeof *item);
    item->kind = kind;
    item->key = k;
    item->seq = self->nitems++;
    return item;
}

void cf_commit_type(cf_commit_t *self, size_t k, const char *type)
{
    assert(self && type);
    if (self->keys[k - 1].typed)
        return;
    self->keys[k - 1].typed = true;
    commit_add(self, OP_TYPE, k)->a = commit_copy(self, type, strlen(type));
}

void cf_commit_family(cf_commit_t *self, size_t k, int family)
{
    assert(self && k >= 1 && k <= self->nkeys && !self->sorted);
    self->keys[k - 1].family = family;
}

void cf_commit_incr(cf_commit_t *self, size_t k, const void *field, size_t len, int64_t delta)
{
    commit_item_t *item = commit_add(self, OP_INCR, k);
    int family = self->keys[k - 1].family;
    size_t row;
    int m = cf_tuple_measure(family, field, len, &row);
    item->a = commit_copy(self, field, len);
    item->whole = len;
    item->a.len = row;
    item->m = m < 0 ? 0 : (unsigned) m;
    item->w = m < 0 ? 1 : (unsigned) cf_vocab_family_width(family);
    item->n = delta;
}

void cf_commit_set(cf_commit_t *self, size_t k, const void *value, size_t len, uint32_t ttl)
{
    commit_item_t *item = commit_add(self, OP_SET, k);
    item->a = commit_copy(self, value, len);
    item->n = ttl;
}

void cf_commit_hset(cf_commit_t *self, size_t k, const void *field, size_t field_len,
                    const void *value, size_t len)
{
    commit_item_t *item = commit_add(self, OP_HSET, k);
    item->a = commit_copy(self, field, field_len);
    item->b = commit_copy(self, value, len);
}

void cf_commit_zadd(cf_commit_t *self, size_t k, int64_t score, const void *member, size_t len)
{
    commit_item_t *item = commit_add(self, OP_ZADD, k);
    item->a = commit_copy(self, member, len);
    item->n = score;
}

void cf_commit_zrem(cf_commit_t *self, size_t k, const void *member, size_t len)
{
    commit_add(self, OP_ZREM, k)->a = commit_copy(self, member, len);
}

void cf_commit_xadd(cf_commit_t *self, size_t k, const char *topic, size_t topic_len,
                    const void *body, size_t body_len)
{
    commit_item_t *item = commit_add(self, OP_XADD, k);
    item->a = commit_copy(self, topic, topic_len);
    item->b = commit_copy(self, body, body_len);
    self->notes++;
}

bool cf_commit_writes(const cf_commit_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->nitems; i++)
        if (self->items[i].kind != OP_TYPE)
            return true;
    return false;
}

size_t cf_commit_notes(const cf_commit_t *self)
{
    assert(self);
    return self->notes;
}

/* ---- order ------------------------------------------------------------------- */

static int commit_compare_str(const cf_commit_t *self, commit_str_t a, commit_str_t b)
{
    int c = memcmp(commit_text(self, a), commit_text(self, b), a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* Kind, then key for the grouped kinds (and field for counters), then the
   order they were added; arg is the builder (qsort_r: one builder per
   thread, several threads). */
static int commit_compare(const void *x, const void *y, void *arg)
{
    const cf_commit_t *self = arg;
    const commit_item_t *a = &self->items[*(const size_t *) x];
    const commit_item_t *b = &self->items[*(const size_t *) y];
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (commit_grouped(a->kind) && a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->kind == OP_INCR) {
        int c = commit_compare_str(self, a->a, b->a);
        if (c || a->w != b->w)
            return c ? c : a->w < b->w ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void commit_sort(cf_commit_t *self)
{
    if (self->sorted)
        return;
    self->order = cf_grow(self->order, &self->order_cap, self->nitems ? self->nitems : 1,
                          sizeof *self->order);
    for (size_t i = 0; i < self->nitems; i++)
        self->order[i] = i;
    qsort_r(self->order, self->nitems, sizeof *self->order, commit_compare, self);
    self->sorted = true;
}

static const commit_item_t *commit_at(const cf_commit_t *self, size_t p)
{
    return &self->items[self->order[p]];
}

/* The length of the run of items that starts at order position p: one
   command's. */
static size_t commit_run(const cf_commit_t *self, size_t p)
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
   the one before it. */
static bool commit_same_field(const cf_commit_t *self, size_t p, size_t start)
{
    return p > start && commit_at(self, p - 1)->w == commit_at(self, p)->w
        && commit_compare_str(self, commit_at(self, p - 1)->a, commit_at(self, p)->a) == 0;
}

/* Gives each counter field its values' place (vals[v .. v + w)), shared
   by the items that add to it. */
static void commit_place(cf_commit_t *self)
{
    self->nvals = 0;
    for (size_t p = 0, run; p < self->nitems; p += run) {
        run = commit_run(self, p);
        for (size_t q = p; commit_at(self, p)->kind == OP_INCR && q < p + run; q++) {
            commit_item_t *item = &self->items[self->order[q]];
            if (!commit_same_field(self, q, p)) {
                self->vals = cf_grow(self->vals, &self->vals_cap, self->nvals + item->w,
                                     sizeof *self->vals);
                self->nvals += item->w;
            }
            item->v = self->nvals - item->w;
        }
    }
}

/* ---- emitting ------------------------------------------------------------------ */

static void commit_argv_reserve(cf_commit_t *self, size_t n)
{
    if (n <= self->argv_cap)
        return;
    self->argv = cf_grow(self->argv, &self->argv_cap, n, sizeof *self->argv);
    self->argvlen = cf_realloc(self->argvlen, self->argv_cap * sizeof *self->argvlen);
    self->nums = cf_grow(self->nums, &self->nums_cap, n, sizeof *self->nums);
}

static void commit_arg(cf_commit_t *self, size_t *argc, const char *s, size_t len)
{
    self->argv[*argc] = s;
    self->argvlen[(*argc)++] = len;
}

static void commit_arg_str(cf_commit_t *self, size_t *argc, commit_str_t s)
{
    commit_arg(self, argc, commit_text(self, s), s.len);
}

static void commit_arg_key(cf_commit_t *self, size_t *argc, size_t k)
{
    commit_arg_str(self, argc, self->keys[k - 1].name);
}

/* A number, written into the command's own slot (argument argc), by
   cf_fmt_i64: a commit writes several per event (counters, scores). */
static void commit_arg_int(cf_commit_t *self, size_t *argc, int64_t n)
{
    _Static_assert(sizeof *self->nums >= CF_FMT_INT_MAX, "a number's slot holds any int64_t");
    commit_arg(self, argc, self->nums[*argc], cf_fmt_i64(self->nums[*argc], n));
}

static void commit_check_add(cf_commit_t *self, check_kind_t kind, size_t at, size_t n)
{
    self->checks = cf_grow(self->checks, &self->checks_cap, self->nchecks + 1,
                           sizeof *self->checks);
    self->checks[self->nchecks++] = (commit_check_t) { kind, at, n };
}

static int commit_take_counters(cf_commit_t *self, const commit_check_t *check,
                                const redisReply *reply, char *why, size_t size);

/* Marks the fields of the counter run at p (run items) that the cache
   knows: its values, or, when it holds every field of the hash (all),
   that the field is absent (unless it keeps the field with another width:
   Redis's value then refuses the commit, as it would without a cache).
   Returns how many distinct fields it does not know. */
static size_t commit_know(cf_commit_t *self, size_t p, size_t run, const cf_commit_cache_t *cache,
                          unsigned shard, bool all)
{
    const commit_str_t *key = &self->keys[commit_at(self, p)->key - 1].name;
    size_t unknown = 0;
    for (size_t q = p; cache && q < p + run; q++)
        if (!commit_same_field(self, q, p))
            cf_commit_cache_prefetch(cache, shard, commit_text(self, *key), key->len,
                                     commit_text(self, commit_at(self, q)->a),
                                     commit_at(self, q)->a.len);
    for (size_t q = p; q < p + run; q++) {
        commit_item_t *item = &self->items[self->order[q]];
        item->known = false;
        if (commit_same_field(self, q, p))
            continue;
        item->known = cache && cf_commit_cache_values_ref(cache, shard, commit_text(self, *key),
                                                          key->len, commit_text(self, item->a),
                                                          item->a.len, &self->vals[item->v],
                                                          item->w, &item->ref);
        if (!item->known && all
            && !cf_commit_cache_has_field(cache, shard, commit_text(self, *key), key->len,
                                          commit_text(self, item->a), item->a.len)) {
            memset(&self->vals[item->v], 0, item->w * sizeof *self->vals);
            item->known = true;     /* absent; item->ref 0: put after EXEC */
        }
        unknown += !item->known;
    }
    return unknown;
}

size_t cf_commit_checks(cf_commit_t *self, const cf_commit_cache_t *cache, unsigned shard,
                        cf_commit_emit_fn *emit, void *arg)
{
    assert(self && emit);
    commit_sort(self);
    commit_place(self);
    self->nchecks = self->next_check = 0;
    self->wrong_hash = 0;
    self->refusal[0] = '\0';
    self->nloaded = self->nloaded_vals = 0;
    for (size_t k = 0; k < self->nkeys; k++)
        self->keys[k].hash_next = -1;
    commit_argv_reserve(self, 2 + self->nitems);
    size_t argc = 0, counters = 0;
    /* one WATCH of every counter hash, so that the values read below are
       those EXEC adds to, or EXEC refuses; none for an owner's shard (its
       owner record, watched by the caller, fences it: no one else writes
       its counters) */
    commit_arg(self, &argc, "WATCH", 5);
    for (size_t p = 0; !cache && p < self->nitems; p += commit_run(self, p))
        if (commit_at(self, p)->kind == OP_INCR)
            commit_arg_key(self, &argc, commit_at(self, p)->key), counters++;
    if (counters) {
        emit(arg, argc, self->argv, self->argvlen);
        commit_check_add(self, CHECK_WATCH, 0, 0);
    }
    for (size_t p = 0, run; p < self->nitems; p += run) {
        const commit_item_t *first = commit_at(self, p);
        const commit_str_t *key = &self->keys[first->key - 1].name;
        run = commit_run(self, p);
        argc = 0;
        cf_commit_hash_t hash = first->kind == OP_INCR && cache
                              ? cf_commit_cache_hash(cache, shard, commit_text(self, *key), key->len)
                              : CF_COMMIT_HASH_SOME;
        if (first->kind == OP_INCR
            && !commit_know(self, p, run, cache, shard, hash == CF_COMMIT_HASH_ALL)) {
            /* every value known: worked out now, as a reply would be */
            commit_check_t known = { CHECK_HMGET, p, run };
            if (!self->refusal[0])
                commit_take_counters(self, &known, NULL, self->refusal, sizeof self->refusal);
            continue;
        } else if (first->kind == OP_INCR && hash == CF_COMMIT_HASH_SMALL) {
            /* small: read whole, so that the cache holds every field after */
            commit_arg(self, &argc, "HGETALL", 7);
            commit_arg_key(self, &argc, first->key);
            commit_check_add(self, CHECK_HGETALL, p, run);
        } else if (first->kind == OP_INCR) {
            commit_arg(self, &argc, "HMGET", 5);
            commit_arg_key(self, &argc, first->key);
            for (size_t q = p; q < p + run; q++)
                if (!commit_same_field(self, q, p) && !commit_at(self, q)->known)
                    commit_arg_str(self, &argc, commit_at(self, q)->a);
            commit_check_add(self, CHECK_HMGET, p, run);
            if (cache && hash == CF_COMMIT_HASH_SOME) {
                /* and its size: empty, the cache holds every field after
                   EXEC; small, it reads the hash whole next time */
                emit(arg, argc, self->argv, self->argvlen);
                argc = 0;
                commit_arg(self, &argc, "HLEN", 4);
                commit_arg_key(self, &argc, first->key);
                commit_check_add(self, CHECK_HLEN, p, run);
            }
        } else if (first->kind == OP_TYPE
                   && !(cache && cf_commit_cache_typed(cache, shard, commit_text(self, *key),
                                                       key->len, commit_text(self, first->a)))) {
            commit_arg(self, &argc, "TYPE", 4);
            commit_arg_key(self, &argc, first->key);
            commit_check_add(self, CHECK_TYPE, p, 1);
        } else
            continue;
        emit(arg, argc, self->argv, self->argvlen);
    }
    return self->nchecks;
}

const char *cf_commit_refusal(const cf_commit_t *self)
{
    assert(self);
    return self->refusal[0] ? self->refusal : NULL;
}

/* Puts in the cache the fields key's HGETALL gave that the commit did not
   write. -1 at the cache's bound. */
static int commit_remember_loaded(const cf_commit_t *self, cf_commit_cache_t *cache,
                                  unsigned shard, size_t key)
{
    const commit_str_t *name = &self->keys[key - 1].name;
    for (size_t i = 0; i < self->nloaded; i++) {
        const commit_loaded_t *l = &self->loaded[i];
        if (l->key == key
            && cf_commit_cache_put_values(cache, shard, commit_text(self, *name), name->len,
                                          commit_text(self, l->field), l->field.len,
                                          &self->loaded_vals[l->v], l->w) < 0)
            return -1;
    }
    return 0;
}

void cf_commit_remember(const cf_commit_t *self, cf_commit_cache_t *cache, unsigned shard)
{
    assert(self && cache && self->sorted);
    for (size_t p = 0, run; p < self->nitems; p += run) {
        run = commit_run(self, p);
        const commit_key_t *k = &self->keys[commit_at(self, p)->key - 1];
        const commit_str_t *key = &k->name;
        /* a counter hash written is a hash: the read round probes it; the
           other fields its HGETALL gave, and what is known of them */
        if (commit_at(self, p)->kind == OP_INCR
            && (commit_remember_loaded(self, cache, shard, commit_at(self, p)->key) < 0
                || (k->hash_next < 0
                    ? cf_commit_cache_put_type(cache, shard, commit_text(self, *key), key->len,
                                               "hash")
                    : cf_commit_cache_put_hash(cache, shard, commit_text(self, *key), key->len,
                                               (cf_commit_hash_t) k->hash_next)) < 0))
            return;
        for (size_t q = p; commit_at(self, p)->kind == OP_INCR && q < p + run; q++) {
            const commit_item_t *item = commit_at(self, q);
            const int64_t *values = &self->vals[item->v];
            if (commit_same_field(self, q, p))
                continue;           /* a field's first item: the entry found */
            if (item->known && cf_commit_cache_set(cache, shard, item->ref, values, item->w))
                continue;
            if (cf_commit_cache_put_values(cache, shard, commit_text(self, *key), key->len,
                                           commit_text(self, item->a), item->a.len, values,
                                           item->w) < 0)
                return;             /* at the bound: the shard's cache is dropped */
        }
    }
}

void cf_commit_wrong_type(char *why, size_t size, const char *key, const char *held,
                          const char *want)
{
    snprintf(why, size, "WRONGTYPE commit: %s holds a %s, not a %s", key, held, want);
}

const char *cf_commit_wrong_hash(const cf_commit_t *self)
{
    assert(self);
    return self->wrong_hash ? commit_text(self, self->keys[self->wrong_hash - 1].name) : NULL;
}

/* A counter field's width values as Redis holds them: NULL (absent) is
   zeros; anything cf_tuple_parse does not take is not one. */
static bool commit_parse(const redisReply *v, int64_t *values, size_t width)
{
    if (!v || v->type == REDIS_REPLY_NIL) {
        memset(values, 0, width * sizeof *values);
        return true;
    }
    return v->type == REDIS_REPLY_STRING
        && cf_tuple_parse(v->str, v->len, values, width) == 0;
}

/* The new values of one hash's counters: values[e] is Redis's value of
   the e-th field the cache does not know (NULL or nil: absent); values
   NULL when it knows them all. */
static int commit_sum_counters(cf_commit_t *self, const commit_check_t *check,
                               redisReply *const *values, char *why, size_t size)
{
    const commit_item_t *first = commit_at(self, check->at);
    const char *key = commit_text(self, self->keys[first->key - 1].name);
    size_t e = 0;
    for (size_t p = check->at; p < check->at + check->n; p++) {
        commit_item_t *item = &self->items[self->order[p]];
        const char *field = commit_text(self, item->a);
        int64_t *now = &self->vals[item->v + item->m], sum;
        if (!item->known && !commit_same_field(self, p, check->at)
            && !commit_parse(values[e++], &self->vals[item->v], item->w)) {
            if (item->w == 1)
                snprintf(why, size, "counter is not an integer: %s %.*s", key,
                         (int) item->a.len, field);
            else
                snprintf(why, size, "counter is not an integer: %s %.*s (not %u integers "
                         "joined by ',')", key, (int) item->a.len, field, item->w);
            return -1;
        }
        if (__builtin_add_overflow(*now, item->n, &sum)) {
            snprintf(why, size, "counter would overflow: %s %.*s (%" PRId64 " + %" PRId64 ")",
                     key, (int) item->whole, field, *now, item->n);
            return -1;
        }
        *now = sum;
    }
    return 0;
}

/* The fields of a counter run the cache does not know, 0 with a reply of
   Redis's that is not a hash's (its error into why). */
static size_t commit_unknown(cf_commit_t *self, const commit_check_t *check,
                             const redisReply *reply, const char *command, char *why, size_t size)
{
    const commit_item_t *first = commit_at(self, check->at);
    const char *key = commit_text(self, self->keys[first->key - 1].name);
    size_t fields = 0;
    for (size_t p = check->at; p < check->at + check->n; p++)
        fields += !commit_same_field(self, p, check->at) && !commit_at(self, p)->known;
    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "WRONGTYPE", 9) == 0) {
        self->wrong_hash = first->key;
        cf_commit_wrong_type(why, size, key, "value of another type", "hash");
        return 0;
    }
    if (reply->type != REDIS_REPLY_ARRAY) {
        snprintf(why, size, "%s %s: %s", command, key,
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        return 0;
    }
    return fields;
}

/* From its HMGET's reply (NULL: every value known). */
static int commit_take_counters(cf_commit_t *self, const commit_check_t *check,
                                const redisReply *reply, char *why, size_t size)
{
    if (!reply)
        return commit_sum_counters(self, check, NULL, why, size);
    size_t fields = commit_unknown(self, check, reply, "HMGET", why, size);
    if (!fields || reply->elements != fields) {
        if (fields)
            snprintf(why, size, "HMGET %s: unexpected reply",
                     commit_text(self, self->keys[commit_at(self, check->at)->key - 1].name));
        return -1;
    }
    return commit_sum_counters(self, check, reply->element, why, size);
}

/* Whether the run of a check writes field (its row's name). */
static bool commit_writes_field(const cf_commit_t *self, const commit_check_t *check,
                                const char *field, size_t len)
{
    for (size_t p = check->at; p < check->at + check->n; p++) {
        const commit_item_t *item = commit_at(self, p);
        if (item->a.len == len && memcmp(commit_text(self, item->a), field, len) == 0)
            return true;
    }
    return false;
}

/* From its HGETALL's reply: the values of the fields the cache does not
   know, and every other field the hash holds, for the cache to keep after
   EXEC (commit_loaded_t). A value that is not a counter's leaves the cache
   as it was (LARGE: not read whole again). */
static int commit_take_hash(cf_commit_t *self, const commit_check_t *check,
                            const redisReply *reply, char *why, size_t size)
{
    size_t fields = commit_unknown(self, check, reply, "HGETALL", why, size);
    if (!fields)
        return -1;
    self->found = cf_grow(self->found, &self->found_cap, fields, sizeof *self->found);
    size_t e = 0;
    for (size_t p = check->at; p < check->at + check->n; p++) {
        const commit_item_t *item = commit_at(self, p);
        if (item->known || commit_same_field(self, p, check->at))
            continue;
        self->found[e] = NULL;
        for (size_t r = 0; r + 1 < reply->elements; r += 2)
            if (reply->element[r]->type == REDIS_REPLY_STRING && reply->element[r]->len == item->a.len
                && memcmp(reply->element[r]->str, commit_text(self, item->a), item->a.len) == 0)
                self->found[e] = reply->element[r + 1];
        e++;
    }
    if (commit_sum_counters(self, check, (redisReply *const *) self->found, why, size) < 0)
        return -1;
    commit_key_t *key = &self->keys[commit_at(self, check->at)->key - 1];
    key->hash_next = CF_COMMIT_HASH_ALL;
    size_t first = self->nloaded;
    for (size_t r = 0; r + 1 < reply->elements; r += 2) {
        const redisReply *f = reply->element[r], *v = reply->element[r + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            key->hash_next = CF_COMMIT_HASH_LARGE;
            break;
        }
        if (commit_writes_field(self, check, f->str, f->len))
            continue;
        unsigned w = 1;
        for (size_t i = 0; i < v->len; i++)
            w += v->str[i] == ',';
        self->loaded_vals = cf_grow(self->loaded_vals, &self->loaded_vals_cap,
                                    self->nloaded_vals + w, sizeof *self->loaded_vals);
        if (cf_tuple_parse(v->str, v->len, &self->loaded_vals[self->nloaded_vals], w) < 0) {
            key->hash_next = CF_COMMIT_HASH_LARGE;      /* not a counter: never read whole */
            break;
        }
        self->loaded = cf_grow(self->loaded, &self->loaded_cap, self->nloaded + 1,
                               sizeof *self->loaded);
        self->loaded[self->nloaded++] = (commit_loaded_t) {
            commit_at(self, check->at)->key, commit_copy(self, f->str, f->len),
            self->nloaded_vals, w };
        self->nloaded_vals += w;
    }
    if (key->hash_next != CF_COMMIT_HASH_ALL)
        self->nloaded = first;
    return 0;
}

int cf_commit_check(cf_commit_t *self, const redisReply *reply, char *why, size_t size)
{
    assert(self && reply && why && self->next_check < self->nchecks);
    const commit_check_t *check = &self->checks[self->next_check++];
    if (check->kind == CHECK_HMGET)
        return commit_take_counters(self, check, reply, why, size);
    if (check->kind == CHECK_HGETALL)
        return commit_take_hash(self, check, reply, why, size);
    if (check->kind == CHECK_HLEN && reply->type == REDIS_REPLY_INTEGER) {
        self->keys[commit_at(self, check->at)->key - 1].hash_next =
            reply->integer == 0 ? CF_COMMIT_HASH_ALL
            : reply->integer <= CF_COMMIT_HASH_READ_MOST ? CF_COMMIT_HASH_SMALL
            : CF_COMMIT_HASH_LARGE;
        return 0;
    }
    if (check->kind == CHECK_HLEN && reply->type != REDIS_REPLY_ERROR) {
        snprintf(why, size, "HLEN: unexpected reply");
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(why, size, "%s: %s", check->kind == CHECK_WATCH ? "WATCH"
                 : check->kind == CHECK_HLEN ? "HLEN" : "TYPE", reply->str);
        return -1;
    }
    if (check->kind == CHECK_WATCH)
        return 0;
    const commit_item_t *item = commit_at(self, check->at);
    const char *want = commit_text(self, item->a);
    if (reply->type != REDIS_REPLY_STATUS && reply->type != REDIS_REPLY_STRING) {
        snprintf(why, size, "TYPE: unexpected reply");
        return -1;
    }
    if (strcmp(reply->str, "none") == 0 || strcmp(reply->str, want) == 0)
        return 0;
    cf_commit_wrong_type(why, size, commit_text(self, self->keys[item->key - 1].name), reply->str,
                         want);
    return -1;
}

/* The XADD's arguments after its key for the run of p's notifications:
   "*", then all of them packed into CF_OUTBOX_NOTES_FIELD's value. One
   field, not a topic and a body each: Redis's XADD and XREAD cost per
   field (cf_outbox_notes.h). */
static void commit_arg_notes(cf_commit_t *self, size_t *argc, size_t p, size_t run)
{
    size_t len = 0;
    for (size_t q = p; q < p + run; q++)
        len += cf_outbox_notes_packed_len(commit_at(self, q)->a.len, commit_at(self, q)->b.len);
    self->packed = cf_grow(self->packed, &self->packed_cap, len, 1);
    size_t at = 0;
    for (size_t q = p; q < p + run; q++) {
        const commit_item_t *it = commit_at(self, q);
        at += cf_outbox_notes_pack(self->packed + at, commit_text(self, it->a), it->a.len,
                                   commit_text(self, it->b), it->b.len);
    }
    commit_arg(self, argc, "*", 1);
    commit_arg(self, argc, CF_OUTBOX_NOTES_FIELD, strlen(CF_OUTBOX_NOTES_FIELD));
    commit_arg(self, argc, self->packed, at);
}

/* Emits the command of the run at order position p (run items); returns
   whether it is one (the checks' kinds are not). */
static bool commit_emit_write(cf_commit_t *self, size_t p, size_t run, cf_commit_emit_fn *emit,
                              void *arg)
{
    const commit_item_t *first = commit_at(self, p);
    static const char *const names[OP_KINDS] = {
        [OP_INCR] = "HSET", [OP_SET] = "SET", [OP_HSET] = "HSET",
        [OP_ZADD] = "ZADD", [OP_ZREM] = "ZREM", [OP_XADD] = "XADD" };
    if (first->kind == OP_TYPE)
        return false;
    if (first->kind == OP_INCR)
        self->texts = cf_grow(self->texts, &self->texts_cap, run * CF_TUPLE_TEXT_MAX, 1);
    size_t argc = 0;
    commit_arg(self, &argc, names[first->kind], strlen(names[first->kind]));
    commit_arg_key(self, &argc, first->key);
    for (size_t q = p; q < p + run; q++) {
        const commit_item_t *it = commit_at(self, q);
        switch (it->kind) {
        case OP_INCR:           /* once per field, every value of it */
            if (commit_same_field(self, q, p))
                break;
            commit_arg_str(self, &argc, it->a);
            if (it->w == 1)
                commit_arg_int(self, &argc, self->vals[it->v]);
            else {
                char *text = self->texts + (size_t) (q - p) * CF_TUPLE_TEXT_MAX;
                commit_arg(self, &argc, text, cf_tuple_format(text, &self->vals[it->v], it->w));
            }
            break;
        case OP_SET:
            commit_arg_str(self, &argc, it->a);
            if (it->n > 0) {
                commit_arg(self, &argc, "EX", 2);
                commit_arg_int(self, &argc, it->n);
            }
            break;
        case OP_HSET:
            commit_arg_str(self, &argc, it->a);
            commit_arg_str(self, &argc, it->b);
            break;
        case OP_ZADD:
            commit_arg_int(self, &argc, it->n);
            commit_arg_str(self, &argc, it->a);
            break;
        case OP_ZREM:
            commit_arg_str(self, &argc, it->a);
            break;
        case OP_XADD:           /* one entry, its notifications one field */
            if (q == p)
                commit_arg_notes(self, &argc, p, run);
            break;
        default:
            assert(!"a check's kind among the writes");
        }
    }
    emit(arg, argc, self->argv, self->argvlen);
    return true;
}

size_t cf_commit_emit_writes(cf_commit_t *self, cf_commit_emit_fn *emit, void *arg)
{
    assert(self && emit);
    commit_sort(self);
    commit_argv_reserve(self, 2 + 2 * self->nitems + 6);
    size_t commands = 0;
    for (size_t p = 0, run; p < self->nitems; p += run) {
        run = commit_run(self, p);
        commands += commit_emit_write(self, p, run, emit, arg);
    }
    return commands;
}

/* cf_commit_describe's callback: keeps command `want`'s first two
   arguments. */
typedef struct {
    size_t want, seen;
    char *buf;
    size_t size;
} commit_describe_t;

static void commit_describe_one(void *arg, size_t argc, const char **argv, const size_t *argvlen)
{
    commit_describe_t *d = arg;
    if (d->seen++ == d->want)
        snprintf(d->buf, d->size, "%.*s %.*s", (int) argvlen[0], argv[0],
                 argc > 1 ? (int) argvlen[1] : 0, argc > 1 ? argv[1] : "");
}

void cf_commit_describe(cf_commit_t *self, size_t i, char *buf, size_t size)
{
    assert(self && buf && size);
    commit_describe_t d = { i, 0, buf, size };
    buf[0] = '\0';
    cf_commit_emit_writes(self, commit_describe_one, &d);
}
