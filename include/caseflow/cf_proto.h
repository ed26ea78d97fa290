/*  cf_proto: the caseflow wire protocol, version 1 (docs/protocol.md).

    Frame constants, and the encoding of the one msgpack structure that every
    side shares: the per-event acknowledgement list. Bytes in, bytes out; the
    sockets live elsewhere.                                                    */
#ifndef CF_PROTO_H
#define CF_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#define CF_PROTO_SIGNATURE      "CF01"  /* frame 0 of every message */

/* Intake (producer DEALER -> broker ROUTER) */
#define CF_CMD_PUSH             "PUSH"
#define CF_CMD_SNAPSHOT         "SNAPSHOT"  /* a late subscriber's request, and its answer */
#define CF_CMD_ACK              "ACK"
#define CF_CMD_ERROR            "ERROR"
/* Worker (worker DEALER -> broker ROUTER) */
#define CF_CMD_READY            "READY"
#define CF_CMD_JOB              "JOB"
#define CF_CMD_REDO             "REDO"  /* a JOB again, after its worker was lost */
#define CF_CMD_DONE             "DONE"
#define CF_CMD_HEARTBEAT        "HEARTBEAT"
#define CF_CMD_BYE              "BYE"
#define CF_CMD_EXIT             "EXIT"  /* broker -> worker: drained, finish and leave */
/* Control (operator DEALER -> broker ROUTER; replies OK or ERROR) */
#define CF_CMD_STATUS           "STATUS"
#define CF_CMD_WORKERS          "WORKERS"
#define CF_CMD_DRAIN            "DRAIN"
#define CF_CMD_PAUSE            "PAUSE"
#define CF_CMD_RESUME           "RESUME"
#define CF_CMD_OK               "OK"

#define CF_PROTO_MAX_EVENTS     1000    /* events in one PUSH */
#define CF_PROTO_MAX_REQ_ID     64      /* bytes of a producer's request id */
#define CF_PROTO_MAX_DONE_PARTS 40000   /* frames of one DONE (acks and notifications) */
#define CF_PROTO_MAX_PUSH_BYTES (16 << 20)  /* event bytes of one PUSH, all frames together */
#define CF_PROTO_MAX_FRAME_BYTES (1 << 20)  /* ZMQ_MAXMSGSIZE: one frame from any peer; a
                                               larger one drops the peer's connection */
#define CF_PROTO_MAX_SNAPSHOT_BYTES (64 << 20)  /* a SNAPSHOT answer, at the subscriber */

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

/*  Appends the msgpack array of acks (the ACK body) to sbuf.                 */
void cf_proto_pack_acks(msgpack_sbuffer *sbuf, const cf_ack_t *acks, size_t count);

/*  Decodes an ACK body into at most max acks whose strings point into
    `zone`-owned memory of *result (the caller keeps result alive while it
    reads the acks, and destroys it with msgpack_unpacked_destroy). Returns
    the number of acks, or -1 when the body is not a valid ack list.          */
int cf_proto_unpack_acks(msgpack_unpacked *result, const void *data, size_t size,
                         cf_ack_t *acks, size_t max);

/*  The READY body: what a worker announces about itself.                     */
typedef struct {
    unsigned credit;            /* jobs it will hold at once */
    unsigned pid;
    char host[64];
} cf_ready_t;

/*  Appends the READY body (a msgpack map) to sbuf.                           */
void cf_proto_pack_ready(msgpack_sbuffer *sbuf, const cf_ready_t *ready);

/*  Reads a READY body; missing or malformed keys leave their defaults
    (credit 1, pid 0, host "?"). Returns -1 when the body is not a map.      */
int cf_proto_parse_ready(const void *data, size_t size, cf_ready_t *ready);

#endif
