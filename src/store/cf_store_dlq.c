/*  cf_store_dlq: poison events and the dead-letter stream. A worker that
    applies a job event by event (after a lost worker or repeated Redis
    errors) counts its tries at each event in a small hash that outlives
    the worker, cf:{dlq}:try:<event_id>; an event tried too often goes to
    the stream cf:{dlq}:stream with its payload (case_ref already replaced
    by the pseudonym), the error and the time, once (the library's
    caseflow_dead_letter, lua/dead_letter.lua),
    where caseflow-ctl dlq lists and replays it. See docs/reliability.md.   */
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#define DLQ_TRY_TTL_S   86400       /* a try counter left by a crash goes after a day */
#define DLQ_MARK_TTL_S  604800      /* an event set aside is known as such for a week */

/* Runs one command (argv form); checks the reply type. The reply is handed
   to take (may be NULL) before it is freed. */
static int dlq_command(cf_store_t *self, int argc, const char **argv, const size_t *argvlen,
                       int want, int (*take)(cf_store_t *, const redisReply *, void *), void *arg)
{
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    /* the key routes it: FCALL's first, any other command's first argument */
    cf_store_append_argv(self, strcmp(argv[0], "FCALL") == 0 ? 3 : 1, -1, (size_t) argc, argv,
                         argvlen);
    redisReply *reply = NULL;
    if (cf_store_get_reply(self, &reply, argv[0]) < 0)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_ERROR)
        rc = cf_store_fail_call(self, argv[0], reply->str);
    else if (want >= 0 && reply->type != want)
        rc = cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "%s: unexpected reply", argv[0]);
    else if (take)
        rc = take(self, reply, arg);
    freeReplyObject(reply);
    return rc;
}

static int dlq_fmt(cf_store_t *self, const char *key, int want, const char *fmt, const char *a,
                   const char *b)
{
    if (cf_store_ensure(self, 0) < 0)
        return -1;
    redisReply *reply = cf_store_command(self, key, fmt, a, b);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_ERROR
           ? cf_store_fail(self, CF_STORE_ERR_REDIS, "%s", reply->str)
           : want >= 0 && reply->type != want
           ? cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "unexpected reply") : 0;
    freeReplyObject(reply);
    return rc;
}

/* ---- try counters ------------------------------------------------------ */

typedef struct {
    unsigned *tries;
    char *error;
    size_t size;
} dlq_try_t;

static int dlq_take_try(cf_store_t *self, const redisReply *reply, void *arg)
{
    dlq_try_t *t = arg;
    (void) self;
    t->error[0] = '\0';
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply *k = reply->element[i], *v = reply->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (!strcmp(k->str, "n"))
            *t->tries = (unsigned) strtoul(v->str, NULL, 10);
        else if (!strcmp(k->str, "error"))
            snprintf(t->error, t->size, "%s", v->str);
    }
    return 0;
}

static int dlq_take_integer(cf_store_t *self, const redisReply *reply, void *arg)
{
    (void) self;
    *(long long *) arg = reply->integer;
    return 0;
}

/* HINCRBY key n by into *n. 0 / -1. */
static int dlq_add_try(cf_store_t *self, const char *key, const char *by, long long *n)
{
    const char *argv[] = { "HINCRBY", key, "n", by };
    size_t argvlen[] = { 7, strlen(key), 1, strlen(by) };
    return dlq_command(self, 4, argv, argvlen, REDIS_REPLY_INTEGER, dlq_take_integer, n);
}

