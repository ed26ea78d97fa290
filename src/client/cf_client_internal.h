/*  cf_client internals shared by cf_client.c (the events: storage, queue,
    statuses), cf_client_request.c (the requests and their replies),
    cf_client_connect.c (the socket, reconnects and failover) and
    cf_client_run.c (the loop: timers, the run's end). Not part of the
    public API.                                                              */
#ifndef CF_CLIENT_INTERNAL_H
#define CF_CLIENT_INTERNAL_H

#include "caseflow/cf_client.h"
#include "caseflow/cf_endpoints.h"
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"

#include <stdbool.h>

#define CLIENT_NONE         UINT32_MAX      /* end of the queue; no event */
#define CLIENT_HAS_ID       0x01            /* an event_id follows the bytes */
#define CLIENT_WAS_BUSY     0x02            /* its last ack was busy */

#define CLIENT_BUSY_PAUSE_MS        100     /* first pause after a busy ack */
#define CLIENT_BUSY_PAUSE_MAX_MS    5000    /* it doubles up to this */

typedef struct {
    size_t offset;          /* of its msgpack bytes in the arena; its id follows */
    uint32_t size;
    uint32_t next;          /* the next queued event, CLIENT_NONE */
    char *reason;           /* of a rejected or unacked event, else NULL */
    uint8_t status;         /* cf_client_status_t */
    uint8_t sends;          /* times sent, saturating at 255 */
    uint8_t flags;
} client_event_t;

/*  One PUSH in flight; id 0 marks a free slot. Attempt k goes out as request
    id "<id>.<k>", so every resend has a new id (docs/protocol.md) and an ACK
    to any attempt can still be matched.                                     */
typedef struct {
    uint64_t id;
    uint32_t *events;       /* batch indexes */
    uint32_t count;
    int sends;
    int timeouts;           /* sends that timed out since the connection last came back */
    int64_t due;            /* resend when no reply came by then */
} client_request_t;

struct _cf_client_t {
    char *endpoint;             /* as given: one endpoint, or a list (cf_endpoints) */
    cf_endpoints_t *endpoints;  /* parsed by cf_client_connect; NULL before */
    size_t current;             /* the one in use */
    size_t tried;               /* endpoints tried in a row without a first answer */
    int64_t quiet_since;        /* since when the one in use has answered nothing while
                                   requests were in flight (failover after timeout_ms) */
    const cf_curve_t *curve;        /* borrowed; NULL = plain */
    unsigned batch, window;
    unsigned allowed;           /* requests in flight allowed now: halves on busy,
                                   grows by one per request taken whole, up to window */
    int timeout_ms, deadline_ms;
    bool busy_final;            /* a busy ack finishes the event (CF_CLIENT_BUSY) */
    int connect_ms;             /* 0: wait for the first handshake as long as it takes */
    bool answered;              /* a handshake succeeded or was refused */
    int64_t connect_started;    /* the run's start, or the last failover's */
    volatile sig_atomic_t *stop_flag;

    char *arena;            /* event bytes and ids, back to back */
    size_t arena_used, arena_size;
    client_event_t *events;
    size_t event_count, event_size;
    uint32_t head, tail;    /* the queue of events waiting to be sent */
    size_t queued;          /* events in it */
    size_t final_count;
    cf_client_stats_t stats;

    void *ctx, *socket;
    cf_handshake_t *handshake;  /* the socket's handshake outcomes; NULL: not watched */
    client_request_t *slots;    /* window of them while running */
    unsigned in_flight;
    uint64_t last_id;
    cf_multipart_t *parts;      /* a reply */
    cf_ack_t *acks;             /* batch of them, for decoding */
    uint32_t *busy;             /* batch of them, events acked busy */
    int64_t busy_until;         /* send nothing new before this */
    int busy_pause_ms;
    char busy_reason[128];      /* the broker's last busy reason */
    int64_t last_progress;
    cf_client_progress_fn *progress;
    void *progress_arg;
    cf_client_final_fn *on_final;   /* each event as it becomes final */
    void *on_final_arg;
    cf_loop_t *loop;            /* of a run the caller drives (cf_client_poll), else NULL */
    const char *ending;         /* why the loop ended early, NULL */

    cf_client_err_t code;
    char error[256];
};

/*  Records an error on self and returns -1.                                 */
int cf_client_fail(cf_client_t *self, cf_client_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*  Closes the socket (and its handshake watch) if open; the context stays.  */
void cf_client_close(cf_client_t *self);

/*  The queue of events to send, in order; push_front puts an event back.    */
void cf_client_queue_push(cf_client_t *self, uint32_t index, bool front);
uint32_t cf_client_queue_pop(cf_client_t *self);

/*  Makes event index final with status and reason (copied, may be NULL).   */
void cf_client_finish(cf_client_t *self, uint32_t index, cf_client_status_t status,
                      const char *reason, size_t reason_len);

/*  The bytes of event index.                                                */
const void *cf_client_event_data(const cf_client_t *self, uint32_t index);

/* ---- cf_client_request.c: the requests and their replies ---------------- */

/*  Sends (or resends) request r, ACK due after the backoff; 0, or -1 (set). */
int cf_client_send(cf_client_t *self, client_request_t *r, int64_t now);

/*  Sends queued events in free slots, unless in a busy pause; 0, or -1.     */
int cf_client_fill(cf_client_t *self, int64_t now);

/*  Frees the slot of request r, whose events are all dealt with.            */
void cf_client_release(cf_client_t *self, client_request_t *r);

/*  Whether every event added is final.                                      */
bool cf_client_done(const cf_client_t *self);

/*  The socket's cf_loop handler: replies, refill; -1 on error or all final. */
int cf_client_on_readable(cf_loop_t *loop, void *socket, void *arg);

/* ---- cf_client_connect.c: the socket, reconnects and failover ----------- */

/*  Connection back: resends all in flight, resets pause and window; 0, -1. */
int cf_client_on_reconnect(cf_client_t *self, int64_t now);

/*  Fails over if no handshake in connect_ms; -1 (set) when none left.       */
int cf_client_check_answered(cf_client_t *self, cf_loop_t *loop, int refused, int64_t now);

/*  With a list, fails over from a broker quiet for timeout_ms; 0, or -1.    */
int cf_client_check_quiet(cf_client_t *self, cf_loop_t *loop, int64_t now);

#endif
