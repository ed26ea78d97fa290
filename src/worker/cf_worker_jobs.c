/*  cf_worker_jobs: the worker's queue of jobs (cf_worker.c keeps the links
    they come by): a JOB or REDO taken from a broker within its credit,
    without a copy; run through cf_apply, the jobs queued together as one
    batch (worker_gather), and each answered DONE to the broker it came
    from; on a Redis outage kept and tried again with
    doubling backoff, so that heartbeats go on meanwhile. A link that
    reconnects drops its jobs here, and its broker redelivers them.         */
#include "cf_worker_internal.h"
#include "cf_apply.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define WORKER_RETRY_MIN_MS 100
#define WORKER_RETRY_MAX_MS 1000   /* a Redis back is used within a second */

static worker_job_t *worker_job_at(cf_worker_t *self, size_t i)
{
    return &self->jobs[(self->job_head + i) % self->job_slots];
}

/* Forgets the queued jobs that came from link (its broker redelivers them),
   keeping the others in their order; their buffers stay in the ring. */
void cf_worker_drop_jobs(cf_worker_t *self, size_t link)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->job_count; i++) {
        worker_job_t *job = worker_job_at(self, i);
        if (job->link == link)
            continue;
        worker_job_t *to = worker_job_at(self, kept++);
        if (to != job) {
            worker_job_t swap = *to;
            *to = *job;
            *job = swap;
        }
    }
    self->job_count = kept;
    self->links[link].jobs = 0;
}

/* The index-th notification of the job just run, for its DONE. */
static void worker_notice(const void *apply, size_t index, const char **topic,
                          size_t *topic_len, const char **body, size_t *body_len)
{
    cf_apply_notification(apply, index, topic, topic_len, body, body_len);
}


/* Whether the job's epochs agree with those the run has set: none differs
   on a shard both name (else a reassignment came between them). */
static bool worker_fences_agree(const cf_worker_t *self, const cf_msg_job_t *msg)
{
    for (size_t f = 0; f < msg->fences; f++) {
        const cf_msg_fence_t *fence = &msg->fence[f];
        uint64_t set = fence->shard < cf_store_shards(self->store)
                     ? cf_store_fence(self->store, fence->shard) : 0;
        if (set && set != fence->epoch)
            return false;
    }
    return true;
}

/* Adds the jobs from the queue's head to the run, one after another: their
   frames, their events' requests and their fences. A job the broker sent
   while this worker was busy runs at once with the others that came
   meanwhile, as one cf_apply_run (the broker's bundling, done here without
   waiting for a DONE and a hop through the broker for the next job). The
   run stops before a careful job (it runs alone), at CF_MSG_MAX_JOB_EVENTS,
   before a job whose epoch for a shard differs from one already set (a
   reassignment between the two), and after one job while the jobs of a
   run Redis refused are run alone (self->run_alone). Returns how many
   jobs: at least one unless the first does not parse (checked when it
   came: cannot happen). */
static size_t worker_gather(cf_worker_t *self, size_t *events)
{
    cf_msg_job_t *msg = &self->job;
    size_t n = 0, total = 0;
    while (n < self->job_count) {
        worker_job_t *job = worker_job_at(self, n);
        if ((n && (job->careful || self->run_alone)) || cf_msg_parse_job(job->parts, msg) < 0
            || total + msg->events > CF_MSG_MAX_JOB_EVENTS)
            break;
        if (!worker_fences_agree(self, msg))
            break;
        /* each commit on a shard of the job needs the owner's epoch it came with */
        for (size_t f = 0; f < msg->fences; f++)
            if (msg->fence[f].shard < cf_store_shards(self->store))
                cf_store_set_fence(self->store, msg->fence[f].shard, msg->fence[f].epoch);
        for (size_t i = 0; i < msg->events; i++) {
            self->run_frames[total + i] = cf_multipart_data(job->parts,
                                                            CF_MSG_JOB_FIRST_EVENT + i);
            self->run_sizes[total + i] = cf_multipart_len(job->parts,
                                                          CF_MSG_JOB_FIRST_EVENT + i);
        }
        memcpy(self->run_requests + total, msg->request_id,
               msg->events * sizeof *msg->request_id);
        self->run_events[n++] = msg->events;
        total += msg->events;
        if (job->careful)
            break;
    }
    *events = total;
    return n;
}

/* Answers a job of the run DONE: the acks of its frames (cf_apply_select
   has chosen them). */
static void worker_answer(cf_worker_t *self, worker_job_t *job, size_t count)
{
    if (cf_apply_count(self->apply, CF_ACK_BUSY)) {
        /* a zombie, or a job that straddled a reassignment: nothing of the
           fenced shards was written; their events go back to the broker,
           acked busy (fenced), the others' acks stand */
        CF_LOG(CF_LOG_INFO, "job fenced", "job=%llu events=%zu", (unsigned long long) job->id,
               cf_apply_count(self->apply, CF_ACK_BUSY));
        cf_metric_inc(self->metrics.fenced);
    }
    const msgpack_sbuffer *acks = cf_apply_acks(self->apply);
    worker_link_t *link = &self->links[job->link];
    if (cf_msg_send_done(link->socket, 0, job->id, acks->data, acks->size,
                         cf_apply_notifications(self->apply), worker_notice, self->apply) < 0)
        return;     /* the broker will redeliver; idempotency makes it safe */
    link->last_sent = cf_clock_ms();
    self->events_done += count;
    cf_metric_inc(self->metrics.jobs[job->careful]);
}

