/*  cf_store_group: the apply path's batch, laid out by shard (cf_store_apply.c):
    its events grouped by shard in their order, and per group its distinct
    cases then routes, the names its read round asks for (cf_store_read.c).
    No I/O: only the store's per-batch arrays.                              */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit.h"

#include <stdlib.h>
#include <string.h>

/* ---- grouping ------------------------------------------------------------------ */

/* Groups event indexes by shard (a counting sort keeps each shard's order):
   group g is the events order[start[g] .. start[g + 1]) of shard
   group_shard[g], the groups in shard order. Everything per shard of a
   batch below is indexed by its group, so that a batch costs what its own
   shards cost, whatever the deployment's count. */
void cf_store_group(cf_store_t *self, const cf_event_t *events, size_t count)
{
    if (count > self->order_capacity) {
        self->order = cf_realloc(self->order, count * sizeof *self->order);
        self->shard = cf_realloc(self->shard, count * sizeof *self->shard);
        self->unique = cf_realloc(self->unique, count * sizeof *self->unique);
        self->digests = cf_realloc(self->digests, count * sizeof *self->digests);
        self->buckets = cf_realloc(self->buckets, count * sizeof *self->buckets);
        self->start = cf_realloc(self->start, (count + 1) * sizeof *self->start);
        self->group_shard = cf_realloc(self->group_shard, count * sizeof *self->group_shard);
        self->cases = cf_realloc(self->cases, count * sizeof *self->cases);
        self->routes = cf_realloc(self->routes, count * sizeof *self->routes);
        self->read_start = cf_realloc(self->read_start, (count + 1) * sizeof *self->read_start);
        self->by_bucket = cf_realloc(self->by_bucket, count * sizeof *self->by_bucket);
        self->marker_at = cf_realloc(self->marker_at, count * sizeof *self->marker_at);
        self->marker_pos = cf_realloc(self->marker_pos, count * sizeof *self->marker_pos);
        self->pending = cf_realloc(self->pending, count * sizeof *self->pending);
        self->fenced = cf_realloc(self->fenced, count * sizeof *self->fenced);
        self->commit_state = cf_realloc(self->commit_state, count * sizeof *self->commit_state);
        self->waiting = cf_realloc(self->waiting, count * sizeof *self->waiting);
        self->group_lane = cf_realloc(self->group_lane, count * sizeof *self->group_lane);
        self->probes = cf_realloc(self->probes, count * sizeof *self->probes);
        self->group_alerts = cf_realloc(self->group_alerts, count * sizeof *self->group_alerts);
        self->order_capacity = count;
    }
    unsigned *shard_of = self->shard;
    size_t *at = self->shard_at;            /* per shard: its count, then where it goes */
    memset(at, 0, (self->shards + 1) * sizeof *at);
    for (size_t i = 0; i < count; i++) {
        shard_of[i] = cf_store_shard_of(self, &events[i]);
        at[shard_of[i] + 1]++;
    }
    cf_store_eid_digests(self, events, count);
    size_t total = 0;
    self->groups = 0;
    for (unsigned s = 0; s < self->shards; s++) {
        size_t n = at[s + 1];
        at[s] = total;
        if (n) {
            self->group_shard[self->groups] = s;
            self->start[self->groups++] = total;
        }
        total += n;
    }
    self->start[self->groups] = total;
    for (size_t i = 0; i < count; i++)
        self->order[at[shard_of[i]]++] = i;
    if (self->groups > self->commits_capacity) {
        self->commits = cf_realloc(self->commits, self->groups * sizeof *self->commits);
        for (size_t g = self->commits_capacity; g < self->groups; g++)
            self->commits[g] = cf_commit_new();
        self->commits_capacity = self->groups;
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
   event of each) in self->unique[start..], their counts in *cases and
   *routes. */
void cf_store_distinct(cf_store_t *self, const cf_event_t *events, size_t g,
                       size_t *cases, size_t *routes)
{
    size_t from = self->start[g], n = 0;
    for (size_t j = from; j < self->start[g + 1]; j++) {
        bool is_case;
        if (apply_name(&events[self->order[j]], &is_case))
            self->unique[from + n++] = self->order[j];
    }
    qsort_r(self->unique + from, n, sizeof *self->unique, apply_compare_names,
            (void *) events);
    size_t kept = 0;
    *cases = *routes = 0;
    for (size_t j = 0; j < n; j++) {
        if (kept && apply_compare_names(&self->unique[from + kept - 1], &self->unique[from + j],
                                        (void *) events) == 0)
            continue;
        bool is_case;
        apply_name(&events[self->unique[from + j]], &is_case);
        *(is_case ? cases : routes) += 1;
        self->unique[from + kept++] = self->unique[from + j];
    }
}
