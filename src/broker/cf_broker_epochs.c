/*  cf_broker's owner records in Redis, cf:{sN}:owner (epoch, worker), kept
    single across brokers (docs/reliability.md, "Ownership and fencing" and
    "Several brokers"). Each broker computes the owners from the workers
    connected to it; each record is changed only by a compare-and-set of
    its one key (WATCH, read, MULTI/EXEC: one shard's slot, so it works on
    a cluster), and only to an epoch above the one read. A broker that finds
    the record already naming the worker it chose adopts that epoch instead
    of raising it, so brokers that agree record each reassignment once; one
    whose commit was fenced follows a record that names another worker it
    has, so brokers whose rosters differ for a moment converge. Through
    cf_redis_cluster: each record's commands go to its slot's node.        */
#include "cf_broker_internal.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#define EPOCHS_RETRY_MS  500    /* an epoch Redis could not record: tried again */
#define EPOCHS_TRIES     8      /* compare-and-sets lost to another broker, per shard */

typedef enum { EPOCHS_FAILED, EPOCHS_ADOPTED, EPOCHS_RAISED } epochs_outcome_t;

/* The owner records' context, connected; NULL (why said) when Redis cannot
   be reached or refused. */
static cf_redis_cluster_t *epochs_redis(cf_broker_t *self, char *why, size_t size)
{
    if (self->route_redis)
        return self->route_redis;
    self->route_redis = cf_redis_cluster_new(self->route_host, self->route_port,
                                             self->route_auth, CF_REDIS_MODE_AUTO, 1000);
    /* transactions: a redirection is a reply (the compare-and-set reads
       again, with the map read again), never a command resent alone */
    cf_redis_cluster_set_follow(self->route_redis, false);
    if (cf_redis_cluster_connect(self->route_redis) < 0) {
        snprintf(why, size, "%s", cf_redis_cluster_error(self->route_redis));
        cf_redis_cluster_destroy(&self->route_redis);
    }
    return self->route_redis;
}

/* Whether an owned shard's epoch is not recorded yet (routed unfenced). */
static bool epochs_unrecorded(const cf_broker_t *self)
{
    for (unsigned s = 0; s < self->shards; s++)
        if (self->owner[s] && self->epoch[s] == 0)
            return true;
    return false;
}

/* The next reply; NULL when Redis failed (what was queued is dropped). */
static redisReply *epochs_reply(cf_redis_cluster_t *c)
{
    redisReply *reply = NULL;
    if (cf_redis_cluster_get_reply(c, &reply) < 0)
        return NULL;
    return reply;
}

/* Reads n replies, checking only that they came. */
static bool epochs_skip(cf_redis_cluster_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = epochs_reply(c);
        if (!reply)
            return false;
        freeReplyObject(reply);
    }
    return true;
}

/* The member, connected and eligible for shards, named worker; NULL. */
static cf_member_t *epochs_member(cf_broker_t *self, const char *worker)
{
    for (size_t i = 0; worker && i < cf_roster_size(self->roster); i++) {
        cf_member_t *m = cf_roster_at(self->roster, i);
        if (m->eligible && !m->draining && strcmp(m->name, worker) == 0)
            return m;
    }
    return NULL;
}

/* The compare-and-set of shard s's record for its owner here (one round
   trip to read under WATCH, one to write or let go). The record is adopted
   as it is when it names that owner, or, after a fenced commit (refused),
   another worker this broker has: its epoch is then this broker's too, and
   the record does not move. Else it is set to the owner with an epoch above
   both the record's and any this broker gave out (a record Redis lost:
   *lost), unless another broker changed it meanwhile: then read again. */
