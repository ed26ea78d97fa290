/*  cf_store_apply: a batch of validated events, applied: the worker computes,
    Redis stores (docs/storage.md, "The apply path"). Per shard (a group):
      1. read   under WATCH, the states of the batch's cases and routes, the
                events' dedupe markers and, for a fenced shard, its owner's
                epoch (one pipelined round trip for every shard, with Redis's
                clock for the markers' generation: cf_store_read.c);
      2. fold   the events over them in C (cf_fold): new states, merged counter
                deltas, notifications, deadlines (cf_store_fold.c, which
                also builds each shard's commit);
      3. commit the result as plain commands (cf_store_commit.c): a check
                round trip (the counters' values under WATCH, the types of
                keys only written), then one MULTI/EXEC of every shard's
                writes, whole or not at all.
    WATCH stands where guards stood: EXEC writes nothing when a key read
    changed in between (another worker committed the same case, or a retry
    after a lost reply finds its own first attempt), and the groups are read
    and folded again. The markers are watched through the states: every
    event applied to a case changes its state (cf_fold counts them); only
    events without a state of their own (funding, flows) have their marker
    buckets watched. A fenced shard watches its owner record alone, which
    every other writer of the shard writes (docs/storage.md, "The owner
    record is the fenced shard's one watch"). So the common case costs
    three round trips, no Lua, and nothing is counted twice.                */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_fold.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#define APPLY_ATTEMPTS  16      /* commits of one shard before giving up */
#define APPLY_BACKOFF_US 2000   /* the most a retry waits, after a few collisions */

/* One attempt for the groups pending: read, fold, commit. Leaves pending
   the groups to run again (EXEC found a key read changed); returns how
   many in *left. */
static int apply_attempt(cf_store_t *self, const cf_event_t *events, cf_ack_status_t *statuses,
                         size_t *left)
{
    cf_store_batch_t *batch = self->batch;
    int rc = cf_store_read(self, events);
    size_t send = 0;
    for (size_t g = 0; g < batch->groups; g++) {
        batch->commit_state[g] = CF_STORE_COMMIT_NONE;
        if (!batch->pending[g])
            continue;
        int fenced = rc < 0 ? -1 : cf_store_fold_fenced(self, g);
        if (fenced != 0) {          /* not ours any more: not tried again */
            cf_commit_cache_drop(self->cache, batch->group_shard[g]);   /* nor known */
            batch->fenced[g] = fenced > 0;
            rc = fenced < 0 ? -1 : 0;
            continue;
        }
        cf_store_fold_probed(self, g);
        rc = cf_store_fold(self, events, g, statuses);
        if (rc == 0 && cf_store_fold_build(self, events, g)) {
            batch->commit_state[g] = CF_STORE_COMMIT_SEND;
            batch->group_alerts[g] = cf_fold_overdue_fired(self->fold);
            send++;
        }
    }
    memset(batch->pending, 0, batch->groups * sizeof *batch->pending);
    if (send) {
        char why[400];
        self->commit_lanes = batch->group_lane;
        int run = cf_store_commit_run(self, batch->commits, batch->groups, batch->commit_state,
                                      batch->group_shard, true, NULL, why, sizeof why);
        self->commit_lanes = NULL;
        if (run < 0)
            rc = -1;
        else if (run > 0 && rc == 0)
            rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "%s", why);
        for (size_t g = 0; g < batch->groups; g++) {
            batch->pending[g] = batch->commit_state[g] == CF_STORE_COMMIT_CONFLICT;
            if (batch->commit_state[g] == CF_STORE_COMMIT_DONE)
                self->alerts_fired += batch->group_alerts[g];
        }
    }
    cf_store_free_reads(self);
    *left = 0;
    for (size_t g = 0; g < batch->groups; g++)
        *left += batch->pending[g];
    return rc;
}

/* The shards still pending, "3, 17, ..." into buf. */
static const char *apply_pending_names(const cf_store_t *self, char *buf, size_t size)
{
    cf_store_batch_t *batch = self->batch;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t g = 0; g < batch->groups && used + 16 < size; g++)
        if (batch->pending[g])
            used += (size_t) snprintf(buf + used, size - used, "%s%u", used ? ", " : "",
                                      batch->group_shard[g]);
    return buf;
}

/* Waits a random while, longer with each attempt, up to APPLY_BACKOFF_US,
   so that two stores whose commits keep refusing each other's stop
   meeting. */
static void apply_backoff(cf_store_t *self, int attempt)
{
    self->backoff_seed = self->backoff_seed * 6364136223846793005u + 1442695040888963407u;
    unsigned most = 100u << (attempt < 6 ? attempt : 6);
    if (most > APPLY_BACKOFF_US)
        most = APPLY_BACKOFF_US;
    struct timespec wait = { 0, (long) ((self->backoff_seed >> 33) % most) * 1000 };
    nanosleep(&wait, NULL);
}

