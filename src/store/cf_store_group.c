/*  cf_store_group: the apply path's batch (cf_store_batch_t, cf_store_apply.c)
    and its layout by shard: its events grouped by shard in their order, and
    per group its distinct cases then routes, the names its read round asks
    for (cf_store_read.c). No I/O. The batch is an object of its own, apart
    from the store's connection and owned shards, so that a store can hold
    more than one (docs/performance.md, "What would cut it").             */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit.h"

#include <stdlib.h>
#include <string.h>

cf_store_batch_t *cf_store_batch_new(void)
{
    cf_store_batch_t *self = cf_calloc(1, sizeof *self);
    self->eid_generation = -1;      /* until a read round asks Redis's clock */
    return self;
}

void cf_store_batch_destroy(cf_store_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_store_batch_t *self = *self_p;
    for (size_t g = 0; g < self->commits_capacity; g++)
        cf_commit_destroy(&self->commits[g]);
    free(self->commits);
    free(self->reads);
    free(self->order);
    free(self->shard);
    free(self->event_tags);
    free(self->start);
    free(self->group_shard);
    free(self->cases);
    free(self->routes);
    free(self->pending);
    free(self->fenced);
    free(self->commit_state);
    free(self->waiting);
    free(self->group_lane);
    free(self->probes);
    free(self->unprobed);
    free(self->exists);
    free(self->group_alerts);
    free(self->read_start);
    free(self->by_bucket);
    free(self->marker_at);
    free(self->marker_pos);
    free(self->unique);
    free(self->digests);
    free(self->buckets);
    free(self->case_slots);
    free(self->fresh);
    free(self);
    *self_p = NULL;
}

/* ---- grouping ------------------------------------------------------------------ */

/* Groups event indexes by shard (a counting sort keeps each shard's order):
   group g is the events order[start[g] .. start[g + 1]) of shard
   group_shard[g], the groups in shard order. Everything per shard of a
   batch below is indexed by its group, so that a batch costs what its own
   shards cost, whatever the deployment's count. */
void cf_store_group(cf_store_t *self, const cf_event_t *events, size_t count)
{
    cf_store_batch_t *batch = self->batch;
    if (count > batch->order_capacity) {
        batch->order = cf_realloc(batch->order, count * sizeof *batch->order);
        batch->shard = cf_realloc(batch->shard, count * sizeof *batch->shard);
        batch->unique = cf_realloc(batch->unique, count * sizeof *batch->unique);
        batch->digests = cf_realloc(batch->digests, count * sizeof *batch->digests);
        batch->buckets = cf_realloc(batch->buckets, count * sizeof *batch->buckets);
        batch->start = cf_realloc(batch->start, (count + 1) * sizeof *batch->start);
        batch->group_shard = cf_realloc(batch->group_shard, count * sizeof *batch->group_shard);
        batch->cases = cf_realloc(batch->cases, count * sizeof *batch->cases);
        batch->routes = cf_realloc(batch->routes, count * sizeof *batch->routes);
        batch->read_start = cf_realloc(batch->read_start, (count + 1) * sizeof *batch->read_start);
        batch->by_bucket = cf_realloc(batch->by_bucket, count * sizeof *batch->by_bucket);
        batch->marker_at = cf_realloc(batch->marker_at, count * sizeof *batch->marker_at);
        batch->marker_pos = cf_realloc(batch->marker_pos, count * sizeof *batch->marker_pos);
        batch->pending = cf_realloc(batch->pending, count * sizeof *batch->pending);
        batch->fenced = cf_realloc(batch->fenced, count * sizeof *batch->fenced);
        batch->commit_state = cf_realloc(batch->commit_state, count * sizeof *batch->commit_state);
        batch->waiting = cf_realloc(batch->waiting, count * sizeof *batch->waiting);
        batch->group_lane = cf_realloc(batch->group_lane, count * sizeof *batch->group_lane);
        batch->probes = cf_realloc(batch->probes, count * sizeof *batch->probes);
        batch->unprobed = cf_realloc(batch->unprobed, count * sizeof *batch->unprobed);
        batch->exists = cf_realloc(batch->exists, count * sizeof *batch->exists);
        batch->group_alerts = cf_realloc(batch->group_alerts, count * sizeof *batch->group_alerts);
        batch->order_capacity = count;
    }
    unsigned *shard_of = batch->shard;
    size_t *at = self->shard_at;            /* per shard: its count, then where it goes */
    memset(at, 0, (self->shards + 1) * sizeof *at);
    for (size_t i = 0; i < count; i++) {
        shard_of[i] = cf_store_shard_of(self, &events[i]);
        at[shard_of[i] + 1]++;
    }
    cf_store_eid_digests(self, events, count);
    size_t total = 0;
    batch->groups = 0;
    for (unsigned s = 0; s < self->shards; s++) {
        size_t n = at[s + 1];
        at[s] = total;
        if (n) {
            batch->group_shard[batch->groups] = s;
            batch->start[batch->groups++] = total;
        }
        total += n;
    }
    batch->start[batch->groups] = total;
    for (size_t i = 0; i < count; i++)
        batch->order[at[shard_of[i]]++] = i;
    if (batch->groups > batch->commits_capacity) {
        batch->commits = cf_realloc(batch->commits, batch->groups * sizeof *batch->commits);
        for (size_t g = batch->commits_capacity; g < batch->groups; g++)
            batch->commits[g] = cf_commit_new();
        batch->commits_capacity = batch->groups;
    }
}

/* The name an event's case or route has in its shard's read: the case_id,
   or the route of a flow with one; NULL for neither. */
static const char *apply_name(const cf_event_t *e, bool *is_case)
{
    *is_case = cf_event_is_case_event(e->type);
    if (*is_case)
        return e->case_id;
    if (e->type == CF_EV_FLOW_OBSERVED && e->route[0])
        return e->route;
    return NULL;
}

/* Cases before routes, then by name; arg is the events (qsort_r: the store
   may run in several threads, one store each). */
static int apply_compare_names(const void *x, const void *y, void *arg)
{
    const cf_event_t *events = arg;
    bool ca, cb;
    const char *a = apply_name(&events[*(const size_t *) x], &ca);
    const char *b = apply_name(&events[*(const size_t *) y], &cb);
    if (ca != cb)
        return ca ? -1 : 1;
    return strcmp(a, b);
}

/* The shard's distinct cases then distinct routes, as event indexes (one
   event of each) in self->batch->unique[start..], their counts in *cases and
   *routes. */
void cf_store_distinct(cf_store_t *self, const cf_event_t *events, size_t g,
                       size_t *cases, size_t *routes)
{
    cf_store_batch_t *batch = self->batch;
    size_t from = batch->start[g], n = 0;
    for (size_t j = from; j < batch->start[g + 1]; j++) {
        bool is_case;
        if (apply_name(&events[batch->order[j]], &is_case))
            batch->unique[from + n++] = batch->order[j];
    }
    qsort_r(batch->unique + from, n, sizeof *batch->unique, apply_compare_names,
            (void *) events);
    size_t kept = 0;
    *cases = *routes = 0;
    for (size_t j = 0; j < n; j++) {
        if (kept && apply_compare_names(&batch->unique[from + kept - 1], &batch->unique[from + j],
                                        (void *) events) == 0)
            continue;
        bool is_case;
        apply_name(&events[batch->unique[from + j]], &is_case);
        *(is_case ? cases : routes) += 1;
        batch->unique[from + kept++] = batch->unique[from + j];
    }
}
