/*  cf_store internals shared by cf_store.c (the object, its settings),
    cf_store_error.c (the errors, and dropping the connection),
    cf_store_connect.c (the connection, opened and checked),
    cf_store_redis.c (commands, replies, WATCHes, every master),
    cf_store_masters.c (loading the library, its version, persistence), and
    the apply path, the overdue timer, the sweep, the counters and dead
    letters (cf_store_apply.c, _group.c, _read.c, _fold.c, _commit.c,
    _due.c, _sweep.c, _counters.c, _dlq.c, _replicas.c). Not installed.     */
#ifndef CF_STORE_INTERNAL_H
#define CF_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_redis_cluster.h"
#include "caseflow/cf_event.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"


/*  What the overdue timer saw of a shard whose fence the store does not
    hold (cf_store_due.c): another worker owns it and fires its deadlines;
    this store fires them only once it has seen the same one due for
    CF_STORE_DUE_GRACE_MS.                                                   */
typedef struct {
    uint64_t first;                 /* hash of the shard's first deadline due and its time */
    int64_t since;                  /* when (seen_ms) the timer first saw it */
    bool fired;                     /* the timer fired the shard at its last look */
} cf_store_due_seen_t;

#define CF_STORE_MASTERS_MAX    64  /* a cluster's masters the store checks and loads */
#define CF_STORE_LANES          8   /* a cluster's connections per node: shards of one job
                                       committed at once on one node (cf_store_apply.c) */

#define CF_STORE_DUE_LOOK 16    /* shards a step of the overdue timer looks at (cf_store_due.c) */

/*  A WATCH sent toward a slot on one lane, which its EXEC or UNWATCH ends.  */
typedef struct {
    int slot;
    unsigned lane;
} cf_store_watch_t;

typedef struct _cf_store_batch_t cf_store_batch_t;

/*  The apply path's batch, laid out by shard (cf_store_group.c): its events
    grouped by shard, per group its reads, fold and commit. Kept apart from
    the store's connection and its owned shards, so that a batch's state is
    one object the store holds. Reused from one batch to the next.          */
struct _cf_store_batch_t {
    size_t *order;                  /* event indexes grouped by shard */
    unsigned *shard;                /* each event's shard */
    size_t *unique;                 /* per shard: one event of each case, then of each route */
    unsigned char (*digests)[CF_KEYS_EID_DIGEST];   /* each event's marker field */
    unsigned *buckets;              /* and its bucket */
    uint32_t *case_slots;           /* a batch's cases: event index + 1 of its first, 0 empty */
    size_t case_slots_n;            /* a power of two, at least twice the events */
    bool *fresh;                    /* per order position: applied as new */
    size_t order_capacity, fresh_capacity;
    size_t groups;                  /* the batch's shards, each a group (apply_group) */
    size_t *start;                  /* groups + 1: each group's first order position */
    unsigned *group_shard;          /* each group's shard */
    size_t *cases, *routes;         /* each group's distinct cases and routes */
    unsigned char *pending;         /* each group: to run (again) */
    unsigned char *fenced;          /* each group: a fence refused its commit */
    unsigned char *commit_state;    /* each group: its commit's cf_store_commit_state_t */
    unsigned char *waiting;         /* each group: not started (a cluster runs a few at a time) */
    unsigned char *group_lane;      /* each group: its lane in its wave (0 on one server) */
    unsigned char *probes;          /* each group: the type probes at the end of its reads */
    unsigned char *exists;          /* each group: its reads count its case keys (EXISTS) */
    uint32_t *unprobed;             /* each group: the fixed keys the cache vouches for that
                                       it did not probe (cf_store_probes.c) */
    size_t *group_alerts;           /* each group: the overdue alerts its commit fires */
    struct _cf_commit_t **commits;  /* the apply path's, one per group */
    size_t commits_capacity;
    redisReply **reads;             /* the replies of the read round */
    size_t nreads, reads_capacity;
    size_t *read_start;             /* groups + 1: where each group's replies are */
    size_t read_unwatch, read_claims;   /* the read round's replies before its clocks */
    size_t *by_bucket;              /* order positions, a group's sorted by marker bucket */
    size_t *marker_at;              /* per order position: its bucket's HMGET reply, */
    unsigned *marker_pos;           /* ... and its field there */
    long long eid_generation;       /* the markers' generation, as the last read round's TIME said */
    int64_t apply_clock;            /* the overdue timer's clock, as the last read round read it */
    uint32_t request;               /* the request's tag, 0 for none */
    uint32_t *event_tags;           /* cf_store_set_requests: each event's, for one call */
    size_t event_tag_count, event_tag_capacity;
    size_t fenced_events;           /* of the last cf_store_apply, left busy */
};

