/*  cf_store: caseflow's Redis state (docs/storage.md is the contract). A
    batch of validated events is split by shard; the worker computes each
    shard's result from the states it reads under WATCH (cf_fold) and commits
    it with plain commands in one MULTI/EXEC, atomically and idempotently (an
    event_id seen within the dedupe window is a duplicate and changes nothing
    but the duplicate counter); the reads of all shards go out in one
    pipelined round trip, their checks in another, and their writes in one
    transaction. The store reads only case_id, never case_ref, so the
    raw reference cannot reach Redis. Errors are returned as -1 with a code
    and a message on the object; the library never prints. A broken
    connection is reopened on the next call. Not thread-safe: one per thread. */
#ifndef CF_STORE_H
#define CF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "caseflow/cf_counts.h"
#include "caseflow/cf_event.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_shard.h"

#define CF_STORE_EID_TTL        (30u * 24 * 3600)   /* default dedupe window, s */
#define CF_STORE_CASE_TTL       (30u * 24 * 3600)   /* default life of a closed case's state, s */
#define CF_STORE_REJECT_SCRIPT  "count_rejection.lua"   /* a rejection, counted once */
#define CF_STORE_DEAD_SCRIPT    "dead_letter.lua"       /* a dead letter, set aside once */

/*  Reads the single script name of script_dir (dead_letter.lua,
    count_rejection.lua), after the single scripts' prelude, into a new
    text (the caller frees it). 0, or -1 with "path: reason" in err.        */
int cf_store_script_single(const char *script_dir, const char *name, char **text, size_t *len,
                           char *err, size_t err_size);

/*  The function library "caseflow" (Redis 7 Functions) that the workers and
    the broker call with FCALL, so that their Redis users may run no script
    of their own (docs/security.md). Its functions, each the script of the
    same name wrapped as a function, after its prelude:                      */
#define CF_STORE_LIBRARY        "caseflow"
#define CF_STORE_FN_REJECT      "caseflow_count_rejection"  /* CF_STORE_REJECT_SCRIPT */
#define CF_STORE_FN_DEAD        "caseflow_dead_letter"      /* CF_STORE_DEAD_SCRIPT */
#define CF_STORE_FN_VERSION     "caseflow_version"          /* no-writes: {version, record...} */
#define CF_STORE_VERSION_LEN    32      /* hex of the first 16 bytes of SHA-256 of the body */

/*  Reads the scripts of script_dir into the library's body (a new text; the
    caller frees it) and writes its version (SHA-256 of the body, cut to
    CF_STORE_VERSION_LEN hex digits, then NUL) into version. Every function
    but caseflow_version takes the version as its first argument and
    answers an error starting "CFVERSION" when Redis holds another one, so
    that a caller never runs a library other than its own. The body is not
    loadable alone: cf_store_library_load puts the header before it.
    0, or -1 with "path: reason" in err.                                     */
int cf_store_script_library(const char *script_dir, char **body, size_t *len, char *version,
                            char *err, size_t err_size);

/*  What Redis holds, as caseflow_version answers: the library's version
    ("" when Redis has no caseflow library) and the persistence settings
    recorded when it was loaded ("" when unknown).                            */
typedef struct {
    char version[CF_STORE_VERSION_LEN + 1];
    char appendfsync[16];
    char save[128];
} cf_store_library_info_t;

/*  Asks Redis at c (connected and authenticated) for info. 0, or -1 with
    the reason in err (c->err set on an I/O error).                          */
int cf_store_library_info(redisContext *c, cf_store_library_info_t *info, char *err,
                          size_t err_size);

/*  The Redis admin's part: loads the library (FUNCTION LOAD REPLACE) whose
    body and version cf_store_script_library made, recording the server's
    appendfsync and save (CONFIG GET), which the workers may not read, for
    cf_store_durability. 0, or -1 with the reason in err.                    */
int cf_store_library_load(redisContext *c, const char *body, size_t len, const char *version,
                          char *err, size_t err_size);

/*  Makes sure Redis at c holds the library of this version. When it holds
    none or another, loads it if this user may (an admin connection: tests,
    tools, Redis without ACL); a daemon's ACL user may not, and gets -1
    with an err that names the fix (caseflow-ctl functions load, as the
    Redis admin). 0 / -1.                                                    */
int cf_store_library_ensure(redisContext *c, const char *body, size_t len, const char *version,
                            char *err, size_t err_size);

/*  Whether an error reply means the library is missing or not the caller's
    version (ERR Function not found, CFVERSION ...).                         */
bool cf_store_library_gone(const char *error_reply);

