/*  cf_msg: the caseflow wire protocol, version 1 (docs/protocol.md). Its
    constants, and for every message a builder beside its parser, as CZMQ's
    zgossip_msg has them: no other file writes a signature frame or packs a
    protocol body.

    A builder sends the message's frames on the socket it is given; flags
    (0 or ZMQ_DONTWAIT) go with every frame. On a ROUTER the frames follow
    the peer's routing id (to, to_len); a DEALER's builders have none. Each
    returns 0, or -1 with errno from zmq_send (EAGAIN: the peer's queue is
    full). A parser reads a received cf_multipart_t and does no I/O: the
    fuzz harnesses (tests/fuzz) call the parsers the daemons call. Bodies
    (msgpack) have their own packers and readers here.

    The sources go by socket: cf_msg.c (the frames all messages share),
    cf_msg_intake.c (PUSH, ACK and its ack list, ERROR, SNAPSHOT),
    cf_msg_worker.c (READY, JOB, REDO, DONE, HEARTBEAT, BYE, EXIT),
    cf_msg_control.c (STATUS, WORKERS, DRAIN, PAUSE, RESUME, and OK or
    ERROR with their bodies) and cf_msg_notice.c (notifications).           */
#ifndef CF_MSG_H
#define CF_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <zmq.h>
#include "caseflow/cf_multipart.h"

#define CF_MSG_SIGNATURE        "CF01"  /* frame 0 of every message on intake, workers, control */

#define CF_MSG_MAX_EVENTS       1000    /* events in one PUSH */
#define CF_MSG_MAX_JOB_EVENTS   4000    /* events in one JOB: the broker bundles the parts of
                                           several PUSHes waiting for one worker, and a
                                           commit's cost per event falls with the events
                                           it holds of each shard (docs/performance.md) */
#define CF_MSG_MAX_REQ_ID       64      /* bytes of a producer's request id */
#define CF_MSG_MAX_DONE_PARTS   (40 * CF_MSG_MAX_JOB_EVENTS)   /* frames of one DONE (acks
                                           and notifications: 20 per event) */
#define CF_MSG_MAX_PUSH_BYTES   (16 << 20)  /* event bytes of one PUSH, all frames together */
#define CF_MSG_MAX_FRAME_BYTES  (1 << 20)   /* ZMQ_MAXMSGSIZE: one frame from a worker, and
                                               at the clients; a larger one drops the
                                               peer's connection */
#define CF_MSG_CURVE_OVERHEAD   33      /* bytes CURVE adds to a frame on the wire: the
                                           MESSAGE command's name 8, nonce 8, MAC 16, flags 1 */
#define CF_MSG_MAX_INTAKE_FRAME_BYTES (68 << 10)    /* ZMQ_MAXMSGSIZE on the intake and the
                                               control socket: one event (64 KiB,
                                               CF_EVENT_MAX_BYTES) with CURVE's overhead
                                               and 4 KiB over, so that an event a little
                                               too large is still answered `rejected` */
#define CF_MSG_MAX_SUBSCRIPTION_FRAME 512   /* ZMQ_MAXMSGSIZE on the publish socket: a
                                               subscription (topic prefix and its 10-byte
                                               SUBSCRIBE name, CURVE's overhead), and the
                                               handshake's commands (INITIATE, ~300 bytes) */
#define CF_MSG_MAX_SNAPSHOT_BYTES (64 << 20)  /* a SNAPSHOT answer, at the subscriber */
#define CF_MSG_WORKER_ID_MAX    16      /* a worker's id in DRAIN ("w1"), with its NUL */
#define CF_MSG_MAX_WORKER_NOTICE_BYTES 1024 /* a notification's body in a DONE (a reject
                                               is at most about 450) */

/*  The commands, frame 1 after the signature. One table in cf_msg.c names
    them.                                                                    */
