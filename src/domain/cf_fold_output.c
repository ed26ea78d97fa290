/*  cf_fold_output: a finished batch's output, read by the store's commit:
    merged counters, route days, changed case and route states, the
    notifications in order and the deadline changes; see cf_fold.h. Valid
    until the next cf_fold_reset.                                           */
#include "cf_fold_internal.h"

#include <assert.h>

size_t cf_fold_counters(const cf_fold_t *self)
{
    assert(self && self->finished);
    return self->counters.entries_n;
}

void cf_fold_counter(const cf_fold_t *self, size_t i, int *family, const char **field,
                     size_t *field_len, int64_t *delta)
{
    assert(self && self->finished && i < self->counters.entries_n);
    const fold_sum_entry_t *e = &self->counters.entries[i];
    *family = e->family;
    *field = self->counters.text + e->off;
    *field_len = e->len;
    *delta = e->value;
}

size_t cf_fold_route_days(const cf_fold_t *self)
{
    assert(self && self->finished);
    return self->route_days.entries_n;
}

void cf_fold_route_day(const cf_fold_t *self, size_t i, const char **field, size_t *field_len,
                       int64_t *delta)
{
    assert(self && self->finished && i < self->route_days.entries_n);
    const fold_sum_entry_t *e = &self->route_days.entries[i];
    *field = self->route_days.text + e->off;
    *field_len = e->len;
    *delta = e->value;
}

size_t cf_fold_cases(const cf_fold_t *self)
{
    assert(self && self->finished);
    return self->changed_cases_n;
}

void cf_fold_case(const cf_fold_t *self, size_t i, const char **case_id, const void **state,
                  size_t *len, bool *closed)
{
    assert(self && self->finished && i < self->changed_cases_n);
    const fold_case_t *c = &self->cases[self->changed_cases[i]];
    *case_id = c->id;
    *state = c->after.data;
    *len = c->after.len;
    *closed = c->bits & (1u << CF_STAGE_CLOSED);
}

size_t cf_fold_routes(const cf_fold_t *self)
{
    assert(self && self->finished);
    return self->changed_routes_n;
}

void cf_fold_route(const cf_fold_t *self, size_t i, const char **route, const void **state,
                   size_t *len)
{
    assert(self && self->finished && i < self->changed_routes_n);
    const fold_route_t *r = &self->routes[self->changed_routes[i]];
    *route = r->name;
    *state = r->after.data;
    *len = r->after.len;
}

size_t cf_fold_notes(const cf_fold_t *self)
{
    assert(self && self->finished);
    return self->notes_n;
}

void cf_fold_note(const cf_fold_t *self, size_t i, const char **topic, const void **body,
                  size_t *body_len)
{
    assert(self && self->finished && i < self->notes_n);
    const fold_note_t *n = &self->notes[i];
    *topic = self->notes_buf.data + n->topic_off;
    *body = self->notes_buf.data + n->body_off;
    *body_len = n->body_len;
}

size_t cf_fold_overdue_fired(const cf_fold_t *self)
{
    assert(self && self->finished);
    return self->overdue_fired;
}

size_t cf_fold_deadlines(const cf_fold_t *self)
{
    assert(self && self->finished);
    return self->deadlines_n;
}

void cf_fold_deadline(const cf_fold_t *self, size_t i, const char **member, size_t *member_len,
                      int64_t *due_ms)
{
    assert(self && self->finished && i < self->deadlines_n);
    *member = self->members + self->deadlines[i].member_off;
    *member_len = self->deadlines[i].member_len;
    *due_ms = self->deadlines[i].due;
}
