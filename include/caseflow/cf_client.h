/*  cf_client: a caseflow producer (docs/protocol.md, section 2), the library
    behind caseflow-push and benchmarks.

    The caller adds events (msgpack maps, copied in) and gets an index for
    each; cf_client_run then sends them from a DEALER in PUSH requests of up
    to `batch` events with up to `window` requests in flight, matches each ACK
    to its request by id, resends a request that got no ACK within the
    timeout under a new id ("<request>.<attempt>"; the timeout doubles up to
    30 s) while still taking an ACK to any earlier attempt of it, resends
    every request in flight at once when its connection comes back (a
    broker restart; the timeouts start afresh, see cf_handshake), sends
    events acked busy again after a pause (0.1 s doubling to 5 s while the
    broker stays busy) with half as many requests in flight (growing back
    by one per request taken whole), and gives up when no event became final for
    `deadline` (wall time, whether the broker was up or not). Every event ends accepted, duplicate, rejected (with
    the broker's reason) or unacked (with why). Memory is linear in the
    events and each reply costs O(batch), so 10^6 events are fine. Not
    thread-safe; never prints. A caller with a loop of its own (events that
    come in over time, as caseflow-bench's open loop sends them on a
    schedule) drives the same machinery a pass at a time with
    cf_client_poll instead of cf_client_run, adding events between passes,
    and learns of each event as it becomes final through
    cf_client_set_on_final. Part of the installed client library
    (libcaseflow-client, examples/README.md): this header includes nothing
    of caseflow's or libzmq's.                                              */
#ifndef CF_CLIENT_H
#define CF_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define CF_CLIENT_MAX_TIMEOUT_MS    30000   /* the timeout doubles up to this */
#define CF_CLIENT_TICK_MS           100     /* timer and progress period */
#define CF_CLIENT_MAX_BATCH         1000    /* events in one PUSH (CF_MSG_MAX_EVENTS) */
#define CF_CLIENT_MAX_WINDOW        1000    /* requests in flight (CF_SETTINGS_WINDOW_MAX) */

typedef enum {
    CF_CLIENT_PENDING = 0,      /* not final yet */
    CF_CLIENT_ACCEPTED,         /* committed by the broker's workers */
    CF_CLIENT_DUPLICATE,        /* its event_id was applied before: also a success */
    CF_CLIENT_REJECTED,         /* invalid; the reason is the broker's */
    CF_CLIENT_UNACKED,          /* gave up (deadline, interrupted, ERROR); the reason says */
    CF_CLIENT_BUSY              /* acked busy, with cf_client_set_busy_final only */
} cf_client_status_t;

typedef enum {
    CF_CLIENT_OK = 0,
    CF_CLIENT_ERR_INPUT,        /* cf_client_add: an empty or oversized event, too many */
    CF_CLIENT_ERR_ENDPOINT,     /* the endpoint could not be connected to */
    CF_CLIENT_ERR_SOCKET,       /* sending or polling failed */
    CF_CLIENT_ERR_UNREACHABLE   /* no broker of the list completed a handshake in the
                                   connect timeout */
} cf_client_err_t;

typedef struct {
    size_t events;              /* added so far */
    size_t accepted, duplicate, rejected, unacked;
    uint64_t requests;          /* PUSH messages sent, resends included */
    uint64_t resent;            /* event frames sent more than once */
    uint64_t busy;              /* busy acks received */
    uint64_t failovers;         /* moves to the next endpoint of the list */
} cf_client_stats_t;

/*  Called every CF_CLIENT_TICK_MS while cf_client_run runs, and once at its
    end. It may read the client but not add to it or run it.                 */
typedef void (cf_client_progress_fn)(const cf_client_stats_t *stats, void *arg);

/*  Called once for each event as it becomes final (index as cf_client_add
    returned it; status not CF_CLIENT_PENDING), by cf_client_run,
    cf_client_poll and cf_client_poll_end. It may read the client but not
    add to it, run it or poll it.                                           */
typedef void (cf_client_final_fn)(size_t index, cf_client_status_t status, void *arg);

typedef struct _cf_client_t cf_client_t;

/*  A client for the intake endpoint (copied); does no I/O. With several
    brokers, endpoint is their intake endpoints, comma-separated
    ("tcp://b1:5570,tcp://b2:5570"; at most 16, cf_endpoints): the client
    sends to the first, and when the one in use answers nothing for the
    ACK timeout while requests wait for it (a broker that died, or that is
    cut off), or does not answer a first handshake within the connect
    timeout, it moves to the next (after the last, the first again) and
    resends at once every request not acknowledged yet. Resends are safe:
    the brokers share one Redis, which applies an event_id once.            */
cf_client_t *cf_client_new(const char *endpoint);

/*  Closes the socket (unsent messages are dropped), frees and nulls
    *self_p; accepts NULL.                                                   */
void cf_client_destroy(cf_client_t **self_p);

/*  Settings, before cf_client_run. Values out of range are programmer
    errors (asserted): batch 1..CF_CLIENT_MAX_BATCH, window
    1..CF_CLIENT_MAX_WINDOW, timeout and deadline > 0 ms. A first timeout
    above CF_CLIENT_MAX_TIMEOUT_MS stays as it is, without doubling.        */
void cf_client_set_batch(cf_client_t *self, unsigned events);
void cf_client_set_window(cf_client_t *self, unsigned requests);
void cf_client_set_timeout(cf_client_t *self, int ms);
void cf_client_set_deadline(cf_client_t *self, int ms);

