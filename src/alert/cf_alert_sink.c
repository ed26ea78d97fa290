/*  cf_alert_sink: one sink's deliverer, the body of its thread; see
    cf_alert.h. It reads every outbox (the shards' and the milestones') from
    its own cursors (XREAD: one over them all on a single server; on a Redis
    Cluster, where the outboxes are on several masters, one per outbox,
    pipelined through cf_redis_cluster, without BLOCK), takes each batch in
    the order the entries were written (by entry id, across streams; an
    entry's notifications in their order, cf_outbox_notes.h), delivers what
    the sink selects one at a time, retrying with backoff, and saves its
    cursors and counts after each delivery in one HSET, so that what Redis
    holds is never ahead of what was delivered: a cursor moves past an
    entry once its last notification is taken. Only this thread touches
    its alert_sink_t after start. Its state in Redis (connecting, the HSET,
    the trims check) is cf_alert_sink_state.c's.                            */
#include "cf_alert_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_outbox_notes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SINK_BATCH          "100"   /* entries per stream and XREAD */
#define SINK_BLOCK_MS       "500"   /* how long an XREAD waits: the stop latency */
#define SINK_BACKOFF_FIRST  1000    /* ms before the first retry */
#define SINK_RECONNECT_MAX  5000    /* ms between tries to reach Redis */
#define SINK_IDLE_MS        200     /* on a cluster (no BLOCK), the wait after a read of none */

/*  One notification of a batch, pointing into the XREAD reply or into what
    the sink's reader decompressed (cf_outbox_notes_release); an entry
    holds one or more (cf_outbox_notes.h), or none when it is not ours.     */
typedef struct {
    unsigned stream;
    const char *id;                 /* the entry id, "<ms>-<seq>" */
    uint64_t ms, seq;
    size_t k;                       /* its place in the entry */
    bool last;                      /* the entry's last: the cursor moves past the entry */
    bool note;                      /* false: the entry holds no notification */
    cf_outbox_note_t got;
} sink_entry_t;

/*  Sleeps ms, in steps, returning early (false) once the daemon stops.    */
static bool sink_sleep(alert_sink_t *s, int64_t ms)
{
    for (; ms > 0 && !atomic_load(s->stop); ms -= 100) {
        struct timespec step = { 0, (ms < 100 ? ms : 100) * 1000000L };
        nanosleep(&step, NULL);
    }
    return !atomic_load(s->stop);
}

static int sink_entry_order(const void *a, const void *b)
{
    const sink_entry_t *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->stream != y->stream)
        return x->stream < y->stream ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

/*  Adds the entries of an XREAD reply to list (count of them, room for
    cap).                                                                   */
static void sink_entries_add(alert_sink_t *s, const redisReply *reply, sink_entry_t **list,
                             size_t *cap, size_t *count)
{
    sink_entry_t *entries = *list;
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        const redisReply *stream = reply->element[i];
        if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2)
            continue;
        unsigned which = 0;
        while (which < s->streams && strcmp(stream->element[0]->str, s->keys[which]))
            which++;
        const redisReply *list = stream->element[1];
        for (size_t j = 0; which < s->streams && j < list->elements; j++) {
            const redisReply *entry = list->element[j];
            if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
                || entry->element[0]->type != REDIS_REPLY_STRING)
                continue;
            const char *id = entry->element[0]->str;
            uint64_t ms, seq;
            if (!cf_outbox_notes_entry(id, &ms, &seq))
                ms = seq = 0;       /* not a stream id: its notes get no id, none is sent */
            size_t notes = cf_outbox_notes_read(s->notes, entry->element[1]);
            for (size_t k = 0; k < (notes ? notes : 1); k++) {
                entries = cf_grow(entries, cap, *count + 1, sizeof *entries);
                entries[(*count)++] = (sink_entry_t) {
                    .stream = which, .id = id, .ms = ms, .seq = seq, .k = k,
                    .last = k + 1 >= notes, .note = notes > 0,
                    .got = notes ? cf_outbox_notes_get(s->notes, k)
                                 : (cf_outbox_note_t) { 0 } };
            }
        }
    }
    *list = entries;
}