int cf_store_try_begin(cf_store_t *self, const char *event_id, unsigned *tries,
                       char *last_error, size_t size)
{
    assert(self && event_id && tries && last_error && size > 0);
    cf_store_clear_error(self);
    *tries = 0;
    last_error[0] = '\0';
    char key[CF_KEYS_MAX];
    cf_keys_dlq_try(key, sizeof key, event_id);
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", DLQ_TRY_TTL_S);
    long long n = 0;
    if (dlq_add_try(self, key, "1", &n) < 0)
        return -1;
    /* counted from here on, even when what follows fails: the caller gives
       it back (cf_store_try_undo) when *tries says so */
    *tries = n < 1 ? 1 : (unsigned) n;
    if (dlq_fmt(self, key, REDIS_REPLY_INTEGER, "EXPIRE %s %s", key, ttl) < 0)
        return -1;
    const char *argv[] = { "HGETALL", key };
    size_t argvlen[] = { 7, strlen(key) };
    dlq_try_t t = { tries, last_error, size };
    return dlq_command(self, 2, argv, argvlen, REDIS_REPLY_ARRAY, dlq_take_try, &t);
}

int cf_store_try_undo(cf_store_t *self, const char *event_id)
{
    assert(self && event_id);
    cf_store_clear_error(self);
    char key[CF_KEYS_MAX];
    cf_keys_dlq_try(key, sizeof key, event_id);
    long long n = 0;
    if (dlq_add_try(self, key, "-1", &n) < 0)
        return -1;
    /* no try left, or the counter was gone (the event was applied or set
       aside meanwhile) and HINCRBY made one without an expiry: drop it */
    if (n <= 0)
        return dlq_fmt(self, key, REDIS_REPLY_INTEGER, "DEL %s", key, NULL);
    return 0;
}

int cf_store_try_failed(cf_store_t *self, const char *event_id, const char *error)
{
    assert(self && event_id && error);
    char key[CF_KEYS_MAX];
    cf_keys_dlq_try(key, sizeof key, event_id);
    return dlq_fmt(self, key, REDIS_REPLY_INTEGER, "HSET %s error %s", key, error);
}

int cf_store_try_end(cf_store_t *self, const char *event_id)
{
    assert(self && event_id);
    char key[CF_KEYS_MAX];
    cf_keys_dlq_try(key, sizeof key, event_id);
    return dlq_fmt(self, key, REDIS_REPLY_INTEGER, "DEL %s", key, NULL);
}

/* ---- the stream ---------------------------------------------------------- */

/* Takes dead_letter.lua's {id, added}. */
static int dlq_take_added(cf_store_t *self, const redisReply *reply, void *arg)
{
    char *id = ((char **) arg)[0];
    bool *added = ((bool **) arg)[1];
    if (reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[0]->len >= CF_DLQ_ID_MAX || reply->element[1]->type != REDIS_REPLY_INTEGER)
        return cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "dead_letter: unexpected reply");
    memcpy(id, reply->element[0]->str, reply->element[0]->len + 1);
    *added = reply->element[1]->integer == 1;
    return 0;
}

int cf_store_dead_letter(cf_store_t *self, const cf_dead_letter_t *letter, char *id)
{
    assert(self && letter && id);
    cf_store_clear_error(self);
    if (cf_store_ensure(self, 1) < 0)       /* the library, and so its version */
        return -1;
    char marker[CF_KEYS_MAX], ttl[16], tries[16], time_ms[24], shard_hash[24];
    cf_keys_dlq_dead(marker, sizeof marker, letter->event_id);
    snprintf(ttl, sizeof ttl, "%d", DLQ_MARK_TTL_S);
    snprintf(tries, sizeof tries, "%u", letter->tries);
    snprintf(time_ms, sizeof time_ms, "%lld", (long long) letter->time_ms);
    snprintf(shard_hash, sizeof shard_hash, "%llu", (unsigned long long) letter->shard_hash);
    const char *argv[] = { "FCALL", CF_STORE_FN_DEAD, "2", marker, CF_KEYS_DLQ_STREAM,
                           self->version, ttl,
                           "event_id", letter->event_id, "type", letter->type, "payload",
                           letter->payload, "error", letter->error, "tries", tries, "time",
                           time_ms, "shard_hash", shard_hash };
    size_t argvlen[sizeof argv / sizeof *argv];
    for (size_t i = 0; i < sizeof argv / sizeof *argv; i++)
        argvlen[i] = argv[i] == letter->payload ? letter->payload_len : strlen(argv[i]);
    bool added = false;
    void *out[] = { id, &added };
    if (dlq_command(self, sizeof argv / sizeof *argv, argv, argvlen, REDIS_REPLY_ARRAY,
                    dlq_take_added, out) < 0)
        return -1;
    if (!added)
        return 0;
    char quality[CF_KEYS_MAX];
    cf_keys_fixed(quality, sizeof quality, 0, CF_FAMILY_QUALITY);
    return dlq_fmt(self, quality, REDIS_REPLY_INTEGER, "HINCRBY %s %s 1", quality, "dead_letter");
}

