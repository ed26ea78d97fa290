/*  cf_outbox_reader: the outbox reader's thread (cf_outbox.c). It owns its
    Redis connections and its end of the pair; the loop's end and the
    counters are all it shares, the counters as atomics. On a single server
    it reads every outbox with one blocking XREAD; on a Redis Cluster, where
    the shards' outboxes are spread over the masters (an XREAD of several
    would be CROSSSLOT), it reads each with an XREAD of its own, pipelined
    across the nodes by cf_redis_cluster, without BLOCK (paced instead).
    The {pub} keys (cursors, the commit, the snapshot) are one slot: they
    stay on one plain connection, to the master that serves that slot.
    What follows each poll (the packs sent to the loop, the commit, the
    trims, the snapshots) is cf_outbox_round.c's.                          */
#include "cf_outbox.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"
#include "cf_outbox_internal.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_outbox_notes.h"
#include "caseflow/cf_redis_cluster.h"

#include <assert.h>
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

#define OUTBOX_BATCH        512     /* entries per XREAD and stream */
#define OUTBOX_STR(x)       OUTBOX_STR_(x)
#define OUTBOX_STR_(x)      #x
#define OUTBOX_BLOCK_MS     "500"   /* how long an XREAD waits: the stop latency */
#define OUTBOX_BACKOFF_MAX  5000

static void outbox_sleep_ms(cf_outbox_t *self, int ms)
{
    for (; ms > 0 && !atomic_load(&self->stop); ms -= 100) {
        struct timespec step = { 0, 100 * 1000000L };
        nanosleep(&step, NULL);
    }
}

/* Paces the reads (CF_OUTBOX_PACE_MS): after a round whose XREAD left
   nothing waiting, the next XREAD goes no sooner than the pace after it.
   Most of a round's cost in Redis is per round (the XREAD of 65 streams,
   the cursors' WATCH and HGETALL, two HINCRBY per programme and stage), so
   at 20 000 events/s rounds of 10 ms cost a third of back-to-back ones of
   ~3 ms. A notification waits at most the pace more: an entry written just
   after an XREAD is read by the next one, which is due the pace later.
   On a single server an XREAD that blocked (nothing to read) waited longer
   than the pace, so the first entry after a quiet spell goes at once; on a
   cluster the XREADs do not block, and a quiet reader polls at the pace. */
static void outbox_pace(outbox_reader_t *r)
{
    if (r->full)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long waited_ns = (now.tv_sec - r->polled_at.tv_sec) * 1000000000LL
                        + (now.tv_nsec - r->polled_at.tv_nsec);
    long long left_ns = CF_OUTBOX_PACE_MS * 1000000LL - waited_ns;
    if (left_ns > 0 && !atomic_load(&r->self->stop)) {
        struct timespec step = { (time_t) (left_ns / 1000000000LL),
                                 (long) (left_ns % 1000000000LL) };
        nanosleep(&step, NULL);
    }
}

/* Connects and reads the saved cursors (and WATCHes them). 0, or -1
   (connection dropped). */
static int outbox_connect(outbox_reader_t *r)
{
    char why[600];
    bool answered;
    r->redis = cf_outbox_open(r->self, &r->cluster, why, sizeof why, &answered);
    if (!r->redis)
        return -1;
    for (unsigned s = 0; s < r->streams; s++)
        r->saved[s][0] = '\0';     /* so that the check copies every stored cursor */
    cf_outbox_cursor_watch(r->redis);
    if (cf_outbox_cursor_check(r->redis, r->streams, (const char (*)[12]) r->fields,
                               r->saved) < 0) {
        redisFree(r->redis);
        r->redis = NULL;
        cf_redis_cluster_destroy(&r->cluster);
        return -1;
    }
    memcpy(r->cursor, r->saved, r->streams * sizeof *r->cursor);
    return 0;
}

