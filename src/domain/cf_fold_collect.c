/*  cf_fold_collect: what the other parts of the fold write into and look up
    while a batch runs: the counter deltas merged by (family, field) and the
    route days, the notifications and deadline changes queued in order, the
    batch's first error, and the loaded cases and routes found by name. It
    calls none of those parts back, so that what each event does
    (cf_fold_events.c and the rest) and the batch that runs it (cf_fold.c)
    both stand on it. Every buffer is kept from batch to batch.             */
#include "cf_fold_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"
#include "caseflow/cf_hash.h"
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fold_fail(cf_fold_t *self, const char *fmt, ...)
{
    if (self->error[0])
        return;                 /* the first one says why */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, ap);
    va_end(ap);
}

/* ---- sums -------------------------------------------------------------------- */

#define FOLD_SLOTS_MIN 64   /* the fewest slots of a table of sums or names */

static uint64_t fold_hash(int family, const char *s, size_t len)
{
    return cf_hash(s, len, (uint64_t) (family + 1));
}

/* Whether slots hold fewer than twice need; if so they are made anew, empty,
   a power of two of at least FOLD_SLOTS_MIN and twice need, for the caller
   to insert its entries again. */
static bool fold_slots_grow(uint32_t **slots, size_t *slots_n, size_t need)
{
    if (*slots_n >= 2 * need)
        return false;
    *slots = cf_table_clear(*slots, slots_n, need > FOLD_SLOTS_MIN / 2 ? need : FOLD_SLOTS_MIN / 2,
                            sizeof **slots);
    return true;
}

/* Makes slots hold at least twice need, rehashing the entries. */
static void sums_room(fold_sums_t *s, size_t need)
{
    if (!fold_slots_grow(&s->slots, &s->slots_n, need))
        return;
    size_t n = s->slots_n;
    for (size_t i = 0; i < s->entries_n; i++) {
        size_t at = s->entries[i].hash & (n - 1);
        while (s->slots[at])
            at = (at + 1) & (n - 1);
        s->slots[at] = (uint32_t) i + 1;
    }
}

void fold_sums_free(fold_sums_t *s)
{
    free(s->entries);
    free(s->slots);
    free(s->text);
}

void fold_sums_reset(fold_sums_t *s)
{
    if (s->slots)
        memset(s->slots, 0, s->slots_n * sizeof *s->slots);
    s->entries_n = s->text_n = 0;
}

/* Adds d to (family, field); false when the sum leaves int64. */
static bool sums_add(fold_sums_t *s, int family, const char *field, size_t len, int64_t d)
{
    sums_room(s, s->entries_n + 1);
    uint64_t h = fold_hash(family, field, len);
    size_t at = h & (s->slots_n - 1);
    for (; s->slots[at]; at = (at + 1) & (s->slots_n - 1)) {
        fold_sum_entry_t *e = &s->entries[s->slots[at] - 1];
        if (e->hash == h && e->family == family && e->len == len
            && !memcmp(s->text + e->off, field, len))
            return !__builtin_add_overflow(e->value, d, &e->value);
    }
    s->text = cf_grow(s->text, &s->text_cap, s->text_n + len + 1, 1);
    memcpy(s->text + s->text_n, field, len);
    s->text[s->text_n + len] = '\0';
    s->entries = cf_grow(s->entries, &s->entries_cap, s->entries_n + 1, sizeof *s->entries);
    s->entries[s->entries_n] = (fold_sum_entry_t) { h, (uint32_t) s->text_n, (uint32_t) len,
                                                    family, d };
    s->text_n += len + 1;
    s->slots[at] = (uint32_t) ++s->entries_n;
    return true;
}

void fold_add(cf_fold_t *self, int family, const char *field, size_t len, int64_t d)
{
    if (d != 0 && !sums_add(&self->counters, family, field, len, d))
        fold_fail(self, "counter would overflow in the batch: %s %.*s",
                  cf_vocab_family_name(family), (int) len, field);
}

void fold_addf(cf_fold_t *self, int family, int64_t d, const char *fmt, ...)
{
    char field[FOLD_FIELD_MAX];
    va_list ap;
    va_start(ap, fmt);
    int len = cf_fmt_v(field, sizeof field, fmt, ap);
    va_end(ap);
    assert(len >= 0 && (size_t) len < sizeof field);
    if (len < 0 || (size_t) len >= sizeof field)
        len = (int) sizeof field - 1;  /* asserted above: cut, never read past */
    fold_add(self, family, field, (size_t) len, d);
}

void fold_add_route_day(cf_fold_t *self, const char *route, int64_t day, int64_t d)
{
    char field[FOLD_FIELD_MAX];
    int len = cf_fmt(field, sizeof field, "%s|%lld", route, (long long) day);
    if (d != 0 && !sums_add(&self->route_days, -1, field, (size_t) len, d))
        fold_fail(self, "counter would overflow in the batch: route_day %s", field);
}

/* ---- cases and routes by name ----------------------------------------------------- */

