/*  cf_alert_sink_state: one sink's state in Redis, for its thread
    (cf_alert_sink.c): the per-outbox arrays (keys, fields, cursors), the
    connection (connect, authenticate, read what was saved, name the sink
    in cf:alert:sinks), the one HSET that saves the cursors and counts, and
    the look at the outboxes' trims that counts what was lost to the sink.
    It never reads nor delivers: it keeps what the thread has taken. Its
    way of opening a Redis context (alert_redis_open) is the object's too
    (cf_alert.c), which calls down into this file and is not called back.   */
#include "cf_alert_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_outbox_notes.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SINK_TRIM_CHECK_MS  30000   /* how often the outboxes' trims are looked at */

cf_redis_cluster_t *alert_redis_open(const char *host, int port, const cf_redis_auth_t *auth,
                                     unsigned shards, char *err, size_t n, bool *refused)
{
    cf_redis_cluster_t *redis = cf_redis_cluster_new(host, port, auth, CF_REDIS_MODE_AUTO, 5000);
    redisContext *c = NULL;
    *refused = false;
    if (cf_redis_cluster_connect(redis) < 0
        || !(c = cf_redis_cluster_context(redis, cf_redis_slot(CF_KEYS_SHARDS,
                                                               strlen(CF_KEYS_SHARDS))))) {
        snprintf(err, n, "%s", cf_redis_cluster_error(redis));
        *refused = cf_redis_cluster_errcode(redis) != CF_REDIS_CLUSTER_ECONN;
        cf_redis_cluster_destroy(&redis);
        return NULL;
    }
    if (cf_store_shards_agree(c, shards, false, err, n) < 0) {     /* c is redis's */
        *refused = !c->err;
        cf_redis_cluster_destroy(&redis);
    }
    return redis;
}

void alert_sink_init(alert_sink_t *s, unsigned shards)
{
    s->shards = shards;
    s->streams = shards + 1;
    s->keys = cf_calloc(s->streams, sizeof *s->keys);
    s->fields = cf_calloc(s->streams, sizeof *s->fields);
    s->cursor = cf_calloc(s->streams, sizeof *s->cursor);
    s->seen_fields = cf_calloc(s->streams, sizeof *s->seen_fields);
    s->seen = cf_calloc(s->streams, sizeof *s->seen);
    s->numbers = cf_calloc(s->streams, sizeof *s->numbers);
    s->argv = cf_calloc(6 + 2 * (2 * s->streams + ALERT_COUNTS), sizeof *s->argv);
    s->notes = cf_outbox_notes_new();
    for (unsigned i = 0; i < shards; i++) {
        cf_keys_fixed(s->keys[i], sizeof s->keys[i], i, CF_KEYS_OUTBOX);
        snprintf(s->fields[i], sizeof s->fields[i], "s%u", i);
        snprintf(s->seen_fields[i], sizeof s->seen_fields[i], "n%u", i);
    }
    snprintf(s->keys[shards], sizeof s->keys[0], "%s", cf_keys_pub(CF_KEYS_PUB_OUTBOX));
    snprintf(s->fields[shards], sizeof s->fields[0], "pub");
    snprintf(s->seen_fields[shards], sizeof s->seen_fields[0], "npub");
}

void alert_sink_free(alert_sink_t *s)
{
    free(s->keys);
    free(s->fields);
    free(s->cursor);
    free(s->seen_fields);
    free(s->seen);
    free(s->numbers);
    free(s->argv);
    cf_outbox_notes_destroy(&s->notes);
}

int64_t alert_sink_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void alert_sink_disconnect(alert_sink_t *s)
{
    cf_redis_cluster_destroy(&s->redis);
}

/*  One command in argv form, routed by argv[key_arg] (-1: any node): its
    reply, or NULL with the error on s->redis.                              */
static redisReply *sink_command_argv(alert_sink_t *s, int key_arg, size_t argc,
                                     const char **argv)
{
    redisReply *reply = NULL;
    if (cf_redis_cluster_append_argv(s->redis, key_arg, (int) argc, argv, NULL) < 0
        || cf_redis_cluster_get_reply(s->redis, &reply) < 0)
        return NULL;
    return reply;
}

/*  Saves the cursors and counts in one HSET. 0, or -1 (the connection is
    then dropped: the next one reads what was saved).                       */
