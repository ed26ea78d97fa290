/*  cf_commit: builds one shard's commit as plain Redis commands (cf_commit.h;
    docs/storage.md, "The commit"). Items are kept over one byte arena and
    sorted once, by kind (in the order the commands go out) and key, so that
    the items of one kind and key become one command; counters also by
    field, so that a field added twice is read and written once; the
    notifications keep the order they were added in, one stream entry of up
    to CF_OUTBOX_NOTES_MAX of them (cf_outbox_notes.h). The check round
    (cf_commit_checks.c) gives each counter's new value, computed in 64-bit
    integers (never Lua's doubles), so that the writes (cf_commit_emit.c)
    set exact values. A counter hash of a family with measures keeps each
    row's measures in one field (cf_tuple): its items are sorted by that
    field, which is read once and written once with all its measures, the
    ones not added to as they were.                                         */
#include "cf_commit.h"
#include "cf_commit_internal.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_hash.h"
#include "caseflow/cf_tuple.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

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
    free(self->same);
    free(self->checks);
    free(self->argv);
    free(self->argvlen);
    free(self->nums);
    free(self->texts);
    free(self->packed);
    free(self->compressed);
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
commit_str_t cf_commit_copy(cf_commit_t *self, const void *data, size_t len)
{
    commit_str_t s = { self->bytes_len, len };
    self->bytes = cf_grow(self->bytes, &self->bytes_cap, self->bytes_len + len + 1, 1);
    if (len)
        memcpy(self->bytes + self->bytes_len, data, len);
    self->bytes[self->bytes_len + len] = '\0';
    self->bytes_len += len + 1;
    return s;
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
    k->name = cf_commit_copy(self, key, len);
    k->typed = false;
    k->recheck = false;
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
    commit_add(self, OP_TYPE, k)->a = cf_commit_copy(self, type, strlen(type));
}

void cf_commit_type_checked(cf_commit_t *self, size_t k, const char *type)
{
    cf_commit_type(self, k, type);
    self->keys[k - 1].recheck = true;
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
    item->a = cf_commit_copy(self, field, len);
    item->whole = len;
    item->a.len = row;
    item->m = m < 0 ? 0 : (unsigned) m;
    item->w = m < 0 ? 1 : (unsigned) cf_vocab_family_width(family);
    item->n = delta;
}

void cf_commit_set(cf_commit_t *self, size_t k, const void *value, size_t len, uint32_t ttl)
{
    commit_item_t *item = commit_add(self, OP_SET, k);
    item->a = cf_commit_copy(self, value, len);
    item->n = ttl;
}

void cf_commit_hset(cf_commit_t *self, size_t k, const void *field, size_t field_len,
                    const void *value, size_t len)
{
    commit_item_t *item = commit_add(self, OP_HSET, k);
    item->a = cf_commit_copy(self, field, field_len);
    item->b = cf_commit_copy(self, value, len);
}

void cf_commit_zadd(cf_commit_t *self, size_t k, int64_t score, const void *member, size_t len)
{
    commit_item_t *item = commit_add(self, OP_ZADD, k);
    item->a = cf_commit_copy(self, member, len);
    item->n = score;
}

void cf_commit_zrem(cf_commit_t *self, size_t k, const void *member, size_t len)
{
    commit_add(self, OP_ZREM, k)->a = cf_commit_copy(self, member, len);
}

void cf_commit_xadd(cf_commit_t *self, size_t k, const char *topic, size_t topic_len,
                    const void *body, size_t body_len)
{
    commit_item_t *item = commit_add(self, OP_XADD, k);
    item->a = cf_commit_copy(self, topic, topic_len);
    item->b = cf_commit_copy(self, body, body_len);
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

void cf_commit_sort(cf_commit_t *self)
{
    if (self->sorted)
        return;
    self->order = cf_grow(self->order, &self->order_cap, self->nitems ? self->nitems : 1,
                          sizeof *self->order);
    for (size_t i = 0; i < self->nitems; i++)
        self->order[i] = i;
    qsort_r(self->order, self->nitems, sizeof *self->order, commit_compare, self);
    self->same = cf_grow(self->same, &self->same_cap, self->nitems ? self->nitems : 1,
                         sizeof *self->same);
    for (size_t p = 0; p < self->nitems; p++) {
        const commit_item_t *item = commit_at(self, p), *before = p ? commit_at(self, p - 1) : NULL;
        self->same[p] = before && item->kind == OP_INCR && before->kind == OP_INCR
                     && before->key == item->key && before->w == item->w
                     && commit_compare_str(self, before->a, item->a) == 0;
    }
    self->sorted = true;
}

/* Gives each counter field its values' place (vals[v .. v + w)), shared
   by the items that add to it. */
void cf_commit_place(cf_commit_t *self)
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
