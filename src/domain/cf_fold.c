/*  cf_fold: the batch: loading states, applying events, merging counter
    deltas, queuing notifications and deadline changes, and the output; see
    cf_fold.h. What each event does is in cf_fold_events.c (a case's
    per-event counters in cf_fold_services.c, funding and flows in
    cf_fold_flows.c), the derived aggregates and deadlines in
    cf_fold_derive.c, the packed states in cf_fold_state.c, the rules in
    cf_fold_rules.c, the output's readers in cf_fold_output.c. Every buffer
    is kept from batch to batch, so that a steady stream of batches
    allocates nothing.                                                      */
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

cf_fold_t *cf_fold_new(void)
{
    cf_fold_t *self = cf_calloc(1, sizeof *self);
    msgpack_sbuffer_init(&self->notes_buf);
    self->clock_ms = -1;
    return self;
}

static void fold_sums_free(fold_sums_t *s)
{
    free(s->entries);
    free(s->slots);
    free(s->text);
}

void cf_fold_destroy(cf_fold_t **self_p)
{
    assert(self_p);
    cf_fold_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->cases_cap; i++) {
        free(self->cases[i].times);
        free(self->cases[i].pending);
        fold_bytes_free(&self->cases[i].before);
        fold_bytes_free(&self->cases[i].after);
    }
    for (size_t i = 0; i < self->routes_cap; i++) {
        fold_bytes_free(&self->routes[i].before);
        fold_bytes_free(&self->routes[i].after);
    }
    free(self->cases);
    free(self->routes);
    free(self->case_index.slots);
    free(self->route_index.slots);
    fold_sums_free(&self->counters);
    fold_sums_free(&self->route_days);
    msgpack_sbuffer_destroy(&self->notes_buf);
    free(self->notes);
    free(self->members);
    free(self->deadlines);
    free(self->changed_cases);
    free(self->changed_routes);
    free(self->rules.spikes);
    free(self);
    *self_p = NULL;
}

void fold_fail(cf_fold_t *self, const char *fmt, ...)
{
    if (self->error[0])
        return;                 /* the first one says why */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, ap);
    va_end(ap);
}

const char *cf_fold_error(const cf_fold_t *self)
{
    assert(self);
    return self->error[0] ? self->error : NULL;
}

/* ---- sums -------------------------------------------------------------------- */

static uint64_t fold_hash(int family, const char *s, size_t len)
{
    return cf_hash(s, len, (uint64_t) (family + 1));
}

/* Makes slots hold at least twice need, rehashing the entries. */
static void sums_room(fold_sums_t *s, size_t need)
{
    if (s->slots_n >= 2 * need)
        return;
    size_t n = s->slots_n ? s->slots_n : 64;
    while (n < 2 * need)
        n *= 2;
    free(s->slots);
    s->slots = cf_calloc(n, sizeof *s->slots);
    s->slots_n = n;
    for (size_t i = 0; i < s->entries_n; i++) {
        size_t at = s->entries[i].hash & (n - 1);
        while (s->slots[at])
            at = (at + 1) & (n - 1);
        s->slots[at] = (uint32_t) i + 1;
    }
}

static void sums_reset(fold_sums_t *s)
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
static uint32_t *index_slot(fold_index_t *x, const char *name, const void *items, size_t size)
{
    size_t len = strlen(name), at = fold_hash(0, name, len) & (x->slots_n - 1);
    for (; x->slots[at]; at = (at + 1) & (x->slots_n - 1))
        if (!strcmp((const char *) items + (x->slots[at] - 1) * size, name))
            break;                      /* every item starts with its name */
    return &x->slots[at];
}

static void index_room(fold_index_t *x, size_t need, const void *items, size_t size)
{
    if (x->slots_n >= 2 * need)
        return;
    size_t n = x->slots_n ? x->slots_n : 64;
    while (n < 2 * need)
        n *= 2;
    free(x->slots);
    x->slots = cf_calloc(n, sizeof *x->slots);
    x->slots_n = n;
    for (size_t i = 0; i + 1 < need; i++)
        *index_slot(x, (const char *) items + i * size, items, size) = (uint32_t) i + 1;
}

_Static_assert(offsetof(fold_case_t, id) == 0 && offsetof(fold_route_t, name) == 0,
               "an indexed item starts with its name");

fold_case_t *fold_find_case(cf_fold_t *self, const char *case_id)
{
    if (!self->case_index.slots)
        return NULL;
    uint32_t at = *index_slot(&self->case_index, case_id, self->cases, sizeof *self->cases);
    return at ? &self->cases[at - 1] : NULL;
}

fold_route_t *fold_find_route(cf_fold_t *self, const char *route)
{
    if (!self->route_index.slots)
        return NULL;
    uint32_t at = *index_slot(&self->route_index, route, self->routes, sizeof *self->routes);
    return at ? &self->routes[at - 1] : NULL;
}

/* ---- the batch --------------------------------------------------------------------- */

void cf_fold_reset(cf_fold_t *self)
{
    assert(self);
    self->cases_n = self->routes_n = 0;
    if (self->case_index.slots)
        memset(self->case_index.slots, 0, self->case_index.slots_n * sizeof(uint32_t));
    if (self->route_index.slots)
        memset(self->route_index.slots, 0, self->route_index.slots_n * sizeof(uint32_t));
    sums_reset(&self->counters);
    sums_reset(&self->route_days);
    msgpack_sbuffer_clear(&self->notes_buf);
    self->notes_n = self->members_n = self->deadlines_n = 0;
    self->changed_cases_n = self->changed_routes_n = 0;
    self->finished = false;
    self->clock_ms = -1;
    self->overdue_fired = 0;
    self->error[0] = '\0';
}

