/*  cf_broker internals shared by cf_broker.c (the core: life cycle,
    dispatch, workers), cf_broker_intake.c (what a PUSH must pass to be
    queued), cf_broker_notify.c (the notification side: outboxes, stats),
    cf_broker_control.c (the operators' control socket), cf_broker_snapshot.c
    (the bounds on SNAPSHOT requests), cf_broker_route.c (a request split
    by shard owner and sent), cf_broker_route_acks.c (the owners' acks
    gathered into one ACK), cf_broker_epochs.c (the owner records),
    cf_broker_metrics.c and cf_broker_secure.c. The core calls the others;
    none of them calls the core back. Not installed.                        */
#ifndef CF_BROKER_INTERNAL_H
#define CF_BROKER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_redis_cluster.h"
#include "caseflow/cf_broker.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_zap.h"
#include "cf_jobq.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_metrics.h"
#include "cf_outbox.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "cf_publisher.h"
#include "caseflow/cf_ratelimit.h"
#include "cf_roster.h"
#include "caseflow/cf_rules.h"

#define BROKER_DRAIN_MAX 256        /* messages per handler call */
#define BROKER_STOP_GRACE_MS 10000  /* how long a stopping broker waits for its workers */
#define BROKER_CREDIT_MAX 64
#define BROKER_REFUSED_LOG_MS 10000 /* a worker's refused notifications: a line at most this often */
#define BROKER_TOPIC_FAMILIES 6     /* case, milestone, alert, reject, stats, other */
#define BROKER_ENDPOINTS 4          /* intake, workers, publish, control */
/* Receive high-water marks (ZMQ_RCVHWM), whole messages queued per
   connection before libzmq stops reading it (docs/security.md, "Memory"). */
#define BROKER_INTAKE_RCVHWM 4
#define BROKER_WORKERS_RCVHWM (2 * BROKER_CREDIT_MAX)  /* a DONE per job held, heartbeats */
#define BROKER_CONTROL_RCVHWM 4
#define BROKER_PUBLISH_RCVHWM 64    /* subscriptions; libzmq reads them all at once */
/* SNAPSHOT requests (cf_broker_snapshot.c): pending at once (one per
   connection), a rate per connection (one every EVERY_S, bursts of BURST,
   connections tracked), and how long a lost one holds its place. */
#define BROKER_SNAPSHOTS_PENDING 4
#define BROKER_SNAPSHOT_EVERY_S 2
#define BROKER_SNAPSHOT_BURST 4
#define BROKER_SNAPSHOT_CONNECTIONS 1024
#define BROKER_SNAPSHOT_PENDING_MS 30000
/* The ERROR a message gets when its key was taken out of the allow-list of
   the role that admitted its connection (SIGHUP) since it connected. */
#define BROKER_REVOKED "auth: key revoked (removed from its allow-list since this connection " \
    "was opened)"
/* The intake's ZAP domain: subscribers ask for their snapshot there too. */
#define BROKER_INTAKE_ROLES CF_ZAP_PRODUCERS "," CF_ZAP_SUBSCRIBERS

/* The broker's series (cf_broker_metrics.c); all NULL without --metrics. */
typedef struct {
    cf_metric_t *events[CF_ACK_STATUS_COUNT];   /* by outcome */
    cf_metric_t *requests, *redeliveries, *bundled;
    cf_metric_t *queue_events, *queue_jobs, *queue_age, *inflight, *workers;
    cf_metric_t *published[BROKER_TOPIC_FAMILIES], *dropped, *outbox_errors;
    cf_metric_t *notices_refused;   /* a worker's DONE notifications not published */
    cf_metric_t *connections[BROKER_ENDPOINTS], *refused[BROKER_ENDPOINTS];   /* per endpoint */
} broker_metrics_t;

#define BROKER_RATE_SAMPLES 6       /* one a second: rates over the last 5 s */

typedef struct {
    int64_t at;
    uint64_t events_in, events_acked;
} broker_sample_t;

typedef struct {
    int64_t since;                  /* 0: a free place */
    unsigned char id[255];          /* the connection's routing id */
    size_t id_len;
} broker_snapshot_t;

