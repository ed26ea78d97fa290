/*  cf_outbox internals: the object the loop and the reader thread share,
    the reader's connections (cf_outbox_connect.c), the thread's state
    (cf_outbox_reader.c) and what ends each of its polls (cf_outbox_round.c),
    the batch the reader thread has handed over, merged
    (cf_outbox_batch.c), the milestone marks and bodies (cf_outbox_marks.c),
    its commit (cf_outbox_commit.c), and the snapshot a late subscriber asks
    for (cf_outbox_snapshot.c). Not installed.                              */
#ifndef CF_OUTBOX_INTERNAL_H
#define CF_OUTBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include "caseflow/cf_event.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_outbox_notes.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_redis_cluster.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_store.h"
#include "cf_outbox.h"

#define OUTBOX_PROGRAMMES   64      /* programmes with returns in one batch */

/*  One merged entry of a batch: a field ("<programme>|<stage>" of the
    figures, "<case_id>|<limit>" of the open alerts) and what the batch
    does to it. Offsets are into the batch's bytes.                         */
typedef struct {
    size_t key, key_len;
    int64_t cases, persons;             /* figures: the sums */
    size_t body, body_len;              /* alerts: the last opening's body */
    bool open;                          /* alerts: the last word opens (else closes) */
} outbox_item_t;

/*  Items in first-seen order, with an open-addressing index by field.      */
typedef struct {
    outbox_item_t *items;
    size_t count, capacity;
    uint32_t *slots;                    /* item index + 1; 0: empty */
    size_t nslots;
} outbox_items_t;

/*  What one batch of notifications changes in the publisher's state:
    returns per programme (milestones), figures per programme and stage
    summed, the overdue alerts' last word per field (the snapshot); each in
    the order first seen.                                                    */
typedef struct {
    struct {
        char name[CF_PROGRAMME_MAX + 1];
        int64_t cases, persons;
    } returns[OUTBOX_PROGRAMMES];
    size_t programmes;
    outbox_items_t figures, alerts;
    char *bytes;                        /* the items' fields and bodies */
    size_t bytes_len, bytes_cap;
    size_t opened;                      /* alerts whose last word opens */
    msgpack_zone zone;                  /* each body's objects, cleared after it: one
                                           allocation for the thread, not one per body */
} outbox_batch_t;

void cf_outbox_batch_init(outbox_batch_t *b);
void cf_outbox_batch_free(outbox_batch_t *b);
void cf_outbox_batch_clear(outbox_batch_t *b);

/*  Takes one shard notification (topic, msgpack body) into the batch.      */
void cf_outbox_batch_note(outbox_batch_t *b, const char *topic, size_t topic_len,
                          const char *body, size_t body_len);

/*  The milestone marks of the rules in force, per programme ("*": any
    other), read from cf_rules_pack's map (cf_outbox_marks.c).              */
typedef struct {
    char name[CF_RULES_NAME_MAX + 1];
    size_t count;
    cf_rules_mark_t marks[CF_RULES_MAX_MARKS];
} outbox_programme_marks_t;

typedef struct {
    outbox_programme_marks_t *programmes;
    size_t count;
} outbox_marks_t;

/*  The milestones of a cf_rules_pack map (packed, len bytes) into a new
    table; a pack without them (or not a map) gives an empty one.           */
outbox_marks_t *cf_outbox_marks_new(const void *packed, size_t len);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_outbox_marks_destroy(outbox_marks_t **self_p);

/*  The marks of programme: its own, else those of "*", else NULL.         */
const outbox_programme_marks_t *cf_outbox_marks_of(const outbox_marks_t *self,
                                                   const char *programme);

/*  The hash field in cf:{pub}:marks that says mark of programme was
    announced, "<programme>|<cases or persons>|<mark>" (the number as Lua
    wrote it, %.14g, so that marks announced before stay announced).        */
void cf_outbox_mark_flag(char *out, size_t size, const char *programme,
                         const cf_rules_mark_t *mark);

/*  Which of the marks the totals cross going from before to after
    ({cases, persons}): before < mark <= after on its kind and not
    announced[i] (announced may be NULL: none). Their indices into
    reached, in the rules' order; returns how many.                         */
