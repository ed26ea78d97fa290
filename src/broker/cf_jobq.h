/*  cf_jobq: the broker's jobs and its FIFO of jobs waiting for a worker.

    A job is one producer PUSH (a request): who sent it (routing id and
    request id) and its event frames, or a part of one: the events of the
    request that one worker owns the shards of (cf_broker_route.c), kept as ZeroMQ messages so that handing them to a worker,
    and again to another worker after a failure, copies no payload (zmq_msg_copy
    shares the buffer). The queue counts events and their bytes as well as
    jobs, because its bounds are in events and bytes. A job also carries its
    producer's share of bytes (cf_job_charge) and gives it back when it is
    destroyed: a producer's share counts its jobs as long as the broker holds
    them, queued or with a worker.                                            */
#ifndef CF_JOBQ_H
#define CF_JOBQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>
#include "caseflow/cf_ratelimit.h"

typedef struct _cf_job_t {
    uint64_t id;
    zmq_msg_t producer;         /* routing id of the producer's DEALER */
    zmq_msg_t request_id;
    zmq_msg_t *events;          /* event_count messages; like the other per-event
                                   arrays, in the job's own allocation */
    size_t event_count;
    size_t queued_bytes;        /* its event frames' bytes when last queued (cf_jobq_push) */
    unsigned attempts;          /* how often it was handed to a worker */
    int64_t sent_at;            /* cf_clock_ms() of the last hand-out */
    int64_t received_at;        /* cf_clock_ms() when it was made: the queue's age */
    cf_ratelimit_t *quota;      /* holds charged bytes of owner; NULL: none */
    zmq_msg_t owner;            /* the producer as quota names it (its key) */
    size_t charged;
    int32_t *shard;             /* each event's shard, -1: its frame could not be read */
    bool redo;                  /* its holder was lost: the next hand-out is a REDO */
    /* a part: each event's request and its place there (a part bundled
       for one hand-out may hold several requests' events); NULL for a
       request */
    struct _cf_job_t **parent;
    size_t *index;
    uint64_t *epoch;            /* each event's shard's epoch when last sent, 0: unfenced */
    /* a request once split: each event's final ack (packed), at ack_at[i]
       in ack_buf, ack_len[i] bytes (0: none yet; an ack is a map, never
       empty), and how many have none yet; linked in the broker's list of
       split requests. One buffer per request rather than one allocation
       per ack: the broker gathers an ack for every event it routes.
       ack_len points into the allocation of ack_at. */
    char *ack_buf;
    size_t ack_used, ack_cap;
    size_t *ack_at, *ack_len;
    size_t pending;
    struct _cf_job_t *open_prev, *open_next;
    struct _cf_job_t *next;
} cf_job_t;

typedef struct _cf_jobq_t cf_jobq_t;

/*  A job with room for event_count events (all messages initialised empty,
    shards -1).                                                             */
cf_job_t *cf_job_new(uint64_t id, size_t event_count);
/*  A part with room for event_count events of requests; the caller fills
    events, parent, index and shard (epoch is filled when it is sent). Its
    age is that of request, its oldest.                                     */
cf_job_t *cf_job_new_part(uint64_t id, const cf_job_t *request, size_t event_count);
/*  Moves the events of part `from` to the end of part `to` (which has room
    for them: cf_job_new_part), leaving `from` empty.                        */
void cf_job_move_events(cf_job_t *to, size_t at, cf_job_t *from);
/*  Gives back what the job was charged (cf_job_charge), frees, nulls
    *self_p; accepts NULL.                                                     */
void cf_job_destroy(cf_job_t **self_p);

/*  Records that bytes were added to owner's share in quota for this job
    (cf_ratelimit_hold, by the caller), for cf_job_destroy to give back;
    quota must outlive the job. Once per job.                                  */
void cf_job_charge(cf_job_t *self, cf_ratelimit_t *quota, const void *owner, size_t owner_len,
                   size_t bytes);

cf_jobq_t *cf_jobq_new(void);
/*  Destroys the queue and every job still in it.                              */
void cf_jobq_destroy(cf_jobq_t **self_p);

/*  Appends (normal) or prepends (a job coming back from a lost worker keeps
    its place at the head, so redelivery does not starve it).                */
void cf_jobq_push(cf_jobq_t *self, cf_job_t *job);
void cf_jobq_push_front(cf_jobq_t *self, cf_job_t *job);

/*  Takes the oldest job, or NULL when empty.                                  */
cf_job_t *cf_jobq_pop(cf_jobq_t *self);
/*  The oldest job, left in the queue, or NULL when empty.                     */
const cf_job_t *cf_jobq_peek(const cf_jobq_t *self);

size_t cf_jobq_jobs(const cf_jobq_t *self);
size_t cf_jobq_events(const cf_jobq_t *self);
size_t cf_jobq_bytes(const cf_jobq_t *self);        /* of the queued jobs' event frames */
/*  When the job at the head of the queue (the next to go) was received
    (cf_clock_ms), or -1 when the queue is empty.                            */
int64_t cf_jobq_head_received(const cf_jobq_t *self);

#endif
