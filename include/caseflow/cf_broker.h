/*  cf_broker: the broker daemon's logic (docs/protocol.md, sections 2-4).

    Producers push events on the intake endpoint; the broker queues each PUSH
    as one job (bounded, in events: beyond it producers are told `busy`),
    hands jobs to workers by credit, forwards each worker's DONE to the
    producer as its ACK, and publishes on the notification endpoint, with a
    per-topic sequence number, the notifications the workers' script calls
    put in the outboxes in Redis (read by a thread: cf_outbox), the rejects a
    DONE carries, and a periodic `stats`. Workers that fall
    silent past the liveness limit are dropped and their jobs handed to
    others. On the optional control endpoint operators ask for its status,
    drain a worker and pause intake (docs/protocol.md, section 7). The
    broker never parses an event: validation lives in the worker.            */
#ifndef CF_BROKER_H
#define CF_BROKER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_redis_auth.h"

typedef struct {
    const char *intake_endpoint;        /* ROUTER, producers */
    const char *worker_endpoint;        /* ROUTER, workers */
    const char *publish_endpoint;       /* XPUB, subscribers */
    size_t queue_limit;                 /* events waiting for a worker; 0 = default */
    int heartbeat_ms;                   /* 0 = default 1000 */
    int liveness_ms;                    /* 0 = default 3000 */
    const char *redis_host;             /* where the outboxes are */
    int redis_port;
    int stats_ms;                       /* stats notification interval; 0 = 10000 */
    const char *script_dir;             /* lua/: the library it checks; NULL = default */
    const char *rules_file;             /* milestone marks; NULL = the defaults (none) */
    volatile sig_atomic_t *reload;      /* set (SIGHUP): read rules_file and the allow-lists
                                           again; may be NULL */
    /* Security (docs/security.md): CURVE with the secret key in curve_key
       and a ZAP allow-list file per role, or plain, which only loopback
       endpoints may be. Neither, or both, is refused at start. */
    const char *curve_key;              /* the broker's NAME.key */
    const char *allow_producers, *allow_workers, *allow_subscribers, *allow_operators;
    bool plain;
    cf_metrics_t *metrics;              /* where its series go (outlives it); NULL = none */
    double producer_rate;               /* events/s per producer (key); 0 = default */
    size_t producer_bytes;              /* event bytes held per producer (key); 0 = default */
    size_t producers_max;               /* producers tracked; 0 = default */
    size_t queue_bytes;                 /* event bytes waiting for a worker; 0 = default */
    const char *control_endpoint;       /* ROUTER, operators (cf_broker_control); NULL = none */
    const cf_redis_auth_t *redis_auth;  /* Redis credentials; NULL = none */
    size_t connections_max;             /* per endpoint; 0 = default */
    unsigned shards;                    /* the deployment's shard count; 0 = CF_SHARD_DEFAULT */
    size_t job_events;                  /* the most events bundled into one job; 0 = default */
    size_t redo_events;                 /* the most events of one REDO; 0 = CF_MSG_MAX_EVENTS */
} cf_broker_config_t;

#define CF_BROKER_HANDSHAKE_MS 10000        /* a connection's handshake, at most */

typedef struct _cf_broker_t cf_broker_t;

/*  Checks the security settings, creates the sockets and binds them. NULL
    with the reason in err when the settings are refused (plain on an
    endpoint that is not loopback, a loose or bad key file, a bad
    allow-list) or an endpoint cannot be bound.                              */
cf_broker_t *cf_broker_new(const cf_broker_config_t *config, char *err, size_t err_size);
void cf_broker_destroy(cf_broker_t **self_p);

/*  Serves until *stop becomes non-zero; then stops taking events (a PUSH is
    answered busy), lets the workers finish the jobs queued and held, for 10 s
    at most, and returns. 0, or -1 on a fatal socket error.                  */
int cf_broker_run(cf_broker_t *self, volatile sig_atomic_t *stop);

#endif