size_t cf_outbox_marks_reached(const outbox_programme_marks_t *marks, const int64_t before[2],
                               const int64_t after[2], const bool *announced, size_t *reached);

/*  A milestone notification's body: the msgpack map {programme, mark,
    kind, returned_cases, returned_persons}, byte for byte as
    cmsgpack.pack made it when a script announced milestones (its keys in
    that order), so that bodies do not change with the commit's way.       */
void cf_outbox_milestone_body(msgpack_sbuffer *out, const char *programme,
                              const cf_rules_mark_t *mark, const int64_t after[2]);

/*  Saves what the reader has handed over (cf_outbox_commit.c): the cursors
    that moved (fields[s] = cursor[s] of cf:{pub}:cursor where cursor[s]
    differs from saved[s]), the batch's figures, open
    alerts and returns, and the milestones the returns reach, in one
    MULTI/EXEC of plain commands. The connection has WATCHed
    cf:{pub}:cursor since it read saved[] there (cf_outbox_cursor_check);
    the returns and marks are read under WATCH when marks may be reached.
    EXEC refused (a watched key moved) reads again. Returns the milestones
    announced (>= 0), -1 on a Redis error, or -2 when another reader moved
    the cursors (they are then in saved[], and nothing was written).        */
int cf_outbox_commit(redisContext *redis, unsigned streams, const char (*fields)[12],
                     const char (*cursor)[48], char (*saved)[48], const outbox_batch_t *batch,
                     const outbox_marks_t *marks);

/*  WATCH cf:{pub}:cursor and HGETALL it, appended to redis's output (the
    caller sends them with what follows); cf_outbox_cursor_check reads the
    two replies and compares the cursors with saved[]: 0 when they are the
    same, 1 when another reader moved them (saved[] then holds the new
    ones), -1 on a Redis error.                                             */
void cf_outbox_cursor_watch(redisContext *redis);
int cf_outbox_cursor_check(redisContext *redis, unsigned streams, const char (*fields)[12],
                           char (*saved)[48]);

/*  The reader's lease (cf_outbox_lease.c): one broker's reader reads at a
    time. CF_OUTBOX_LEASE_MS is how long a lease lasts unrenewed: how long
    the notifications wait for another broker after the holder is killed.   */
#define CF_OUTBOX_LEASE_MS  3000

typedef struct {
    bool held;
    int64_t next_ms;                    /* when to renew it, or look again */
} outbox_lease_t;

/*  Takes or renews the lease cf:{pub}:reader for name when due (a third of
    the lease after the last look; else answers from then): 1 when this
    reader holds it, 0 when another does, -1 on a Redis error. Nothing may
    be pending on redis; it leaves nothing WATCHed.                          */
int cf_outbox_lease_hold(outbox_lease_t *lease, redisContext *redis, const char *name,
                         int64_t now_ms);

/*  Lets the lease go, if name still holds it, so that another broker's
    reader takes over at once (a broker stopping). redis may be NULL.        */
void cf_outbox_lease_release(outbox_lease_t *lease, redisContext *redis, const char *name);

/*  The reader's arena for its XREAD replies (cf_outbox_reply.c).         */
typedef struct _outbox_replies_t outbox_replies_t;

outbox_replies_t *cf_outbox_replies_new(void);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_outbox_replies_destroy(outbox_replies_t **self_p);

/*  Sends one command (argv form, as redisCommandArgv) and reads its reply
    into the arena: the same redisReply tree hiredis would make, valid until
    the next call, and never given to freeReplyObject. NULL when the
    connection failed; the reader may then hold objects of the arena, so
    the caller must redisFree the context before anything else.             */
redisReply *cf_outbox_replies_command(outbox_replies_t *self, redisContext *redis, int argc,
                                      const char **argv, const size_t *argvlen);

/*  The same for a command the caller has appended (redisAppendCommandArgv)
    after others whose replies it has read with redisGetReply: reads the
    next reply into the arena. NULL as above.                               */
redisReply *cf_outbox_replies_next(outbox_replies_t *self, redisContext *redis);

