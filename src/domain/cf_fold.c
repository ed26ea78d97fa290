/*  cf_fold: the fold object's life and its batch, as the store runs it:
    loading states, applying events, firing a deadline, and the end of the
    batch that settles and packs what changed; see cf_fold.h. What each
    event does is in cf_fold_events.c (a case's per-event counters in
    cf_fold_services.c, funding and flows in cf_fold_flows.c), the derived
    aggregates and deadlines in cf_fold_derive.c, the packed states in
    cf_fold_state.c, the rules in cf_fold_rules.c, what they all write into
    (counters, notifications, deadline changes, the error) and the cases and
    routes by name in cf_fold_collect.c, the output's readers in
    cf_fold_output.c. Every buffer is kept from batch to batch, so that a
    steady stream of batches allocates nothing.                             */
#include "cf_fold_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

cf_fold_t *cf_fold_new(void)
{
    cf_fold_t *self = cf_calloc(1, sizeof *self);
    msgpack_sbuffer_init(&self->notes_buf);
    self->clock_ms = -1;
    return self;
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

const char *cf_fold_error(const cf_fold_t *self)
{
    assert(self);
    return self->error[0] ? self->error : NULL;
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
    fold_sums_reset(&self->counters);
    fold_sums_reset(&self->route_days);
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
    fold_index_room(&self->case_index, self->cases_n + 1, self->cases, sizeof *self->cases);
    fold_case_t *c = &self->cases[self->cases_n];
    fold_case_clear(c);
    char why[160];
    if (fold_case_decode(c, state, len, why, sizeof why) < 0)
        return fold_fail(self, "case %s: %s", case_id, why), -1;
    strcpy(c->id, case_id);
    fold_bytes_set(&c->before, state, len);
    *fold_index_slot(&self->case_index, case_id, self->cases, sizeof *self->cases)
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
    fold_index_room(&self->route_index, self->routes_n + 1, self->routes, sizeof *self->routes);
    fold_route_t *r = &self->routes[self->routes_n];
    fold_route_clear(r);
    char why[160];
    if (fold_route_decode(r, state, len, why, sizeof why) < 0)
        return fold_fail(self, "route %s: %s", route, why), -1;
    strcpy(r->name, route);
    fold_bytes_set(&r->before, state, len);
    *fold_index_slot(&self->route_index, route, self->routes, sizeof *self->routes)
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
