/*  cf_store: the connection to Redis and what its persistence settings make
    of an `accepted` ack, the pipelined function calls of a batch and their
    replies; see include/caseflow/cf_store.h and docs/storage.md. Beside it:
    cf_store_pack.c builds each shard's call (cf_store_payload.c its
    events), cf_store_script.c makes the function library from the scripts,
    cf_store_library.c checks and loads it, cf_store_counters.c holds
    the commands that need no script, cf_store_dlq.c the dead letters,
    cf_store_due.c the overdue timer. Any I/O error drops the connection (a
    hiredis context is unusable after one), and the next call opens a new
    one; an error reply leaves it open, since every pipelined reply is still
    read.                                                                    */
#include "caseflow/cf_store.h"
#include "caseflow/cf_alloc.h"
#include "cf_store_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

#define STORE_CONNECT_TIMEOUT_S     2
#define STORE_COMMAND_TIMEOUT_S     10

cf_store_t *cf_store_new(const char *host, int port, const char *script_dir)
{
    assert(host);
    cf_store_t *self = cf_calloc(1, sizeof *self);
    self->host = cf_strdup(host);
    self->port = port;
    self->script_dir = script_dir ? cf_strdup(script_dir) : NULL;
    self->eid_ttl = CF_STORE_EID_TTL;
    self->eid_generation = -1;      /* the first call learns it from Redis */
    self->case_ttl = CF_STORE_CASE_TTL;
    cf_store_call_init(&self->call);
    cf_store_set_rules(self, "\x80", 1);     /* no rules until the caller sets them */
    return self;
}

static void store_disconnect(cf_store_t *self)
{
    if (self->ctx)
        redisFree(self->ctx);
    self->ctx = NULL;
}

static void store_free_replies(cf_store_t *self)
{
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++) {
        if (self->replies[s])
            freeReplyObject(self->replies[s]);
        self->replies[s] = NULL;
    }
}

void cf_store_destroy(cf_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_store_t *self = *self_p;
    store_disconnect(self);
    cf_redis_auth_destroy(&self->auth);
    store_free_replies(self);
    cf_store_call_free(&self->call);
    free(self->rules);
    free(self->order);
    free(self->shard);
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

void cf_store_set_eid_ttl(cf_store_t *self, uint32_t seconds)
{
    assert(self && seconds > 0 && seconds <= 1u << 31);
    self->eid_ttl = seconds;
}

void cf_store_set_rules(cf_store_t *self, const void *packed, size_t len)
{
    assert(self && packed && len > 0);
    char *copy = cf_memdup(packed, len);
    free(self->rules);
    self->rules = copy;
    self->rules_len = len;
}

void cf_store_set_request(cf_store_t *self, const void *id, size_t len)
{
    assert(self && (id || len == 0) && len <= CF_STORE_REQUEST_MAX);
    /* the markers hold a 31-bit tag of the id, not the id: Redis keeps a
       small integer in 6 bytes of a listpack (docs/storage.md) */
    self->request_len = 0;
    self->request[0] = '\0';
    if (len == 0)
        return;
    unsigned char hash[4];
    crypto_generichash(hash, sizeof hash, id, len, NULL, 0);
    uint32_t tag = ((uint32_t) hash[0] | (uint32_t) hash[1] << 8 | (uint32_t) hash[2] << 16
                    | (uint32_t) hash[3] << 24) & 0x7fffffffu;
    self->request_len = (size_t) snprintf(self->request, sizeof self->request, "%u",
                                          tag ? tag : 1u);
}

const char *cf_store_default_scripts(void)
{
    return CF_SCRIPT_DIR;
}

const char *cf_store_error(const cf_store_t *self)
{
    assert(self);
    return self->errstr;
}

cf_store_err_t cf_store_error_code(const cf_store_t *self)
{
    assert(self);
    return self->err;
}

/* The error reply of a Redis that is still reading its data after a
   restart: it refuses every command for a second or so, and then serves. */
#define STORE_LOADING_REPLY "LOADING Redis is loading"

int cf_store_fail(cf_store_t *self, cf_store_err_t err, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->errstr, sizeof self->errstr, fmt, args);
    va_end(args);
    /* not a refusal of what we sent but an outage, so the caller retries
       as for one (a worker would otherwise redo the job event by event) */
    if (err == CF_STORE_ERR_REDIS && strstr(self->errstr, STORE_LOADING_REPLY))
        err = CF_STORE_ERR_IO;
    self->err = err;
    if (err == CF_STORE_ERR_IO || err == CF_STORE_ERR_REDIS || err == CF_STORE_ERR_PROTOCOL)
        cf_metric_inc(self->errors);
    return -1;
}