/* Runs the jobs at the queue's head that go together (worker_gather) and
   answers each DONE; how many into *ran. -1 when Redis failed (keep them):
   a job Redis refused (an error reply, not an outage) is run event by event
   next time, so that the event it refuses is found and dead-lettered; the
   jobs of a run it refused are first run one by one, so that only the job
   that holds that event is (an event-by-event run is slow, and a REDO is
   kept to a PUSH's worth for that reason: cf_broker_route.c). */
static int worker_run_jobs(cf_worker_t *self, size_t *ran)
{
    size_t total;
    size_t n = worker_gather(self, &total);
    *ran = n ? n : 1;
    if (n == 0)
        return 0;                   /* the first did not parse: dropped */
    bool careful = worker_job_at(self, 0)->careful;
    /* every attempt of each event's request, here or at the worker a
       redelivery or another part goes to, writes that request's id into
       the markers it sets: its acks stay true (a job may bundle the parts
       of several requests) */
    cf_apply_set_requests(self->apply, self->run_requests, total);
    const void *const *frames = self->run_frames;
    int rc = careful ? cf_apply_run_careful(self->apply, frames, self->run_sizes, total)
                     : cf_apply_run(self->apply, frames, self->run_sizes, total);
    cf_store_clear_fences(self->store);
    if (rc < 0) {
        bool refused = cf_apply_error_code(self->apply) != CF_STORE_ERR_IO;
        if (refused && n > 1)
            self->run_alone = n;
        else
            worker_job_at(self, 0)->careful |= refused;
        return -1;
    }
    self->run_alone -= self->run_alone ? 1 : 0;
    for (size_t k = 0, from = 0; k < n; from += self->run_events[k++]) {
        cf_apply_select(self->apply, from, self->run_events[k]);
        worker_answer(self, worker_job_at(self, k), self->run_events[k]);
    }
    cf_worker_metrics_count_store(&self->metrics, self->store);
    return 0;
}

/* Works through the queued jobs; on a Redis failure schedules a retry with
   doubling backoff and returns, so heartbeats go on meanwhile. */
void cf_worker_process(cf_worker_t *self)
{
    if (self->retry_at && cf_clock_ms() < self->retry_at)
        return;
    while (self->job_count > 0) {
        size_t ran;
        if (worker_run_jobs(self, &ran) < 0) {
            self->retry_ms = self->retry_ms ? self->retry_ms * 2 : WORKER_RETRY_MIN_MS;
            if (self->retry_ms > WORKER_RETRY_MAX_MS)
                self->retry_ms = WORKER_RETRY_MAX_MS;
            self->retry_at = cf_clock_ms() + self->retry_ms;
            cf_worker_redis_failed(self, "redis failed, job kept", cf_apply_error(self->apply),
                                self->retry_ms);
            return;
        }
        cf_worker_redis_ok(self);
        self->retry_at = 0;
        self->retry_ms = 0;
        for (size_t k = 0; k < ran; k++) {
            self->links[worker_job_at(self, 0)->link].jobs--;
            self->job_head = (self->job_head + 1) % self->job_slots;
            self->job_count--;
        }
    }
}

/* Keeps a JOB: the inbox's buffer becomes the job's and the job slot's
   spare buffer becomes the inbox, so no event is copied. */
static void worker_take_job(cf_worker_t *self, size_t link)
{
    cf_multipart_t *parts = self->inbox;
    if (cf_msg_parse_job(parts, &self->job) < 0 || self->links[link].jobs == self->config.credit)
        return;     /* malformed, or beyond its credit: that broker redelivers */
    worker_job_t *job = worker_job_at(self, self->job_count);
    job->id = self->job.job_id;
    job->careful = self->job.redo;
    job->link = link;
    self->links[link].jobs++;
    self->inbox = job->parts;
    job->parts = parts;
    self->job_count++;
}

/* An EXIT (an operator drained us, and we hold nothing the broker knows
   of) ends the loop: cf_worker_run then leaves as on SIGTERM. */
int cf_worker_on_broker(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    cf_worker_t *self = arg;
    bool leave = false;
    size_t index = 0;
    while (index < self->nlinks && self->links[index].socket != socket)
        index++;
    assert(index < self->nlinks);
    worker_link_t *link = &self->links[index];
    while (cf_multipart_recv(self->inbox, socket) == 0) {
        link->last_heard = cf_clock_ms();
        link->refusal_logged = false;
        if (cf_msg_is_exit(self->inbox))
            leave = true;
        else    /* anything but a whole JOB or REDO is only a sign of life */
            worker_take_job(self, index);
    }
    cf_worker_process(self);
    if (leave)
        CF_LOG(CF_LOG_INFO, "drained, leaving", "jobs=%zu", self->job_count);
    return leave ? -1 : 0;
}
