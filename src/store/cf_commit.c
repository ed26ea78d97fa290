/*  cf_commit: builds the operation list of one caseflow_commit call
    (lua/commit.lua). Operations are kept as items over one byte arena and
    packed at the end, sorted by kind (guards before writes, in the order the
    script runs them) and key, so that the items of one kind and key become
    one operation; notifications keep the order they were added in.       */
#include "cf_commit.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kinds, in the order the script's two passes want them. */
typedef enum {
    OP_FENCE, OP_GUARD_VALUE, OP_GUARD_FIELD, OP_GUARD_ABSENT, OP_GUARD_TYPE, OP_INCR,
    OP_SET, OP_HSET, OP_EXPIREAT, OP_ZADD, OP_ZREM, OP_XADD, OP_KINDS
} commit_kind_t;

/* The fence is a field guard ('f') that sorts before every other one. */
static const char s_codes[OP_KINDS] = { 'f', 'g', 'f', 'a', 't', 'i', 's', 'h', 'e', 'z', 'r',
                                        'x' };

/* Kinds whose items of one key are one operation. */
static bool commit_grouped(commit_kind_t kind)
{
    return kind == OP_GUARD_ABSENT || kind == OP_INCR || kind == OP_HSET || kind == OP_ZADD
        || kind == OP_ZREM;
}

typedef struct {
    size_t off, len;
    bool null;
} commit_str_t;

/* A key, and its items that one key needs once: the EXPIREAT (moved to the
   latest time asked) and the type guard. */
typedef struct {
    commit_str_t name;
    size_t expire_item;         /* index + 1 of its EXPIREAT item, 0 none */
    bool typed;
} commit_key_t;

typedef struct {
    commit_kind_t kind;
    size_t key;
    size_t seq;
    commit_str_t a, b;          /* field / value / member / topic, body ... */
    int64_t n;                  /* delta, ttl, score, time */
} commit_item_t;

struct _cf_commit_t {
    char *bytes;                /* every string given, copied */
    size_t bytes_len, bytes_cap;
    commit_key_t *keys;         /* KEYS[i + 1] */
    size_t nkeys, keys_cap;
    size_t *slots;              /* open addressing over keys: index + 1, 0 empty */
    size_t nslots;
    commit_item_t *items;
    size_t nitems, items_cap;
    size_t *order;
    size_t order_cap;
    msgpack_sbuffer ops;
    const char **argv;
    size_t *argvlen;
    size_t argv_cap;
    char numkeys[24], ttl[16];
};

cf_commit_t *cf_commit_new(void)
{
    cf_commit_t *self = cf_calloc(1, sizeof *self);
    msgpack_sbuffer_init(&self->ops);
    return self;
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
    free(self->argv);
    free(self->argvlen);
    msgpack_sbuffer_destroy(&self->ops);
    free(self);
    *self_p = NULL;
}

void cf_commit_reset(cf_commit_t *self)
{
    assert(self);
    self->bytes_len = 0;
    self->nkeys = 0;
    self->nitems = 0;
    if (self->slots)
        memset(self->slots, 0, self->nslots * sizeof *self->slots);
}

static commit_str_t commit_copy(cf_commit_t *self, const void *data, size_t len)
{
    commit_str_t s = { self->bytes_len, len, data == NULL };
    if (data && len) {
        self->bytes = cf_grow(self->bytes, &self->bytes_cap, self->bytes_len + len, 1);
        memcpy(self->bytes + self->bytes_len, data, len);
        self->bytes_len += len;
    }
    return s;
}

static uint64_t commit_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) s[i]) * 1099511628211u;
    return h;
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

size_t cf_commit_key(cf_commit_t *self, const char *key, size_t len)
{
    assert(self && key);
    if (2 * (self->nkeys + 1) > self->nslots)
        commit_rehash(self);
    size_t at = commit_hash(key, len) & (self->nslots - 1);
    for (; self->slots[at]; at = (at + 1) & (self->nslots - 1)) {
        const commit_str_t *k = &self->keys[self->slots[at] - 1].name;
        if (k->len == len && memcmp(self->bytes + k->off, key, len) == 0)
            return self->slots[at];
    }
    self->keys = cf_grow(self->keys, &self->keys_cap, self->nkeys + 1, sizeof *self->keys);
    commit_key_t *k = &self->keys[self->nkeys++];
    k->name = commit_copy(self, key, len);
    k->expire_item = 0;
    k->typed = false;
    self->slots[at] = self->nkeys;
    return self->nkeys;
}