/* Packs the count notifications r->notes holds of entry ms-seq of stream
   s, and notes those of a shard's stream in the batch; returns how many, or
   -1 when the broker is stopping. */
static long outbox_hand_over_notes(outbox_reader_t *r, unsigned s, const char *prefix,
                                   uint64_t ms, uint64_t seq, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        cf_outbox_note_t note = cf_outbox_notes_get(r->notes, k);
        char id[CF_OUTBOX_NOTES_ID_MAX];
        int id_len = cf_outbox_notes_id_of(id, prefix, ms, seq, k);
        cf_outbox_entry_t one = { note.topic, note.body, id, note.topic_len, note.body_len,
                                  (size_t) id_len };
        cf_outbox_pack_entry(&r->pack, &one);
        if ((++r->packed == CF_OUTBOX_PACK_ENTRIES || r->pack.size >= CF_OUTBOX_PACK_BYTES)
            && cf_outbox_flush(r) < 0)
            return -1;
        if (s + 1 < r->streams)
            cf_outbox_batch_note(&r->batch, note.topic, note.topic_len, note.body,
                                 note.body_len);
    }
    return (long) count;
}

/* Hands one stream's entries to the loop (packed: the caller flushes the
   last pack), moving the cursor past each; returns how many, or -1 when
   the broker is stopping. */
static long outbox_hand_over(outbox_reader_t *r, unsigned s, const redisReply *entries)
{
    long n = 0;
    if (entries->elements >= OUTBOX_BATCH)
        r->full = true;
    char prefix[CF_OUTBOX_NOTES_PREFIX_MAX];
    cf_outbox_notes_prefix(prefix, s, r->streams - 1);     /* the last stream: the milestones' */
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *entry = entries->element[i];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2
            || entry->element[0]->type != REDIS_REPLY_STRING)
            continue;
        uint64_t ms = 0, seq = 0;
        size_t count = cf_outbox_notes_entry(entry->element[0]->str, &ms, &seq)
                     ? cf_outbox_notes_read(r->notes, entry->element[1])
                     : 0;           /* 0: not ours, or not a stream id we can number: skipped */
        long handed = outbox_hand_over_notes(r, s, prefix, ms, seq, count);
        cf_outbox_notes_release(r->notes);      /* the pack and the batch hold copies */
        if (handed < 0)
            return -1;
        n += handed;
        cf_fmt(r->cursor[s], sizeof r->cursor[s], "%s", entry->element[0]->str);
    }
    return n;
}

/* Hands over the streams of one XREAD reply (those it names, matched to
   the keys from *from on, since they come in the order asked); adds to
   *handed how many entries, or sets it to -1 when the broker is stopping. */
static void outbox_hand_over_reply(outbox_reader_t *r, const redisReply *reply, unsigned *from,
                                   long *handed)
{
    for (size_t i = 0; *handed >= 0 && reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
         i++) {
        const redisReply *stream = reply->element[i];
        for (unsigned k = 0, s = *from; k < r->streams && stream->elements == 2;
             k++, s = s + 1 < r->streams ? s + 1 : 0)
            if (!strcmp(stream->element[0]->str, r->keys[s])) {
                long got = outbox_hand_over(r, s, stream->element[1]);
                *handed = got < 0 ? -1 : *handed + got;
                *from = s + 1 < r->streams ? s + 1 : 0;
                break;
            }
    }
}

static int64_t outbox_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The name of the lease, as the loop last set it. */
static void outbox_reader_name(cf_outbox_t *self, char *name, size_t size)
{
    pthread_mutex_lock(&self->lock);
    snprintf(name, size, "%s", self->reader);
    pthread_mutex_unlock(&self->lock);
}

