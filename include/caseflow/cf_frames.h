/*  cf_frames: the frame parsers of every socket (docs/protocol.md), one
    function per message kind, on a received cf_parts_t. The daemons and tools
    call these, and so do the fuzz harnesses (tests/fuzz), so what is fuzzed
    is what runs. Frames in, a verdict and pointers into the frames out; no
    sockets, no logging. Bodies (msgpack) are read by cf_proto and cf_event. */
#ifndef CF_FRAMES_H
#define CF_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "caseflow/cf_parts.h"

/* ---- intake: [routing id, CF01, command, request id, events...] --------- */

/*  True for a late subscriber's [who, CF01, SNAPSHOT, request id].        */
bool cf_frames_is_snapshot(cf_parts_t *parts);

/*  The request id to echo in a reply: frame 3 when there is one of at most
    CF_PROTO_MAX_REQ_ID bytes, else empty ("" and 0).                       */
void cf_frames_request_id(cf_parts_t *parts, const void **id, size_t *len);

/*  Checks a PUSH envelope: signature, command, request id, 1 to
    CF_PROTO_MAX_EVENTS event frames, at most CF_PROTO_MAX_PUSH_BYTES of
    them. NULL when it may be queued, else the reason for the ERROR reply
    (a constant, or written into reason), which names the limit.           */
const char *cf_frames_check_push(cf_parts_t *parts, char *reason, size_t reason_size);

/*  The bytes of a PUSH's event frames together (frames 4 on).            */
size_t cf_frames_push_bytes(cf_parts_t *parts);

/* ---- broker's worker socket: [routing id, CF01, command, ...] ---------- */

typedef enum {
    CF_FRAMES_NONE = 0,         /* not CF01, too short, or an unknown command */
    CF_FRAMES_READY,
    CF_FRAMES_DONE,
    CF_FRAMES_HEARTBEAT,
    CF_FRAMES_BYE
} cf_frames_worker_t;

/*  What a worker's message is.                                            */
cf_frames_worker_t cf_frames_worker_command(cf_parts_t *parts);

/*  A DONE [who, CF01, DONE, job id (8 bytes), acks, (topic, body)...]: 0 and
    the job id, or -1 when malformed.                                      */
int cf_frames_parse_done(cf_parts_t *parts, uint64_t *job_id);

/* ---- worker: [CF01, JOB|REDO, job id (8 bytes), events...] ------------- */

/*  0 with the job id, *redo, and the event count (1 to
    CF_PROTO_MAX_EVENTS, the frames from index 3), or -1 when it is not a
    whole JOB or REDO (a truncated message included).                      */
int cf_frames_parse_job(cf_parts_t *parts, uint64_t *job_id, bool *redo, size_t *events);

/* ---- producer: [CF01, ACK|ERROR, request id, body] --------------------- */

typedef struct {
    bool is_ack;                /* else ERROR */
    const char *request_id;
    size_t request_id_len;
    const void *body;           /* the ack array, or the ERROR's reason (may be empty) */
    size_t body_len;
} cf_frames_reply_t;

/*  0 and *reply for an ACK of exactly 4 frames or an ERROR of 3 or more;
    -1 for anything else (ignored by the producer).                       */
int cf_frames_parse_reply(cf_parts_t *parts, cf_frames_reply_t *reply);

/* ---- subscriber: [topic, body] ----------------------------------------- */

typedef struct {
    const char *topic;
    size_t topic_len;
    const msgpack_object *body;     /* the map, in the caller's msgpack_unpacked */
    const char *publisher;          /* NULL when the body has no string publisher */
    size_t publisher_len;
    bool has_seq;
    uint64_t seq;
    const char *id;                 /* the outbox id, NULL when none */
    size_t id_len;
} cf_frames_notice_t;

/*  Reads a notification into *notice, its body decoded into *body
    (msgpack_unpacked_init'ed by the caller). 0, or -1 when the body is not
    one msgpack map (notice->topic is set even then).                     */
int cf_frames_parse_notice(cf_parts_t *parts, msgpack_unpacked *body, cf_frames_notice_t *notice);

#endif
