/*  cf_outbox: the outbox reader thread; see cf_outbox.h. The thread owns its
    Redis connection and its end of the pair; the loop's end and the counters
    are all it shares, the counters as atomics.                              */
#include "caseflow/cf_outbox.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <errno.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>
#include <zmq.h>

#define OUTBOX_BATCH        "512"   /* entries per XREAD and stream */
#define OUTBOX_BLOCK_MS     "500"   /* how long an XREAD waits: the stop latency */
#define OUTBOX_BACKOFF_MAX  5000
#define OUTBOX_TRIM_EVERY_S 10
#define OUTBOX_STREAMS      (CF_STORE_SHARDS + 1)   /* the shards', then the milestones' */
#define OUTBOX_PROGRAMMES   64      /* programmes with returns in one batch */

struct _cf_outbox_t {
    void *ctx, *pair;
    char *host, *endpoint;
    int port;
    char *script;                   /* lua/milestones.lua */
    pthread_mutex_t lock;           /* guards rules: the loop sets, the thread reads */
    char *rules;
    size_t rules_len;
    pthread_t thread;
    bool started;
    atomic_int stop;
    atomic_uint_fast64_t read, errors;
};

typedef struct {
    char name[CF_PROGRAMME_MAX + 1];
    int64_t cases, persons;
} outbox_returns_t;

typedef struct {
    cf_outbox_t *self;
    redisContext *redis;
    void *pair;                     /* the thread's end */
    char keys[OUTBOX_STREAMS][32];
    char fields[OUTBOX_STREAMS][8]; /* s0..s7, pub: in cf:{pub}:cursor */
    char cursor[OUTBOX_STREAMS][48];
    outbox_returns_t returns[OUTBOX_PROGRAMMES];    /* of the batch being handed over */
    size_t programmes;
    time_t trimmed_at;
} outbox_reader_t;

static void outbox_sleep_ms(cf_outbox_t *self, int ms)
{
    for (; ms > 0 && !atomic_load(&self->stop); ms -= 100) {
        struct timespec step = { 0, 100 * 1000000L };
        nanosleep(&step, NULL);
    }
}

/* Connects and reads the saved cursors. 0, or -1 (connection dropped). */
static int outbox_connect(outbox_reader_t *r)
{
    struct timeval connect_timeout = { 2, 0 }, command_timeout = { 5, 0 };
    r->redis = redisConnectWithTimeout(r->self->host, r->self->port, connect_timeout);
    if (!r->redis || r->redis->err || redisSetTimeout(r->redis, command_timeout) != REDIS_OK)
        goto fail;
    redisReply *reply = redisCommand(r->redis, "HGETALL cf:{pub}:cursor");
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        if (reply)
            freeReplyObject(reply);
        goto fail;
    }
    for (unsigned s = 0; s < OUTBOX_STREAMS; s++) {
        snprintf(r->cursor[s], sizeof r->cursor[s], "0-0");
        for (size_t i = 0; i + 1 < reply->elements; i += 2)
            if (!strcmp(reply->element[i]->str, r->fields[s]))
                snprintf(r->cursor[s], sizeof r->cursor[s], "%s", reply->element[i + 1]->str);
    }
    freeReplyObject(reply);
    return 0;
fail:
    if (r->redis)
        redisFree(r->redis);
    r->redis = NULL;
    return -1;
}

/* Sends one frame, waiting while the loop lags (the pair's high-water
   mark); gives up only when the broker is stopping. */
static int outbox_send(outbox_reader_t *r, const char *data, size_t len, int more)
{
    while (zmq_send(r->pair, data, len, more ? ZMQ_SNDMORE : 0) < 0)
        if (zmq_errno() != EAGAIN || atomic_load(&r->self->stop))
            return -1;
    return 0;
}

