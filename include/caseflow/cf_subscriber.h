/*  cf_subscriber: a caseflow subscriber (docs/protocol.md, section 4), the
    library behind caseflow-watch and part of the installed client library
    (libcaseflow-client, docs/deployment.md).

    A SUB socket on the broker's notification endpoint, subscribed to topic
    prefixes (all topics when none is added); with several brokers, one on
    each of their notification endpoints (every broker publishes a part of
    the notifications, and some twice), read in turn. Each notification comes out
    of cf_subscriber_recv with its topic, its body (the msgpack map as the
    broker sent it) and its envelope. The subscriber keeps the last seq per
    (publisher, topic) and says how many were missed before each
    notification (a slow subscriber whose queue overflowed), and it drops a
    notification whose outbox id it has seen already (a broker that
    restarted publishes its last batch again, two brokers may both publish
    an entry: cf_seqcheck_repeat) or that a snapshot already holds. cf_subscriber_snapshot fetches the current state (docs/
    notifications.md, "Late joiners"), so that the snapshot plus what
    follows misses nothing and repeats nothing. Not thread-safe; never
    prints; only out of memory aborts. This header includes nothing of
    caseflow's or libzmq's: it compiles on its own.                          */
#ifndef CF_SUBSCRIBER_H
#define CF_SUBSCRIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CF_SUBSCRIBER_OK = 0,
    CF_SUBSCRIBER_ERR_ENDPOINT,     /* an endpoint could not be connected to, or the list
                                       is malformed */
    CF_SUBSCRIBER_ERR_SOCKET,       /* polling or receiving failed */
    CF_SUBSCRIBER_ERR_SNAPSHOT      /* no snapshot came, or it was not a snapshot map */
} cf_subscriber_err_t;

/*  One notification, as cf_subscriber_recv fills it in. The pointers point
    into the subscriber and stay valid until its next cf_subscriber_recv.  */
typedef struct {
    const char *topic;              /* not NUL-terminated */
    size_t topic_len;
    const void *body;               /* the msgpack map, envelope keys included */
    size_t body_size;
    bool malformed;                 /* the body is not one msgpack map: only the topic
                                       and the body's bytes are set */
    const char *publisher;          /* NULL when the body names none */
    size_t publisher_len;
    uint64_t seq;                   /* 0 when the body has none */
    int64_t time;                   /* Unix ms when the broker published it */
    uint64_t missed;                /* notifications missed on (publisher, topic) just
                                       before this one: seq - last - 1, else 0 */
    uint64_t last;                  /* the previous seq of (publisher, topic), 0 when new */
} cf_notification_t;

typedef struct {
    uint64_t received;              /* returned by cf_subscriber_recv */
    uint64_t missed;                /* the sum of the missed counts, a dropped
                                       repeat's included */
    uint64_t repeats;               /* dropped: an outbox id seen, or in the snapshot */
    uint64_t malformed;             /* returned with malformed set */
} cf_subscriber_stats_t;

typedef struct _cf_subscriber_t cf_subscriber_t;
typedef struct _cf_curve_t cf_curve_t;

/*  A subscriber of the notification endpoint (copied); does no I/O. With
    several brokers, endpoint lists every one's notification endpoint,
    comma-separated (at most 16, cf_endpoints): each notification id is
    returned once whichever brokers publish it.                             */
cf_subscriber_t *cf_subscriber_new(const char *endpoint);

/*  Closes the socket, frees and nulls *self_p; accepts NULL.               */
void cf_subscriber_destroy(cf_subscriber_t **self_p);

/*  Subscribes to topics that start with prefix (copied), e.g. "case." or
    "alert.overdue."; before cf_subscriber_connect. With none, every topic. */
void cf_subscriber_add_prefix(cf_subscriber_t *self, const char *prefix);

/*  Connects with CURVE (cf_curve_client_new: the subscriber's pair and the
    broker's key); curve is borrowed and must outlive the subscriber. NULL,
    the default, is plain. Before cf_subscriber_connect.                    */
void cf_subscriber_set_curve(cf_subscriber_t *self, const cf_curve_t *curve);

/*  Creates the socket, subscribes and connects (cf_subscriber_recv and
    cf_subscriber_snapshot do it when needed). 0, or -1 with the error on
    the object (a malformed endpoint). Connecting is asynchronous: a broker
    that is not there yet is fine. A subscription takes effect some
    milliseconds after the connection is made; what the broker published
    before then is not received (docs/protocol.md, "SNAPSHOT").             */
int cf_subscriber_connect(cf_subscriber_t *self);

/*  Connected already (it connects when needed): waits a moment for the
    subscription to reach the broker, asks the broker at intake (its
    producers' endpoint, same CURVE settings) for the current state and
    waits up to timeout_ms for it. *data and *size get the snapshot, a
    msgpack map (cursors, figures, returns, open_alerts, last_milestones),
    valid until the next snapshot or destroy; every later notification
    that the snapshot holds already is dropped. 0, or -1 with the error on
    the object.                                                             */
int cf_subscriber_snapshot(cf_subscriber_t *self, const char *intake, int timeout_ms,
                           const void **data, size_t *size);

/*  Waits up to timeout_ms (0: does not wait; -1: as long as it takes) for
    the next notification that is not a repeat and fills in *notification.
    1 when one came, 0 when none came in time, -1 with the error on the
    object when the socket failed (EINTR too: a signal interrupts the
    wait).                                                                  */
int cf_subscriber_recv(cf_subscriber_t *self, int timeout_ms, cf_notification_t *notification);

/*  For a caller that polls: the ZAP status (400) of the broker's last
    refusal of this subscriber's handshake, not followed by a successful
    one, else 0; after a refusal it connects again now and then (the
    broker may admit the key later). Never blocks. cf_subscriber_recv
    checks the same way on each call.                                       */
int cf_subscriber_refused(cf_subscriber_t *self);

/*  The SUB socket, for a caller's own zmq_poll (readable: call
    cf_subscriber_recv with timeout 0 until it returns 0). NULL before
    connecting. Do not read from it or close it. With several endpoints it
    is the first one's: poll every socket (cf_subscriber_socket_at).        */
void *cf_subscriber_socket(cf_subscriber_t *self);

/*  The sockets, one per endpoint of the list (0 before connecting), and
    socket i of them (i < count), for a caller's own poll as above.         */
size_t cf_subscriber_socket_count(const cf_subscriber_t *self);
void *cf_subscriber_socket_at(cf_subscriber_t *self, size_t i);

void cf_subscriber_stats(const cf_subscriber_t *self, cf_subscriber_stats_t *stats);

/*  The last error's message ("" when none) and code.                       */
const char *cf_subscriber_error(const cf_subscriber_t *self);
cf_subscriber_err_t cf_subscriber_error_code(const cf_subscriber_t *self);

#endif