/*  The store object (cf_store.c, cf_store_counters.c). */
struct _cf_store_t {
    char *host;
    int port;
    char *script_dir;
    uint32_t eid_ttl;
    uint32_t case_ttl;
    unsigned shards;                /* the deployment's count (cf_store_set_shards) */
    bool shards_record;             /* record it when Redis holds none */
    uint64_t *fence;                /* per shard: the epoch its commits need, 0 none */
    uint64_t *unfenced_seen;        /* per shard: the hash of its owner record's "unfenced"
                                       when last read fenced (0: none); another drops the
                                       shard's cache (cf_store_fold_fenced) */
    uint32_t *vouched;              /* per shard: the fixed keys its cache vouches for ... */
    uint64_t *vouched_version;      /* ... worked out at this cf_commit_cache_types_version */
    uint32_t writes_of_type[CF_EV_TYPE_COUNT];  /* per event type: the fixed keys the commits
                                       of its events wrote (cf_store_probes.c) */
    uint32_t types_learnt;          /* the event types met alone in a group: known */
    uint32_t build_unprobed;        /* the commit being built: its group's unprobed, */
    uint32_t build_written;         /* ... and the fixed keys it writes */
    uint64_t stamp_id;              /* this store's, in its stamps of owner records: of
                                       its process, its time of birth and its address */
    uint64_t stamps;                /* this store's stamps so far (cf_store_commit_stamp) */
    unsigned char *claimed;         /* per shard: this connection claimed its owner record
                                       (cf_store_read.c, cf_store_append_claim) */
    struct _cf_commit_cache_t *cache;   /* per fenced shard: what its commits left (cf_commit_cache) */
    uint64_t *owned;                /* per shard: the epoch of the last job fenced on it (kept
                                       past cf_store_clear_fences), 0 none: this store's
                                       overdue timer fires its deadlines at once */
    bool fenced_once;               /* a fence was set: until then it fires every shard's at once */
    cf_store_due_seen_t *due_seen;  /* per shard: what the timer saw of its deadlines */
    cf_redis_cluster_t *redis;      /* one server or a cluster (lane 0); NULL: not made yet */
    cf_redis_cluster_t *lanes[CF_STORE_LANES];  /* on a cluster: [0] redis, then contexts of
                                       their own, so that several shards' transactions on one
                                       node each have a connection (a WATCH is a connection's) */
    unsigned nlanes;                /* 1 on a single server */
    unsigned lane;                  /* where the next command goes (0 but in the apply path) */
    unsigned char *fifo;            /* with lanes: the lane of each command not yet answered */
    size_t fifo_head, fifo_tail, fifo_capacity;
    bool unflushed;                 /* with lanes: commands appended since the last flush */
    bool connected;                 /* redis is open (else opened by the next call) */
    bool cluster;                   /* redis speaks to a Redis Cluster */
    int *slots;                     /* per shard: its keys' cluster slot */
    cf_store_watch_t *watched;      /* where a WATCH of this store's may be left */
    size_t nwatched;
    char redirected[200];           /* a redirection met (cluster): why the connection was dropped */
    int emit_slot;                  /* where commit_emit sends (cf_store_commit.c) */
    cf_redis_auth_t *auth;          /* sent on every (re)connect; NULL: none */
    char *library;                  /* the function library's body, made once */
    size_t library_len;
    char version[CF_STORE_VERSION_LEN + 1];     /* its version, the first argument of each FCALL */
    bool library_ok;                /* Redis holds it (checked on this connection) */
    struct _cf_fold_t *fold;        /* the domain logic (cf_fold), with the rules */
    struct _cf_commit_t *due_commits[CF_STORE_DUE_LOOK];  /* a step of the overdue timer's,
                                                             one per shard it fires */
    bool wrote;                     /* the connection wrote something (cf_store_replicas.c) */
    unsigned ack_replicas;          /* cf_store_set_ack_replicas; 0: no WAIT */
    int ack_timeout_ms;
    char rules_error[160];          /* why the rules could not be read; "" */
    cf_store_batch_t *batch;        /* the apply path's batch (cf_store_group.c), reused */
    size_t *shard_at;               /* shards + 1: the grouping's counting sort */
    const unsigned char *commit_lanes;  /* cf_store_commit_run's commits' lanes; NULL: lane 0 */
    const unsigned char **seen;     /* digests of one shard's batch, a set */
    size_t seen_slots;
    uint64_t conflicts;             /* transactions EXEC refused: a key watched changed */
    uint64_t alerts_fired;          /* overdue alerts of the apply path's commits that landed */
    uint64_t backoff_seed;          /* of the waits between colliding attempts */
    cf_store_err_t err;
    char errstr[256];
    cf_metric_t *latency, *errors;  /* NULL: not counted */
};

