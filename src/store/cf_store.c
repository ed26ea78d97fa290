/*  cf_store: the store object and its settings; see
    include/caseflow/cf_store.h and docs/storage.md. Beside it:
    cf_store_connect.c holds its connection to Redis (one server or a
    cluster), cf_store_error.c its errors, cf_store_redis.c routes its
    commands and reads their replies, cf_store_masters.c loads every
    master's library and reads its version and persistence,
    cf_store_apply.c applies a batch (read, fold, commit),
    cf_store_events.c checks events and names their shards,
    cf_store_script.c makes the function library from the scripts,
    cf_store_library.c checks and loads it, cf_store_counters.c holds the
    commands that need no script, cf_store_dlq.c the dead letters,
    cf_store_due.c the overdue timer.                                        */
#include "caseflow/cf_store.h"
#include "caseflow/cf_alloc.h"
#include "cf_store_internal.h"
#include "cf_commit.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_fold.h"
#include "caseflow/cf_redis_slot.h"
#include "caseflow/cf_shard.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

cf_store_t *cf_store_new(const char *host, int port, const char *script_dir)
{
    assert(host);
    cf_store_t *self = cf_calloc(1, sizeof *self);
    self->host = cf_strdup(host);
    self->port = port;
    self->script_dir = script_dir ? cf_strdup(script_dir) : NULL;
    self->eid_ttl = CF_STORE_EID_TTL;
    self->batch = cf_store_batch_new();
    self->case_ttl = CF_STORE_CASE_TTL;
    cf_store_set_shards(self, CF_SHARD_DEFAULT, false);
    self->fold = cf_fold_new();
    self->backoff_seed = (uint64_t) (uintptr_t) self ^ (uint64_t) time(NULL);
    struct timespec born;
    clock_gettime(CLOCK_REALTIME, &born);
    const uint64_t who[] = { (uint64_t) getpid(), (uint64_t) born.tv_sec, (uint64_t) born.tv_nsec,
                             (uint64_t) (uintptr_t) self };
    self->stamp_id = cf_shard_hash(who, sizeof who);
    for (size_t i = 0; i < CF_STORE_DUE_LOOK; i++)
        self->due_commits[i] = cf_commit_new();
    cf_store_set_rules(self, "\x80", 1);     /* no rules until the caller sets them */
    return self;
}

/* Drops the contexts themselves (the next store_open makes them anew). */
static void store_forget(cf_store_t *self)
{
    for (unsigned l = 1; l < self->nlanes; l++)
        cf_redis_cluster_destroy(&self->lanes[l]);
    cf_redis_cluster_destroy(&self->redis);
    self->lanes[0] = NULL;
    self->nlanes = 0;
}

void cf_store_destroy(cf_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_store_t *self = *self_p;
    cf_store_disconnect(self);
    store_forget(self);
    cf_redis_auth_destroy(&self->auth);
    cf_fold_destroy(&self->fold);
    for (size_t i = 0; i < CF_STORE_DUE_LOOK; i++)
        cf_commit_destroy(&self->due_commits[i]);
    cf_commit_cache_destroy(&self->cache);
    cf_store_batch_destroy(&self->batch);
    free(self->shard_at);
    free(self->fence);
    free(self->claimed);
    free(self->unfenced_seen);
    free(self->vouched);
    free(self->vouched_version);
    free(self->owned);
    free(self->due_seen);
    free(self->fifo);
    free(self->slots);
    free(self->watched);
    free(self->seen);
    free(self->library);
    free(self->script_dir);
    free(self->host);
    free(self);
    *self_p = NULL;
}

void cf_store_set_auth(cf_store_t *self, const cf_redis_auth_t *auth)
{
    assert(self);
    cf_redis_auth_destroy(&self->auth);
    self->auth = cf_redis_auth_dup(auth);
    cf_store_disconnect(self);      /* the next connection authenticates so */
    store_forget(self);
}

void cf_store_set_case_ttl(cf_store_t *self, uint32_t seconds)
{
    assert(self && seconds > 0);
    self->case_ttl = seconds;
}

void cf_store_set_metrics(cf_store_t *self, cf_metric_t *latency, cf_metric_t *errors)
{
    assert(self);
    self->latency = latency;
    self->errors = errors;
}