/* The slot of name in the index (its entry or the empty slot where it goes). */
uint32_t *fold_index_slot(fold_index_t *x, const char *name, const void *items, size_t size)
{
    size_t len = strlen(name), at = fold_hash(0, name, len) & (x->slots_n - 1);
    for (; x->slots[at]; at = (at + 1) & (x->slots_n - 1))
        if (!strcmp((const char *) items + (x->slots[at] - 1) * size, name))
            break;                      /* every item starts with its name */
    return &x->slots[at];
}

void fold_index_room(fold_index_t *x, size_t need, const void *items, size_t size)
{
    if (!fold_slots_grow(&x->slots, &x->slots_n, need))
        return;
    for (size_t i = 0; i + 1 < need; i++)
        *fold_index_slot(x, (const char *) items + i * size, items, size) = (uint32_t) i + 1;
}

_Static_assert(offsetof(fold_case_t, id) == 0 && offsetof(fold_route_t, name) == 0,
               "an indexed item starts with its name");

fold_case_t *fold_find_case(cf_fold_t *self, const char *case_id)
{
    if (!self->case_index.slots)
        return NULL;
    uint32_t at = *fold_index_slot(&self->case_index, case_id, self->cases, sizeof *self->cases);
    return at ? &self->cases[at - 1] : NULL;
}

fold_route_t *fold_find_route(cf_fold_t *self, const char *route)
{
    if (!self->route_index.slots)
        return NULL;
    uint32_t at = *fold_index_slot(&self->route_index, route, self->routes, sizeof *self->routes);
    return at ? &self->routes[at - 1] : NULL;
}

/* ---- notifications and deadlines ------------------------------------------------- */

/* A Lua number as cmsgpack packs it: whole numbers as integers, then the
   narrowest float that holds it. */
static void pack_lua_number(msgpack_packer *pk, double x)
{
    if (isfinite(x) && x >= -9.2e18 && x <= 9.2e18 && (double) (int64_t) x == x)
        msgpack_pack_int64(pk, (int64_t) x);
    else if ((double) (float) x == x)
        msgpack_pack_float(pk, (float) x);
    else
        msgpack_pack_double(pk, x);
}

void fold_note(cf_fold_t *self, const char *topic, const fold_kv_t *kv, size_t n)
{
    msgpack_sbuffer *sb = &self->notes_buf;
    self->notes = cf_grow(self->notes, &self->notes_cap, self->notes_n + 1, sizeof *self->notes);
    fold_note_t *note = &self->notes[self->notes_n++];
    note->topic_off = sb->size;
    note->topic_len = strlen(topic);
    msgpack_sbuffer_write(sb, topic, note->topic_len + 1);
    note->body_off = sb->size;
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    for (size_t i = 0; i < n; i++) {
        cf_pack_str(&pk, kv[i].key);
        if (kv[i].kind == 's')
            cf_pack_str(&pk, kv[i].s);
        else if (kv[i].kind == 'i')
            msgpack_pack_int64(&pk, kv[i].i);
        else
            pack_lua_number(&pk, kv[i].x);
    }
    note->body_len = sb->size - note->body_off;
}

void fold_deadline(cf_fold_t *self, const fold_case_t *c, int limit, int64_t due)
{
    char member[CF_PSEUDONYM_LEN + 64];
    int len = cf_fmt(member, sizeof member, "%s|%s", c->id, cf_vocab_limit_name(limit));
    self->members = cf_grow(self->members, &self->members_cap, self->members_n + (size_t) len + 1, 1);
    memcpy(self->members + self->members_n, member, (size_t) len + 1);
    self->deadlines = cf_grow(self->deadlines, &self->deadlines_cap, self->deadlines_n + 1,
                              sizeof *self->deadlines);
    self->deadlines[self->deadlines_n++] = (fold_deadline_t) { self->members_n, (size_t) len, due };
    self->members_n += (size_t) len + 1;
}

void fold_fire(cf_fold_t *self, fold_case_t *c, int limit, int64_t due_ms, int64_t now_ms)
{
    c->fired |= (uint8_t) (1u << limit);
    self->overdue_fired++;
    const char *word = cf_vocab_limit_alert((cf_limit_t) limit);
    int64_t late = now_ms - due_ms;             /* >= 0: floor is division */
    fold_kv_t kv[] = {
        { "case_id", 's', c->id, 0, 0 },
        { "limit", 's', cf_vocab_limit_name(limit), 0, 0 },
        { "stage", 's', word, 0, 0 },
        { "due", 'i', NULL, due_ms, 0 },
        { "now", 'i', NULL, now_ms, 0 },
        { "overdue_days", 'i', NULL, late / 86400000, 0 },
        { "programme", 's', c->prog, 0, 0 },
    };
    char topic[64];
    cf_fmt(topic, sizeof topic, "alert.overdue.%s", word);
    fold_note(self, topic, kv, sizeof kv / sizeof *kv - !c->registered);
}
