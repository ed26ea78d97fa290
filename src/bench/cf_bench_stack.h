/*  cf_bench_stack: a throw-away caseflow stack for caseflow-bench: its own
    redis-server, a broker and W workers on free loopback ports, with their
    logs, key and Redis files in a new temporary directory. The children get
    SIGTERM when the benchmark dies, so nothing outlives it. Errors are -1
    with a message on the object; never prints.                             */
#ifndef CF_BENCH_STACK_H
#define CF_BENCH_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "caseflow/cf_redis_auth.h"
#include "cf_bench_cpu.h"

/*  The stack's Redis runs with this latency-monitor-threshold (ms, as its
    flag is given), so that the open loop's report can say what held
    Redis's thread (cf_bench_latency).                                      */
#define CF_BENCH_STACK_LATENCY_MS   "3"
#define CF_BENCH_STACK_SLOWLOG_US   "3000"  /* the slow log's, the same 3 ms */

#define CF_BENCH_MAX_WORKERS    64

typedef struct {
    const char *bin_dir;        /* where caseflow-broker and caseflow-worker are */
    const char *script_dir;     /* the worker's --scripts (cf_bench_scripts) */
    unsigned workers;           /* 1 .. CF_BENCH_MAX_WORKERS */
    bool persistence;           /* appendonly yes, appendfsync always; else no AOF */
    bool aof_rewrite;           /* Redis rewrites its AOF on its own (its defaults: when it
                                   doubles, past 64 MB); else never (docs/performance.md) */
    unsigned shards;            /* the daemons' --shards; 0 = their default */
    bool replica;               /* Redis gets a replica, and the workers ack-replicas 1 */
} cf_bench_stack_config_t;

typedef struct _cf_bench_stack_t cf_bench_stack_t;

cf_bench_stack_t *cf_bench_stack_new(void);

/*  Stops what runs (workers, then the broker, then Redis: SIGTERM, SIGKILL
    after 5 s), removes the directory unless the start failed or a log holds
    a sanitizer report (the logs say why), frees and nulls *self_p; accepts
    NULL.                                                                    */
void cf_bench_stack_destroy(cf_bench_stack_t **self_p);

/*  Blocks SIGINT and SIGTERM in the calling thread, and so in the threads
    it starts after, and starts a thread that on either stops the stack,
    removes its directory (as destroy does) and ends the process with 128
    plus the signal's number: an interrupted benchmark leaves neither
    daemons nor its directory, whose AOF holds hundreds of MB. Call it
    before any other thread starts. 0, or -1 with the error on the object. */
int cf_bench_stack_guard(cf_bench_stack_t *self);

/*  Stops what runs, as destroy does. 0, or -1 with the error on the object
    when a daemon's log holds a sanitizer report (the directory is then
    kept).                                                                  */
int cf_bench_stack_stop(cf_bench_stack_t *self);

/*  Starts Redis, waits for its PONG, starts the broker and the workers and
    waits until the broker has logged every worker joining (30 s at most).
    0, or -1 with the error on the object.                                  */
int cf_bench_stack_start(cf_bench_stack_t *self, const cf_bench_stack_config_t *config);

/*  After a start: the intake endpoint, Redis's port (on 127.0.0.1), the
    key file the workers use, the directory.                               */
const char *cf_bench_stack_intake(const cf_bench_stack_t *self);
int cf_bench_stack_redis_port(const cf_bench_stack_t *self);
const char *cf_bench_stack_key_file(const cf_bench_stack_t *self);
const char *cf_bench_stack_dir(const cf_bench_stack_t *self);

/*  After a start: the credentials of its Redis (a random password, kept in
    the directory, mode 0600, and never on a command line).                 */
const cf_redis_auth_t *cf_bench_stack_redis_auth(const cf_bench_stack_t *self);

/*  After a start: adds its broker ("broker") and workers ("worker-1"...)
    to the processes whose CPU is measured.                                */
void cf_bench_stack_processes(const cf_bench_stack_t *self, cf_bench_cpu_t *cpu);

/*  Peak resident set (VmHWM, kB) of the broker, and the largest of the
    workers'; -1 when unknown (a process gone).                             */
long cf_bench_stack_broker_peak_kb(const cf_bench_stack_t *self);
long cf_bench_stack_worker_peak_kb(const cf_bench_stack_t *self);

/*  VmHWM of any process from /proc/<pid>/status in kB, -1 when unreadable.  */
long cf_bench_peak_rss_kb(pid_t pid);

const char *cf_bench_stack_error(const cf_bench_stack_t *self);

/*  dir when not NULL, else the directory of the Lua scripts this build was
    configured with (CF_SCRIPT_DIR), as the worker does.                    */
const char *cf_bench_scripts(const char *dir);

#endif