/*  The notifications of n XREAD replies, in the order they were written.
    An entry that holds none is kept (note false) so that the cursor moves
    past it.                                                                */
static sink_entry_t *sink_entries(alert_sink_t *s, redisReply *const *replies, size_t n,
                                  size_t *count)
{
    sink_entry_t *entries = NULL;
    size_t cap = 0;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        sink_entries_add(s, replies[i], &entries, &cap, count);
    if (*count > 1)             /* qsort of NULL, even of none, is undefined */
        qsort(entries, *count, sizeof *entries, sink_entry_order);
    return entries;
}

/*  The pending and lag gauges, with the oldest undelivered entry's time.  */
static void sink_gauges(alert_sink_t *s, uint64_t pending, uint64_t oldest_ms)
{
    int64_t now = alert_sink_now_ms();
    s->pending = pending;
    s->lag_ms = pending && (int64_t) oldest_ms < now ? (uint64_t) (now - (int64_t) oldest_ms) : 0;
    cf_metric_set(s->m_pending, (int64_t) s->pending);
    cf_metric_set(s->m_lag, (int64_t) (s->lag_ms / 1000));
}

/*  Delivers one notification, trying until the receiver takes it or the
    notification is older than the sink's give_up_after. Its age counts from
    when it entered the outbox (its entry id), so that a restart does not
    start the clock again and a backlog older than that gets one try each.
    0 when taken; 1 when given up, with the tries in *tries and the last
    error in err; -1 when the daemon stops first.                            */
static int sink_deliver(alert_sink_t *s, const cf_alert_note_t *note, int *tries,
                        char err[ALERT_ERROR_MAX])
{
    int64_t backoff = SINK_BACKOFF_FIRST;
    int64_t give_up_at = (int64_t) note->time_ms + (int64_t) s->sink.give_up_after_ms;
    for (int attempt = 1;; attempt++) {
        if (attempt > 1) {
            s->retries++;
            cf_metric_inc(s->m_retries);
        }
        if (cf_alert_send(s->sender, note, alert_sink_now_ms() / 1000, err, ALERT_ERROR_MAX) == 0)
            return 0;
        if (atomic_load(s->stop))
            return -1;
        s->failed++;
        cf_metric_inc(s->m_failed);
        snprintf(s->last_error, sizeof s->last_error, "%.63s: %.180s", note->id, err);
        s->last_error_at = alert_sink_now_ms();
        int64_t left = give_up_at - s->last_error_at;
        if (left <= 0) {
            *tries = attempt;
            return 1;
        }
        int64_t wait = backoff < left ? backoff : left;
        CF_LOG(CF_LOG_WARN, "delivery failed; will retry", "sink=%s id=%s attempt=%d "
               "retry_in_ms=%" PRId64 " error=%s", s->sink.name, note->id, attempt, wait,
               CF_LOG_QUOTE(err));
        alert_sink_save(s);             /* so that caseflow-ctl alerts shows it */
        if (!sink_sleep(s, wait))
            return -1;
        backoff = backoff * 2 > (int64_t) s->sink.backoff_max_ms ? (int64_t) s->sink.backoff_max_ms
                                                                  : backoff * 2;
    }
}

/*  Moves a notification its receiver refused past give_up_after to the
    sink's dead letters (a stream of about ALERT_DEAD_MAX entries: the id,
    topic and body as the outbox held them, the tries and the last error),
    counts and logs it, so that the sink goes on with the next one. 0, or
    -1 (Redis lost: the sink reads it again, and gives it up after one more
    try).                                                                    */