/*  The prelude (a new text; the caller frees it): Lua locals made from the
    C tables: the publisher's KEYS (PUB_*). docs/storage.md.                */
char *cf_store_script_prelude(size_t *len);

typedef enum {
    CF_STORE_OK = 0,
    CF_STORE_ERR_IO,            /* connect, send, receive or timeout; Redis
                                   still loading its data after a restart; or
                                   the function library missing or outdated and
                                   not loadable by this user (an outage until
                                   an admin loads it) */
    CF_STORE_ERR_REDIS,         /* Redis answered with an error */
    CF_STORE_ERR_SCRIPT,        /* the script file could not be read */
    CF_STORE_ERR_INPUT,         /* bad arguments (e.g. a case event without case_id) */
    CF_STORE_ERR_PROTOCOL       /* a reply of an unexpected shape */
} cf_store_err_t;

typedef struct _cf_store_t cf_store_t;

/*  Creates a store for Redis at host:port that will load its scripts from
    script_dir, or, with script_dir NULL, a reader that can only read
    counters (caseflow-ctl). Does no I/O; the strings are copied.           */
cf_store_t *cf_store_new(const char *host, int port, const char *script_dir);

/*  Closes the connection, frees and nulls *self_p; accepts NULL.            */
void cf_store_destroy(cf_store_t **self_p);

/*  How long event_ids are remembered for dedupe (seconds, > 0, at most
    2^31); CF_STORE_EID_TTL by default. A resend after this is applied again. */
void cf_store_set_eid_ttl(cf_store_t *self, uint32_t seconds);

/*  How long a case's state (cf:{sN}:case:<id>) is kept after it is closed
    (1 .. 2^31 s; CF_STORE_CASE_TTL by default). Each later event of the case
    starts the time again; the aggregates it fed are never removed.         */
void cf_store_set_case_ttl(cf_store_t *self, uint32_t seconds);

/*  Acks that wait for replicas: each cf_store_apply that succeeds ends with
    Redis's WAIT for replicas (1 .. CF_STORE_ACK_REPLICAS_MAX) to hold every
    write of the call, up to timeout_ms (> 0); fewer fail the call as
    CF_STORE_ERR_IO (the events applied, not to be acked yet: an apply
    again finds them applied, and waits again). 0 (the default): no wait,
    the master's own persistence only (docs/reliability.md).               */
#define CF_STORE_ACK_REPLICAS_MAX 16
void cf_store_set_ack_replicas(cf_store_t *self, unsigned replicas, int timeout_ms);

/*  Where to count: latency observes each apply attempt (its read and commit round trips, in seconds),
    errors counts each failed Redis call (unreachable, error reply, bad
    reply). Either may be NULL; both must outlive the store.                  */
void cf_store_set_metrics(cf_store_t *self, cf_metric_t *latency, cf_metric_t *errors);
/*  The credentials sent (AUTH) on every connection from now on, copied;
    NULL: none. Set before cf_store_connect.                                 */
void cf_store_set_auth(cf_store_t *self, const cf_redis_auth_t *auth);

/*  Connects (2 s connect timeout, 10 s per command), makes the function
    library from script_dir and checks that Redis holds it
    (cf_store_library_ensure: loaded when missing or outdated only if this
    user may). Returns 0, or -1 with the error on the object. Calling it
    again reconnects.                                                        */
int cf_store_connect(cf_store_t *self);

/*  The version of the library this store's scripts make (version:
    CF_STORE_VERSION_LEN + 1 bytes). 0 / -1.                                 */
int cf_store_library_version(cf_store_t *self, char *version);

/*  What Redis holds (cf_store_library_info; version "" when no library).
    Needs no script directory. 0 / -1.                                      */
int cf_store_library_held(cf_store_t *self, cf_store_library_info_t *info);

/*  Loads the library from script_dir (FUNCTION LOAD REPLACE, with the
    record of the persistence settings), whatever Redis holds: the admin's
    command (caseflow-ctl functions load). On success writes its version
    (CF_STORE_VERSION_LEN + 1 bytes) into version. 0 / -1.                   */
int cf_store_load_library(cf_store_t *self, char *version);