static commit_item_t *commit_add(cf_commit_t *self, commit_kind_t kind, size_t k)
{
    assert(k >= 1 && k <= self->nkeys);
    self->items = cf_grow(self->items, &self->items_cap, self->nitems + 1, sizeof *self->items);
    commit_item_t *item = &self->items[self->nitems];
    memset(item, 0, sizeof *item);
    item->kind = kind;
    item->key = k;
    item->seq = self->nitems++;
    item->a.null = item->b.null = true;
    return item;
}

void cf_commit_guard_value(cf_commit_t *self, size_t k, const void *old, size_t len)
{
    commit_item_t *item = commit_add(self, OP_GUARD_VALUE, k);
    item->a = commit_copy(self, old, len);
}

void cf_commit_guard_field(cf_commit_t *self, size_t k, const void *field, size_t field_len,
                           const void *old, size_t len)
{
    commit_item_t *item = commit_add(self, OP_GUARD_FIELD, k);
    item->a = commit_copy(self, field, field_len);
    item->b = commit_copy(self, old, len);
}

void cf_commit_fence(cf_commit_t *self, size_t k, const void *field, size_t field_len,
                     const void *old, size_t len)
{
    commit_item_t *item = commit_add(self, OP_FENCE, k);
    item->a = commit_copy(self, field, field_len);
    item->b = commit_copy(self, old, len);
}

void cf_commit_guard_absent(cf_commit_t *self, size_t k, const void *field, size_t len)
{
    commit_add(self, OP_GUARD_ABSENT, k)->a = commit_copy(self, field, len);
}

void cf_commit_guard_type(cf_commit_t *self, size_t k, const char *type)
{
    if (self->keys[k - 1].typed)
        return;
    self->keys[k - 1].typed = true;
    commit_add(self, OP_GUARD_TYPE, k)->a = commit_copy(self, type, strlen(type));
}

void cf_commit_incr(cf_commit_t *self, size_t k, const void *field, size_t len, int64_t delta)
{
    commit_item_t *item = commit_add(self, OP_INCR, k);
    item->a = commit_copy(self, field, len);
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

void cf_commit_expireat(cf_commit_t *self, size_t k, int64_t at)
{
    commit_key_t *key = &self->keys[k - 1];
    if (!key->expire_item) {
        commit_add(self, OP_EXPIREAT, k);
        key->expire_item = self->nitems;
    }
    commit_item_t *item = &self->items[key->expire_item - 1];
    if (item->n < at)
        item->n = at;
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
}

bool cf_commit_writes(const cf_commit_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->nitems; i++)
        if (self->items[i].kind >= OP_INCR)
            return true;
    return false;
}

/* ---- packing ---------------------------------------------------------------- */

/* Kind, then key for the grouped kinds, then the order they were added;
   arg is the items (qsort_r: one builder per thread, several threads). */
