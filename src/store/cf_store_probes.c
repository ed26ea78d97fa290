/*  cf_store_probes: the type probes of a fenced shard's read round
    (cf_store_read.c), and which keys they cover. Its owner's cache vouches
    for the types of the fixed keys its commits wrote, so that the commit
    does not check them (a round trip); a probe in the read round (HLEN of a
    hash, XLEN of the outbox, ZCARD of the deadlines) confirms each such
    type in the same round trip as the reads, in case someone wrote the key
    behind the owner's back (an operator's SET of a counter hash).

    A group probes only the keys its events can write: those that the
    commits of events of their types have written so far, learnt here from
    each group's commit (cf_store_probes_learn). Until every type of a
    group's events has been met alone in a group, it probes every key the
    cache vouches for. A commit that writes a vouched key its group did not
    probe checks that key's type in its check round instead
    (cf_store_commit_fixed, cf_commit_type_checked): a wrong guess costs a
    round trip, never a half-applied batch. In small jobs (the bench's open
    loop) the probes were nearly half of the commands Redis ran
    (docs/performance.md, "Issue 14: the sixteenth stop").                  */
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"
#include "cf_commit_cache.h"

#include <string.h>

_Static_assert(CF_EV_TYPE_COUNT <= 32, "a group's event types fit a mask");
_Static_assert(CF_KEYS_FIXED <= 32, "a shard's fixed keys fit a mask");

/* The event types of group g, as a mask. */
static uint32_t probes_types(const cf_store_t *self, const cf_event_t *events, size_t g)
{
    const cf_store_batch_t *batch = self->batch;
    uint32_t types = 0;
    for (size_t j = batch->start[g]; j < batch->start[g + 1]; j++)
        types |= UINT32_C(1) << events[batch->order[j]].type;
    return types;
}

/* The fixed keys group g's commit can write, as far as is known: every one
   while a type of its events is yet to be learnt. */
static uint32_t probes_expected(const cf_store_t *self, uint32_t types)
{
    if (types & ~self->types_learnt)
        return UINT32_MAX;
    uint32_t keys = 0;
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++)
        if (types >> t & 1)
            keys |= self->writes_of_type[t];
    return keys;
}

/* The fixed keys of shard s its owner's cache vouches for the types of,
   worked out again only when its typed keys changed (a lookup each: memory
   latency, a few per cent of a worker's time). */
static uint32_t probes_vouched(cf_store_t *self, unsigned s)
{
    uint64_t version = cf_commit_cache_types_version(self->cache, s);
    if (version == self->vouched_version[s])
        return self->vouched[s];
    char key[CF_KEYS_MAX];
    self->vouched[s] = 0;
    for (int k = 0; k < CF_KEYS_FIXED; k++) {
        const char *type = cf_keys_fixed_type(k);
        if (type && cf_commit_cache_typed(self->cache, s, key,
                                          cf_keys_fixed(key, sizeof key, s, k), type))
            self->vouched[s] |= UINT32_C(1) << k;
    }
    self->vouched_version[s] = version;
    return self->vouched[s];
}

size_t cf_store_append_probes(cf_store_t *self, const cf_event_t *events, size_t g)
{
    cf_store_batch_t *batch = self->batch;
    unsigned s = batch->group_shard[g];
    batch->unprobed[g] = 0;
    if (!self->fence[s] || cf_commit_cache_entries(self->cache, s) == 0)
        return 0;
    uint32_t vouched = probes_vouched(self, s);
    uint32_t probed = vouched & probes_expected(self, probes_types(self, events, g));
    batch->unprobed[g] = vouched & ~probed;
    size_t n = 0;
    char key[CF_KEYS_MAX];
    for (int k = 0; k < CF_KEYS_FIXED; k++) {
        if (!(probed >> k & 1))
            continue;
        const char *type = cf_keys_fixed_type(k);
        const char *probe = !strcmp(type, "hash") ? "HLEN" : !strcmp(type, "stream") ? "XLEN"
                          : !strcmp(type, "zset") ? "ZCARD" : NULL;
        if (!probe)
            continue;
        const char *argv[] = { probe, key };
        const size_t argvlen[] = { strlen(probe), cf_keys_fixed(key, sizeof key, s, k) };
        cf_store_append_argv(self, -1, cf_store_slot(self, s), 2, argv, argvlen);
        n++;
    }
    return n;
}

void cf_store_probes_learn(cf_store_t *self, const cf_event_t *events, size_t g,
                           uint32_t written)
{
    uint32_t types = probes_types(self, events, g);
    if ((types & (types - 1)) == 0) {       /* one type: what it wrote is its own */
        int t = __builtin_ctz(types);
        self->writes_of_type[t] |= written;
        self->types_learnt |= types;
        return;
    }
    uint32_t missed = written & ~probes_expected(self, types);
    if (missed == 0 || (types & ~self->types_learnt))
        return;
    /* several types wrote a key none of them had: each may, from now on
       (a probe too many at worst, where a guess too few costs a round trip) */
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++)
        if (types >> t & 1)
            self->writes_of_type[t] |= missed;
}