static int sink_give_up(alert_sink_t *s, const cf_alert_note_t *note, int tries,
                        const char *err)
{
    redisReply *reply = cf_redis_cluster_command(s->redis, s->dead, "XADD %s MAXLEN ~ %s * id %s "
                                                 "topic %s body %b tries %d error %s", s->dead,
                                                 ALERT_DEAD_MAX, note->id, note->topic,
                                                 note->body, note->body_len, tries, err);
    int rc = reply && reply->type == REDIS_REPLY_STRING ? 0 : -1;
    if (rc < 0)
        CF_LOG(CF_LOG_WARN, "cannot write the sink's dead letter", "sink=%s id=%s error=%s",
               s->sink.name, note->id, CF_LOG_QUOTE(!reply ? cf_redis_cluster_error(s->redis)
                                                    : reply->type == REDIS_REPLY_ERROR
                                                    ? reply->str : "unexpected reply"));
    if (reply)
        freeReplyObject(reply);
    if (rc < 0) {
        alert_sink_disconnect(s);
        return -1;
    }
    s->given_up++;
    cf_metric_inc(s->m_given_up);
    CF_LOG(CF_LOG_ERROR, "notification given up: its receiver refused it past give_up_after",
           "sink=%s id=%s topic=%s tries=%d dead_letters=%s error=%s", s->sink.name, note->id,
           CF_LOG_QUOTE(note->topic), tries, s->dead, CF_LOG_QUOTE(err));
    return 0;
}

/*  Whether the sink takes entry e, filling note for it.                    */
static bool sink_selects(const alert_sink_t *s, const sink_entry_t *e, cf_alert_note_t *note,
                         char id[CF_ALERT_ID_MAX])
{
    char prefix[CF_OUTBOX_NOTES_PREFIX_MAX];
    cf_outbox_notes_prefix(prefix, e->stream, s->shards);
    if (!e->note || cf_outbox_notes_id(id, prefix, e->id, e->k) < 0)
        return false;
    *note = (cf_alert_note_t) { .id = id, .topic = e->got.topic, .time_ms = e->ms,
                                .body = e->got.body, .body_len = e->got.body_len };
    char programme[33];
    return cf_rules_sink_selects(&s->sink, note->topic, cf_alert_format_programme(note, programme));
}

/*  Moves the cursor past e's entry once its last notification is taken: a
    restart goes on from the entry after the last one taken whole, giving
    again the notifications of one it had begun (at least once).           */
static void sink_past(alert_sink_t *s, const sink_entry_t *e)
{
    if (!e->last)
        return;
    snprintf(s->cursor[e->stream], sizeof s->cursor[0], "%s", e->id);
    s->seen[e->stream]++;
}

/*  Takes one batch: delivers what the sink selects, in order, saving after
    each delivery and once at the end. 0, or -1 (stopping, or Redis lost).  */
static int sink_batch(alert_sink_t *s, const sink_entry_t *entries, size_t count)
{
    cf_alert_note_t note;
    char id[CF_ALERT_ID_MAX];
    uint64_t pending = 0;
    for (size_t i = 0; i < count; i++)
        pending += sink_selects(s, &entries[i], &note, id);
    for (size_t i = 0; i < count; i++) {
        const sink_entry_t *e = &entries[i];
        if (sink_selects(s, e, &note, id)) {
            sink_gauges(s, pending, e->ms);
            char why[128], err[ALERT_ERROR_MAX];
            int taken, tries;
            char *valid = cf_alert_format_json(&note, NULL, why, sizeof why);
            free(valid);
            if (!valid)
                CF_LOG(CF_LOG_WARN, "not a notification; skipped", "sink=%s id=%s error=%s",
                       s->sink.name, id, CF_LOG_QUOTE(why));
            else if ((taken = sink_deliver(s, &note, &tries, err)) < 0
                     || (taken == 1 && sink_give_up(s, &note, tries, err) < 0))
                return -1;
            else if (taken == 0) {
                s->delivered++;
                s->last_delivered_at = alert_sink_now_ms();
                cf_metric_inc(s->m_delivered);
                CF_LOG(CF_LOG_DEBUG, "delivered", "sink=%s id=%s topic=%s", s->sink.name, id,
                       CF_LOG_QUOTE(note.topic));
            }
            pending--;
            sink_past(s, e);
            if (alert_sink_save(s) < 0)
                return -1;
            continue;
        }
        sink_past(s, e);
    }
    sink_gauges(s, 0, 0);
    return alert_sink_save(s);
}

