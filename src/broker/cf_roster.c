/*  cf_roster: the broker's connected workers, their credit and the jobs they
    hold; see cf_roster.h. A worker pool is small (tens), so members live in
    an array searched linearly.                                              */
#include "cf_roster.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _cf_roster_t {
    cf_member_t **members;
    size_t size, capacity;
};

cf_roster_t *cf_roster_new(void)
{
    cf_roster_t *self = cf_calloc(1, sizeof *self);
    return self;
}

void cf_roster_destroy(cf_roster_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_roster_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++) {
        cf_job_t *job = cf_member_take_all(self->members[i]);
        while (job) {
            cf_job_t *next = job->next;
            cf_job_destroy(&job);
            job = next;
        }
        cf_jobq_destroy(&self->members[i]->backlog);
        free(self->members[i]);
    }
    free(self->members);
    free(self);
    *self_p = NULL;
}

cf_member_t *cf_roster_find(cf_roster_t *self, const void *id, size_t id_len)
{
    assert(self);
    for (size_t i = 0; i < self->size; i++) {
        cf_member_t *member = self->members[i];
        if (member->id_len == id_len && memcmp(member->id, id, id_len) == 0)
            return member;
    }
    return NULL;
}

cf_member_t *cf_roster_add(cf_roster_t *self, const void *id, size_t id_len, int64_t now)
{
    assert(self);
    if (id_len == 0 || id_len > CF_ROSTER_ID_MAX || self->size == CF_ROSTER_MAX)
        return NULL;
    self->members = cf_grow(self->members, &self->capacity, self->size + 1, sizeof *self->members);
    cf_member_t *member = cf_calloc(1, sizeof *member);
    memcpy(member->id, id, id_len);
    member->id_len = id_len;
    member->last_seen = member->last_sent = now;
    member->backlog = cf_jobq_new();
    self->members[self->size++] = member;
    return member;
}

void cf_roster_remove(cf_roster_t *self, cf_member_t *member)
{
    assert(self && member && member->inflight == NULL);
    for (size_t i = 0; i < self->size; i++)
        if (self->members[i] == member) {
            memmove(&self->members[i], &self->members[i + 1],
                    (self->size - i - 1) * sizeof *self->members);
            self->size--;
            cf_jobq_destroy(&member->backlog);
            free(member);
            return;
        }
}

cf_member_t *cf_roster_pick(cf_roster_t *self)
{
    assert(self);
    cf_member_t *best = NULL;
    for (size_t i = 0; i < self->size; i++) {
        cf_member_t *member = self->members[i];
        if (member->credit == 0 || member->draining)
            continue;
        if (!best || member->inflight_count < best->inflight_count
            || (member->inflight_count == best->inflight_count
                && member->last_sent < best->last_sent))
            best = member;
    }
    return best;
}

size_t cf_roster_size(const cf_roster_t *self)
{
    assert(self);
    return self->size;
}

cf_member_t *cf_roster_at(cf_roster_t *self, size_t index)
{
    assert(self && index < self->size);
    return self->members[index];
}

size_t cf_roster_inflight(const cf_roster_t *self)
{
    assert(self);
    size_t jobs = 0;
    for (size_t i = 0; i < self->size; i++)
        jobs += self->members[i]->inflight_count;
    return jobs;
}

void cf_member_hold(cf_member_t *member, cf_job_t *job)
{
    assert(member && job && member->credit > 0);
    job->next = member->inflight;
    member->inflight = job;
    member->inflight_count++;
    member->credit--;
}

cf_job_t *cf_member_release(cf_member_t *member, uint64_t job_id)
{
    assert(member);
    for (cf_job_t **link = &member->inflight; *link; link = &(*link)->next)
        if ((*link)->id == job_id) {
            cf_job_t *job = *link;
            *link = job->next;
            job->next = NULL;
            member->inflight_count--;
            member->credit++;
            return job;
        }
    return NULL;
}

cf_job_t *cf_member_take_all(cf_member_t *member)
{
    assert(member);
    cf_job_t *jobs = member->inflight;
    member->inflight = NULL;
    member->credit += (unsigned) member->inflight_count;
    member->inflight_count = 0;
    return jobs;
}

size_t cf_member_events_held(const cf_member_t *member)
{
    assert(member);
    size_t events = 0;
    for (const cf_job_t *job = member->inflight; job; job = job->next)
        events += job->event_count;
    return events;
}