struct _cf_broker_t {
    void *ctx, *intake, *workers;
    void *control;                  /* NULL when there is no control endpoint */
    cf_multipart_t *control_parts;
    bool paused;                    /* intake answers every PUSH busy */
    int64_t started_at;
    unsigned workers_seen;          /* for the next worker's label */
    broker_sample_t samples[BROKER_RATE_SAMPLES];   /* a ring, for the rates */
    size_t sample_next, sample_count;
    cf_publisher_t *publisher;
    cf_outbox_t *outbox;            /* the notification outboxes' reader */
    cf_rules_t *rules;              /* for the milestones */
    const char *rules_file;
    volatile sig_atomic_t *reload;
    cf_multipart_t *outbox_parts;
    broker_snapshot_t snapshots[BROKER_SNAPSHOTS_PENDING];  /* requests with the reader */
    cf_ratelimit_t *snapshot_rates;     /* per connection (intake routing id) */
    int stats_ms;
    uint64_t events_in, events_acked;   /* since start */
    uint64_t events_busy;               /* answered busy since start */
    uint64_t stats_in, stats_acked;     /* at the last stats notification */
    int64_t stats_at;
    cf_loop_t *loop;
    cf_jobq_t *queue;
    cf_roster_t *roster;
    cf_multipart_t *intake_parts;   /* reused receive buffers */
    cf_multipart_t *worker_parts;
    size_t queue_limit, queue_bytes;
    cf_ratelimit_t *rates;          /* per producer: its key, or plain its routing id */
    double producer_rate;
    size_t producer_bytes;          /* held per producer (cf_job_charge) */
    size_t producers_max;
    int heartbeat_ms, liveness_ms;
    uint64_t next_job_id;
    int64_t stopping_since;         /* 0 while taking events */
    msgpack_sbuffer sbuf;
    broker_metrics_t metrics;
    bool plain;                     /* no CURVE (loopback only); else: */
    cf_curve_t *curve;              /* the broker's key pair */
    cf_zap_t *zap;                  /* who may connect, per role, and how many */
    size_t connections_max;         /* per endpoint */
    /* routing by shard (cf_broker_route.c) */
    unsigned shards;
    cf_member_t **owner;            /* per shard: its owner; NULL: no worker */
    uint64_t *epoch;                /* per shard: its owner's epoch; 0: not recorded */
    uint64_t *epoch_high;           /* per shard: the highest epoch this broker recorded */
    size_t job_events;              /* the most events bundled into one job */
    size_t redo_events;             /* the most events of one REDO */
    int *assign;                    /* cf_owners_assign's answer */
    uint32_t *fence_seen, fence_stamp;  /* a part's shards, listed once */
    uint64_t owners_sig;            /* of the workers the owners were made for */
    int64_t last_join;              /* when a worker last joined (the settle time) */
    uint64_t epochs_raised, epochs_adopted;  /* owner records set, and found set */
    bool route_retry;               /* an epoch is not recorded yet */
    int64_t route_retry_at;
    cf_job_t *open;                 /* requests split into parts, not answered yet */
    cf_redis_cluster_t *route_redis;    /* where the owner records are: one server or a
                                           cluster (each record is its shard's slot) */
    char *route_host;
    int route_port;
    cf_redis_auth_t *route_auth;
};

/*  Routing by shard (cf_broker_route.c). start: the shard count and the
    owner records' Redis from config; stop: frees the requests not answered
    (their producers resend).                                               */
void cf_broker_route_start(cf_broker_t *self, const cf_broker_config_t *config);
void cf_broker_route_stop(cf_broker_t *self);

/*  Each event's shard, from its frame (cf_shard_of_frame), into request.   */
void cf_broker_route_shards(cf_broker_t *self, cf_job_t *request);

/*  Records in Redis the epochs of the n shards in list for their owners
    (cf_broker_epochs.c: a compare-and-set per shard, adopting a record that
    already names the owner). refused: a commit under the epoch this broker
    recorded last was fenced, so a record naming another worker this broker
    has is followed (the owner changes to it). A shard Redis did not answer
    for keeps epoch 0 (unfenced) and is tried again later.                   */
void cf_broker_epochs_record(cf_broker_t *self, const unsigned *list, size_t n, bool refused);

/*  Makes the owners those of the workers now connected and not draining,
    raising in Redis the epoch of every shard that changed hands before any
    of its events goes out; the parts waiting go back to be split again.
    Cheap when nothing changed.                                              */
void cf_broker_route_rebalance(cf_broker_t *self);

/*  A member about to be removed owns nothing more; its waiting parts go
    back to the head of the queue.                                           */
void cf_broker_route_forget(cf_broker_t *self, cf_member_t *member);

/*  Moves every part of backlog to the head of the queue, to be split again. */
void cf_broker_route_take_back(cf_broker_t *self, cf_jobq_t *backlog);

/*  Splits job (a request, or a part to route again) into one part per
    owner, each into its owner's backlog; false, with nothing done, when a
    shard of it has no owner (no worker).                                    */
bool cf_broker_route_split(cf_broker_t *self, cf_job_t *job);

/*  Sends part to member as JOB (REDO when its holder was lost), with the
    epochs of its shards. 0 / -1.                                           */
int cf_broker_route_send(cf_broker_t *self, cf_member_t *member, cf_job_t *part);
/*  The next job for a worker from its backlog: the part at its head, with
    the parts behind it bundled in (up to the job-events setting, all JOB
    or all REDO), so that small requests make large jobs and a worker's
    store commits many events at once; NULL when the backlog is empty.      */