static int commit_compare(const void *x, const void *y, void *arg)
{
    const commit_item_t *items = arg;
    const commit_item_t *a = &items[*(const size_t *) x];
    const commit_item_t *b = &items[*(const size_t *) y];
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (commit_grouped(a->kind) && a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void commit_pack_str(msgpack_packer *pk, const cf_commit_t *self, commit_str_t s)
{
    if (s.null)
        msgpack_pack_false(pk);
    else
        cf_pack_strn(pk, self->bytes + s.off, s.len);
}

static void commit_pack_int(msgpack_packer *pk, int64_t n)
{
    char text[24];
    int len = snprintf(text, sizeof text, "%" PRId64, n);
    cf_pack_strn(pk, text, (size_t) len);
}

/* Values one item adds to its operation. */
static size_t commit_width(commit_kind_t kind)
{
    switch (kind) {
    case OP_GUARD_ABSENT: case OP_ZREM: case OP_GUARD_VALUE: case OP_GUARD_TYPE:
    case OP_EXPIREAT:
        return 1;
    default:
        return 2;
    }
}

static void commit_pack_item(msgpack_packer *pk, const cf_commit_t *self, const commit_item_t *it)
{
    switch (it->kind) {
    case OP_INCR:
        commit_pack_str(pk, self, it->a);
        commit_pack_int(pk, it->n);
        break;
    case OP_SET:
        commit_pack_str(pk, self, it->a);
        commit_pack_int(pk, it->n);
        break;
    case OP_ZADD:
        commit_pack_int(pk, it->n);
        commit_pack_str(pk, self, it->a);
        break;
    case OP_EXPIREAT:
        commit_pack_int(pk, it->n);
        break;
    case OP_FENCE: case OP_GUARD_FIELD: case OP_HSET: case OP_XADD:
        commit_pack_str(pk, self, it->a);
        commit_pack_str(pk, self, it->b);
        break;
    default:
        commit_pack_str(pk, self, it->a);
    }
}

/* Packs the sorted items: a run of one grouped kind and key becomes
   operations of at most CF_COMMIT_CHUNK items; two passes, one to count. */
static size_t commit_pack(cf_commit_t *self, msgpack_packer *pk)
{
    size_t ops = 0;
    for (size_t i = 0; i < self->nitems;) {
        const commit_item_t *first = &self->items[self->order[i]];
        size_t run = 1;
        if (commit_grouped(first->kind))
            while (i + run < self->nitems && run < CF_COMMIT_CHUNK) {
                const commit_item_t *next = &self->items[self->order[i + run]];
                if (next->kind != first->kind || next->key != first->key)
                    break;
                run++;
            }
        if (pk) {
            msgpack_pack_array(pk, 2 + run * commit_width(first->kind));
            cf_pack_strn(pk, &s_codes[first->kind], 1);
            msgpack_pack_uint64(pk, first->key);
            for (size_t j = 0; j < run; j++)
                commit_pack_item(pk, self, &self->items[self->order[i + j]]);
        }
        ops++;
        i += run;
    }
    return ops;
}

void cf_commit_argv(cf_commit_t *self, const char *function, const char *version,
                    const char *generation, uint32_t eid_ttl, const char ***argv,
                    const size_t **argvlen, size_t *argc)
{
    assert(self && function && version && argv && argvlen && argc);
    self->order = cf_grow(self->order, &self->order_cap, self->nitems ? self->nitems : 1,
                          sizeof *self->order);
    for (size_t i = 0; i < self->nitems; i++)
        self->order[i] = i;
    qsort_r(self->order, self->nitems, sizeof *self->order, commit_compare, self->items);

    msgpack_sbuffer_clear(&self->ops);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->ops, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, commit_pack(self, NULL));
    commit_pack(self, &pk);

    size_t n = 3 + self->nkeys + 4;
    self->argv = cf_grow(self->argv, &self->argv_cap, n, sizeof *self->argv);
    self->argvlen = cf_realloc(self->argvlen, self->argv_cap * sizeof *self->argvlen);
    snprintf(self->numkeys, sizeof self->numkeys, "%zu", self->nkeys);
    snprintf(self->ttl, sizeof self->ttl, "%u", eid_ttl);
    size_t a = 0;
    self->argv[a] = "FCALL", self->argvlen[a++] = 5;
    self->argv[a] = function, self->argvlen[a++] = strlen(function);
    self->argv[a] = self->numkeys, self->argvlen[a++] = strlen(self->numkeys);
    for (size_t i = 0; i < self->nkeys; i++) {
        self->argv[a] = self->bytes + self->keys[i].name.off;
        self->argvlen[a++] = self->keys[i].name.len;
    }
    self->argv[a] = version, self->argvlen[a++] = strlen(version);
    self->argv[a] = generation ? generation : "", self->argvlen[a++] = generation ? strlen(generation) : 0;
    self->argv[a] = self->ttl, self->argvlen[a++] = strlen(self->ttl);
    self->argv[a] = self->ops.data, self->argvlen[a++] = self->ops.size;
    *argv = self->argv;
    *argvlen = self->argvlen;
    *argc = a;
}