/* Counts a case.<programme>.arrived entry in the batch's returns. */
static void outbox_count_return(outbox_reader_t *r, const redisReply *topic,
                                const redisReply *body)
{
    const char *dot = topic->len > 13 ? memchr(topic->str + 5, '.', topic->len - 5) : NULL;
    if (strncmp(topic->str, "case.", 5) || !dot || strcmp(dot, ".arrived")
        || (size_t) (dot - topic->str - 5) > CF_PROGRAMME_MAX)
        return;
    int64_t persons = 0;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    if (msgpack_unpack_next(&result, body->str, body->len, NULL) == MSGPACK_UNPACK_SUCCESS
        && result.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < result.data.via.map.size; i++) {
            const msgpack_object_kv *kv = &result.data.via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 7
                && !memcmp(kv->key.via.str.ptr, "persons", 7)
                && kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                persons = (int64_t) kv->val.via.u64;
        }
    msgpack_unpacked_destroy(&result);
    size_t len = (size_t) (dot - topic->str - 5), p = 0;
    while (p < r->programmes && (strlen(r->returns[p].name) != len
                                 || memcmp(r->returns[p].name, topic->str + 5, len)))
        p++;
    if (p == OUTBOX_PROGRAMMES)
        return;             /* more programmes than one batch can hold: cannot happen in practice */
    if (p == r->programmes) {
        memcpy(r->returns[p].name, topic->str + 5, len);
        r->returns[p].name[len] = '\0';
        r->returns[p].cases = r->returns[p].persons = 0;
        r->programmes++;
    }
    r->returns[p].cases++;
    r->returns[p].persons += persons;
}

/* Hands one stream's entries to the loop, moving the cursor past each;
   returns how many, or -1 when the broker is stopping. */
static long outbox_hand_over(outbox_reader_t *r, unsigned s, const redisReply *entries)
{
    long n = 0;
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *entry = entries->element[i];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
            || entry->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const redisReply *fields = entry->element[1], *topic = NULL, *body = NULL;
        for (size_t j = 0; fields->type == REDIS_REPLY_ARRAY && j + 1 < fields->elements; j += 2) {
            const redisReply *k = fields->element[j];
            if (k->type == REDIS_REPLY_STRING && !strcmp(k->str, "topic"))
                topic = fields->element[j + 1];
            else if (k->type == REDIS_REPLY_STRING && !strcmp(k->str, "body"))
                body = fields->element[j + 1];
        }
        if (topic && body && topic->type == REDIS_REPLY_STRING
            && body->type == REDIS_REPLY_STRING) {     /* else not ours: skipped */
            char id[64];
            int id_len = s < CF_STORE_SHARDS
                       ? snprintf(id, sizeof id, "s%u-%s", s, entry->element[0]->str)
                       : snprintf(id, sizeof id, "p-%s", entry->element[0]->str);
            if (outbox_send(r, topic->str, topic->len, 1) < 0
                || outbox_send(r, body->str, body->len, 1) < 0
                || outbox_send(r, id, (size_t) id_len, 0) < 0)
                return -1;
            if (s < CF_STORE_SHARDS)
                outbox_count_return(r, topic, body);
            n++;
        }
        snprintf(r->cursor[s], sizeof r->cursor[s], "%s", entry->element[0]->str);
    }
    return n;
}

/* Saves the cursors and adds the batch's returns to the programmes' totals
   in one call of lua/milestones.lua, which announces the marks they reach. */
