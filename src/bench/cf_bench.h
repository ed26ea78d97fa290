/*  cf_bench: the measurements of caseflow-bench against a running stack
    (an intake endpoint and the Redis its workers write to).

    - closed loop: N generated events (cf_bench_gen) pushed through the
      producer library (cf_client) by P producer threads, each with its own
      socket, batch and window; events per second of acknowledged events,
      and over the same interval Redis's commands per event (INFO
      commandstats) and CPU seconds (INFO cpu). Then the drain: until the
      broker has published what the events caused and the workers have
      fired the deadlines due; each process's CPU (cf_bench_cpu, Redis's
      from INFO) runs from the start of the loop to the end of the drain.
    - open loop (when rate > 0): requests of a few events due at a fixed
      rate, each sent at its time whether or not earlier ones were acked
      (one thread, one cf_client driven by cf_client_poll, up to
      CF_BENCH_OPEN_WINDOW requests in flight); a request's latency runs
      from when it was due to its last event's ACK, so a stall shows in the
      figures instead of hiding (no coordinated omission). Should the window
      ever be full, requests wait for a slot and open_window_full says so:
      the loop was not open then.
      It runs before the ceiling, whose unfenced commits drop the workers'
      commit caches, so that it measures a running stack's steady state.
    - ceiling: the same mix (same seed, other ids) decoded and pseudonymised
      beforehand and applied with cf_store_apply, the worker's own store
      code, from W threads with no ZeroMQ, in batches as large as the
      broker's largest jobs (CF_MSG_MAX_JOB_EVENTS); then Redis's memory per event id,
      per open and closed case (its hash and its deadlines) and per open
      overdue alert, from INFO used_memory before and after deleting
      exactly those keys, members and fields.

    Each phase writes its own namespace of event ids and case_refs, so the
    phases never see each other's events as duplicates. The phases change
    the aggregates of the Redis they run against: use a scratch one. Errors
    are -1 with a message on the object; never prints (progress goes to a
    callback).                                                              */
#ifndef CF_BENCH_H
#define CF_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cf_bench_cpu.h"
#include "cf_bench_speed.h"
#include "cf_bench_stats.h"
#include "caseflow/cf_redis_auth.h"

#define CF_BENCH_MAX_COMMANDS   64      /* distinct Redis commands reported */
#define CF_BENCH_OPEN_WINDOW    1000    /* open loop: requests in flight (CF_CLIENT_MAX_WINDOW) */
#define CF_BENCH_EVENTS         300000  /* closed loop and ceiling, by default: 3 s or so at
                                           the target, so that the loop's first and last
                                           moments (the window filling, the drain) weigh
                                           little */