static epochs_outcome_t epochs_cas(cf_broker_t *self, cf_redis_cluster_t *c, unsigned s,
                                   bool refused, bool *lost)
{
    char key[CF_KEYS_MAX];
    cf_keys_fixed(key, sizeof key, s, CF_KEYS_OWNER);
    for (int tries = 0; tries < EPOCHS_TRIES; tries++) {
        if (cf_redis_cluster_append(c, key, "WATCH %s", key) < 0
            || cf_redis_cluster_append(c, key, "HMGET %s epoch worker", key) < 0)
            abort();
        redisReply *watch = epochs_reply(c), *record = watch ? epochs_reply(c) : NULL;
        bool moved = (watch && cf_redis_cluster_redirected(watch))
                  || (record && cf_redis_cluster_redirected(record));
        if (watch)
            freeReplyObject(watch);
        if (!record)
            return EPOCHS_FAILED;
        if (moved) {            /* the slot moved: nothing watched there; again */
            freeReplyObject(record);
            continue;
        }
        uint64_t epoch = 0;
        char worker[sizeof self->owner[s]->name] = "";
        if (record->type == REDIS_REPLY_ARRAY && record->elements == 2) {
            if (record->element[0]->type == REDIS_REPLY_STRING)
                epoch = strtoull(record->element[0]->str, NULL, 10);
            if (record->element[1]->type == REDIS_REPLY_STRING)
                snprintf(worker, sizeof worker, "%s", record->element[1]->str);
        }
        freeReplyObject(record);
        cf_member_t *named = strcmp(worker, self->owner[s]->name) == 0 ? self->owner[s]
                           : refused ? epochs_member(self, worker) : NULL;
        if (epoch && epoch >= self->epoch_high[s] && named) {
            if (cf_redis_cluster_append(c, key, "UNWATCH") < 0)
                abort();
            if (!epochs_skip(c, 1))
                return EPOCHS_FAILED;
            self->owner[s] = named;
            self->epoch[s] = epoch;
            return EPOCHS_ADOPTED;
        }
        *lost |= epoch < self->epoch_high[s];
        uint64_t next = (epoch > self->epoch_high[s] ? epoch : self->epoch_high[s]) + 1;
        if (cf_redis_cluster_append(c, key, "MULTI") < 0
            || cf_redis_cluster_append(c, key, "HSET %s epoch %llu worker %s", key,
                                       (unsigned long long) next, self->owner[s]->name) < 0
            || cf_redis_cluster_append(c, key, "EXEC") < 0)
            abort();
        if (!epochs_skip(c, 2))
            return EPOCHS_FAILED;
        redisReply *exec = epochs_reply(c);
        if (!exec)
            return EPOCHS_FAILED;
        bool done = exec->type == REDIS_REPLY_ARRAY;    /* nil: another broker came first */
        freeReplyObject(exec);
        if (done) {
            self->epoch[s] = next;
            return EPOCHS_RAISED;
        }
    }
    return EPOCHS_FAILED;
}

void cf_broker_epochs_record(cf_broker_t *self, const unsigned *list, size_t n, bool refused)
{
    assert(self && (list || n == 0));
    char why[256] = "";
    cf_redis_cluster_t *c = epochs_redis(self, why, sizeof why);
    size_t raised = 0, adopted = 0, failed = 0;
    bool lost = false, broken = false;     /* Redis failed: the rest are not tried */
    for (size_t j = 0; j < n; j++) {
        unsigned s = list[j];
        assert(self->owner[s]);
        /* routed unfenced until later */
        epochs_outcome_t outcome = c && !broken ? epochs_cas(self, c, s, refused, &lost)
                                                : EPOCHS_FAILED;
        if (outcome == EPOCHS_FAILED) {
            self->epoch[s] = 0;
            failed++;
            broken |= c && cf_redis_cluster_errcode(c) != CF_REDIS_CLUSTER_OK;
        }
        raised += outcome == EPOCHS_RAISED;
        adopted += outcome == EPOCHS_ADOPTED;
        if (self->epoch[s] > self->epoch_high[s])
            self->epoch_high[s] = self->epoch[s];
    }
    if (lost)
        CF_LOG(CF_LOG_WARN, "owner records lost, recorded again", "shards=%zu", raised);
    self->epochs_raised += raised;
    self->epochs_adopted += adopted;
    if (failed) {
        CF_LOG(CF_LOG_WARN, "owner epochs not recorded", "shards=%zu error=%s", failed,
               CF_LOG_QUOTE(!c ? why : broken ? cf_redis_cluster_error(c)
                                     : "other brokers kept changing them"));
        if (broken)
            cf_redis_cluster_destroy(&self->route_redis);
    }
    self->route_retry = epochs_unrecorded(self);
    self->route_retry_at = cf_clock_ms() + EPOCHS_RETRY_MS;
}