/*  Applies count validated events (case events must have case_id set, 32
    lower-case hex chars). All events of one shard go in one script call, in
    their order; the calls of all shards are pipelined. Returns 0 with
    statuses[i] set to CF_ACK_ACCEPTED or CF_ACK_DUPLICATE for every event
    (CF_ACK_BUSY for the events of a shard a fence refused: cf_store_set_fence).
    The notifications the events cause (case.<programme>.<stage> and the
    alerts, docs/notifications.md) are appended to the shards' outbox
    streams cf:{sN}:outbox in the same atomic calls, for the broker to
    publish: they exist exactly once, with the counters they announce.
    Each shard's call is whole or nothing: everything Redis could refuse (a
    key of the wrong type, a counter that would overflow) is checked before
    its first write. Returns -1 on any error: statuses are undefined, and
    some shards may have committed. Running the same batch again for the
    same request (cf_store_set_request) is safe and truthful: an event that
    request applied before is found applied and reported accepted, one that
    another request applied is duplicate. When the library is missing or
    outdated (FUNCTION FLUSH, another version loaded), it is checked again
    (cf_store_library_ensure) and the call retried once. Reconnects first
    when the connection broke.                                              */
int cf_store_apply(cf_store_t *self, cf_event_t *events, size_t count,
                   cf_ack_status_t *statuses);

/*  How many of this store's commits a guard refused (CFSTALE: another
    worker changed a state it had read, or an event it took as new was
    applied): each was read and computed again. A measure of contention.   */
uint64_t cf_store_conflicts(const cf_store_t *self);

/*  How many overdue alerts this store's apply path fired, in the commits
    that landed: the deadlines a batch left already due by the clock
    (docs/notifications.md). The timer's are cf_store_fire_due's count.   */
uint64_t cf_store_alerts_fired(const cf_store_t *self);

/*  The request the next cf_store_apply calls serve: an opaque id of at
    most CF_STORE_REQUEST_MAX bytes (copied), the same for every attempt of
    one producer request (the worker passes the broker's job id, which a
    redelivery keeps). Each event's dedupe marker holds it, so that a retry
    or a redelivery of the request reports the events it applied earlier
    as accepted, not duplicate (docs/reliability.md, "Acks"). len 0 (the
    default): no request; every event already marked is duplicate.          */
#define CF_STORE_REQUEST_MAX    32
void cf_store_set_request(cf_store_t *self, const void *id, size_t len);
/*  Each event's request, for the next cf_store_apply only, which must get
    exactly count events: ids[i] (8 bytes each, as cf_store_set_request
    takes them) is event i's, for a job the broker bundled from the parts of
    several requests. That call uses them instead of cf_store_set_request's. */
void cf_store_set_requests(cf_store_t *self, const uint64_t *ids, size_t count);

/*  The notification rules the script applies, packed as cf_rules_pack
    writes them (a msgpack map; copied). Until set: no rules (no alerts, no
    milestones; case.* notifications only).                                 */
void cf_store_set_rules(cf_store_t *self, const void *packed, size_t len);

/*  One rejected event: the field its reason names and its event_id ("" or
    NULL when it has none that could be read).                               */
typedef struct {
    const char *field, *event_id;
} cf_store_rejection_t;

/*  Adds 1 to the quality counter rejected|<field> (a '|' in the field
    becomes '_') for each of the count rejections not counted before: an
    event_id rejected for the same field within the --eid-ttl window counts
    once, however often it is sent or retried; one without an id counts
    each time. One pipelined round trip of lua/count_rejection.lua calls;
    counted[i] (may be NULL) says whether rejection i counted now. 0 / -1.  */
int cf_store_count_rejections(cf_store_t *self, const cf_store_rejection_t *rejections,
                              size_t count, bool *counted);

/*  Reads family (stage, returns, vuln, demo or quality) from every shard
    (one pipelined HGETALL per shard, one round trip) and sums each field over the shards into a
    new *counts that the caller destroys. Returns 0, or -1 (with *counts
    NULL) on an error, a counter that is not an integer, or an unknown
    family. Needs no script and no prior cf_store_connect.                   */
int cf_store_read_family(cf_store_t *self, const char *family, cf_counts_t **counts);

/*  The shard of an event among this store's: its shard key's hash
    (event->shard_hash, set by cf_event_decode from the raw case_ref, route
    or event_id: cf_shard) modulo cf_store_shards. Pure.                    */
unsigned cf_store_shard_of(const cf_store_t *self, const cf_event_t *event);

/*  One step of the sweep of expired dedupe markers (docs/storage.md, "Dedupe
    markers"): reads the next few marker buckets from *cursor (over every
    shard's buckets; 0 to start, and again after the last) and deletes
    their markers older than the generation before the current one, each
    bucket under WATCH. Adds how many it deleted to *removed (set to 0
    first). 0, or -1 with the error: Redis failed (CF_STORE_ERR_IO: the same
    buckets next time), or a bucket of another type (the step is passed).
    A worker calls it once a second: every bucket is swept about every
    shards * CF_KEYS_EID_BUCKETS / 64 seconds (17 minutes with 64 shards). */