#define CF_BENCH_WINDOW         64      /* closed loop: requests in flight per producer, by
                                           default: 12 800 events of 200, enough for the
                                           broker to fill its largest jobs, so that the loop
                                           measures what the stack can do rather than one
                                           round trip (docs/performance.md, "The closed
                                           loop's window") */

/*  Called about every 200 ms during a phase ("closed", "ceiling", "open").  */
typedef void (cf_bench_progress_fn)(const char *phase, size_t done, size_t total,
                                    double seconds, void *arg);

typedef struct {
    const char *intake;         /* tcp://host:port of the broker */
    const struct _cf_curve_t *curve;    /* the producers' CURVE settings; NULL = plain */
    const char *redis_host;
    int redis_port;
    const char *key_file;       /* the workers' HMAC key (the ceiling pseudonymises) */
    const char *script_dir;     /* the apply script, for the ceiling's store */
    unsigned shards;            /* the stack's shard count; 0 = CF_SHARD_DEFAULT */
    unsigned ack_replicas;      /* the workers' ack-replicas (its own stack's replica), reported */
    int aof_rewrite;            /* its own Redis rewrites its AOF on its own (1) or never (0);
                                   -1: not known (a running stack's, or no AOF), reported */
    size_t events;              /* closed loop and ceiling */
    unsigned producers, batch, window;
    unsigned ceiling_threads;   /* as many as workers */
    double rate;                /* open loop: events/s offered */
    double open_seconds;        /* open loop: how long */
    unsigned open_batch;        /* open loop: events per request */
    uint64_t seed;
    cf_bench_progress_fn *progress;
    void *progress_arg;
    const cf_redis_auth_t *redis_auth;  /* Redis credentials (all commands: INFO, DEL...); NULL = none */
} cf_bench_config_t;

#define CF_BENCH_MAX_LATENCY        16      /* kinds of latency event reported */

typedef struct {
    char name[40];              /* LATENCY's event: aof-fsync-always, command, ...; or
                                   SLOWLOG's command, in lower case */
    double max_ms;              /* the longest over the phase */
    unsigned count;             /* how many: seconds with such an event, or commands logged */
} cf_bench_latency_t;

typedef struct {
    char name[48];
    double per_event;
    double us_per_event;        /* Redis's time in them per event (commandstats' usec) */
} cf_bench_rate_t;

#define CF_BENCH_NODES  32      /* Redis nodes measured apart: masters and replicas */

/*  One Redis node's share: CPU seconds and calls over the closed loop and
    its drain (in a snapshot: so far).                                      */
typedef struct {
    int port;
    bool replica;
    double cpu_s;
    double calls;               /* every command but INFO */
} cf_bench_node_t;

typedef struct {
    /* closed loop */
    size_t events, accepted, duplicate, rejected, unacked;
    size_t busy;                /* busy acks the producers got (a broker's limit said wait) */
    double seconds, events_per_s;
    double redis_commands_per_event, redis_cpu_s;
    double drain_seconds;       /* after the last ack, until the stack had settled (cf_bench_settle) */
    double redis_cpu_drained_s; /* Redis's CPU over the closed loop and its drain: every master's */
    double redis_replicas_cpu_s;        /* the replicas' over the same; < 0 unknown, 0 none */
    bool redis_cluster;         /* measured a Redis Cluster: redis_nodes in the report */
    cf_bench_node_t redis_nodes[CF_BENCH_NODES];        /* masters, then replicas */
    size_t redis_node_count;
    cf_bench_rate_t commands[CF_BENCH_MAX_COMMANDS];    /* per event, by command */
    double redis_forks;         /* Redis's forks over the loop and its drain (its masters') */
    size_t command_count;
    /* ceiling */
    size_t ceiling_events;
    double ceiling_seconds, ceiling_events_per_s, ceiling_redis_cpu_s;
    double ceiling_commands_per_event;
    /* memory, from the ceiling's keys */
    size_t event_ids, open_cases, closed_cases;
    double bytes_per_event_id, bytes_per_open_case, bytes_per_closed_case;    /* a case: its hash and deadlines */
    size_t open_deadlines;      /* deadlines of the open cases, weighed with them */
    size_t open_alerts;         /* overdue alerts of the cases, open in cf:{pub}:open */
    double bytes_per_open_alert;
    /* open loop */
    size_t open_events, open_failed;    /* failed: not accepted */
    size_t open_busy;                   /* busy acks */
    double open_rate, open_seconds, open_events_per_s;
    double p50_ms, p99_ms, p999_ms, max_ms, mean_ms;
    size_t open_in_flight_max;  /* requests due and not answered whole, at most */
    bool open_window_full;      /* some request waited for a slot in the window */
    double open_redis_forks;    /* Redis's forks over the open loop; < 0 unknown */
    double open_redis_commands_per_event, open_redis_cpu_us_per_event;  /* < 0 unknown */
    cf_bench_rate_t open_commands[CF_BENCH_MAX_COMMANDS];       /* per event, by command */
    size_t open_command_count;
    double open_latency_threshold_ms;   /* Redis's latency monitor's; < 0 off or unknown */
    cf_bench_latency_t open_latency[CF_BENCH_MAX_LATENCY];      /* its events over the open loop */
    size_t open_latency_count;
    double open_slowlog_threshold_ms;   /* Redis's slow log's; < 0 off or unknown */
    cf_bench_latency_t open_slow[CF_BENCH_MAX_LATENCY];     /* its commands over the open loop */
    size_t open_slow_count;
    /* the machine's speed (cf_bench_speed) before the closed loop and after
       the loops; 0 not measured */
    cf_bench_speed_t speed[2];
    /* the server, and the stack's processes (set by the caller) */
    char redis_version[32];
    char durability[16];        /* strict, second, none */
    long broker_peak_kb, worker_peak_kb;        /* VmHWM, -1 unknown */
    /* CPU of this process (the producers), the broker and each worker over
       the closed loop and its drain; the processes are the caller's
       (cf_bench_processes) */
    cf_bench_cpu_t cpu;
    /* the same over the open loop (its warm-up, its requests and their
       acks: open_cpu_wall_s), where the latency, not a core, is the limit:
       how busy each process was says whose wait it is */
    cf_bench_cpu_t open_cpu;
    double open_cpu_wall_s;
    double open_redis_cpu_s, open_redis_replicas_cpu_s;    /* < 0 unknown */
} cf_bench_result_t;

typedef struct _cf_bench_t cf_bench_t;

/*  Borrows config (and its strings) for the object's life. No I/O.          */
cf_bench_t *cf_bench_new(const cf_bench_config_t *config);
void cf_bench_destroy(cf_bench_t **self_p);

/*  The phases, in this order (caseflow-bench's): closed loop, open loop,
    ceiling. The open loop runs before the ceiling, whose unfenced commits
    drop the workers' commit caches; the ceiling starts once the stack is
    at rest (cf_bench_settle). Each 0, or -1 with the error on the object. A
    closed loop or open loop where an event ends rejected or unacked still
    returns 0: the counts say so.                                          */
int cf_bench_closed(cf_bench_t *self);
int cf_bench_open(cf_bench_t *self);
int cf_bench_ceiling(cf_bench_t *self);

const cf_bench_result_t *cf_bench_result(const cf_bench_t *self);

/*  The stack's processes whose CPU the closed loop measures: the caller
    adds them (cf_bench_cpu_add, cf_bench_cpu_from_dir) or says why not
    (cf_bench_cpu_set_unknown) before cf_bench_closed.                     */
cf_bench_cpu_t *cf_bench_processes(cf_bench_t *self);

/*  The peak RSS of the broker and the largest of the workers (kB; -1 when
    unknown), for the report.                                               */
void cf_bench_set_peaks(cf_bench_t *self, long broker_kb, long worker_kb);

/*  The report as one JSON object (every key always there; null for what was
    not measured), a new string the caller frees.                           */
char *cf_bench_json(const cf_bench_t *self);

/*  The report as a few lines of text.                                       */
void cf_bench_print(const cf_bench_t *self, FILE *out);
const char *cf_bench_error(const cf_bench_t *self);

#endif