static int outbox_commit(outbox_reader_t *r)
{
    msgpack_sbuffer cursors, returns;
    msgpack_sbuffer_init(&cursors);
    msgpack_sbuffer_init(&returns);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &cursors, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, OUTBOX_STREAMS);
    for (unsigned s = 0; s < OUTBOX_STREAMS; s++) {
        msgpack_pack_str_with_body(&pk, r->fields[s], strlen(r->fields[s]));
        msgpack_pack_str_with_body(&pk, r->cursor[s], strlen(r->cursor[s]));
    }
    msgpack_packer_init(&pk, &returns, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, r->programmes);
    for (size_t p = 0; p < r->programmes; p++) {
        msgpack_pack_str_with_body(&pk, r->returns[p].name, strlen(r->returns[p].name));
        msgpack_pack_array(&pk, 2);
        msgpack_pack_int64(&pk, r->returns[p].cases);
        msgpack_pack_int64(&pk, r->returns[p].persons);
    }
    pthread_mutex_lock(&r->self->lock);
    const char *argv[] = { "EVAL", r->self->script, "4", "cf:{pub}:cursor", "cf:{pub}:returns",
                           "cf:{pub}:marks", "cf:{pub}:outbox", cursors.data, returns.data,
                           r->self->rules };
    size_t argvlen[] = { 4, strlen(r->self->script), 1, 15, 16, 14, 15, cursors.size,
                         returns.size, r->self->rules_len };
    redisReply *reply = redisCommandArgv(r->redis, 10, argv, argvlen);
    pthread_mutex_unlock(&r->self->lock);
    msgpack_sbuffer_destroy(&cursors);
    msgpack_sbuffer_destroy(&returns);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (reply)
        freeReplyObject(reply);
    r->programmes = 0;
    return rc;
}

/* Now and then trims what was read long ago. */
static int outbox_trim(outbox_reader_t *r)
{
    time_t now = time(NULL);
    if (now - r->trimmed_at < OUTBOX_TRIM_EVERY_S)
        return 0;
    r->trimmed_at = now;
    for (unsigned s = 0; s < OUTBOX_STREAMS; s++) {
        long long read_ms = strtoll(r->cursor[s], NULL, 10) - CF_OUTBOX_RETENTION_MS;
        char minid[32];
        snprintf(minid, sizeof minid, "%lld-0", read_ms > 0 ? read_ms : 0);
        redisAppendCommand(r->redis, "XTRIM %s MINID ~ %s", r->keys[s], minid);
    }
    int rc = 0;
    for (unsigned s = 0; s < OUTBOX_STREAMS; s++) {
        void *reply = NULL;
        if (redisGetReply(r->redis, &reply) != REDIS_OK || !reply)
            return -1;
        rc |= ((redisReply *) reply)->type == REDIS_REPLY_ERROR ? -1 : 0;
        freeReplyObject(reply);
    }
    return rc;
}

/* One XREAD over every shard; -1 on a Redis error. */
static int outbox_poll(outbox_reader_t *r)
{
    const char *argv[6 + 2 * OUTBOX_STREAMS] = { "XREAD", "COUNT", OUTBOX_BATCH, "BLOCK",
                                                 OUTBOX_BLOCK_MS, "STREAMS" };
    for (unsigned s = 0; s < OUTBOX_STREAMS; s++) {
        argv[6 + s] = r->keys[s];
        argv[6 + OUTBOX_STREAMS + s] = r->cursor[s];
    }
    redisReply *reply = redisCommandArgv(r->redis, 6 + 2 * OUTBOX_STREAMS, argv, NULL);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        if (reply)
            freeReplyObject(reply);
        return -1;
    }
    long handed = 0, got;
    for (size_t i = 0; handed >= 0 && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        const redisReply *stream = reply->element[i];
        for (unsigned s = 0; s < OUTBOX_STREAMS && stream->elements == 2; s++)
            if (!strcmp(stream->element[0]->str, r->keys[s])) {
                got = outbox_hand_over(r, s, stream->element[1]);
                handed = got < 0 ? -1 : handed + got;
                break;
            }
    }
    freeReplyObject(reply);
    if (handed <= 0) {
        r->programmes = 0;
        return 0;       /* nothing new, or stopping: the cursor stays where it was saved */
    }
    atomic_fetch_add(&r->self->read, (uint64_t) handed);
    return outbox_commit(r) < 0 || outbox_trim(r) < 0 ? -1 : 0;
}