/*  The XREAD replies from the cursors, in *replies (n of them): one over
    every outbox on a single server, blocking a while; on a cluster one per
    outbox (each its own slot), pipelined, not blocking. 0, or -1 with the
    replies freed.                                                          */
static int sink_read(alert_sink_t *s, redisReply **replies, size_t *n)
{
    const char **argv = s->argv;
    bool cluster = cf_redis_cluster_is_cluster(s->redis);
    static const char *head[6] = { "XREAD", "COUNT", SINK_BATCH, "BLOCK", SINK_BLOCK_MS,
                                   "STREAMS" };
    memcpy(argv, head, sizeof head);
    if (!cluster) {
        for (unsigned i = 0; i < s->streams; i++) {
            argv[6 + i] = s->keys[i];
            argv[6 + s->streams + i] = s->cursor[i];
        }
        cf_redis_cluster_append_argv(s->redis, -1, (int) (6 + 2 * s->streams), argv, NULL);
    } else {
        argv[3] = "STREAMS";
        for (unsigned i = 0; i < s->streams; i++) {
            argv[4] = s->keys[i];
            argv[5] = s->cursor[i];
            cf_redis_cluster_append_argv(s->redis, 4, 6, argv, NULL);
        }
    }
    const char *error = NULL;
    *n = cluster ? s->streams : 1;
    for (size_t i = 0; i < *n; i++)
        replies[i] = NULL;
    for (size_t i = 0; i < *n && !error; i++)
        if (cf_redis_cluster_get_reply(s->redis, &replies[i]) < 0)
            error = cf_redis_cluster_error(s->redis);
        else if (replies[i]->type == REDIS_REPLY_ERROR)
            error = replies[i]->str;
    if (!error)
        return 0;
    CF_LOG(CF_LOG_WARN, "cannot read the outboxes", "sink=%s error=%s", s->sink.name,
           CF_LOG_QUOTE(error));
    for (size_t i = 0; i < *n; i++)
        if (replies[i])
            freeReplyObject(replies[i]);
    alert_sink_disconnect(s);
    return -1;
}

/*  One read from the cursors and its batch. 0, or -1 (Redis lost).        */
static int sink_poll(alert_sink_t *s)
{
    redisReply **replies = cf_calloc(s->streams, sizeof *replies);
    size_t n, count = 0;
    int rc = sink_read(s, replies, &n);
    if (rc == 0) {
        sink_entry_t *entries = sink_entries(s, replies, n, &count);
        rc = count ? sink_batch(s, entries, count) : 0;
        free(entries);
        cf_outbox_notes_release(s->notes);      /* the entries' notes are gone */
        for (size_t i = 0; i < n; i++)
            freeReplyObject(replies[i]);
        if (rc == 0 && count == 0 && n > 1)
            sink_sleep(s, SINK_IDLE_MS);    /* a cluster: the XREADs did not wait */
    }
    free(replies);
    return rc;
}

void *alert_sink_run(void *arg)
{
    alert_sink_t *s = arg;
    int64_t backoff = 100;
    bool logged = false;
    while (!atomic_load(s->stop)) {
        if ((!s->redis && alert_sink_connect(s, &logged) < 0) || alert_sink_check_trims(s) < 0
            || sink_poll(s) < 0) {
            alert_sink_disconnect(s);
            sink_sleep(s, backoff);
            backoff = backoff * 2 > SINK_RECONNECT_MAX ? SINK_RECONNECT_MAX : backoff * 2;
            continue;
        }
        backoff = 100;
    }
    alert_sink_disconnect(s);
    return NULL;
}
