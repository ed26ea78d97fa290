/*  cf_bench_stats: the arithmetic of caseflow-bench, apart from any server:
    latency samples and their percentiles, and the fields of a Redis INFO
    reply (numbers, and the calls per command of INFO commandstats). Pure.   */
#ifndef CF_BENCH_STATS_H
#define CF_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct _cf_bench_stats_t cf_bench_stats_t;

cf_bench_stats_t *cf_bench_stats_new(void);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_bench_stats_destroy(cf_bench_stats_t **self_p);

/*  Records a latency of us microseconds, weight times (a request's latency
    is that of each of its events).                                          */
void cf_bench_stats_add(cf_bench_stats_t *self, uint64_t us, uint32_t weight);

/*  The total weight recorded.                                               */
uint64_t cf_bench_stats_count(const cf_bench_stats_t *self);

/*  The q-quantile (0 < q <= 1) by nearest rank: the smallest recorded value
    v such that at least q of the weight is at or below v; 0 when empty.     */
uint64_t cf_bench_stats_quantile(cf_bench_stats_t *self, double q);

/*  The weighted mean and the maximum; 0 when empty.                         */
double cf_bench_stats_mean(const cf_bench_stats_t *self);
uint64_t cf_bench_stats_max(const cf_bench_stats_t *self);

/*  The number after "field:" on a line of an INFO reply. 0, or -1 when the
    field is missing or not a number.                                        */
int cf_bench_info_number(const char *info, const char *field, double *value);

typedef struct {
    char name[48];              /* "fcall", "hincrby", ... */
    uint64_t calls;
    uint64_t usec;              /* Redis's time in them, as it counts it */
} cf_bench_command_t;

/*  The cmdstat_<name>:calls=N,usec=U lines of an INFO commandstats reply
    (usec 0 when absent), at most max of them, in reply order. Returns how
    many were found.                                                        */
size_t cf_bench_info_commands(const char *info, cf_bench_command_t *out, size_t max);

/*  Adds the calls and usec of the n commands of more into table (count of
    them, at most max), by name: the commands of several Redis masters as
    one. Returns the new count; a name past max is dropped.                */
size_t cf_bench_commands_add(cf_bench_command_t *table, size_t count, size_t max,
                             const cf_bench_command_t *more, size_t n);

/*  The calls of every command of a table but INFO (the bench's own).      */
uint64_t cf_bench_commands_calls(const cf_bench_command_t *table, size_t count);

/*  The text after "field:" on a line of an INFO reply, to the end of the
    line, into out (size bytes). 0, or -1 when missing or too long.         */
int cf_bench_info_text(const char *info, const char *field, char *out, size_t size);

typedef struct {
    char host[64];
    int port;
} cf_bench_addr_t;

/*  The replicas a master's INFO replication lists (slaveN:ip=...,port=...),
    at most max into out; how many were found.                              */
size_t cf_bench_info_replicas(const char *info, cf_bench_addr_t *out, size_t max);

/*  The calls of name in a table from cf_bench_info_commands; 0 if absent.   */
uint64_t cf_bench_command_calls(const cf_bench_command_t *table, size_t count, const char *name);

/*  The entry of name in such a table; NULL if absent.                       */
const cf_bench_command_t *cf_bench_command_find(const cf_bench_command_t *table, size_t count,
                                                const char *name);

#endif