/* Marks pending the next groups to run (a wave), out of those waiting:
   every one on a single server; on a cluster at most one per node and
   lane, since a connection's WATCHes belong to the transaction of its next
   EXEC and a transaction holds the keys of one slot (cf_store_commit.c):
   the groups of one node take lanes 0, 1, ... (the batch's group_lane). 0 / -1. */
static int apply_wave(cf_store_t *self, size_t *pending)
{
    cf_store_batch_t *batch = self->batch;
    *pending = 0;
    int *taken = self->cluster ? cf_calloc(batch->groups, sizeof *taken) : NULL;
    unsigned *used = self->cluster ? cf_calloc(batch->groups, sizeof *used) : NULL;
    size_t ntaken = 0;
    for (size_t g = 0; g < batch->groups; g++) {
        if (!batch->waiting[g])
            continue;
        if (self->cluster) {
            int node = cf_redis_cluster_slot_node(self->redis,
                                                  cf_store_slot(self, batch->group_shard[g]));
            if (node < 0) {
                free(taken), free(used);
                return cf_store_fail_io(self, "the cluster's map");
            }
            size_t k = 0;
            while (k < ntaken && taken[k] != node)
                k++;
            if (k == ntaken)
                taken[ntaken++] = node;
            if (used[k] == self->nlanes)
                continue;           /* every lane of its node is busy: the next wave */
            batch->group_lane[g] = (unsigned char) used[k]++;
        } else {
            batch->group_lane[g] = 0;
        }
        batch->waiting[g] = 0;
        batch->pending[g] = 1;
        (*pending)++;
    }
    free(taken), free(used);
    return 0;
}

static int apply_batch(cf_store_t *self, cf_event_t *events, size_t count,
                       cf_ack_status_t *statuses)
{
    assert(self && (count == 0 || (events && statuses)));
    cf_store_batch_t *batch = self->batch;
    cf_store_clear_error(self);
    if (count == 0)
        return 0;
    char why[160];
    if (cf_store_check_events(events, count, why, sizeof why) < 0)
        return cf_store_fail(self, CF_STORE_ERR_INPUT, "%s", why);
    if (self->rules_error[0])
        return cf_store_fail(self, CF_STORE_ERR_INPUT, "rules: %s", self->rules_error);
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    cf_store_group(self, events, count);
    batch->fresh = cf_grow(batch->fresh, &batch->fresh_capacity, count, sizeof *batch->fresh);
    memset(batch->waiting, 1, batch->groups * sizeof *batch->waiting);
    memset(batch->pending, 0, batch->groups * sizeof *batch->pending);
    memset(batch->fenced, 0, batch->groups * sizeof *batch->fenced);
    batch->fenced_events = 0;
    size_t pending;
    if (apply_wave(self, &pending) < 0)
        return -1;
    for (int attempt = 0; pending; attempt++) {
        if (attempt == APPLY_ATTEMPTS)
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "the states of shards %s keep "
                                 "changing while they are committed",
                                 apply_pending_names(self, why, sizeof why));
        if (attempt >= 2)           /* two workers that keep colliding on one case: apart */
            apply_backoff(self, attempt);
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        if (apply_attempt(self, events, statuses, &pending) < 0)
            return -1;
        clock_gettime(CLOCK_MONOTONIC, &end);
        cf_metric_observe(self->latency, (double) (end.tv_sec - start.tv_sec)
                                         + (double) (end.tv_nsec - start.tv_nsec) / 1e9);
        if (pending == 0) {         /* this wave is written: the next one, with its own tries */
            if (apply_wave(self, &pending) < 0)
                return -1;
            attempt = -1;
        }
    }
    /* nothing acked before the replicas hold it, with ack-replicas */
    if (cf_store_wait_replicas(self) < 0)
        return -1;
    /* a fenced shard wrote nothing: its events stay unapplied, busy, for the
       broker to send to the shard's owner now; the others' stand */
    for (size_t g = 0; g < batch->groups; g++)
        for (size_t k = batch->start[g]; batch->fenced[g] && k < batch->start[g + 1]; k++) {
            statuses[batch->order[k]] = CF_ACK_BUSY;
            batch->fenced_events++;
        }
    return 0;
}

int cf_store_apply(cf_store_t *self, cf_event_t *events, size_t count,
                   cf_ack_status_t *statuses)
{
    assert(self);
    size_t tags = self->batch->event_tag_count;
    int rc = tags && tags != count
           ? cf_store_fail(self, CF_STORE_ERR_INPUT, "%zu events but %zu requests set for them",
                           count, tags)
           : apply_batch(self, events, count, statuses);
    self->batch->event_tag_count = 0;       /* cf_store_set_requests: for this call only */
    return rc;
}