int cf_store_sweep_step(cf_store_t *self, unsigned *cursor, unsigned *removed);

/*  An event's dedupe marker: its field into digest, and its bucket
    (cf_keys_eid_digest: a case event's marker is known by its case_id and
    event_id and kept in its case's bucket; any other's by its event_id).
    Pure.                                                                    */
unsigned cf_store_eid_digest(const cf_event_t *event, unsigned char digest[CF_KEYS_EID_DIGEST]);

/*  How many shards the state is split into: the setting `shards`
    (1 .. CF_SHARD_MAX, CF_SHARD_DEFAULT until set), which every process of
    a deployment must share. Set before the first call that uses Redis: each
    connection checks it against the count Redis records
    (cf_store_shards_agree) and fails with CF_STORE_ERR_IO, naming both,
    when they differ. record: this store records its count when Redis holds
    none (a worker's; a tool's store only compares).                       */
void cf_store_set_shards(cf_store_t *self, unsigned shards, bool record);
unsigned cf_store_shards(const cf_store_t *self);

/*  Fences the commits of the next cf_store_apply calls on shard (below
    cf_store_shards): each also requires the shard's owner record
    (cf:{sN}:owner, field epoch) to hold epoch, the one the broker gave
    with the job; 0: no fence. cf_store_fence: the epoch set on shard, 0
    none. cf_store_clear_fences: none on any shard. A
    commit the fence refuses writes nothing and is not tried again: its
    events are left unapplied with the status CF_ACK_BUSY (the shard has
    another owner, which the broker sends them to), the other shards'
    commits stand, and cf_store_apply returns 0; cf_store_fenced says how
    many events the last call so left. The store keeps the last epoch set
    for each shard past cf_store_clear_fences: it owns that shard, and its
    overdue timer fires the shard's deadlines at once (cf_store_fire_due).  */
void cf_store_set_fence(cf_store_t *self, unsigned shard, uint64_t epoch);
uint64_t cf_store_fence(const cf_store_t *self, unsigned shard);
void cf_store_clear_fences(cf_store_t *self);
size_t cf_store_fenced(const cf_store_t *self);

/*  Checks shards against the count recorded in Redis at c (connected and
    authenticated); with record, records it when none is (SET NX). 0, or -1
    with why in err: another count (a message naming both and the fix), or
    the error of the call (c->err set on an I/O error).                     */
int cf_store_shards_agree(redisContext *c, unsigned shards, bool record, char *err,
                          size_t size);

/*  The last error's message ("" when none) and code.                        */
/*  How durable an accepted event is on this Redis, from its persistence
    settings: strict (AOF, fsync always), second (AOF, fsync everysec or
    no, or not known) or none (no AOF).                                      */
typedef enum {
    CF_STORE_DURABLE_STRICT = 0,
    CF_STORE_DURABLE_SECOND,
    CF_STORE_DURABLE_NONE
} cf_store_durability_t;

/*  Reads the settings and writes one sentence on what an ack means into
    text: whether the AOF is on from INFO persistence (now), appendfsync
    and save from the record the library's loader took (CONFIG GET, which
    a worker's user may not run); with no record, appendfsync is unknown and
    the mode second. 0, or -1 with the error on the object.                 */
int cf_store_durability(cf_store_t *self, cf_store_durability_t *mode, char *text, size_t size);

/* ---- poison events and dead letters (cf_store_dlq.c) ----------------- */

#define CF_DLQ_ID_MAX       48

/*  A dead letter: an event that could not be applied after its tries. The
    payload is the event's msgpack map as sent, with case_ref replaced by
    the pseudonym (never the raw reference). Strings point into the caller's
    memory when writing, into the reply when reading (valid in the call).   */
typedef struct {
    char id[CF_DLQ_ID_MAX];             /* stream entry id, when read */
    char event_id[CF_EVENT_ID_MAX + 1];
    char type[24];
    const char *payload;
    size_t payload_len;
    char error[256];                    /* what the last try met */
    unsigned tries;
    int64_t time_ms;                    /* when it was dead-lettered */
    uint64_t shard_hash;                /* the event's, from its raw shard key: the payload's
                                           case_ref is the pseudonym, which would hash to
                                           another shard (field shard_hash) */
    bool has_shard_hash;                /* when read: the entry had it */
} cf_dead_letter_t;