typedef struct {
    cf_dlq_fn *fn;
    void *arg;
} dlq_read_t;

/* One XRANGE entry [id, [field, value, ...]] as a letter. */
static int dlq_parse_entry(const redisReply *entry, cf_dead_letter_t *letter)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
        || entry->element[0]->type != REDIS_REPLY_STRING
        || entry->element[0]->len >= CF_DLQ_ID_MAX
        || entry->element[1]->type != REDIS_REPLY_ARRAY)
        return -1;
    memset(letter, 0, sizeof *letter);
    memcpy(letter->id, entry->element[0]->str, entry->element[0]->len + 1);
    const redisReply *fields = entry->element[1];
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return -1;
        if (!strcmp(k->str, "event_id"))
            snprintf(letter->event_id, sizeof letter->event_id, "%s", v->str);
        else if (!strcmp(k->str, "type"))
            snprintf(letter->type, sizeof letter->type, "%s", v->str);
        else if (!strcmp(k->str, "payload"))
            letter->payload = v->str, letter->payload_len = v->len;
        else if (!strcmp(k->str, "error"))
            snprintf(letter->error, sizeof letter->error, "%s", v->str);
        else if (!strcmp(k->str, "tries"))
            letter->tries = (unsigned) strtoul(v->str, NULL, 10);
        else if (!strcmp(k->str, "time"))
            letter->time_ms = strtoll(v->str, NULL, 10);
        else if (!strcmp(k->str, "shard_hash"))
            letter->shard_hash = strtoull(v->str, NULL, 10), letter->has_shard_hash = true;
    }
    return 0;
}

static int dlq_take_entries(cf_store_t *self, const redisReply *reply, void *arg)
{
    dlq_read_t *r = arg;
    for (size_t i = 0; i < reply->elements; i++) {
        cf_dead_letter_t letter;
        if (dlq_parse_entry(reply->element[i], &letter) < 0)
            return cf_store_fail(self, CF_STORE_ERR_PROTOCOL, "XRANGE: a malformed entry");
        if (r->fn(r->arg, &letter) < 0)
            break;
    }
    return 0;
}

int cf_store_dlq_read(cf_store_t *self, const char *first, const char *last, cf_dlq_fn *fn,
                      void *arg)
{
    assert(self && first && last && fn);
    cf_store_clear_error(self);
    const char *argv[] = { "XRANGE", CF_KEYS_DLQ_STREAM, first, last };
    size_t argvlen[] = { 6, strlen(CF_KEYS_DLQ_STREAM), strlen(first), strlen(last) };
    dlq_read_t r = { fn, arg };
    return dlq_command(self, 4, argv, argvlen, REDIS_REPLY_ARRAY, dlq_take_entries, &r);
}

int cf_store_dlq_delete(cf_store_t *self, const char *id, const char *event_id)
{
    assert(self && id && event_id);
    cf_store_clear_error(self);
    char marker[CF_KEYS_MAX];
    cf_keys_dlq_dead(marker, sizeof marker, event_id);
    if (dlq_fmt(self, CF_KEYS_DLQ_STREAM, REDIS_REPLY_INTEGER, "XDEL " CF_KEYS_DLQ_STREAM " %s", id,
                NULL) < 0)
        return -1;
    return dlq_fmt(self, marker, REDIS_REPLY_INTEGER, "DEL %s", marker, NULL);
}