/*  How long cf_client_run waits for a first answer from the endpoint (a
    handshake that succeeds, or one the broker refuses) before it gives up
    at once with CF_CLIENT_ERR_UNREACHABLE, "no broker answers at ENDPOINT
    ...", instead of waiting out the deadline: nothing listens there, or
    something that is not a caseflow broker does. 0, the default, waits.
    Once the broker has answered, this client never times out this way
    again: a broker that restarts or is slow is the deadline's business.     */
void cf_client_set_connect_timeout(cf_client_t *self, int ms);

/*  Connects with CURVE (cf_curve_client: the producer's pair and the
    broker's key); curve is borrowed and must outlive the client. NULL, the
    default, is plain. Before the first connect.                           */
typedef struct _cf_curve_t cf_curve_t;
void cf_client_set_curve(cf_client_t *self, const cf_curve_t *curve);

/*  When on, a busy ack is final: the event ends CF_CLIENT_BUSY with the
    broker's reason instead of being sent again after a pause (counted in
    stats.busy only). For a caller that answers someone who retries by
    itself, as caseflow-web answers a webhook 429. Off by default.          */
void cf_client_set_busy_final(cf_client_t *self, int on);

/*  Calls fn(index, status, arg) for each event as it becomes final; NULL,
    the default, calls nothing.                                             */
void cf_client_set_on_final(cf_client_t *self, cf_client_final_fn *fn, void *arg);

/*  cf_client_run ends early when *flag becomes non-zero (set it from a
    SIGINT handler); what is not final then is unacked, "interrupted".       */
void cf_client_set_stop_flag(cf_client_t *self, volatile sig_atomic_t *flag);

/*  Creates the socket and connects it (cf_client_run does it when needed).
    Returns 0, or -1 with the error on the object (a malformed endpoint).
    Connecting is asynchronous: a broker that is not there yet is fine.     */
int cf_client_connect(cf_client_t *self);

/*  Copies one event (size bytes of msgpack, sent as they are) and its
    event_id (a C string, or NULL when it has none; reported back only).
    Returns its index (0, 1, 2, ... in the order of adding), or -1 with the
    error on the object when size is 0 or above 4 GB or there are 2^32 - 1
    events already.                                                         */
int64_t cf_client_add(cf_client_t *self, const void *msgpack, size_t size, const char *event_id);

/*  Sends every event that is not final and drives the socket until each is
    final, the deadline passes without progress, or the stop flag is set;
    then what is left is marked unacked. Returns 0, or -1 with the error on
    the object after a socket failure (also with what is left unacked).
    Events added afterwards can be sent by another call.                    */
int cf_client_run(cf_client_t *self, cf_client_progress_fn *progress, void *arg);

/*  A run the caller drives, a pass at a time, instead of cf_client_run:
    events may be added between passes (cf_client_add), and each pass sends
    what the window allows of them at once, whether or not earlier requests
    were acked. The first call connects (when needed) and starts the run.
    A pass sends what is queued, waits at most timeout_ms (>= 0) for
    replies, takes those that came (and what they let go out), and does
    what is due: resends, busy pauses, the deadline (counted only while some
    event is not final, so an idle client is not stuck). Returns 0 to go
    on; 1 when the run is over (the deadline passed without progress, or
    the stop flag is set); -1 with the error on the object after a socket
    failure or, with a connect timeout, when no broker answered. After 1 or
    -1 only cf_client_poll_end helps.                                        */
int cf_client_poll(cf_client_t *self, int timeout_ms);
/*  The same pass, waiting at most timeout_us (>= 0) microseconds: for a
    caller that paces its own sends and takes the replies that come until
    the next is due, to the microsecond (caseflow-bench's open loop).       */
int cf_client_poll_us(cf_client_t *self, int64_t timeout_us);

/*  Ends a run that cf_client_poll started: what is not final then becomes
    unacked, saying why. Returns 0, or -1 when the run ended on an error
    (cf_client_error). Nothing to do (0) when no such run is going on;
    cf_client_destroy does it too.                                         */
int cf_client_poll_end(cf_client_t *self);

/*  Events added and not sent yet: held back by the window (every request
    slot in flight) or a busy pause. In a polled run, a caller who just
    added events and polled sees here whether they went out at once.       */
size_t cf_client_queued(const cf_client_t *self);

/*  The number of events added.                                               */
size_t cf_client_size(const cf_client_t *self);

/*  The status of event index; *reason (if reason is not NULL) is set to the
    reason of a rejected or unacked event, else NULL. A final status and its
    reason never change; the reason lives as long as the client.            */
cf_client_status_t cf_client_status(const cf_client_t *self, size_t index, const char **reason);

/*  The event_id given for event index, NULL when none. Valid until the next
    cf_client_add.                                                          */
const char *cf_client_event_id(const cf_client_t *self, size_t index);

void cf_client_stats(const cf_client_t *self, cf_client_stats_t *stats);

/*  "pending", "accepted", "duplicate", "rejected", "unacked", "busy".       */
const char *cf_client_status_name(cf_client_status_t status);

/*  The ZAP status (400) of the broker's last refusal of this client's
    handshake, not followed by a successful one; 0 when none. The client
    connects again now and then (cf_handshake.h says why it must); what the
    status means is cf_handshake_explain's.                                   */
int cf_client_refused(cf_client_t *self);

/*  The endpoint in use (one of the list; the list as given before the first
    connect). Valid until the next failover.                                */
const char *cf_client_endpoint(const cf_client_t *self);

/*  The last error's message ("" when none) and code.                        */
const char *cf_client_error(const cf_client_t *self);
cf_client_err_t cf_client_error_code(const cf_client_t *self);

#endif