/*  The snapshot body, read in one transaction from the {pub} keys:
    {cursors: {s0..s7, pub: entry id}, returns: {...}, figures: {...},
    open_alerts: [body...], last_milestones: {programme: body}}. 0 / -1.   */
int cf_outbox_snapshot(redisContext *redis, msgpack_sbuffer *out);

#define OUTBOX_PAIR_HWM     8       /* packs waiting for the loop, each end: about as many
                                       entries as the default when each was 3 messages */

/*  The outbox reader (cf_outbox.c): what the loop sets and the thread
    (cf_outbox_reader.c) reads, and how it connects (below).                */
struct _cf_outbox_t {
    void *ctx, *pair;
    char *host, *endpoint;
    int port;
    unsigned shards;                /* the deployment's count: streams shards + 1 */
    cf_redis_auth_t *auth;          /* sent on every connect; NULL: none */
    char *library;                  /* the function library's body (cf_store_script_library) */
    size_t library_len;
    char version[CF_STORE_VERSION_LEN + 1];     /* its version, which Redis must hold */
    pthread_mutex_t lock;           /* guards marks and reader: the loop sets, the thread reads */
    char reader[160];               /* the name of its lease (cf_outbox_lease.c) */
    outbox_marks_t *marks;          /* the rules' milestones */
    pthread_t thread;
    bool started;
    atomic_int stop;
    atomic_uint_fast64_t errors;
};

/*  The connection for the {pub} keys, and (in *cluster) the context of a
    Redis Cluster's outboxes, NULL on a single server, which then gets the
    one connection (cf_outbox_connect.c): authenticated, agreeing on the
    shard count, and with the function library that Redis must hold. NULL
    with why, and *answered set when Redis refused (credentials, no
    library, another shard count) rather than could not be reached.        */
redisContext *cf_outbox_open(cf_outbox_t *self, cf_redis_cluster_t **cluster, char *why,
                             size_t size, bool *answered);

/*  The reader thread's body, self the cf_outbox_t: reads the outboxes and
    hands their entries to the loop until self->stop (cf_outbox_reader.c). */
void *cf_outbox_reader_run(void *self);

/*  The reader thread's state (cf_outbox_reader.c): its connections, its end
    of the pair, the cursors, and what it is handing over.                  */
typedef struct {
    cf_outbox_t *self;
    redisContext *redis;            /* the {pub} keys' node (a single server: it) */
    cf_redis_cluster_t *cluster;    /* on a cluster, the shards' outboxes; else NULL */
    redisReply **got;               /* on a cluster, each shard's XREAD reply */
    void *pair;                     /* the thread's end */
    unsigned streams;               /* the shards', then the milestones' */
    char (*keys)[CF_KEYS_MAX];
    char (*fields)[12];             /* s0, s1, ..., pub: in cf:{pub}:cursor */
    char (*cursor)[48];             /* where the reader has got to */
    char (*saved)[48];              /* where cf:{pub}:cursor says it had, under WATCH */
    const char **argv;              /* the XREAD's */
    outbox_batch_t batch;           /* what the batch being handed over changes */
    outbox_replies_t *replies;      /* the XREADs' */
    cf_outbox_notes_t *notes;       /* the entry being handed over, read */
    msgpack_sbuffer pack;           /* entries not yet sent to the loop */
    size_t packed;                  /* how many */
    time_t trimmed_at;
    struct timespec polled_at;      /* when the last XREAD was sent (CLOCK_MONOTONIC) */
    bool full;                      /* it filled a stream's COUNT: more is waiting */
    outbox_lease_t lease;           /* whether this broker's reader reads now */
} outbox_reader_t;

/* ---- cf_outbox_round.c: what ends each of the reader's polls ----------- */

#define OUTBOX_SNAPSHOTS_IDLE 4     /* snapshots answered after a read that found none */

/*  Sends r's packed entries to the loop, if any; -1 when stopping.          */
int cf_outbox_flush(outbox_reader_t *r);

/*  Answers at most max waiting snapshot requests on the pair; -1 on Redis. */
int cf_outbox_serve_snapshots(outbox_reader_t *r, int max);

/*  Ends a poll that handed over handed entries (-1: stopping); -1 on Redis. */
int cf_outbox_poll_done(outbox_reader_t *r, long handed);

#endif