typedef enum {
    CF_MSG_NONE = 0,            /* not CF01, too short, or unknown */
    /* intake (producer, subscriber DEALER -> broker ROUTER) */
    CF_MSG_PUSH, CF_MSG_SNAPSHOT, CF_MSG_ACK, CF_MSG_ERROR,
    /* workers (worker DEALER -> broker ROUTER) */
    CF_MSG_READY, CF_MSG_JOB, CF_MSG_REDO, CF_MSG_DONE, CF_MSG_HEARTBEAT, CF_MSG_BYE,
    CF_MSG_EXIT,
    /* control (operator DEALER -> broker ROUTER); replies OK or ERROR */
    CF_MSG_STATUS, CF_MSG_WORKERS, CF_MSG_DRAIN, CF_MSG_PAUSE, CF_MSG_RESUME, CF_MSG_OK,
    CF_MSG_COMMAND_COUNT
} cf_msg_command_t;

/*  The command's name on the wire ("PUSH"), NULL for CF_MSG_NONE.         */
const char *cf_msg_command_name(cf_msg_command_t command);

/*  True when frame index is CF01 and a command frame follows it: a
    caseflow message, whether or not its command is known.                 */
bool cf_msg_signed(cf_multipart_t *parts, size_t index);

/* ==== intake: producers and subscribers (cf_msg_intake.c) ================ */

typedef enum {
    CF_ACK_ACCEPTED = 0,    /* applied and committed in Redis */
    CF_ACK_DUPLICATE,       /* its event_id was applied before; nothing changed */
    CF_ACK_REJECTED,        /* invalid; reason names the field; never retried */
    CF_ACK_BUSY,            /* not taken (queue full); send it again later */
    CF_ACK_STATUS_COUNT
} cf_ack_status_t;

/*  "accepted", "duplicate", "rejected", "busy".                              */
const char *cf_ack_status_name(cf_ack_status_t status);

/*  Parses a status name; returns -1 when it is none of them.                 */
int cf_ack_status_parse(const char *name, size_t len, cf_ack_status_t *status);

/*  One acknowledgement. event_id and reason point into the caller's (or the
    decoded buffer's) memory; either may be NULL.                             */
typedef struct {
    cf_ack_status_t status;
    const char *event_id;
    size_t event_id_len;
    const char *reason;
    size_t reason_len;
} cf_ack_t;

/*  Appends the msgpack array of acks (the body of ACK, and of DONE) to sbuf. */
void cf_msg_pack_acks(msgpack_sbuffer *sbuf, const cf_ack_t *acks, size_t count);

/*  Decodes an ack list into at most max acks whose strings point into
    `zone`-owned memory of *result (the caller keeps result alive while it
    reads the acks, and destroys it with msgpack_unpacked_destroy). Returns
    the number of acks, or -1 when the body is not a valid ack list.          */
int cf_msg_unpack_acks(msgpack_unpacked *result, const void *data, size_t size,
                       cf_ack_t *acks, size_t max);

/*  PUSH [CF01, PUSH, request id, events...] (producer): one frame per
    event, as given.                                                          */
int cf_msg_send_push(void *socket, int flags, const void *request_id, size_t request_id_len,
                     const void *const *events, const size_t *sizes, size_t count);

/*  SNAPSHOT [CF01, SNAPSHOT, request id] (a late subscriber's request).     */
int cf_msg_send_snapshot_request(void *socket, int flags, const void *request_id,
                                 size_t request_id_len);

/*  The broker's answers on the intake: ACK [CF01, ACK, request id, ack
    list], ERROR [CF01, ERROR, request id, reason], SNAPSHOT [CF01,
    SNAPSHOT, request id, body].                                             */
int cf_msg_send_ack(void *socket, int flags, const void *to, size_t to_len,
                    const void *request_id, size_t request_id_len, const void *acks,
                    size_t acks_size);
int cf_msg_send_error(void *socket, int flags, const void *to, size_t to_len,
                      const void *request_id, size_t request_id_len, const char *reason);
int cf_msg_send_snapshot(void *socket, int flags, const void *to, size_t to_len,
                         const void *request_id, size_t request_id_len, const void *body,
                         size_t size);

/*  At the broker's intake [routing id, CF01, command, request id, ...]:
    true for a subscriber's [who, CF01, SNAPSHOT, request id].             */
bool cf_msg_is_snapshot(cf_multipart_t *parts);

/*  The same: PUSH or SNAPSHOT (whatever the message's shape), else
    CF_MSG_NONE.                                                             */
cf_msg_command_t cf_msg_intake_command(cf_multipart_t *parts);

/*  Checks a SNAPSHOT request (cf_msg_is_snapshot): its request id must be
    1 to CF_MSG_MAX_REQ_ID bytes, as a PUSH's. NULL when it is, else the
    reason for the ERROR reply.                                              */
