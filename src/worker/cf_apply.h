/*  cf_apply: what a worker does with a run of jobs, without the sockets.

    Decodes and validates each event frame, pseudonymises case_ref (the raw
    value is wiped from memory before anything is stored), applies the valid
    events to Redis through cf_store in one pipelined round trip, and builds
    the job's answer: one ack per frame (accepted, duplicate, or rejected with
    its reason) and the notifications to publish (case.<programme>.<stage>
    and reject). Nothing is acked unless Redis replied, so a failed run can
    simply be retried: applying is idempotent. The benchmark's ceiling uses
    this same code with no ZeroMQ around it.                                  */
#ifndef CF_APPLY_H
#define CF_APPLY_H

#include <stddef.h>
#include <msgpack.h>
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_pseudo.h"
#include "caseflow/cf_store.h"

typedef struct _cf_apply_t cf_apply_t;

/*  Borrows pseudo and store; they must outlive the object.                  */
cf_apply_t *cf_apply_new(const cf_pseudo_t *pseudo, cf_store_t *store);
void cf_apply_destroy(cf_apply_t **self_p);

/*  Processes count event frames. Returns 0 with the results below filled, or
    -1 when Redis failed (cf_apply_error says why); then nothing was acked and
    the same frames may be run again.                                         */
int cf_apply_run(cf_apply_t *self, const void *const *frames, const size_t *sizes, size_t count);

/*  Each frame's request for the next run (cf_apply_run or _careful) only:
    ids[i] is frame i's (a job the broker bundled from several requests'
    parts), for the dedupe markers (cf_store_set_requests). Without it, the
    store's own request (cf_store_set_request) serves every event.          */
void cf_apply_set_requests(cf_apply_t *self, const uint64_t *ids, size_t count);

/*  After a successful run, selects frames [from, from + count) of it: the
    acks, notifications and counts below are theirs alone (a worker runs
    the frames of several jobs at once and answers each job apart). A run
    selects all its frames.                                                 */
void cf_apply_select(cf_apply_t *self, size_t from, size_t count);

/*  The ack array of the frames selected (msgpack, as in ACK frame 3).        */
const msgpack_sbuffer *cf_apply_acks(const cf_apply_t *self);

/*  The notifications of the frames selected: topic and msgpack body.        */
size_t cf_apply_notifications(const cf_apply_t *self);
void cf_apply_notification(const cf_apply_t *self, size_t index, const char **topic,
                           size_t *topic_len, const char **body, size_t *body_len);

/*  Counts of the frames selected, by status.                                */
size_t cf_apply_count(const cf_apply_t *self, cf_ack_status_t status);

const char *cf_apply_error(const cf_apply_t *self);
/*  The store's code for the last failure (CF_STORE_ERR_IO: Redis down or
    slow, keep retrying; CF_STORE_ERR_REDIS: Redis refused the work).       */
cf_store_err_t cf_apply_error_code(const cf_apply_t *self);

#define CF_APPLY_POISON_TRIES   3   /* tries of one event before it is dead-lettered */

/*  Processes count event frames one event at a time, for a job whose worker
    was lost or that Redis refused as a whole: before each event one more try
    is counted in Redis (cf_store_try_begin), so that tries survive a worker
    that dies holding the event; an event whose tries exceed the limit, or
    that Redis keeps refusing, goes to the dead-letter stream and is acked
    rejected with a reason that says so. A try that meets an outage
    (CF_STORE_ERR_IO) is given back, at the next careful run if Redis cannot
    take it at once. Same results and return as cf_apply_run; -1 only when
    Redis is unreachable (run it again later).                              */
int cf_apply_run_careful(cf_apply_t *self, const void *const *frames, const size_t *sizes,
                         size_t count);

/*  Called before each event of an event-by-event run, which holds up to a
    job's 4 000 events and may take seconds: the worker's heartbeats, since
    the broker's liveness counts from them. NULL (the default): none.       */
typedef void (cf_apply_tick_fn)(void *arg);
void cf_apply_set_tick(cf_apply_t *self, cf_apply_tick_fn *tick, void *arg);

/*  How many tries (>= 1) one event gets; CF_APPLY_POISON_TRIES by default.  */
void cf_apply_set_poison_tries(cf_apply_t *self, unsigned tries);

/*  Where a run counts what it did: each event of a successful run by its
    type (the last row: events that did not decode) and ack status, and
    each dead letter written. Any series may be NULL (not counted).         */
typedef struct {
    cf_metric_t *events[CF_EV_TYPE_COUNT + 1][CF_ACK_STATUS_COUNT];
    cf_metric_t *dead_letters;
} cf_apply_metrics_t;

/*  Copies metrics (its series must outlive the object).                     */
void cf_apply_set_metrics(cf_apply_t *self, const cf_apply_metrics_t *metrics);

#endif