/* One XREAD over every shard; -1 on a Redis error. */
static int outbox_poll(outbox_reader_t *r)
{
    static const char *command[6] = { "XREAD", "COUNT", OUTBOX_STR(OUTBOX_BATCH), "BLOCK",
                                      OUTBOX_BLOCK_MS, "STREAMS" };
    const char **argv = r->argv;
    memcpy(argv, command, sizeof command);
    for (unsigned s = 0; s < r->streams; s++) {
        argv[6 + s] = r->keys[s];
        argv[6 + r->streams + s] = r->cursor[s];
    }
    /* the cursors WATCHed and compared in the same round trip as the XREAD:
       what another reader saved meanwhile is not read again, and its save
       after this refuses this reader's commit (cf_outbox_commit) */
    cf_outbox_cursor_watch(r->redis);
    redisAppendCommandArgv(r->redis, (int) (6 + 2 * r->streams), argv, NULL);
    clock_gettime(CLOCK_MONOTONIC, &r->polled_at);
    r->full = false;
    int moved = cf_outbox_cursor_check(r->redis, r->streams, (const char (*)[12]) r->fields,
                                       r->saved);
    const redisReply *reply = cf_outbox_replies_next(r->replies, r->redis);
    if (moved < 0 || !reply || reply->type == REDIS_REPLY_ERROR)
        return -1;          /* the thread drops the connection */
    if (moved) {
        memcpy(r->cursor, r->saved, r->streams * sizeof *r->cursor);
        return 0;
    }
    long handed = 0;
    unsigned from = 0;
    outbox_hand_over_reply(r, reply, &from, &handed);
    return cf_outbox_poll_done(r, handed);
}

/* Frees the shards' XREAD replies of a cluster poll. */
static void outbox_got_free(outbox_reader_t *r)
{
    for (unsigned s = 0; s + 1 < r->streams; s++)
        if (r->got[s]) {
            freeReplyObject(r->got[s]);
            r->got[s] = NULL;
        }
}

/* The same on a cluster: the cursors' WATCH and the milestones' XREAD
   ({pub}) go out on their connection first, then one XREAD per shard
   (each outbox is a slot of its own) through the cluster's context, which
   sends each node its share at once; none blocks. -1 on a Redis error. */