void cf_store_set_shards(cf_store_t *self, unsigned shards, bool record)
{
    assert(self && shards >= 1 && shards <= CF_SHARD_MAX);
    self->shards = shards;
    self->shards_record = record;
    self->shard_at = cf_realloc(self->shard_at, (shards + 1) * sizeof *self->shard_at);
    free(self->fence);
    self->fence = cf_calloc(shards, sizeof *self->fence);
    free(self->claimed);
    self->claimed = cf_calloc(shards, sizeof *self->claimed);
    free(self->unfenced_seen);
    self->unfenced_seen = cf_calloc(shards, sizeof *self->unfenced_seen);
    free(self->vouched);
    self->vouched = cf_calloc(shards, sizeof *self->vouched);
    free(self->vouched_version);
    self->vouched_version = cf_calloc(shards, sizeof *self->vouched_version);
    memset(self->vouched_version, 0xff, shards * sizeof *self->vouched_version);   /* none yet */
    free(self->owned);
    self->owned = cf_calloc(shards, sizeof *self->owned);
    self->fenced_once = false;
    free(self->due_seen);
    self->due_seen = cf_calloc(shards, sizeof *self->due_seen);
    cf_commit_cache_destroy(&self->cache);
    self->cache = cf_commit_cache_new(shards, CF_COMMIT_CACHE_MOST);
    free(self->slots);
    self->slots = cf_calloc(shards, sizeof *self->slots);
    for (unsigned s = 0; s < shards; s++) {
        char key[CF_KEYS_MAX];
        self->slots[s] = cf_redis_slot(key, cf_keys_fixed(key, sizeof key, s, CF_KEYS_OWNER));
    }
    free(self->watched);
    self->watched = cf_calloc(shards + 1, sizeof *self->watched);
    cf_store_disconnect(self);      /* the next connection checks the new count */
}

unsigned cf_store_shards(const cf_store_t *self)
{
    assert(self);
    return self->shards;
}

void cf_store_set_fence(cf_store_t *self, unsigned shard, uint64_t epoch)
{
    assert(self && shard < self->shards);
    self->fence[shard] = epoch;
    if (epoch) {
        self->owned[shard] = epoch;
        self->fenced_once = true;
    }
}

uint64_t cf_store_fence(const cf_store_t *self, unsigned shard)
{
    assert(self && shard < self->shards);
    return self->fence[shard];
}

void cf_store_clear_fences(cf_store_t *self)
{
    assert(self);
    memset(self->fence, 0, self->shards * sizeof *self->fence);
}

size_t cf_store_fenced(const cf_store_t *self)
{
    assert(self);
    return self->batch->fenced_events;
}

void cf_store_set_eid_ttl(cf_store_t *self, uint32_t seconds)
{
    assert(self && seconds > 0 && seconds <= 1u << 31);
    self->eid_ttl = seconds;
}

void cf_store_set_rules(cf_store_t *self, const void *packed, size_t len)
{
    assert(self && packed && len > 0);
    self->rules_error[0] = '\0';
    if (cf_fold_set_rules(self->fold, packed, len) < 0)
        snprintf(self->rules_error, sizeof self->rules_error, "%s", cf_fold_error(self->fold));
}

/* A request id's tag, 1 .. 2^31 - 1. The markers hold a 31-bit tag of the
   id, not the id, beside their generation in one integer (docs/storage.md,
   "Dedupe markers"). */
static uint32_t store_tag(const void *id, size_t len)
{
    unsigned char hash[4];
    crypto_generichash(hash, sizeof hash, id, len, NULL, 0);
    uint32_t tag = ((uint32_t) hash[0] | (uint32_t) hash[1] << 8 | (uint32_t) hash[2] << 16
                    | (uint32_t) hash[3] << 24) & 0x7fffffffu;
    return tag ? tag : 1u;
}

void cf_store_set_request(cf_store_t *self, const void *id, size_t len)
{
    assert(self && (id || len == 0) && len <= CF_STORE_REQUEST_MAX);
    self->batch->request = len ? store_tag(id, len) : 0;
}

void cf_store_set_requests(cf_store_t *self, const uint64_t *ids, size_t count)
{
    assert(self && (ids || count == 0));
    cf_store_batch_t *batch = self->batch;
    batch->event_tags = cf_grow(batch->event_tags, &batch->event_tag_capacity, count ? count : 1,
                                sizeof *batch->event_tags);
    for (size_t i = 0; i < count; i++)      /* a bundle's events come in runs */
        batch->event_tags[i] = i && ids[i] == ids[i - 1] ? batch->event_tags[i - 1]
                                                        : store_tag(&ids[i], sizeof ids[i]);
    batch->event_tag_count = count;
}

uint32_t cf_store_tag(const cf_store_t *self, size_t i)
{
    cf_store_batch_t *batch = self->batch;
    return i < batch->event_tag_count ? batch->event_tags[i] : batch->request;
}

const char *cf_store_default_scripts(void)
{
    return CF_SCRIPT_DIR;
}