void cf_store_clear_error(cf_store_t *self)
{
    self->err = CF_STORE_OK;
    self->errstr[0] = '\0';
}

int cf_store_fail_io(cf_store_t *self, const char *what)
{
    cf_store_fail(self, CF_STORE_ERR_IO, "%s: %s", what,
                  self->ctx && self->ctx->err ? self->ctx->errstr : "connection lost");
    store_disconnect(self);
    return -1;
}

/* ---- connection and library --------------------------------------------- */

static int store_read_library(cf_store_t *self)
{
    if (!self->script_dir)
        return cf_store_fail(self, CF_STORE_ERR_SCRIPT,
                             "no script directory: this store can only read");
    if (self->library)
        return 0;
    char err[4200];
    if (cf_store_script_library(self->script_dir, &self->library, &self->library_len,
                                self->version, err, sizeof err) < 0)
        return cf_store_fail(self, CF_STORE_ERR_SCRIPT, "%.250s", err);
    return 0;
}

/* A failed check or load of the library: an I/O error drops the
   connection; anything else (missing and not ours to load) is an outage
   until an admin loads it. */
static int store_fail_library(cf_store_t *self, const char *why)
{
    if (self->ctx->err)
        return cf_store_fail_io(self, "function library");
    return cf_store_fail(self, CF_STORE_ERR_IO, "%s", why);
}

static int store_check_library(cf_store_t *self)
{
    char why[600];
    if (cf_store_library_ensure(self->ctx, self->library, self->library_len, self->version, why,
                                sizeof why) < 0)
        return store_fail_library(self, why);
    self->library_ok = true;
    return 0;
}

int cf_store_fail_call(cf_store_t *self, const char *what, const char *error_reply)
{
    if (!cf_store_library_gone(error_reply))
        return cf_store_fail(self, CF_STORE_ERR_REDIS, "%s: %s", what, error_reply);
    self->library_ok = false;
    return cf_store_fail(self, CF_STORE_ERR_IO, "%s: %s", what, error_reply);
}

/* Opens a new connection; the library is checked on it again. */
static int store_open(cf_store_t *self)
{
    store_disconnect(self);
    self->library_ok = false;
    struct timeval connect_timeout = { STORE_CONNECT_TIMEOUT_S, 0 };
    struct timeval command_timeout = { STORE_COMMAND_TIMEOUT_S, 0 };
    self->ctx = redisConnectWithTimeout(self->host, self->port, connect_timeout);
    if (!self->ctx)
        abort();                    /* hiredis could not allocate */
    if (self->ctx->err || redisSetTimeout(self->ctx, command_timeout) != REDIS_OK)
        return cf_store_fail_io(self, "connect");
    char why[300];
    if (cf_redis_auth_send(self->auth, self->ctx, why, sizeof why) < 0) {
        cf_store_fail(self, self->ctx->err ? CF_STORE_ERR_IO : CF_STORE_ERR_REDIS, "%s", why);
        store_disconnect(self);     /* never left open unauthenticated */
        return -1;
    }
    redisEnableKeepAlive(self->ctx);
    return 0;
}

int cf_store_connect(cf_store_t *self)
{
    assert(self);
    cf_store_clear_error(self);
    if (!self->script_dir)
        return store_open(self);    /* a reader: counters need no library */
    if (store_read_library(self) < 0 || store_open(self) < 0)
        return -1;
    return store_check_library(self);
}

int cf_store_load_library(cf_store_t *self, char *version)
{
    assert(self && version);
    cf_store_clear_error(self);
    if (store_read_library(self) < 0 || cf_store_ensure(self, 0) < 0)
        return -1;
    char why[600];
    if (cf_store_library_load(self->ctx, self->library, self->library_len, self->version, why,
                              sizeof why) < 0)
        return self->ctx->err ? cf_store_fail_io(self, "function library")
                              : cf_store_fail(self, CF_STORE_ERR_REDIS, "%s", why);
    self->library_ok = true;
    memcpy(version, self->version, sizeof self->version);
    return 0;
}

int cf_store_library_version(cf_store_t *self, char *version)
{
    assert(self && version);
    cf_store_clear_error(self);
    if (store_read_library(self) < 0)
        return -1;
    memcpy(version, self->version, sizeof self->version);
    return 0;
}