static int outbox_poll_cluster(outbox_reader_t *r)
{
    unsigned pub = r->streams - 1;
    const char *argv[6] = { "XREAD", "COUNT", OUTBOX_STR(OUTBOX_BATCH), "STREAMS", NULL, NULL };
    cf_outbox_cursor_watch(r->redis);
    argv[4] = r->keys[pub];
    argv[5] = r->cursor[pub];
    redisAppendCommandArgv(r->redis, 6, argv, NULL);
    for (int done = 0; !done;)
        if (redisBufferWrite(r->redis, &done) != REDIS_OK)
            return -1;
    for (unsigned s = 0; s < pub; s++) {
        argv[4] = r->keys[s];
        argv[5] = r->cursor[s];
        cf_redis_cluster_append_argv(r->cluster, 4, 6, argv, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &r->polled_at);
    r->full = false;
    int rc = 0;
    for (unsigned s = 0; s < pub && rc == 0; s++)
        if (cf_redis_cluster_get_reply(r->cluster, &r->got[s]) < 0
            || r->got[s]->type == REDIS_REPLY_ERROR)
            rc = -1;
    int moved = cf_outbox_cursor_check(r->redis, r->streams, (const char (*)[12]) r->fields,
                                       r->saved);
    const redisReply *reply = cf_outbox_replies_next(r->replies, r->redis);
    if (rc < 0 || moved < 0 || !reply || reply->type == REDIS_REPLY_ERROR) {
        outbox_got_free(r);
        return -1;          /* the thread drops the connections */
    }
    long handed = 0;
    unsigned from = 0;
    for (unsigned s = 0; s < pub && !moved; s++)
        outbox_hand_over_reply(r, r->got[s], &from, &handed);
    outbox_got_free(r);
    if (moved) {
        memcpy(r->cursor, r->saved, r->streams * sizeof *r->cursor);
        return 0;
    }
    outbox_hand_over_reply(r, reply, &from, &handed);
    return cf_outbox_poll_done(r, handed);
}

/* A poll, when this broker's reader holds the lease (cf_outbox_lease.c);
   else only the snapshots, and a look at the lease again a little later.
   -1 on a Redis error. */
static int outbox_read(outbox_reader_t *r)
{
    char name[sizeof r->self->reader];
    outbox_reader_name(r->self, name, sizeof name);
    int held = cf_outbox_lease_hold(&r->lease, r->redis, name, outbox_now_ms());
    if (held < 0)
        return -1;
    if (!held) {            /* another broker's reader reads */
        outbox_sleep_ms(r->self, 200);
        return cf_outbox_serve_snapshots(r, OUTBOX_SNAPSHOTS_IDLE);
    }
    return r->cluster ? outbox_poll_cluster(r) : outbox_poll(r);
}

/* Closes the connections, after a Redis error or at the end. */
static void outbox_disconnect(outbox_reader_t *r)
{
    if (r->redis)
        redisFree(r->redis);
    r->redis = NULL;
    cf_redis_cluster_destroy(&r->cluster);
}

void *cf_outbox_reader_run(void *arg)
{
    cf_outbox_t *self = arg;
    outbox_reader_t r = { .self = self, .streams = self->shards + 1 };
    cf_outbox_batch_init(&r.batch);
    msgpack_sbuffer_init(&r.pack);
    r.notes = cf_outbox_notes_new();
    r.replies = cf_outbox_replies_new();
    r.keys = cf_calloc(r.streams, sizeof *r.keys);
    r.fields = cf_calloc(r.streams, sizeof *r.fields);
    r.cursor = cf_calloc(r.streams, sizeof *r.cursor);
    r.saved = cf_calloc(r.streams, sizeof *r.saved);
    r.argv = cf_calloc(6 + 2 * r.streams, sizeof *r.argv);
    r.got = cf_calloc(r.streams, sizeof *r.got);
    for (unsigned s = 0; s < self->shards; s++) {
        cf_keys_fixed(r.keys[s], sizeof r.keys[s], s, CF_KEYS_OUTBOX);
        snprintf(r.fields[s], sizeof r.fields[s], "s%u", s);
    }
    snprintf(r.keys[self->shards], sizeof r.keys[0], "%s", cf_keys_pub(CF_KEYS_PUB_OUTBOX));
    snprintf(r.fields[self->shards], sizeof r.fields[0], "pub");
    r.pair = zmq_socket(self->ctx, ZMQ_PAIR);
    int linger = 0, timeout = 200, hwm = OUTBOX_PAIR_HWM;
    zmq_setsockopt(r.pair, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(r.pair, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(r.pair, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    zmq_connect(r.pair, self->endpoint);
    int backoff = 100;
    while (!atomic_load(&self->stop)) {
        if ((!r.redis && outbox_connect(&r) < 0)
            || outbox_read(&r) < 0) {
            atomic_fetch_add(&self->errors, 1);
            outbox_disconnect(&r);
            outbox_sleep_ms(self, backoff);
            backoff = backoff * 2 > OUTBOX_BACKOFF_MAX ? OUTBOX_BACKOFF_MAX : backoff * 2;
            continue;
        }
        backoff = 100;
        outbox_pace(&r);
    }
    char name[sizeof self->reader];
    outbox_reader_name(self, name, sizeof name);
    cf_outbox_lease_release(&r.lease, r.redis, name);
    outbox_disconnect(&r);
    cf_outbox_batch_free(&r.batch);
    msgpack_sbuffer_destroy(&r.pack);
    cf_outbox_notes_destroy(&r.notes);
    cf_outbox_replies_destroy(&r.replies);      /* after redisFree: its reader may hold some */
    free(r.keys), free(r.fields), free(r.cursor), free(r.saved), free(r.argv), free(r.got);
    zmq_close(r.pair);
    return NULL;
}