cf_job_t *cf_broker_route_bundle(cf_broker_t *self, cf_jobq_t *backlog);

/*  A part's DONE acks (a msgpack array) from holder (cf_broker_route_acks.c):
    each becomes its request's ack, but a fence's busy, which goes back to be
    routed again (and when holder still owns the shard, its epoch is recorded
    again: the record was lost); the request is answered (one ACK) when every
    event has one.                                                          */
void cf_broker_route_done(cf_broker_t *self, cf_member_t *holder, cf_job_t *part,
                          const void *acks, size_t size);

/*  What waits for a worker, in the queue and the members' backlogs: count
    is cf_jobq_events, _jobs or _bytes. The oldest one's cf_clock_ms, -1.   */
size_t cf_broker_queued(cf_broker_t *self, size_t (*count)(const cf_jobq_t *));
int64_t cf_broker_queued_oldest(cf_broker_t *self);

/*  Reads the rules file (before anything is bound: a bad file stops the
    broker with its line and reason). 0, or -1 with the reason in err.     */
int cf_broker_notify_rules(cf_broker_t *self, const cf_broker_config_t *config, char *err,
                           size_t err_size);

/*  Binds the notification endpoint, starts the outbox reader on Redis and
    registers their sockets and the stats timer in the loop. 0, or -1 with
    the reason in err.                                                      */
int cf_broker_notify_start(cf_broker_t *self, const cf_broker_config_t *config, char *err,
                           size_t err_size);

/*  A late subscriber's SNAPSHOT [who, CF01, SNAPSHOT, request id]
    (cf_broker_snapshot.c): passed to the outbox reader, which answers
    between batches, when it is within the bounds; else answered ERROR.    */
void cf_broker_snapshot_request(cf_broker_t *self, cf_multipart_t *parts);

/*  Publishes the notifications of a worker's DONE (its (topic, body) pairs
    from frame 5) that pass cf_msg_check_worker_notice; the others are
    counted, and logged at most once per BROKER_REFUSED_LOG_MS per worker. */
void cf_broker_notify_done(cf_broker_t *self, cf_member_t *member, cf_multipart_t *parts);

/*  The reader's answer [SNAPSHOT, who, request id, body]: sent to who,
    whose place is freed.                                                   */
void cf_broker_snapshot_reply(cf_broker_t *self, cf_multipart_t *parts);

/*  Registers the control socket (already bound) and the control timers
    (rate samples, telling drained workers to exit) in the loop.            */
void cf_broker_control_start(cf_broker_t *self);

/*  A freshly joined member gets its label (w1, w2...).                      */
void cf_broker_control_label(cf_broker_t *self, cf_member_t *member);

/*  Reads what waits on the intake socket (cf_broker_intake.c): PUSH and
    SNAPSHOT requests, a bounded number of them; queues what is admitted
    and answers the rest. The core dispatches after it.                     */
void cf_broker_intake_read(cf_broker_t *self, void *socket);

/*  Creates the broker's series in registry (may be NULL: none).           */
void cf_broker_metrics_new(cf_broker_t *self, cf_metrics_t *registry);

/*  Sets the gauges: queue depth, jobs in flight, workers, drops so far.    */
void cf_broker_metrics_gauges(cf_broker_t *self);

/*  Counts a DONE's acks (its frame 4) by outcome.                          */
void cf_broker_metrics_acks(cf_broker_t *self, const void *acks, size_t size);

/*  Counts a notification published on topic, by the topic's family.        */
void cf_broker_metrics_published(cf_broker_t *self, const zmq_msg_t *topic);

/*  The start-up checks of the security settings (cf_broker_secure.c): the
    key and the ZAP handler, or plain on loopback endpoints only. 0, or -1
    with the reason in err.                                                 */
int cf_broker_secure_start(cf_broker_t *self, const cf_broker_config_t *config, char *err,
                           size_t err_size);

/*  Before bind: makes socket a CURVE server admitting roles (a ZAP domain,
    cf_zap.h), or, plain, refuses an endpoint that is not loopback; then
    limits its connections to --connections-max. 0, or -1 with the reason
    in err.                                                                  */
int cf_broker_secure_socket(cf_broker_t *self, void *socket, const char *endpoint,
                            const char *roles, char *err, size_t err_size);

/*  Whether the connection msg came on was admitted as role (always, plain). */
bool cf_broker_secure_may(cf_broker_t *self, zmq_msg_t *msg, const char *role);

/*  SIGHUP: reads the allow-lists again and logs the outcome.               */
void cf_broker_secure_reload(cf_broker_t *self);

/*  Stops the ZAP handler and wipes the key (before the context ends).      */
void cf_broker_secure_stop(cf_broker_t *self);

/*  Stops the outbox reader and closes the notification endpoint.           */
void cf_broker_notify_stop(cf_broker_t *self);

#endif