int cf_store_library_held(cf_store_t *self, cf_store_library_info_t *info)
{
    assert(self && info);
    cf_store_clear_error(self);
    char why[300];
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    if (cf_store_library_info(self->ctx, info, why, sizeof why) < 0)
        return self->ctx->err ? cf_store_fail_io(self, "function library")
                              : cf_store_fail(self, CF_STORE_ERR_REDIS, "%s", why);
    return 0;
}

int cf_store_ensure(cf_store_t *self, int need_library)
{
    if ((!self->ctx || self->ctx->err) && store_open(self) < 0)
        return -1;
    if (!need_library || self->library_ok)
        return 0;
    if (store_read_library(self) < 0)
        return -1;
    return store_check_library(self);
}

/* ---- durability ----------------------------------------------------------- */

/* What an `accepted` ack means is read from the server's persistence: the
   AOF from INFO persistence (now), appendfsync and save from the record
   the library's loader took (CONFIG GET is the admin's alone: it shows
   secrets such as the replication password), so that the worker can log
   the guarantee in force at start-up (docs/operations.md has the table). */

/* aof_enabled from INFO persistence: 1, 0, or -1 with the error set. */
static int store_aof_enabled(cf_store_t *self)
{
    redisReply *reply = redisCommand(self->ctx, "INFO persistence");
    if (!reply)
        return cf_store_fail_io(self, "INFO persistence");
    int rc;
    const char *line = reply->type == REDIS_REPLY_STRING
                     ? strstr(reply->str, "aof_enabled:") : NULL;
    if (reply->type == REDIS_REPLY_ERROR)
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "INFO persistence: %s", reply->str);
    else if (!line)
        rc = cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "INFO persistence: no aof_enabled");
    else
        rc = line[12] == '1';
    freeReplyObject(reply);
    return rc;
}

int cf_store_durability(cf_store_t *self, cf_store_durability_t *mode, char *text, size_t size)
{
    assert(self && mode && text);
    cf_store_library_info_t info;
    if (cf_store_library_held(self, &info) < 0)
        return -1;
    int aof = store_aof_enabled(self);
    if (aof < 0)
        return -1;
    const char *fsync = info.appendfsync;
    if (aof && strcmp(fsync, "always") == 0) {
        *mode = CF_STORE_DURABLE_STRICT;
        snprintf(text, size, "appendonly yes, appendfsync always: an accepted event survives "
                 "a crash of redis-server or of the machine");
    } else if (aof && fsync[0]) {
        *mode = CF_STORE_DURABLE_SECOND;
        snprintf(text, size, "appendonly yes, appendfsync %s: an accepted event survives a crash "
                 "of redis-server; a machine crash may lose about the last second", fsync);
    } else if (aof) {
        *mode = CF_STORE_DURABLE_SECOND;
        snprintf(text, size, "appendonly yes, appendfsync unknown (recorded when the function "
                 "library is loaded: caseflow-ctl functions load): an accepted event survives a "
                 "crash of redis-server; a machine crash may lose about the last second");
    } else {
        *mode = CF_STORE_DURABLE_NONE;
        snprintf(text, size, "appendonly no (save '%s'): a crash of redis-server loses the "
                 "events accepted since the last snapshot", info.save[0] ? info.save : "unknown");
    }
    return 0;
}

/* ---- apply ---------------------------------------------------------------- */

/* Groups event indexes by shard (a counting sort keeps each shard's order). */
static void store_group(cf_store_t *self, const cf_event_t *events, size_t count)
{
    if (count > self->order_capacity) {
        self->order = cf_realloc(self->order, count * sizeof *self->order);
        self->shard = cf_realloc(self->shard, count * sizeof *self->shard);
        self->order_capacity = count;
    }
    unsigned *shard_of = self->shard;
    size_t fill[CF_STORE_SHARDS] = { 0 };
    memset(self->start, 0, sizeof self->start);
    for (size_t i = 0; i < count; i++) {
        shard_of[i] = cf_store_shard_of(&events[i]);
        self->start[shard_of[i] + 1]++;
    }
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++)
        self->start[s + 1] += self->start[s];
    for (size_t i = 0; i < count; i++)
        self->order[self->start[shard_of[i]] + fill[shard_of[i]]++] = i;
}

/* Sends the calls of the shards in `pending` and reads their replies into
   self->replies. Returns 0 when every reply came (error replies included). */
