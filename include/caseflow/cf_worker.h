/*  cf_worker: the worker daemon's logic (docs/protocol.md, section 3).

    Connects a DEALER to each broker of its list (one or more, comma-
    separated: every broker's jobs are served by the one store, each answered
    to the broker it came from; docs/scale-out.md, "Several brokers"), and
    on each announces its credit with READY, takes
    JOBs, runs them through cf_apply (validate, pseudonymise, apply to Redis)
    and answers each DONE with its acks and notifications: the jobs that came
    while it was busy run together, as one batch. A REDO (a job whose
    worker was lost) and a job Redis refused are run event by event, so that
    a poison event ends in the dead-letter stream. Heartbeats both ways: it
    reconnects to a broker that falls silent, and only to it. When Redis fails it keeps the job,
    retries with backoff, and keeps heartbeating meanwhile. On stop it finishes
    what it holds, says BYE and returns.                                      */
#ifndef CF_WORKER_H
#define CF_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_redis_auth.h"

typedef struct {
    const char *broker_endpoint;        /* the brokers' worker endpoints, comma-separated */
    const char *redis_host;
    int redis_port;
    const char *key_file;               /* HMAC key for case_ref pseudonyms */
    const char *script_dir;             /* NULL = built-in default */
    unsigned credit;                    /* jobs held at once, per broker; 0 = default 1 */
    int heartbeat_ms, liveness_ms;      /* 0 = defaults 1000, 3000 */
    uint32_t eid_ttl_s;                 /* 0 = store default (30 days) */
    unsigned shards;                    /* the deployment's shard count; 0 = CF_SHARD_DEFAULT */
    uint32_t case_ttl_s;                /* closed case state kept; 0 = 30 days */
    unsigned poison_tries;              /* tries before a dead letter; 0 = 3 */
    unsigned ack_replicas;              /* replicas holding a batch before its ack; 0 = none */
    int ack_replica_timeout_ms;         /* how long it waits for them; 0 = 1000 */
    const char *rules_file;             /* notification rules; NULL = the defaults */
    volatile sig_atomic_t *reload;      /* set (SIGHUP): read rules_file again; may be NULL */
    cf_metrics_t *metrics;              /* where its series go (outlives it); NULL = none */
    const struct _cf_curve_t *curve;    /* the worker's pair and the broker's key (cf_curve);
                                           borrowed; NULL = plain */
    const cf_redis_auth_t *redis_auth;  /* Redis credentials; NULL = none */
} cf_worker_config_t;

typedef struct _cf_worker_t cf_worker_t;

/*  Reads the key and the rules, connects to Redis and loads the scripts,
    connects to the broker. NULL with the reason in err on any failure (fail
    fast: a worker that cannot reach Redis or whose rules file is invalid is
    misconfigured). When *config->reload becomes non-zero, the rules file is
    read again and applied from the next job on; a file that has become
    invalid is logged and the rules in force stay.                           */
cf_worker_t *cf_worker_new(const cf_worker_config_t *config, char *err, size_t err_size);
void cf_worker_destroy(cf_worker_t **self_p);

/*  Serves until *stop becomes non-zero, then finishes its jobs (one more try
    each), says BYE and returns 0; -1 on a fatal socket error.               */
int cf_worker_run(cf_worker_t *self, volatile sig_atomic_t *stop);

#endif
