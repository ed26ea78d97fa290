/*  cf_broker's routing by shard (docs/reliability.md, "Ownership and
    fencing"). Each shard has an owner among the workers that are connected
    and not draining (cf_owners: rendezvous hashing with bounded loads), and
    an epoch recorded in Redis (cf:{sN}:owner: epoch, worker), raised at
    every reassignment before any event of the shard goes to its new owner.
    A request (a producer's PUSH, each event's shard computed at intake with
    cf_shard) is split into one part per owner; a part waits in its owner's
    backlog for credit and goes out with the epochs of its shards, which the
    worker's commits are fenced by. The parts' acks are gathered into the request's
    one ACK, in event order. A part whose commit a fence refused comes back
    acked busy "fenced:" and is routed again, never answered; one whose
    holder was lost is routed again as a REDO. Routing is what makes a
    shard's events meet at one worker; the commits' guards, not the routing,
    keep them correct, so a shard whose epoch Redis cannot record now is
    routed unfenced (epoch 0) until it can. What the workers send back:
    cf_broker_route_acks.c.                                                  */
#include "cf_broker_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_shard.h"
#include "cf_owners.h"

#include <stdlib.h>
#include <string.h>

#define ROUTE_SETTLE_MS 300     /* a worker gets shards once no other joined for this long:
                                   long enough for one worker's READYs to every broker,
                                   short beside the 1.5 s a restarted broker has for its
                                   first ack (fault.repeated_crashes) */
#define ROUTE_ACK_BYTES 64      /* what a packed ack usually takes at most: a request's
                                   acks get room for this many bytes each at once */

void cf_broker_route_start(cf_broker_t *self, const cf_broker_config_t *config)
{
    self->shards = config->shards ? config->shards : CF_SHARD_DEFAULT;
    self->job_events = config->job_events && config->job_events < CF_MSG_MAX_JOB_EVENTS
                     ? config->job_events : CF_MSG_MAX_JOB_EVENTS;
    /* a REDO runs event by event (cf_apply_careful.c), a few round trips
       each: at most a PUSH's worth, however large the job it was part of,
       so that it ends within seconds and holds the worker's other shards
       up no longer */
    self->redo_events = config->redo_events && config->redo_events < CF_MSG_MAX_EVENTS
                      ? config->redo_events : CF_MSG_MAX_EVENTS;
    self->owner = cf_calloc(self->shards, sizeof *self->owner);
    self->epoch = cf_calloc(self->shards, sizeof *self->epoch);
    self->epoch_high = cf_calloc(self->shards, sizeof *self->epoch_high);
    self->assign = cf_calloc(self->shards, sizeof *self->assign);
    self->fence_seen = cf_calloc(self->shards, sizeof *self->fence_seen);
    self->route_host = cf_strdup(config->redis_host ? config->redis_host : "127.0.0.1");
    self->route_port = config->redis_port ? config->redis_port : 6379;
    self->route_auth = cf_redis_auth_dup(config->redis_auth);
}

void cf_broker_route_stop(cf_broker_t *self)
{
    while (self->open) {
        cf_job_t *request = self->open;
        self->open = request->open_next;
        cf_job_destroy(&request);
    }
    cf_redis_cluster_destroy(&self->route_redis);
    free(self->owner), free(self->epoch), free(self->epoch_high), free(self->assign);
    free(self->fence_seen);
    free(self->route_host);
    cf_redis_auth_destroy(&self->route_auth);
}

void cf_broker_route_shards(cf_broker_t *self, cf_job_t *request)
{
    for (size_t i = 0; i < request->event_count; i++) {
        uint64_t hash;
        request->shard[i] = cf_shard_of_frame(zmq_msg_data(&request->events[i]),
                                              zmq_msg_size(&request->events[i]), &hash) == 0
                          ? (int32_t) cf_shard_pick(hash, self->shards) : -1;
    }
}

/* ---- what waits ---------------------------------------------------------- */

size_t cf_broker_queued(cf_broker_t *self, size_t (*count)(const cf_jobq_t *))
{
    size_t n = count(self->queue);
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)
        n += count(cf_roster_at(self->roster, i)->backlog);
    return n;
}

int64_t cf_broker_queued_oldest(cf_broker_t *self)
{
    int64_t oldest = cf_jobq_head_received(self->queue);
    for (size_t i = 0; i < cf_roster_size(self->roster); i++) {
        int64_t head = cf_jobq_head_received(cf_roster_at(self->roster, i)->backlog);
        if (head >= 0 && (oldest < 0 || head < oldest))
            oldest = head;
    }
    return oldest;
}