static int store_round_trip(cf_store_t *self, const cf_event_t *events, unsigned pending)
{
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++) {
        if (!(pending & 1u << s))
            continue;
        size_t n = self->start[s + 1] - self->start[s];
        cf_store_call_build(&self->call, self, s, events, self->order + self->start[s], n);
        if (redisAppendCommandArgv(self->ctx, (int) self->call.argc, self->call.argv,
                                   self->call.argvlen) != REDIS_OK)
            abort();                /* hiredis could not allocate */
    }
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++) {
        if (!(pending & 1u << s))
            continue;
        void *reply = NULL;
        if (redisGetReply(self->ctx, &reply) != REDIS_OK || !reply)
            return cf_store_fail_io(self, "FCALL " CF_STORE_FN_APPLY);
        self->replies[s] = reply;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    cf_metric_observe(self->latency, (double) (end.tv_sec - start.tv_sec)
                                     + (double) (end.tv_nsec - start.tv_nsec) / 1e9);
    return 0;
}

/* Shards to send again (their reply freed): those whose reply says the
   library is gone (*gone set), and those that named their markers for a
   generation that is not Redis's (CFGEN <generation>, which the store
   takes); -1 on another error. */
static int store_retry_shards(cf_store_t *self, unsigned pending, unsigned *again, bool *gone)
{
    *again = 0;
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++) {
        redisReply *reply = self->replies[s];
        if (!(pending & 1u << s) || reply->type != REDIS_REPLY_ERROR)
            continue;
        long long generation;
        if (cf_store_library_gone(reply->str))
            *gone = true;
        else if (sscanf(reply->str, "CFGEN %lld", &generation) == 1 && generation >= 0)
            self->eid_generation = generation;
        else
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "shard %u: %s", s, reply->str);
        freeReplyObject(reply);
        self->replies[s] = NULL;
        *again |= 1u << s;
    }
    return 0;
}

/* Checks one shard's reply, {statuses, notifications}, and fills the
   statuses of its events. */
static int store_read_statuses(cf_store_t *self, unsigned s, cf_ack_status_t *statuses)
{
    const redisReply *reply = self->replies[s];
    size_t n = self->start[s + 1] - self->start[s];
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING || reply->element[0]->len != n
        || reply->element[1]->type != REDIS_REPLY_INTEGER)
        return cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "shard %u: unexpected reply", s);
    const char *codes = reply->element[0]->str;
    for (size_t i = 0; i < n; i++) {
        if (codes[i] != 'a' && codes[i] != 'd')
            return cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "shard %u: bad status", s);
        statuses[self->order[self->start[s] + i]] = codes[i] == 'a' ? CF_ACK_ACCEPTED
                                                                    : CF_ACK_DUPLICATE;
    }
    return 0;
}

/* The round trip, with one check of the library and a retry of the shards
   that found it gone (flushed, or another version loaded), and a retry of
   those that learnt the markers' generation (on a worker's first call, and
   when a generation ends). */
static int store_run(cf_store_t *self, const cf_event_t *events, unsigned shards)
{
    unsigned pending = shards;
    bool gone = false, checked = false;
    for (int attempt = 0; pending; attempt++) {
        if (gone && checked)
            return cf_store_fail(self, CF_STORE_ERR_IO, "the function library changed again "
                                 "after it was checked");
        if (attempt == 3)
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "the markers' generation keeps changing");
        if (gone) {
            if (store_check_library(self) < 0)
                return -1;
            checked = true;
        }
        gone = false;
        if (store_round_trip(self, events, pending) < 0
            || store_retry_shards(self, pending, &pending, &gone) < 0)
            return -1;
    }
    return 0;
}

int cf_store_apply(cf_store_t *self, cf_event_t *events, size_t count,
                   cf_ack_status_t *statuses)
{
    assert(self && (count == 0 || (events && statuses)));
    cf_store_clear_error(self);
    if (count == 0)
        return 0;
    char why[160];
    if (cf_store_check_events(events, count, why, sizeof why) < 0)
        return cf_store_fail(self, CF_STORE_ERR_INPUT, "%s", why);
    if (cf_store_ensure(self, 1) < 0)
        return -1;
    store_group(self, events, count);
    unsigned shards = 0;
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++)
        if (self->start[s + 1] > self->start[s])
            shards |= 1u << s;
    int rc = store_run(self, events, shards);
    for (unsigned s = 0; rc == 0 && s < CF_STORE_SHARDS; s++)
        if (shards & 1u << s)
            rc = store_read_statuses(self, s, statuses);
    store_free_replies(self);
    return rc;
}
