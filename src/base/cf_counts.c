/*  cf_counts: named int64 counters with hashed lookup and a lazily sorted
    view for iteration; see include/caseflow/cf_counts.h. Entries are kept in
    insertion order; an open-addressing table (linear probing, at most half
    full) maps names to entries, and a separate index array is sorted by name
    the first time someone iterates after an add.                            */
#include "caseflow/cf_counts.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;
    size_t len;
    int64_t value;
} counts_entry_t;

struct _cf_counts_t {
    counts_entry_t *entries;
    size_t size, capacity;
    size_t *slots;              /* entry index + 1; 0 is an empty slot */
    size_t slot_count;          /* a power of two */
    size_t *order;              /* entry indexes in name order, when sorted */
    int sorted;
};

static uint32_t counts_hash(const char *name, size_t len)
{
    return (uint32_t) cf_hash(name, len, 0);
}

cf_counts_t *cf_counts_new(void)
{
    cf_counts_t *self = cf_calloc(1, sizeof *self);
    self->slot_count = 64;
    self->slots = cf_calloc(self->slot_count, sizeof *self->slots);
    self->sorted = 1;
    return self;
}

void cf_counts_destroy(cf_counts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_counts_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++)
        free(self->entries[i].name);
    free(self->entries);
    free(self->slots);
    free(self->order);
    free(self);
    *self_p = NULL;
}

/* The slot that holds name, or the empty slot where it would go. */
static size_t counts_find(const cf_counts_t *self, const char *name, size_t len)
{
    size_t mask = self->slot_count - 1;
    size_t slot = counts_hash(name, len) & mask;
    while (self->slots[slot]) {
        const counts_entry_t *entry = &self->entries[self->slots[slot] - 1];
        if (entry->len == len && memcmp(entry->name, name, len) == 0)
            return slot;
        slot = (slot + 1) & mask;
    }
    return slot;
}

static void counts_grow_table(cf_counts_t *self)
{
    free(self->slots);
    self->slot_count *= 2;
    self->slots = cf_calloc(self->slot_count, sizeof *self->slots);
    for (size_t i = 0; i < self->size; i++) {
        const counts_entry_t *entry = &self->entries[i];
        self->slots[counts_find(self, entry->name, entry->len)] = i + 1;
    }
}

void cf_counts_add(cf_counts_t *self, const char *name, size_t len, int64_t delta)
{
    assert(self && (name || len == 0));
    size_t slot = counts_find(self, name, len);
    if (self->slots[slot]) {
        self->entries[self->slots[slot] - 1].value += delta;
        return;
    }
    self->entries = cf_grow(self->entries, &self->capacity, self->size + 1, sizeof *self->entries);
    counts_entry_t *entry = &self->entries[self->size];
    entry->name = cf_malloc(len + 1);
    if (len)
        memcpy(entry->name, name, len);
    entry->name[len] = '\0';
    entry->len = len;
    entry->value = delta;
    self->slots[slot] = ++self->size;
    self->sorted = 0;
    if (self->size * 2 > self->slot_count)
        counts_grow_table(self);
}

int64_t cf_counts_get(const cf_counts_t *self, const char *name)
{
    assert(self && name);
    size_t slot = counts_find(self, name, strlen(name));
    return self->slots[slot] ? self->entries[self->slots[slot] - 1].value : 0;
}

int cf_counts_has(const cf_counts_t *self, const char *name)
{
    assert(self && name);
    return self->slots[counts_find(self, name, strlen(name))] != 0;
}

size_t cf_counts_size(const cf_counts_t *self)
{
    assert(self);
    return self->size;
}

typedef struct {
    const char *name;
    size_t index;
} counts_sort_t;

static int counts_compare(const void *a, const void *b)
{
    return strcmp(((const counts_sort_t *) a)->name, ((const counts_sort_t *) b)->name);
}

/* Sorting is a cache: the bag's contents are unchanged, which is why the
   iteration functions take a const pointer (the object itself is never
   const: it only comes from cf_counts_new). */
static void counts_sort(const cf_counts_t *cself)
{
    cf_counts_t *self = (cf_counts_t *) cself;
    if (self->sorted)
        return;
    counts_sort_t *tmp = cf_malloc(self->size * sizeof *tmp);
    for (size_t i = 0; i < self->size; i++)
        tmp[i] = (counts_sort_t) { self->entries[i].name, i };
    qsort(tmp, self->size, sizeof *tmp, counts_compare);
    self->order = cf_realloc(self->order, self->size * sizeof *self->order);
    for (size_t i = 0; i < self->size; i++)
        self->order[i] = tmp[i].index;
    free(tmp);
    self->sorted = 1;
}

const char *cf_counts_name(const cf_counts_t *self, size_t index)
{
    assert(self && index < self->size);
    counts_sort(self);
    return self->entries[self->order[index]].name;
}

int64_t cf_counts_value(const cf_counts_t *self, size_t index)
{
    assert(self && index < self->size);
    counts_sort(self);
    return self->entries[self->order[index]].value;
}