const char *cf_msg_check_snapshot(cf_multipart_t *parts);

/*  The request id to echo in a reply: frame 3 when there is one of at most
    CF_MSG_MAX_REQ_ID bytes, else empty ("" and 0).                         */
void cf_msg_request_id(cf_multipart_t *parts, const void **id, size_t *len);

/*  Checks a PUSH envelope: signature, command, request id, 1 to
    CF_MSG_MAX_EVENTS event frames (from index 4), at most
    CF_MSG_MAX_PUSH_BYTES of them. NULL when it may be queued, else the
    reason for the ERROR reply (a constant, or written into reason), which
    names the limit. For what is not a SNAPSHOT by cf_msg_is_snapshot: a
    SNAPSHOT of another shape gets its own reason.                           */
const char *cf_msg_check_push(cf_multipart_t *parts, char *reason, size_t reason_size);

/*  The bytes of a PUSH's event frames together (frames 4 on).            */
size_t cf_msg_push_bytes(cf_multipart_t *parts);

/*  A reply at the producer or subscriber [CF01, ACK|ERROR|SNAPSHOT,
    request id, body].                                                       */
typedef struct {
    bool is_ack;                /* ACK; else ERROR (cf_msg_parse_reply) */
    const char *request_id;
    size_t request_id_len;
    const void *body;           /* the ack list, the ERROR's reason (may be empty), the snapshot */
    size_t body_len;
} cf_msg_reply_t;

/*  0 and *reply for an ACK of exactly 4 frames or an ERROR of 3 or more;
    -1 for anything else (ignored by the producer).                       */
int cf_msg_parse_reply(cf_multipart_t *parts, cf_msg_reply_t *reply);

/*  0 and *reply for a SNAPSHOT answer of exactly 4 frames, else -1.       */
int cf_msg_parse_snapshot(cf_multipart_t *parts, cf_msg_reply_t *reply);

/* ==== workers (cf_msg_worker.c) ========================================== */

/*  The READY body: what a worker announces about itself.                     */
typedef struct {
    unsigned credit;            /* jobs it will hold at once */
    unsigned pid;
    char host[64];
} cf_msg_ready_t;

/*  The index-th notification that a DONE carries: topic and msgpack body.  */
typedef void cf_msg_notice_fn(const void *arg, size_t index, const char **topic,
                              size_t *topic_len, const char **body, size_t *body_len);

/*  The worker's messages: READY [CF01, READY, {credit, pid, host}];
    DONE [CF01, DONE, job id, ack list, (topic, body) x notices], the pairs
    from notice(arg, i, ...); HEARTBEAT [CF01, HEARTBEAT]; BYE [CF01, BYE].  */
int cf_msg_send_ready(void *socket, int flags, const cf_msg_ready_t *ready);
int cf_msg_send_done(void *socket, int flags, uint64_t job_id, const void *acks,
                     size_t acks_size, size_t notices, cf_msg_notice_fn *notice,
                     const void *arg);
int cf_msg_send_bye(void *socket, int flags);

/*  HEARTBEAT, both ways: to NULL from a worker's DEALER, a worker's routing
    id from the broker's ROUTER.                                             */
int cf_msg_send_heartbeat(void *socket, int flags, const void *to, size_t to_len);

/*  A JOB's fence on one shard it touches: the epoch of the shard's owner
    record the worker's commit there must find (docs/protocol.md).          */
typedef struct {
    uint32_t shard;
    uint64_t epoch;
} cf_msg_fence_t;

#define CF_MSG_JOB_FIRST_EVENT  5   /* the index of a JOB's first event frame at the worker */

/*  The reason of the busy acks a worker answers for a job whose commit a
    fence refused (its shard moved to another worker): the broker sends
    those events to their shard's owner now, and never to the producer.    */
#define CF_MSG_FENCED_REASON    "fenced: a shard of this job has another owner now"
#define CF_MSG_FENCED_PREFIX    "fenced:"

