/*  cf_jobq: jobs (one producer PUSH each) and the broker's FIFO of them;
    see cf_jobq.h.                                                            */
#include "cf_jobq.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_loop.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _cf_jobq_t {
    cf_job_t *head, *tail;
    size_t jobs, events, bytes;
};

/* A job and its per-event arrays in one allocation (a part's too: parent,
   index, epoch), freed at once by cf_job_destroy: the broker makes a
   request and a part per owner of its shards for every PUSH, and small
   PUSHes made these allocations a visible share of its time. The arrays
   follow the struct, the widest first, so that each is aligned. */
static cf_job_t *job_make(uint64_t id, size_t event_count, bool part)
{
    size_t n = event_count ? event_count : 1;
    size_t size = sizeof(cf_job_t) + n * sizeof(zmq_msg_t) + n * sizeof(int32_t);
    if (part)
        size += n * (sizeof(cf_job_t *) + sizeof(size_t) + sizeof(uint64_t));
    _Static_assert(sizeof(cf_job_t) % sizeof(uint64_t) == 0
                   && sizeof(zmq_msg_t) % sizeof(uint64_t) == 0,
                   "the arrays after a job stay aligned");
    char *at = cf_calloc(1, size);
    cf_job_t *self = (cf_job_t *) at;
    at += sizeof *self;
    self->events = (zmq_msg_t *) at;
    at += n * sizeof(zmq_msg_t);
    if (part) {
        self->parent = (cf_job_t **) at;
        at += n * sizeof(cf_job_t *);
        self->index = (size_t *) at;
        at += n * sizeof(size_t);
        self->epoch = (uint64_t *) at;
        at += n * sizeof(uint64_t);
    }
    self->shard = (int32_t *) at;
    self->id = id;
    self->event_count = event_count;
    self->received_at = cf_clock_ms();
    zmq_msg_init(&self->producer);
    zmq_msg_init(&self->request_id);
    zmq_msg_init(&self->owner);
    for (size_t i = 0; i < event_count; i++) {
        zmq_msg_init(&self->events[i]);
        self->shard[i] = -1;
    }
    return self;
}

cf_job_t *cf_job_new(uint64_t id, size_t event_count)
{
    return job_make(id, event_count, false);
}

cf_job_t *cf_job_new_part(uint64_t id, const cf_job_t *request, size_t event_count)
{
    assert(request && !request->parent);
    cf_job_t *self = job_make(id, event_count, true);
    self->received_at = request->received_at;
    return self;
}

void cf_job_move_events(cf_job_t *to, size_t at, cf_job_t *from)
{
    assert(to && to->parent && from && from->parent && at + from->event_count <= to->event_count);
    for (size_t i = 0; i < from->event_count; i++, at++) {
        zmq_msg_move(&to->events[at], &from->events[i]);
        to->shard[at] = from->shard[i];
        to->parent[at] = from->parent[i];
        to->index[at] = from->index[i];
        to->epoch[at] = from->epoch[i];
    }
    if (from->received_at < to->received_at)
        to->received_at = from->received_at;
}

void cf_job_destroy(cf_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_job_t *self = *self_p;
    if (self->quota)
        cf_ratelimit_release(self->quota, zmq_msg_data(&self->owner), zmq_msg_size(&self->owner),
                             self->charged);
    zmq_msg_close(&self->owner);
    zmq_msg_close(&self->producer);
    zmq_msg_close(&self->request_id);
    for (size_t i = 0; i < self->event_count; i++)
        zmq_msg_close(&self->events[i]);
    free(self->ack_buf);
    free(self->ack_at);     /* ack_len shares it (cf_broker_route.c) */
    free(self);             /* and the arrays after it (job_make) */
    *self_p = NULL;
}

void cf_job_charge(cf_job_t *self, cf_ratelimit_t *quota, const void *owner, size_t owner_len,
                   size_t bytes)
{
    assert(self && quota && !self->quota && (owner || owner_len == 0));
    zmq_msg_close(&self->owner);
    zmq_msg_init_size(&self->owner, owner_len);
    if (owner_len)
        memcpy(zmq_msg_data(&self->owner), owner, owner_len);
    self->quota = quota;
    self->charged = bytes;
}

cf_jobq_t *cf_jobq_new(void)
{
    cf_jobq_t *self = cf_calloc(1, sizeof *self);
    return self;
}

void cf_jobq_destroy(cf_jobq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_job_t *job;
    while ((job = cf_jobq_pop(*self_p)))
        cf_job_destroy(&job);
    free(*self_p);
    *self_p = NULL;
}

/* Counts a job in: its events, and the bytes of its event frames (the
   payload the queue holds), kept on the job so that taking it out does not
   walk its frames again (a job is queued and taken out several times on its
   way to a worker: split into parts, then bundled). */
static void jobq_count_in(cf_jobq_t *self, cf_job_t *job)
{
    job->queued_bytes = 0;
    for (size_t i = 0; i < job->event_count; i++)
        job->queued_bytes += zmq_msg_size(&job->events[i]);
    self->jobs++;
    self->events += job->event_count;
    self->bytes += job->queued_bytes;
}

void cf_jobq_push(cf_jobq_t *self, cf_job_t *job)
{
    assert(self && job);
    job->next = NULL;
    if (self->tail)
        self->tail->next = job;
    else
        self->head = job;
    self->tail = job;
    jobq_count_in(self, job);
}

void cf_jobq_push_front(cf_jobq_t *self, cf_job_t *job)
{
    assert(self && job);
    job->next = self->head;
    self->head = job;
    if (!self->tail)
        self->tail = job;
    jobq_count_in(self, job);
}

cf_job_t *cf_jobq_pop(cf_jobq_t *self)
{
    assert(self);
    cf_job_t *job = self->head;
    if (!job)
        return NULL;
    self->head = job->next;
    if (!self->head)
        self->tail = NULL;
    job->next = NULL;
    self->jobs--;
    self->events -= job->event_count;
    self->bytes -= job->queued_bytes;
    return job;
}

const cf_job_t *cf_jobq_peek(const cf_jobq_t *self)
{
    assert(self);
    return self->head;
}

size_t cf_jobq_jobs(const cf_jobq_t *self)
{
    assert(self);
    return self->jobs;
}

size_t cf_jobq_events(const cf_jobq_t *self)
{
    assert(self);
    return self->events;
}

size_t cf_jobq_bytes(const cf_jobq_t *self)
{
    assert(self);
    return self->bytes;
}

int64_t cf_jobq_head_received(const cf_jobq_t *self)
{
    assert(self);
    return self->head ? self->head->received_at : -1;
}