void cf_fold_set_clock(cf_fold_t *self, int64_t now_ms)
{
    assert(self && !self->finished);
    self->clock_ms = now_ms;
}

/* A new slot at the end of an array of items, kept zeroed past its count
   but for the room of its own buffers. */
#define FOLD_SLOT(array, count, cap)                                                  \
    do {                                                                              \
        if ((count) == (cap)) {                                                       \
            size_t old_ = (cap);                                                      \
            (array) = cf_grow((array), &(cap), (count) + 1, sizeof *(array));         \
            memset((array) + old_, 0, ((cap) - old_) * sizeof *(array));              \
        }                                                                             \
    } while (0)

int cf_fold_load_case(cf_fold_t *self, const char *case_id, const void *state, size_t len)
{
    assert(self && case_id && (state || len == 0) && !self->finished);
    if (strlen(case_id) == 0 || strlen(case_id) > CF_PSEUDONYM_LEN)
        return fold_fail(self, "case id '%.40s' is not a pseudonym", case_id), -1;
    assert(!fold_find_case(self, case_id));
    FOLD_SLOT(self->cases, self->cases_n, self->cases_cap);
    index_room(&self->case_index, self->cases_n + 1, self->cases, sizeof *self->cases);
    fold_case_t *c = &self->cases[self->cases_n];
    fold_case_clear(c);
    char why[160];
    if (fold_case_decode(c, state, len, why, sizeof why) < 0)
        return fold_fail(self, "case %s: %s", case_id, why), -1;
    strcpy(c->id, case_id);
    fold_bytes_set(&c->before, state, len);
    *index_slot(&self->case_index, case_id, self->cases, sizeof *self->cases)
        = (uint32_t) ++self->cases_n;
    return 0;
}

int cf_fold_load_route(cf_fold_t *self, const char *route, const void *state, size_t len)
{
    assert(self && route && (state || len == 0) && !self->finished);
    if (strlen(route) == 0 || strlen(route) > CF_ROUTE_MAX)
        return fold_fail(self, "route '%.40s' is not a route", route), -1;
    assert(!fold_find_route(self, route));
    FOLD_SLOT(self->routes, self->routes_n, self->routes_cap);
    index_room(&self->route_index, self->routes_n + 1, self->routes, sizeof *self->routes);
    fold_route_t *r = &self->routes[self->routes_n];
    fold_route_clear(r);
    char why[160];
    if (fold_route_decode(r, state, len, why, sizeof why) < 0)
        return fold_fail(self, "route %s: %s", route, why), -1;
    strcpy(r->name, route);
    fold_bytes_set(&r->before, state, len);
    *index_slot(&self->route_index, route, self->routes, sizeof *self->routes)
        = (uint32_t) ++self->routes_n;
    return 0;
}

void cf_fold_apply(cf_fold_t *self, const cf_event_t *event, bool fresh)
{
    assert(self && event && !self->finished);
    if (!fresh) {
        fold_addf(self, CF_FAMILY_QUALITY, 1, "duplicate");
        return;
    }
    if (event->type == CF_EV_FUNDING_TRANSACTION)
        fold_apply_funding(self, event);
    else if (event->type == CF_EV_FLOW_OBSERVED)
        fold_apply_flow(self, event);
    else {
        fold_case_t *c = fold_find_case(self, event->case_id);
        assert(c && "the event's case was loaded");
        c->applied++;
        fold_apply_case(self, c, event);
    }
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

bool cf_fold_fire(cf_fold_t *self, const char *case_id, int limit, int64_t due_ms, int64_t now_ms)
{
    assert(self && case_id && limit >= 0 && limit < CF_LIMIT_COUNT && !self->finished);
    fold_case_t *c = fold_find_case(self, case_id);
    if (!c || !(c->due_set & (1u << limit)) || c->due[limit] != due_ms || due_ms > now_ms)
        return false;
    c->due_set &= (uint8_t) ~(1u << limit);
    fold_deadline(self, c, limit, -1);
    fold_fire(self, c, limit, due_ms, now_ms);
    return true;
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

/* ---- the end of the batch -------------------------------------------------------- */

void cf_fold_finish(cf_fold_t *self)
{
    assert(self && !self->finished);
    for (size_t i = 0; i < self->cases_n; i++) {
        fold_case_t *c = &self->cases[i];
        fold_settle_case(self, c);
        fold_case_encode(c, &c->after);
        if (!fold_bytes_same(&c->after, &c->before)) {
            self->changed_cases = cf_grow(self->changed_cases, &self->changed_cases_cap,
                                          self->changed_cases_n + 1, sizeof(size_t));
            self->changed_cases[self->changed_cases_n++] = i;
        }
    }
    for (size_t i = 0; i < self->routes_n; i++) {
        fold_route_t *r = &self->routes[i];
        if (r->flowed)
            fold_settle_spike(self, r);
        fold_route_encode(r, &r->after);
        if (!fold_bytes_same(&r->after, &r->before)) {
            self->changed_routes = cf_grow(self->changed_routes, &self->changed_routes_cap,
                                           self->changed_routes_n + 1, sizeof(size_t));
            self->changed_routes[self->changed_routes_n++] = i;
        }
    }
    /* only the non-zero sums are output: drop the rest in place */
    fold_sums_t *sums[] = { &self->counters, &self->route_days };
    for (size_t s = 0; s < 2; s++) {
        size_t kept = 0;
        for (size_t i = 0; i < sums[s]->entries_n; i++)
            if (sums[s]->entries[i].value != 0)
                sums[s]->entries[kept++] = sums[s]->entries[i];
        sums[s]->entries_n = kept;      /* the index is stale now: finished */
    }
    self->finished = true;
}
