/*  cf_bench internals shared by cf_bench.c (the object, progress),
    cf_bench_redis.c (the Redis connection, snapshots, the drain),
    cf_bench_loops.c (the closed and open loops),
    cf_bench_ceiling.c (the ceiling) and cf_bench_memory.c (the memory
    figures). Not part of the public API.                                   */
#ifndef CF_BENCH_INTERNAL_H
#define CF_BENCH_INTERNAL_H

#include "cf_bench.h"
#include "cf_bench_gen.h"

#include "caseflow/cf_event.h"
#include "caseflow/cf_redis_cluster.h"
#include "caseflow/cf_shard.h"

#include <stdatomic.h>
#include <hiredis/hiredis.h>

#define BENCH_SNAPSHOT_COMMANDS 256

struct _cf_bench_t {
    const cf_bench_config_t *config;
    cf_bench_result_t result;
    cf_redis_cluster_t *redis;  /* for INFO and the memory figures: a server or a cluster */
    char error[512];
};

#define BENCH_NODES_MAX CF_BENCH_NODES

/*  What INFO says at one moment: the masters' figures summed (a single
    server: its own), each node's apart.                                     */
typedef struct {
    cf_bench_command_t commands[BENCH_SNAPSHOT_COMMANDS];
    size_t count;
    double cpu_s;               /* used_cpu_sys + used_cpu_user */
    double used_memory;
    double forks;               /* total_forks: an AOF rewrite, an RDB save, a full sync */
    cf_bench_node_t nodes[CF_BENCH_NODES];      /* cpu_s and calls so far */
    size_t node_count;
    cf_bench_addr_t replicas[BENCH_NODES_MAX];  /* as the masters list them */
    size_t replica_count;
    double replicas_cpu_s;      /* after cf_bench_snapshot_replicas */
    bool replicas_unknown;      /* a replica listed did not answer */
} bench_snapshot_t;

/*  The namespace of a phase's event set: a new seed is a new set of event
    ids and case_refs, so runs against a kept Redis need not collide.       */
enum { BENCH_NS_CLOSED = 1, BENCH_NS_CEILING = 2, BENCH_NS_OPEN = 3 };
#define BENCH_NS(config, phase)     ((unsigned) ((config)->seed % 1000 * 10 + (phase)))

/*  The stack's shard count.                                                 */
#define BENCH_SHARDS(config)        ((config)->shards ? (config)->shards : CF_SHARD_DEFAULT)

/*  A case of the ceiling's events, for the memory figures.                 */
typedef struct {
    char case_id[CF_PSEUDONYM_LEN + 1];
    unsigned shard;
    bool closed;
} bench_case_t;

/*  Redis's memory per event id, per open and per closed case and per open
    alert of the ceiling's n events and cases (result's open_cases +
    closed_cases of them), from INFO used_memory before and after deleting
    exactly those keys, members and fields. 0, or -1 with the error set.   */
int cf_bench_memory(cf_bench_t *self, const cf_event_t *events, const bench_case_t *cases);

int cf_bench_fail(cf_bench_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*  Monotonic seconds.                                                       */
double cf_bench_now(void);

/*  One command on the bench's own connection (connected on first use),
    sent to the master of key's slot (NULL: any node); an error reply is an
    error. *reply (freed by the caller) may be NULL when the reply is not
    wanted. 0, or -1 with the error set.                                    */
int cf_bench_redis(cf_bench_t *self, redisReply **reply, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*  The connection (connected), for a pipeline of commands; NULL with the
    error set. Its replies are taken with cf_bench_reply.                   */
cf_redis_cluster_t *cf_bench_cluster(cf_bench_t *self);

/*  The next reply of the pipeline into *reply (the caller frees it); an
    error reply is an error. 0, or -1 with the error set (*reply NULL).    */
int cf_bench_reply(cf_bench_t *self, redisReply **reply);

/*  One slot of each master (cf_redis_cluster_master_slots): how many, or
    -1 with the error set.                                                  */
int cf_bench_masters(cf_bench_t *self, int *slots, size_t size);

/*  INFO of every master, summed, each apart in snap->nodes, and the
    replicas they list. 0, or -1 with the error set.                        */
int cf_bench_snapshot(cf_bench_t *self, bench_snapshot_t *snap);

/*  Adds the INFO of the replicas snap lists (each on a connection of its
    own) to snap->nodes and replicas_cpu_s; one that does not answer sets
    replicas_unknown.                                                        */
void cf_bench_snapshot_replicas(cf_bench_t *self, bench_snapshot_t *snap);

/*  Each node's CPU seconds and calls from before to after, into out (as
    many as after has; *count of them); a node not in both is left out.    */
void cf_bench_nodes_between(const bench_snapshot_t *before, const bench_snapshot_t *after,
                            cf_bench_node_t *out, size_t *count);

/*  The longest event of each kind that Redis's latency monitor recorded
    from from_s to to_s (Unix seconds, inclusive) on every master, into out
    (*count of them, at most CF_BENCH_MAX_LATENCY): cf_bench_latency.c.
    Returns the monitor's threshold (ms; the largest of the masters'), or
    -1 (and no events) when it is off or cannot be read on some master.    */
double cf_bench_latency(cf_bench_t *self, int64_t from_s, int64_t to_s, cf_bench_latency_t *out,
                        size_t *count);

/*  The commands Redis's slow log recorded from from_s to to_s on every
    master, by name (lower case): how many, and the longest (ms). Returns
    the log's threshold (ms; the largest of the masters', 0 when it logs
    every command), or -1 (and none) when it is off or cannot be read.    */
double cf_bench_slowlog(cf_bench_t *self, int64_t from_s, int64_t to_s, cf_bench_latency_t *out,
                        size_t *count);

/*  Waits until the stack has done the work the events so far caused after
    their acks: the broker has published every shard's outbox to its last
    entry, and the workers have fired every deadline due by now; or until
    neither moved for 2 s (a stack that does neither: then what is left is
    not the bench's to wait for), or 2 minutes. *seconds (when not NULL)
    is how long it waited. 0, or -1 with the error set.                      */
int cf_bench_settle(cf_bench_t *self, double *seconds);

/*  Calls per event between two snapshots, without the bench's own INFO; the
    total, and by command into out (at most CF_BENCH_MAX_COMMANDS, the most
    called first) when out is not NULL.                                     */
double cf_bench_commands_per_event(const bench_snapshot_t *before, const bench_snapshot_t *after,
                                   size_t events, cf_bench_rate_t *out, size_t *out_count);

/*  Calls the progress callback every 200 ms with *done until *running is 0. */
void cf_bench_watch(cf_bench_t *self, const char *phase, atomic_size_t *done, size_t total,
                    atomic_uint *running, double started);

#endif