/*  Counts one more try at applying event_id, in cf:{dlq}:try:<event_id> (a
    hash that outlives a crashed worker, gone after a day), and reads the
    error a failed try left there ("" when none). 0 with *tries set (1 on a
    first try), or -1; on -1, *tries is not 0 when the try was counted all
    the same (Redis answered the increment), so that the caller can give it
    back (cf_store_try_undo) when the failure is an outage.                 */
int cf_store_try_begin(cf_store_t *self, const char *event_id, unsigned *tries,
                       char *last_error, size_t size);
/*  Gives back one try that cf_store_try_begin counted, for an attempt that
    met an outage (CF_STORE_ERR_IO) rather than a refusal of the event. A
    counter left at 0 (or made anew because the event's tries had ended
    meanwhile) is removed. Plain commands, no library. 0 / -1.             */
int cf_store_try_undo(cf_store_t *self, const char *event_id);
/*  Records the error of a failed try. 0 / -1.                               */
int cf_store_try_failed(cf_store_t *self, const char *event_id, const char *error);
/*  Forgets the tries of an event that was applied. 0 / -1.                  */
int cf_store_try_end(cf_store_t *self, const char *event_id);

/*  Appends letter to the dead-letter stream and counts quality dead_letter,
    unless its event is in the stream already (another worker set it aside:
    lua/dead_letter.lua); writes the entry's id into id (CF_DLQ_ID_MAX
    bytes). 0 / -1.                                                          */
int cf_store_dead_letter(cf_store_t *self, const cf_dead_letter_t *letter, char *id);

/*  Calls fn for each dead letter with first <= id <= last ("-" and "+" for
    the ends), oldest first; fn returns -1 to stop. 0 / -1.                  */
typedef int (cf_dlq_fn)(void *arg, const cf_dead_letter_t *letter);
int cf_store_dlq_read(cf_store_t *self, const char *first, const char *last, cf_dlq_fn *fn,
                      void *arg);
/*  Removes one entry (after a replay) and its event's marker, so that the
    event can be set aside again if it fails again. 0 / -1.                  */
int cf_store_dlq_delete(cf_store_t *self, const char *id, const char *event_id);

/* ---- overdue deadlines and the clock (cf_store_due.c) ----------------- */

/*  How long a worker waits before it fires the deadlines of a shard it does
    not own, in case the owner fires them: the alerts of a shard whose owner
    is gone, or never got a job, still fire, this late.                      */
#define CF_STORE_DUE_GRACE_MS 10000

/*  Fires, in every shard, the overdue alerts due by now_ms (at most 100 per
    shard and call): each goes to its shard's outbox once, however many
    workers call this. A store fires at once the deadlines of the shards it
    owns (the last fence set on them, cf_store_set_fence), or of every shard
    until a fence is first set; a shard's owner fires them, the others only a
    shard whose first deadline due they have seen due for
    CF_STORE_DUE_GRACE_MS by seen_ms (a monotonic clock, cf_clock_ms(); its
    owner is not firing), and after each such firing again as long as the
    owner leaves the next one alone. A store whose shard's owner record
    holds another epoch than its own no longer owns it. *fired gets how
    many fired. 0 / -1.                                                     */
int cf_store_fire_due(cf_store_t *self, int64_t now_ms, int64_t seen_ms, unsigned *fired);

/*  One step of that, so that a caller can do other work between steps (the
    worker answers its jobs): looks at up to 16 shards from *shard on and
    fires the alerts due by now_ms of those it fires, at most 100 of each,
    in one MULTI/EXEC (on a Redis Cluster, of one shard), until the step
    holds 256 alerts or more; *shard becomes the first shard not looked at
    or left for the next step; the round is over when *shard reaches
    cf_store_shards(). *fired gets how many fired. 0 / -1.                  */
int cf_store_fire_due_step(cf_store_t *self, int64_t now_ms, int64_t seen_ms, unsigned *shard,
                           unsigned *fired);

/*  The clock an operator set (caseflow-ctl clock set), for replays of past
    events and for tests: *ms gets it, or -1 when none is set (then the wall
    clock is the clock). 0 / -1.                                            */
int cf_store_clock(cf_store_t *self, int64_t *ms);

/*  Sets that clock to ms, or back to the wall clock with -1. 0 / -1.        */
int cf_store_set_clock(cf_store_t *self, int64_t ms);

/*  The script directory built in (CF_SCRIPT_DIR), for tools that apply
    events without a worker (caseflow-ctl dlq replay).                      */
const char *cf_store_default_scripts(void);

const char *cf_store_error(const cf_store_t *self);
cf_store_err_t cf_store_error_code(const cf_store_t *self);

#endif
