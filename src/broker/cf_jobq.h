/*  cf_jobq: the broker's jobs and its FIFO of jobs waiting for a worker.

    A job is one producer PUSH: who sent it (routing id and request id) and
    its event frames, kept as ZeroMQ messages so that handing them to a worker,
    and again to another worker after a failure, copies no payload (zmq_msg_copy
    shares the buffer). The queue counts events and their bytes as well as
    jobs, because its bounds are in events and bytes.                         */
#ifndef CF_JOBQ_H
#define CF_JOBQ_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct _cf_job_t {
    uint64_t id;
    zmq_msg_t producer;         /* routing id of the producer's DEALER */
    zmq_msg_t request_id;
    zmq_msg_t *events;          /* event_count messages */
    size_t event_count;
    unsigned attempts;          /* how often it was handed to a worker */
    int64_t sent_at;            /* cf_clock_ms() of the last hand-out */
    struct _cf_job_t *next;
} cf_job_t;

typedef struct _cf_jobq_t cf_jobq_t;

/*  A job with room for event_count events (all messages initialised empty). */
cf_job_t *cf_job_new(uint64_t id, size_t event_count);
void cf_job_destroy(cf_job_t **self_p);

cf_jobq_t *cf_jobq_new(void);
/*  Destroys the queue and every job still in it.                              */
void cf_jobq_destroy(cf_jobq_t **self_p);

/*  Appends (normal) or prepends (a job coming back from a lost worker keeps
    its place at the head, so redelivery does not starve it).                */
void cf_jobq_push(cf_jobq_t *self, cf_job_t *job);
void cf_jobq_push_front(cf_jobq_t *self, cf_job_t *job);

/*  Takes the oldest job, or NULL when empty.                                  */
cf_job_t *cf_jobq_pop(cf_jobq_t *self);

size_t cf_jobq_jobs(const cf_jobq_t *self);
size_t cf_jobq_events(const cf_jobq_t *self);
size_t cf_jobq_bytes(const cf_jobq_t *self);        /* of the queued jobs' event frames */

#endif