/*  The broker's: JOB (or REDO, for a job whose worker was lost) [CF01,
    JOB|REDO, job id, request ids, fences, events...]: the job id names this
    hand-out (its DONE echoes it); request_ids[i] the request event i is a
    part of (the same for every part and redelivery: the dedupe markers'
    tag), sent as one 8-byte id when every event has the same, else 8 bytes
    per event (the broker bundles parts of several requests into one job);
    fences a msgpack map {shard: epoch}; the events shared with the
    caller's messages, not copied. EXIT [CF01, EXIT].                       */
int cf_msg_send_job(void *socket, int flags, const void *to, size_t to_len, bool redo,
                    uint64_t job_id, const uint64_t *request_ids, const cf_msg_fence_t *fences,
                    size_t nfences, zmq_msg_t *events, size_t count);
int cf_msg_send_exit(void *socket, int flags, const void *to, size_t to_len);

/*  At the broker's worker socket [routing id, CF01, command, ...]: READY,
    DONE, HEARTBEAT or BYE, else CF_MSG_NONE.                              */
cf_msg_command_t cf_msg_worker_command(cf_multipart_t *parts);

/*  A READY's body; missing or malformed keys leave their defaults (credit
    1, pid 0, host "?"). -1 when there is no body or it is not a map.       */
int cf_msg_parse_ready(cf_multipart_t *parts, cf_msg_ready_t *ready);

/*  A DONE [who, CF01, DONE, job id (8 bytes), acks, (topic, body)...]: 0 and
    the job id (the acks are frame 4, the pairs from 5), or -1 when
    malformed.                                                             */
int cf_msg_parse_done(cf_multipart_t *parts, uint64_t *job_id);

/*  A JOB as the worker reads it.                                           */
typedef struct {
    uint64_t job_id;
    uint64_t request_id[CF_MSG_MAX_JOB_EVENTS]; /* each event's request */
    bool redo;
    size_t events;              /* 1 to CF_MSG_MAX_JOB_EVENTS, from CF_MSG_JOB_FIRST_EVENT */
    size_t fences;
    cf_msg_fence_t fence[CF_MSG_MAX_JOB_EVENTS];    /* at most one per event */
} cf_msg_job_t;

/*  At the worker [CF01, JOB|REDO, job id (8 bytes), request ids (8 bytes,
    or 8 per event), fences, events...]: 0 with *job filled (each event's
    request id), or -1 when it is not a whole JOB or REDO (a truncated
    message included, request ids of another size, fences that are not a
    map of at most one uint shard to a uint epoch per event).               */
int cf_msg_parse_job(cf_multipart_t *parts, cf_msg_job_t *job);

/*  At the worker: true for an EXIT.                                        */
bool cf_msg_is_exit(cf_multipart_t *parts);

/* ==== control: operators (cf_msg_control.c) ============================== */

/*  A request [CF01, command] or [CF01, DRAIN, worker id].                  */
typedef struct {
    cf_msg_command_t command;   /* STATUS, WORKERS, DRAIN, PAUSE or RESUME */
    char worker[CF_MSG_WORKER_ID_MAX];  /* DRAIN's worker id */
} cf_msg_control_t;

/*  Sends a request; worker is DRAIN's worker id (NULL for the others).     */
int cf_msg_send_control(void *socket, int flags, cf_msg_command_t command, const char *worker);

/*  At the broker's control socket [routing id, CF01, command, ...]: NULL
    and *request when it is a whole request, else the reason for the ERROR
    reply (a constant, or written into reason, printable ASCII).           */
const char *cf_msg_parse_control(cf_multipart_t *parts, cf_msg_control_t *request,
                                 char *reason, size_t reason_size);

/*  The broker's replies: OK [CF01, OK, body] with a body packed below, and
    ERROR [CF01, ERROR, {"error": reason}].                                 */
int cf_msg_send_control_ok(void *socket, int flags, const void *to, size_t to_len,
                           const void *body, size_t size);
int cf_msg_send_control_error(void *socket, int flags, const void *to, size_t to_len,
                              const char *reason);

/*  At the operator: 0 and *reply (ok, and the body) for [CF01, OK|ERROR,
    body], else -1.                                                          */
typedef struct {
    bool ok;
    const void *body;
    size_t body_len;
} cf_msg_control_reply_t;
int cf_msg_parse_control_reply(cf_multipart_t *parts, cf_msg_control_reply_t *reply);