void cf_broker_route_take_back(cf_broker_t *self, cf_jobq_t *backlog)
{
    cf_job_t *list = NULL, *part;
    while ((part = cf_jobq_pop(backlog))) {     /* reversed, so that pushing to the front */
        part->next = list;                      /* keeps their order */
        list = part;
    }
    while (list) {
        part = list;
        list = list->next;
        cf_jobq_push_front(self->queue, part);
    }
}

void cf_broker_route_forget(cf_broker_t *self, cf_member_t *member)
{
    for (unsigned s = 0; s < self->shards; s++)
        if (self->owner[s] == member)
            self->owner[s] = NULL;
    cf_broker_route_take_back(self, member->backlog);
}

/* ---- owners and epochs ----------------------------------------------------- */

/* Marks eligible for shards the members that joined before the last join,
   once no worker has joined for ROUTE_SETTLE_MS: brokers that see the same
   workers arrive a little apart then compute the owners from the same list,
   rather than each recording its own for a moment (docs/reliability.md,
   "Several brokers"). A member, once eligible, stays so until it leaves. */
static void route_settle(cf_broker_t *self, int64_t now)
{
    if (now - self->last_join < ROUTE_SETTLE_MS)
        return;
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)
        cf_roster_at(self->roster, i)->eligible = true;
}

void cf_broker_route_rebalance(cf_broker_t *self)
{
    const char *names[CF_ROSTER_MAX];
    cf_member_t *members[CF_ROSTER_MAX];
    size_t n = 0;
    uint64_t sig = cf_shard_hash(NULL, 0);
    route_settle(self, cf_clock_ms());
    for (size_t i = 0; i < cf_roster_size(self->roster); i++) {
        cf_member_t *m = cf_roster_at(self->roster, i);
        if (m->draining || !m->eligible)
            continue;
        /* by name (host:pid), not label: every broker knows a worker by it */
        names[n] = m->name;
        members[n++] = m;
        sig = (sig ^ cf_shard_hash(&m, sizeof m) ^ cf_shard_hash(m->name, strlen(m->name)))
            * UINT64_C(1099511628211);
    }
    bool retry = self->route_retry && cf_clock_ms() >= self->route_retry_at;
    if (sig == self->owners_sig && !retry)
        return;
    self->owners_sig = sig;
    cf_owners_assign(names, n, self->shards, self->assign);
    unsigned *list = cf_calloc(self->shards, sizeof *list);
    size_t changed = 0;
    bool moved = false;
    for (unsigned s = 0; s < self->shards; s++) {
        cf_member_t *want = self->assign[s] >= 0 ? members[self->assign[s]] : NULL;
        moved |= want != self->owner[s];
        if (want && (want != self->owner[s] || self->epoch[s] == 0))
            list[changed++] = s;
        self->owner[s] = want;
    }
    uint64_t raised = self->epochs_raised, adopted = self->epochs_adopted;
    if (changed)
        cf_broker_epochs_record(self, list, changed, false);
    free(list);
    if (!moved)
        return;
    CF_LOG(CF_LOG_INFO, "shards assigned", "workers=%zu recorded=%zu raised=%llu adopted=%llu",
           n, changed, (unsigned long long) (self->epochs_raised - raised),
           (unsigned long long) (self->epochs_adopted - adopted));
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)    /* split for the new owners */
        cf_broker_route_take_back(self, cf_roster_at(self->roster, i)->backlog);
}

/* ---- splitting ---------------------------------------------------------- */

static cf_member_t *route_owner(cf_broker_t *self, const cf_job_t *job, size_t i)
{
    /* an event whose shard could not be read goes to any worker, which
       rejects it: shard 0's owner */
    return self->owner[job->shard[i] >= 0 ? (unsigned) job->shard[i] : 0];
}

/* A request about to be split: room for its acks, in the list of open ones. */
static void route_open(cf_broker_t *self, cf_job_t *request)
{
    /* ack_at and ack_len in one allocation, which cf_job_destroy frees as ack_at */
    request->ack_at = cf_calloc(2 * request->event_count, sizeof *request->ack_at);
    request->ack_len = request->ack_at + request->event_count;
    request->ack_buf = cf_grow(NULL, &request->ack_cap,
                               request->event_count * ROUTE_ACK_BYTES, 1);
    request->pending = request->event_count;
    request->open_next = self->open;
    if (self->open)
        self->open->open_prev = request;
    self->open = request;
}