/*  Sets the error (code and message) and returns -1.                       */
int cf_store_fail(cf_store_t *self, cf_store_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*  Sets an I/O error from the context, drops the connection, returns -1.   */
int cf_store_fail_io(cf_store_t *self, const char *what);

/*  Drops the connection and what the store knew of it (replies awaited,
    WATCHes, claims, the owner's cache); the next call opens a new one.    */
void cf_store_disconnect(cf_store_t *self);

void cf_store_clear_error(cf_store_t *self);

/* ---- commands (cf_store_redis.c), the connection (cf_store_connect.c) ---- */

/*  The cluster slot of shard's keys (-1 on a single server: any).          */
int cf_store_slot(const cf_store_t *self, unsigned shard);

/*  Queues one command: routed by argv[key_arg] (-1: by slot), or by slot;
    formatted like redisCommand and routed by key (NULL: any node).        */
void cf_store_append_argv(cf_store_t *self, int key_arg, int slot, size_t argc,
                          const char **argv, const size_t *argvlen);
void cf_store_appendf(cf_store_t *self, const char *key, const char *fmt, ...);

/*  The next queued command's reply, the caller's to free; 0, or -1 after
    an I/O error or a redirection (a cluster whose map changed: the batch
    is given up, the connection dropped and made again by the next call),
    with the error set by cf_store_fail_io(self, what).                    */
int cf_store_get_reply(cf_store_t *self, redisReply **reply, const char *what);

/*  What fn does on the connection of one master, with why when it fails;
    cf_store_each_master runs it on each master (one server: the server),
    0 or -1 with the error set: an I/O error drops the connection, any
    other failure is fn's why with the code err (cf_store_redis.c).         */
typedef int (cf_store_master_fn)(cf_store_t *self, redisContext *c, void *arg, char *why,
                                 size_t size);
int cf_store_each_master(cf_store_t *self, cf_store_master_fn *fn, void *arg,
                         cf_store_err_t err);

/*  Reads and makes the function library of script_dir once (its body and
    version into the store). 0 / -1.                                        */
int cf_store_read_library(cf_store_t *self);

/*  One command, formatted and routed as cf_store_appendf: its reply, or
    NULL with the error set (cf_store_fail_io).                             */
redisReply *cf_store_command(cf_store_t *self, const char *key, const char *fmt, ...);

/*  WATCHes: one sent toward slot on the current lane, noted; an EXEC sent
    there, which ends them. cf_store_append_unwatch sends UNWATCH where any
    may be left.                                                            */
void cf_store_note_watch(cf_store_t *self, int slot);
void cf_store_note_exec(cf_store_t *self, int slot);


/*  Reconnects when there is no usable connection, and when need_library
    (the plain commands do not need it) makes sure Redis holds the function
    library (cf_store_library_ensure). 0 / -1.                              */
int cf_store_ensure(cf_store_t *self, int need_library);

/*  Sets the error for an error reply to a call of a library function
    (what): when the library is gone (cf_store_library_gone) it is checked
    again on the next call and the error is CF_STORE_ERR_IO, an outage
    until someone loads it; else CF_STORE_ERR_REDIS. Returns -1.            */
int cf_store_fail_call(cf_store_t *self, const char *what, const char *error_reply);

/* ---- the type probes (cf_store_probes.c) --------------------------------- */

/*  Appends group g's type probes to its reads: of the fixed keys its
    shard's owner's cache vouches for, those its events can write; the rest
    into batch->unprobed[g]. Returns how many.                              */
size_t cf_store_append_probes(cf_store_t *self, const cf_event_t *events, size_t g);

/*  Learns from group g's commit, which writes the fixed keys `written`,
    what its events' types write.                                           */
void cf_store_probes_learn(cf_store_t *self, const cf_event_t *events, size_t g,
                           uint32_t written);

/* ---- the commit (cf_store_commit.c): the apply path's and the overdue timer's */

/*  The commit's key index, in c, of shard s's fixed key `key`
    (cf_keys_fixed_t or family), with a type check unless it is a hash (a
    hash written is read first: its counters, its fields).                 */
size_t cf_store_commit_fixed(cf_store_t *self, struct _cf_commit_t *c, unsigned s, int key);

/*  Adds to c a new stamp of this store in shard s's owner record, field
    `field` ("unfenced" from an unfenced apply, "touched" from the overdue
    timer), checked first as every write. A fenced transaction of the shard
    watches that record and nothing else of the shard (cf_store_read.c), so
    every commit of the shard but its owner's fenced ones writes it.        */
void cf_store_commit_stamp(cf_store_t *self, struct _cf_commit_t *c, unsigned s,
                           const char *field);

/*  Adds the fold's output (after cf_fold_finish) to c as writes: states,
    counters, route days, deadlines, notifications.                         */
void cf_store_build_writes(cf_store_t *self, struct _cf_commit_t *c, unsigned s);

/*  A commit's state in cf_store_commit_run: SEND in, DONE, REFUSED or
    CONFLICT out; NONE is left alone.                                       */
typedef enum {
    CF_STORE_COMMIT_NONE, CF_STORE_COMMIT_SEND, CF_STORE_COMMIT_DONE, CF_STORE_COMMIT_REFUSED,
    CF_STORE_COMMIT_CONFLICT
} cf_store_commit_state_t;

/*  Checks the commits whose state is SEND (commit i of shard shards[i]),
    fenced (self->fence[shards[i]]: the owner's cache spares what it knows,
    docs/storage.md, "The owner's cache") or not (the full check round;
    the shard's cache is dropped), then writes the ones the checks pass in one MULTI/EXEC: DONE, or
    CONFLICT for all of them when EXEC found a watched key changed (nothing
    written; self->conflicts counts it). A commit refused (REFUSED: a check,
    or Redis would not queue the transaction) wrote nothing; the first
    refusal's reason, "shard N: ...", goes into why. Adds the notifications
    written to *notes (NULL: not counted). 0, 1 when one was refused, -1 on
    an I/O error (the store's error set).                                   */
int cf_store_commit_run(cf_store_t *self, struct _cf_commit_t **commits, size_t n,
                        unsigned char *state, const unsigned *shards, bool fenced, unsigned *notes,
                        char *why, size_t size);

/*  cf_store_commit_run for the overdue timer's commits, unfenced: they
    write no counter, so their shards' caches are neither used nor dropped
    (the owner's timer keeps its own, as another worker's timer does).     */
int cf_store_commit_beside(cf_store_t *self, struct _cf_commit_t **commits, size_t n,
                           unsigned char *state, const unsigned *shards, unsigned *notes,
                           char *why, size_t size);

/*  Appends UNWATCH wherever a WATCH may be left (the reads of an attempt
    that sent no EXEC); returns the replies it will get.                   */
size_t cf_store_append_unwatch(cf_store_t *self);

/*  Each of a batch's events' marker digest and bucket, into digests[] and
    buckets[] (cf_store_events.c): a case's bucket worked out once per batch,
    however many of its events the batch holds.                             */
void cf_store_eid_digests(cf_store_t *self, const cf_event_t *events, size_t count);

/* ---- the apply path's grouping (cf_store_group.c) ------------------------ */

/*  An empty batch; its arrays grow with the batches it holds.              */
cf_store_batch_t *cf_store_batch_new(void);

/*  Frees the batch, its commits and its arrays (not the replies of a read
    round: cf_store_free_reads), and nulls *self_p. NULL is fine.           */
void cf_store_batch_destroy(cf_store_batch_t **self_p);

/*  Groups a batch's events by shard: group g is the events
    order[start[g] .. start[g + 1]) of shard group_shard[g], in shard order
    (a counting sort keeps each shard's order); also each event's marker
    digest and bucket.                                                      */
void cf_store_group(cf_store_t *self, const cf_event_t *events, size_t count);

/*  Group g's distinct cases, then its distinct routes, each by name, as
    event indexes (one event of each) in the batch's unique[start[g]..]; their
    counts in *cases and *routes. After cf_store_group.                     */
void cf_store_distinct(cf_store_t *self, const cf_event_t *events, size_t g,
                       size_t *cases, size_t *routes);

/* ---- the apply path's reads (cf_store_read.c) ---------------------------- */

/*  One round trip that reads every pending group's states, markers and
    (fenced) owner record under WATCH, after the connection's claims, into
    the batch's reads from its read_start[g], with Redis's clock for the
    markers' generation. 0 / -1.                                             */
int cf_store_read(cf_store_t *self, const cf_event_t *events);
void cf_store_free_reads(cf_store_t *self);

/*  Group g's states read: part 0 its cases, part 1 its routes; the event
    (one of each) that names state j of a part; the index of the first
    reply of its states in the batch's reads.                                     */
size_t cf_store_read_count(const cf_store_t *self, size_t g, int part);
const cf_event_t *cf_store_read_event(const cf_store_t *self, const cf_event_t *events,
                                      size_t g, int part, size_t j);
size_t cf_store_read_states_at(const cf_store_t *self, size_t g);

/*  Appends the connection's claim on shard's owner record (HINCRBY of its
    field "claims"): a write that refuses any transaction watching the
    record from another connection (docs/storage.md, "The connection's
    claim"). The caller reads its reply.                                    */
void cf_store_append_claim(cf_store_t *self, unsigned shard);

/*  With ack-replicas set, waits for the replicas to hold what the batch's
    groups wrote (cf_store_replicas.c): on each node of their shards, first
    claiming a shard's owner record when the connection wrote nothing yet.
    0, or -1 with the error (CF_STORE_ERR_IO when too few replicas answered
    in time).                                                               */
int cf_store_wait_replicas(cf_store_t *self);

/*  The tag event i of this call writes into its marker and counts as its
    request's: its own (cf_store_set_requests), else the call's request's
    (cf_store_set_request); 0 for none.                                     */
uint32_t cf_store_tag(const cf_store_t *self, size_t i);

/*  The clock an operator set, from a GET cf:clock reply: *ms, or -1 when
    none is set (nil); -1 with the error set, of code err, when Redis
    refused the read (cf_store_due.c).                                       */
int cf_store_take_clock(cf_store_t *self, const redisReply *reply, cf_store_err_t err, int64_t *ms);

/*  The markers' generation (Redis's clock over --eid-ttl) of a TIME reply
    into *generation; 0, or -1 with the error (Redis's own words when it
    refused TIME).                                                           */
int cf_store_take_generation(cf_store_t *self, const redisReply *reply, long long *generation);

/*  Checks what the store relies on: known type, an event_id of 1..64 bytes,
    and for case events a 32-char lower-case hex case_id, a programme and
    1..64 persons on a registration. Returns 0, or -1 with why in err.      */
int cf_store_check_events(const cf_event_t *events, size_t count, char *err, size_t err_size);

/* ---- the apply path's fold (cf_store_fold.c) ----------------------------- */

/*  Group g of an attempt, after the read round: whether its shard is
    fenced off (cf_store_fold_fenced: 1, 0, -1); its shard's cache dropped
    when a type probe was refused (cf_store_fold_probed); its events
    folded, their statuses filled (cf_store_fold: 0 / -1); its commit built
    into the batch's commits[g], and whether it writes anything
    (cf_store_fold_build).                                                  */
int cf_store_fold_fenced(cf_store_t *self, size_t g);
void cf_store_fold_probed(cf_store_t *self, size_t g);
int cf_store_fold(cf_store_t *self, const cf_event_t *events, size_t g,
                  cf_ack_status_t *statuses);
bool cf_store_fold_build(cf_store_t *self, const cf_event_t *events, size_t g);

#endif