/*  The bodies of OK (docs/protocol.md, section 7). STATUS: the status map,
    whose last member is the array of its `workers` workers, each then
    packed by cf_msg_pack_worker; WORKERS: cf_msg_pack_workers, then each.  */
typedef struct {
    uint64_t uptime_ms;
    bool paused;
    uint64_t queue_events, queue_jobs, inflight_jobs, inflight_events;
    uint64_t events_in, events_acked, events_busy;
    double in_per_s, acked_per_s, rate_seconds;
    size_t workers;
} cf_msg_status_t;

typedef struct {
    char id[CF_MSG_WORKER_ID_MAX];
    char host[64];
    uint64_t pid, credit, jobs_held, events_held, jobs_done, events_done, heartbeat_age_ms;
    bool draining;              /* state: "draining", else "active" */
} cf_msg_worker_t;

void cf_msg_pack_status(msgpack_packer *pk, const cf_msg_status_t *status);
void cf_msg_pack_workers(msgpack_packer *pk, size_t count);
void cf_msg_pack_worker(msgpack_packer *pk, const cf_msg_worker_t *worker);

/*  DRAIN's: {"id", "state": "draining", "jobs_held"}; PAUSE's and
    RESUME's: {"paused"}.                                                    */
void cf_msg_pack_drained(msgpack_packer *pk, const char *worker, uint64_t jobs_held);
void cf_msg_pack_paused(msgpack_packer *pk, bool paused);

/*  Readers of those bodies, decoded (cf_unpack) by the caller: what is
    missing or of another type reads as 0, false or "". The status's
    workers array is returned (NULL when there is none) for
    cf_msg_read_worker on each item, which reads DRAIN's body too. An
    ERROR's reason goes into reason.                                        */
const msgpack_object *cf_msg_read_status(const msgpack_object *body, cf_msg_status_t *status);
void cf_msg_read_worker(const msgpack_object *body, cf_msg_worker_t *worker);
bool cf_msg_read_paused(const msgpack_object *body);
void cf_msg_read_control_error(const msgpack_object *body, char *reason, size_t reason_size);

/* ==== notifications: broker XPUB -> subscribers (cf_msg_notice.c) ====== */

/*  A notification [topic, body]: the body is a map that the broker stamps
    with these keys in front of the entries its maker wrote.                */
typedef struct {
    const char *topic;
    size_t topic_len;
    const char *publisher;          /* NULL when the body has no string publisher */
    size_t publisher_len;
    bool has_seq;
    uint64_t seq;
    const char *id;                 /* the outbox id, NULL when none */
    size_t id_len;
    int64_t time;                   /* Unix ms when it was published */
    const msgpack_object *body;     /* parsed: the map, in the caller's msgpack_unpacked */
} cf_msg_notice_t;

/*  Writes into out (cleared first) the body, one msgpack map, with the
    stamp of notice (id when notice->id, topic, publisher, seq, time) in
    front of its entries, which are copied as they are. -1 (nothing
    written) when the topic is empty, body is not one msgpack map, or it
    has a key of the stamp itself (the broker owns the envelope: a body
    cannot add a second seq, publisher or id that a subscriber might read). */
int cf_msg_pack_notice(msgpack_sbuffer *out, const cf_msg_notice_t *notice, const void *body,
                       size_t size);

/*  Checks a (topic, body) pair of a worker's DONE before the broker
    publishes it: the topic is one a worker may publish (`reject`; the
    others come from the outboxes and the broker), the body one msgpack map
    of at most CF_MSG_MAX_WORKER_NOTICE_BYTES without a key of the stamp.
    NULL when it may be published, else the reason (a constant, or written
    into reason, printable ASCII).                                          */
const char *cf_msg_check_worker_notice(const void *topic, size_t topic_len, const void *body,
                                       size_t size, char *reason, size_t reason_size);

/*  Sends [topic, stamped body] (on the broker's XPUB).                     */
int cf_msg_send_notice(void *socket, int flags, const cf_msg_notice_t *notice,
                       const void *stamped, size_t size);

/*  Reads a notification into *notice, its body decoded into *body
    (msgpack_unpacked_init'ed by the caller). 0, or -1 when the body is not
    one msgpack map (notice->topic is set even then).                     */
int cf_msg_parse_notice(cf_multipart_t *parts, msgpack_unpacked *body, cf_msg_notice_t *notice);

#endif