bool cf_broker_route_split(cf_broker_t *self, cf_job_t *job)
{
    bool is_request = job->parent == NULL;  /* else a part split again */
    for (size_t i = 0; i < job->event_count; i++) {
        cf_member_t *m = route_owner(self, job, i);
        if (!m)
            return false;           /* no worker yet */
        m->split = 0;
        m->split_part = NULL;
    }
    for (size_t i = 0; i < job->event_count; i++)
        route_owner(self, job, i)->split++;
    if (is_request && !job->ack_len)
        route_open(self, job);
    for (size_t i = 0; i < job->event_count; i++) {
        cf_member_t *m = route_owner(self, job, i);
        cf_job_t *request = is_request ? job : job->parent[i];
        if (!m->split_part) {       /* m->split of its events are left: the next part */
            size_t size = job->redo && m->split > self->redo_events ? self->redo_events
                                                                     : m->split;
            m->split_part = cf_job_new_part(++self->next_job_id, request, size);
            m->split_part->redo = job->redo;
            m->split_part->attempts = job->attempts;
            m->split_left = m->split - size;
            m->split = 0;
        }
        cf_job_t *part = m->split_part;
        size_t j = m->split++;
        zmq_msg_copy(&part->events[j], &job->events[i]);    /* shares the buffer */
        part->shard[j] = job->shard[i];
        part->parent[j] = request;
        part->index[j] = is_request ? i : job->index[i];
        if (request->received_at < part->received_at)
            part->received_at = request->received_at;
        if (m->split == part->event_count) {
            cf_jobq_push(m->backlog, part);
            m->split_part = NULL;
            m->split = m->split_left;
        }
    }
    if (!is_request)
        cf_job_destroy(&job);
    return true;
}

cf_job_t *cf_broker_route_bundle(cf_broker_t *self, cf_jobq_t *backlog)
{
    cf_job_t *parts[CF_MSG_MAX_JOB_EVENTS];     /* each holds one event at least */
    size_t n = 0, count = 0;
    for (const cf_job_t *next; (next = cf_jobq_peek(backlog))
         && (n == 0 || (next->redo == parts[0]->redo
                        && count + next->event_count
                           <= (next->redo ? self->redo_events : self->job_events)));) {
        parts[n] = cf_jobq_pop(backlog);
        count += parts[n++]->event_count;
    }
    if (n <= 1)
        return n ? parts[0] : NULL; /* nothing to bundle it with */
    cf_job_t *bundle = cf_job_new_part(++self->next_job_id, parts[0]->parent[0], count);
    bundle->redo = parts[0]->redo;
    for (size_t k = 0, at = 0; k < n; k++) {
        if (parts[k]->attempts > bundle->attempts)
            bundle->attempts = parts[k]->attempts;
        cf_job_move_events(bundle, at, parts[k]);
        at += parts[k]->event_count;
        cf_job_destroy(&parts[k]);
    }
    cf_metric_add(self->metrics.bundled, count);
    return bundle;
}

int cf_broker_route_send(cf_broker_t *self, cf_member_t *member, cf_job_t *part)
{
    cf_msg_fence_t fences[CF_MSG_MAX_JOB_EVENTS];
    size_t n = 0;
    if (++self->fence_stamp == 0) {             /* the stamps went round */
        memset(self->fence_seen, 0, self->shards * sizeof *self->fence_seen);
        self->fence_stamp = 1;
    }
    for (size_t i = 0; i < part->event_count; i++) {
        int32_t s = part->shard[i];
        if (s >= 0 && self->epoch[s] && self->fence_seen[s] != self->fence_stamp) {
            self->fence_seen[s] = self->fence_stamp;
            fences[n++] = (cf_msg_fence_t) { (uint32_t) s, self->epoch[s] };
        }
        part->epoch[i] = s >= 0 ? self->epoch[s] : 0;
    }
    uint64_t requests[CF_MSG_MAX_JOB_EVENTS];
    for (size_t i = 0; i < part->event_count; i++)
        requests[i] = part->parent[i]->id;
    return cf_msg_send_job(self->workers, ZMQ_DONTWAIT, member->id, member->id_len, part->redo,
                           part->id, requests, fences, n, part->events, part->event_count);
}