int alert_sink_save(alert_sink_t *s)
{
    if (!s->redis)
        return -1;
    char numbers[8][24];
    const char **argv = s->argv;
    size_t argc = 0;
    char lost[24];
    snprintf(lost, sizeof lost, "%" PRIu64, s->lost);
    argv[argc++] = "HSET";
    argv[argc++] = s->key;
    for (unsigned i = 0; i < s->streams; i++) {
        argv[argc++] = s->fields[i];
        argv[argc++] = s->cursor[i];
        snprintf(s->numbers[i], sizeof s->numbers[i], "%" PRIu64, s->seen[i]);
        argv[argc++] = s->seen_fields[i];
        argv[argc++] = s->numbers[i];
    }
    const struct { const char *name; uint64_t value; } counts[] = {
        { "delivered", s->delivered }, { "failed", s->failed }, { "retries", s->retries },
        { "pending", s->pending }, { "lag_ms", s->lag_ms },
        { "last_delivered_at", (uint64_t) s->last_delivered_at },
        { "last_error_at", (uint64_t) s->last_error_at }, { "given_up", s->given_up } };
    _Static_assert(sizeof counts / sizeof counts[0] == sizeof numbers / sizeof numbers[0],
                   "a count without its room");
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        snprintf(numbers[i], sizeof numbers[i], "%" PRIu64, counts[i].value);
        argv[argc++] = counts[i].name;
        argv[argc++] = numbers[i];
    }
    argv[argc++] = "last_error";
    argv[argc++] = s->last_error;
    argv[argc++] = "type";
    argv[argc++] = cf_rules_sink_type_name(s->sink.type);
    argv[argc++] = "lost";
    argv[argc++] = lost;
    assert(argc == 2 + 2 * (2 * s->streams + ALERT_COUNTS));
    redisReply *reply = sink_command_argv(s, 1, argc, argv);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (reply)
        freeReplyObject(reply);
    if (rc < 0) {
        CF_LOG(CF_LOG_WARN, "cannot save the sink's state", "sink=%s error=%s", s->sink.name,
               CF_LOG_QUOTE(!reply ? cf_redis_cluster_error(s->redis) : "unexpected reply"));
        alert_sink_disconnect(s);
    }
    return rc;
}

/*  A field of an HGETALL reply, "" when absent.                             */
static const char *sink_field(const redisReply *hash, const char *field)
{
    for (size_t i = 0; i + 1 < hash->elements; i += 2)
        if (!strcmp(hash->element[i]->str, field))
            return hash->element[i + 1]->str;
    return "";
}

static uint64_t sink_number(const redisReply *hash, const char *field)
{
    return strtoull(sink_field(hash, field), NULL, 10);
}

/*  Connects, authenticates, checks the shard count against the one Redis
    records (another would read other outboxes), reads the saved state and
    names the sink in cf:alert:sinks. 0, or -1 with the reason logged once
    per outage.                                                              */
int alert_sink_connect(alert_sink_t *s, bool *logged)
{
    char why[600] = "";
    bool refused;
    s->redis = alert_redis_open(s->host, s->port, s->auth, s->shards, why, sizeof why, &refused);
    redisReply *hash = NULL, *named = NULL;
    if (!s->redis
        || !(hash = cf_redis_cluster_command(s->redis, s->key, "HGETALL %s", s->key))
        || hash->type != REDIS_REPLY_ARRAY
        || !(named = cf_redis_cluster_command(s->redis, CF_KEYS_ALERT_SINKS, "HSET %s %s %s",
                                              CF_KEYS_ALERT_SINKS, s->sink.name,
                                              cf_rules_sink_type_name(s->sink.type)))
        || named->type != REDIS_REPLY_INTEGER) {
        if (!*why)
            snprintf(why, sizeof why, "%s", !hash || (hash->type == REDIS_REPLY_ARRAY && !named)
                     ? cf_redis_cluster_error(s->redis)
                     : hash->type == REDIS_REPLY_ERROR ? hash->str
                     : named->type == REDIS_REPLY_ERROR ? named->str : "unexpected reply");
        if (!*logged)
            CF_LOG(CF_LOG_WARN, "cannot reach redis; retrying", "sink=%s error=%s",
                   s->sink.name, CF_LOG_QUOTE(why));
        *logged = true;
        if (hash)
            freeReplyObject(hash);
        if (named)
            freeReplyObject(named);
        alert_sink_disconnect(s);
        return -1;
    }
    for (unsigned i = 0; i < s->streams; i++) {
        const char *saved = sink_field(hash, s->fields[i]);
        snprintf(s->cursor[i], sizeof s->cursor[i], "%s", *saved ? saved : "0-0");
        s->seen[i] = sink_number(hash, s->seen_fields[i]);
    }
    s->delivered = sink_number(hash, "delivered");
    s->failed = sink_number(hash, "failed");
    s->retries = sink_number(hash, "retries");
    s->lost = sink_number(hash, "lost");
    s->given_up = sink_number(hash, "given_up");
    s->fresh = !*sink_field(hash, "npub");     /* nothing saved, or saved before counts */
    s->trim_checked_at = 0;
    s->last_delivered_at = (int64_t) sink_number(hash, "last_delivered_at");
    s->last_error_at = (int64_t) sink_number(hash, "last_error_at");
    snprintf(s->last_error, sizeof s->last_error, "%s", sink_field(hash, "last_error"));
    freeReplyObject(hash);
    freeReplyObject(named);
    *logged = false;
    CF_LOG(CF_LOG_INFO, "sink resumed", "sink=%s delivered=%" PRIu64 " s0=%s pub=%s",
           s->sink.name, s->delivered, s->cursor[0], s->cursor[s->shards]);
    return 0;
}

