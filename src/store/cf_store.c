/*  cf_store: the connection to Redis and what its persistence settings make
    of an `accepted` ack, the pipelined script calls of a batch and their
    replies; see include/caseflow/cf_store.h and docs/storage.md. Beside it:
    cf_store_pack.c builds each shard's call (cf_store_payload.c its
    events), cf_store_script.c reads the scripts, cf_store_counters.c holds
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
    free(self->script);
    free(self->fire_script);
    free(self->reject_script);
    free(self->dead_script);
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
    /* hex, so that the marker is a printable string for operators reading
       the keys, and never the '1' that a marker without a request holds */
    static const char digits[] = "0123456789abcdef";
    const unsigned char *bytes = id;
    for (size_t i = 0; i < len; i++) {
        self->request[2 * i] = digits[bytes[i] >> 4];
        self->request[2 * i + 1] = digits[bytes[i] & 15];
    }
    self->request_len = 2 * len;
    self->request[self->request_len] = '\0';
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

int cf_store_fail(cf_store_t *self, cf_store_err_t err, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->errstr, sizeof self->errstr, fmt, args);
    va_end(args);
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

/* ---- connection and script ---------------------------------------------- */

/* Reads one single script (sent with EVAL) into *script, replacing it. */
static int store_read_single(cf_store_t *self, const char *name, char **script, size_t *len)
{
    char *text, err[4200];
    if (cf_store_script_single(self->script_dir, name, &text, len, err, sizeof err) < 0)
        return cf_store_fail(self, CF_STORE_ERR_SCRIPT, "%.250s", err);
    free(*script);
    *script = text;
    return 0;
}

static int store_read_script(cf_store_t *self)
{
    if (!self->script_dir)
        return cf_store_fail(self, CF_STORE_ERR_SCRIPT,
                             "no script directory: this store can only read");
    char *text, err[4200];
    size_t len;
    if (cf_store_script_read(self->script_dir, &text, &len, err, sizeof err) < 0)
        return cf_store_fail(self, CF_STORE_ERR_SCRIPT, "%.250s", err);
    free(self->script);
    self->script = text;
    self->script_len = len;
    if (store_read_single(self, CF_STORE_FIRE_SCRIPT, &self->fire_script,
                          &self->fire_script_len) < 0
        || store_read_single(self, CF_STORE_REJECT_SCRIPT, &self->reject_script,
                             &self->reject_script_len) < 0
        || store_read_single(self, CF_STORE_DEAD_SCRIPT, &self->dead_script,
                             &self->dead_script_len) < 0)
        return -1;
    return 0;
}

static int store_load_script(cf_store_t *self)
{
    redisReply *reply = redisCommand(self->ctx, "SCRIPT LOAD %b", self->script, self->script_len);
    if (!reply)
        return cf_store_fail_io(self, "SCRIPT LOAD");
    int rc = 0;
    if (reply->type == REDIS_REPLY_ERROR)
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "SCRIPT LOAD %s: %s", CF_STORE_SCRIPT_NAME,
                           reply->str);
    else if (reply->type != REDIS_REPLY_STRING || reply->len != 40)
        rc = cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "SCRIPT LOAD: unexpected reply");
    else
        memcpy(self->sha, reply->str, 41);
    freeReplyObject(reply);
    return rc;
}

/* Opens a new connection; the script must be loaded on it again. */
static int store_open(cf_store_t *self)
{
    store_disconnect(self);
    self->sha[0] = '\0';
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
        return store_open(self);    /* a reader: counters need no script */
    if (store_read_script(self) < 0 || store_open(self) < 0)
        return -1;
    return store_load_script(self);
}

int cf_store_ensure(cf_store_t *self, int need_script)
{
    if ((!self->ctx || self->ctx->err) && store_open(self) < 0)
        return -1;
    if (!need_script || self->sha[0])
        return 0;
    if (!self->script && store_read_script(self) < 0)
        return -1;
    return store_load_script(self);
}

/* ---- durability ----------------------------------------------------------- */

/* What an `accepted` ack means is read from the server's own persistence
   settings (CONFIG GET appendonly, appendfsync, save), so that the worker
   can log the guarantee in force at start-up (docs/operations.md has the
   table). */

/* The value of one setting, "" when Redis did not give it. */
static int store_config(cf_store_t *self, const char *name, char *value, size_t size)
{
    redisReply *reply = redisCommand(self->ctx, "CONFIG GET %s", name);
    if (!reply)
        return cf_store_fail_io(self, "CONFIG GET");
    int rc = 0;
    value[0] = '\0';
    if (reply->type == REDIS_REPLY_ERROR)
        rc = cf_store_fail(self, CF_STORE_ERR_REDIS, "CONFIG GET %s: %s", name, reply->str);
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
             && reply->element[1]->type == REDIS_REPLY_STRING)
        snprintf(value, size, "%s", reply->element[1]->str);
    freeReplyObject(reply);
    return rc;
}

int cf_store_durability(cf_store_t *self, cf_store_durability_t *mode, char *text, size_t size)
{
    assert(self && mode && text);
    char aof[16], fsync[16], save[128];
    if (cf_store_ensure(self, 0) < 0 || store_config(self, "appendonly", aof, sizeof aof) < 0
        || store_config(self, "appendfsync", fsync, sizeof fsync) < 0
        || store_config(self, "save", save, sizeof save) < 0)
        return -1;
    if (strcmp(aof, "yes") == 0 && strcmp(fsync, "always") == 0) {
        *mode = CF_STORE_DURABLE_STRICT;
        snprintf(text, size, "appendonly yes, appendfsync always: an accepted event survives "
                 "a crash of redis-server or of the machine");
    } else if (strcmp(aof, "yes") == 0) {
        *mode = CF_STORE_DURABLE_SECOND;
        snprintf(text, size, "appendonly yes, appendfsync %s: an accepted event survives a crash "
                 "of redis-server; a machine crash may lose about the last second", fsync);
    } else {
        *mode = CF_STORE_DURABLE_NONE;
        snprintf(text, size, "appendonly no (save '%s'): a crash of redis-server loses the "
                 "events accepted since the last snapshot", save);
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
            return cf_store_fail_io(self, "EVALSHA");
        self->replies[s] = reply;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    cf_metric_observe(self->latency, (double) (end.tv_sec - start.tv_sec)
                                     + (double) (end.tv_nsec - start.tv_nsec) / 1e9);
    return 0;
}

/* Shards whose reply is NOSCRIPT (their reply freed); -1 on another error. */
static int store_noscript_shards(cf_store_t *self, unsigned pending, unsigned *again)
{
    *again = 0;
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++) {
        redisReply *reply = self->replies[s];
        if (!(pending & 1u << s) || reply->type != REDIS_REPLY_ERROR)
            continue;
        if (strncmp(reply->str, "NOSCRIPT", 8) != 0)
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

/* The round trip, with one reload and retry of the shards that got NOSCRIPT. */
static int store_run(cf_store_t *self, const cf_event_t *events, unsigned shards)
{
    unsigned pending = shards;
    for (int attempt = 0; pending; attempt++) {
        if (attempt == 2)
            return cf_store_fail(self, CF_STORE_ERR_REDIS, "NOSCRIPT after reloading the script");
        if (attempt == 1 && store_load_script(self) < 0)
            return -1;
        if (store_round_trip(self, events, pending) < 0
            || store_noscript_shards(self, pending, &pending) < 0)
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