static void *outbox_thread(void *arg)
{
    cf_outbox_t *self = arg;
    outbox_reader_t r = { .self = self };
    for (unsigned s = 0; s < CF_STORE_SHARDS; s++) {
        snprintf(r.keys[s], sizeof r.keys[s], "cf:{s%u}:outbox", s);
        snprintf(r.fields[s], sizeof r.fields[s], "s%u", s);
    }
    snprintf(r.keys[CF_STORE_SHARDS], sizeof r.keys[0], "cf:{pub}:outbox");
    snprintf(r.fields[CF_STORE_SHARDS], sizeof r.fields[0], "pub");
    r.pair = zmq_socket(self->ctx, ZMQ_PAIR);
    int linger = 0, timeout = 200;
    zmq_setsockopt(r.pair, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(r.pair, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    zmq_connect(r.pair, self->endpoint);
    int backoff = 100;
    while (!atomic_load(&self->stop)) {
        if ((!r.redis && outbox_connect(&r) < 0) || outbox_poll(&r) < 0) {
            atomic_fetch_add(&self->errors, 1);
            if (r.redis)
                redisFree(r.redis);
            r.redis = NULL;
            outbox_sleep_ms(self, backoff);
            backoff = backoff * 2 > OUTBOX_BACKOFF_MAX ? OUTBOX_BACKOFF_MAX : backoff * 2;
            continue;
        }
        backoff = 100;
    }
    if (r.redis)
        redisFree(r.redis);
    zmq_close(r.pair);
    return NULL;
}

cf_outbox_t *cf_outbox_new(void *zmq_ctx, const char *host, int port, const char *endpoint,
                           const char *script_dir, char *err, size_t err_size)
{
    assert(zmq_ctx && host && endpoint && script_dir);
    cf_outbox_t *self = calloc(1, sizeof *self);
    if (!self || !(self->host = strdup(host)) || !(self->endpoint = strdup(endpoint)))
        abort();
    pthread_mutex_init(&self->lock, NULL);
    cf_outbox_set_rules(self, "\x80", 1);
    static const char *const names[] = { CF_OUTBOX_SCRIPT };
    size_t len;
    if (cf_store_read_script_files(script_dir, names, 1, &self->script, &len, err, err_size) < 0) {
        cf_outbox_destroy(&self);
        return NULL;
    }
    self->ctx = zmq_ctx;
    self->port = port;
    self->pair = zmq_socket(zmq_ctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt(self->pair, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(self->pair, endpoint) < 0) {
        snprintf(err, err_size, "outbox: cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        cf_outbox_destroy(&self);
        return NULL;
    }
    if (pthread_create(&self->thread, NULL, outbox_thread, self) != 0)
        abort();
    self->started = true;
    return self;
}

void cf_outbox_destroy(cf_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_outbox_t *self = *self_p;
    if (self->started) {
        atomic_store(&self->stop, 1);
        pthread_join(self->thread, NULL);
    }
    if (self->pair)
        zmq_close(self->pair);
    pthread_mutex_destroy(&self->lock);
    free(self->script);
    free(self->rules);
    free(self->host);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

void cf_outbox_set_rules(cf_outbox_t *self, const void *packed, size_t len)
{
    assert(self && packed && len > 0);
    char *copy = malloc(len);
    if (!copy)
        abort();
    memcpy(copy, packed, len);
    pthread_mutex_lock(&self->lock);
    free(self->rules);
    self->rules = copy;
    self->rules_len = len;
    pthread_mutex_unlock(&self->lock);
}

void *cf_outbox_socket(cf_outbox_t *self)
{
    assert(self);
    return self->pair;
}

uint64_t cf_outbox_read(const cf_outbox_t *self)
{
    assert(self);
    return atomic_load(&((cf_outbox_t *) self)->read);
}

uint64_t cf_outbox_errors(const cf_outbox_t *self)
{
    assert(self);
    return atomic_load(&((cf_outbox_t *) self)->errors);
}