/*  An XINFO STREAM field as a number; -1 when absent.                      */
static long long sink_info_number(const redisReply *info, const char *field)
{
    for (size_t k = 0; info->type == REDIS_REPLY_ARRAY && k + 1 < info->elements; k += 2)
        if (info->element[k]->type == REDIS_REPLY_STRING && !strcmp(info->element[k]->str, field)
            && info->element[k + 1]->type == REDIS_REPLY_INTEGER)
            return info->element[k + 1]->integer;
    return -1;
}

/*  Outbox entries trimmed before the sink read them. An outbox only loses
    entries from its head (the broker's XTRIM MINID), so the entries gone
    are its first entries-added - length; the sink has taken its first
    seen; more gone than taken is that many never read. Every
    SINK_TRIM_CHECK_MS, one pipelined XINFO STREAM per outbox; the sink then
    counts those as taken, so that each loss counts once. A new sink takes
    the outboxes as it finds them. 0, or -1 (Redis lost).                   */
int alert_sink_check_trims(alert_sink_t *s)
{
    int64_t now = alert_sink_now_ms();
    if (s->trim_checked_at && now - s->trim_checked_at < SINK_TRIM_CHECK_MS)
        return 0;
    s->trim_checked_at = now;
    for (unsigned i = 0; i < s->streams; i++)
        if (cf_redis_cluster_append(s->redis, s->keys[i], "XINFO STREAM %s", s->keys[i]) < 0)
            return -1;
    uint64_t found = 0;
    bool failed = false;
    for (unsigned i = 0; i < s->streams; i++) {
        redisReply *info = NULL;
        if (cf_redis_cluster_get_reply(s->redis, &info) < 0) {
            failed = true;
            break;
        }
        long long added = sink_info_number(info, "entries-added");
        long long length = sink_info_number(info, "length");
        freeReplyObject(info);          /* an error (no such key yet): nothing trimmed */
        if (added < 0 || length < 0 || added < length)
            continue;
        uint64_t gone = (uint64_t) (added - length);
        if (gone > s->seen[i] && !s->fresh) {
            CF_LOG(CF_LOG_WARN, "outbox trimmed before the sink read it: notifications lost to "
                   "it", "sink=%s outbox=%s lost=%" PRIu64 " cursor=%s", s->sink.name,
                   s->keys[i], gone - s->seen[i], s->cursor[i]);
            found += gone - s->seen[i];
        }
        if (gone > s->seen[i])
            s->seen[i] = gone;
    }
    if (failed) {
        CF_LOG(CF_LOG_WARN, "cannot look at the outboxes' trims", "sink=%s error=%s",
               s->sink.name, CF_LOG_QUOTE(cf_redis_cluster_error(s->redis)));
        alert_sink_disconnect(s);
        return -1;
    }
    bool was_fresh = s->fresh;
    s->fresh = false;
    if (found) {
        s->lost += found;
        cf_metric_add(s->m_lost, found);
    }
    return found || was_fresh ? alert_sink_save(s) : 0;
}
