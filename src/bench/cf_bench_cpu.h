/*  cf_bench_cpu: the CPU time each process of the stack spends over a
    measured phase, so that caseflow-bench can say which process is the next
    limit: this process (the producers), the broker and each worker, from
    /proc/<pid>/stat (utime + stime, every thread of the process) before and
    after the phase. Redis's own CPU comes from its INFO, which works for a
    remote Redis too (cf_bench). The pids come from the bench's own stack or
    from the pid files a stack of scripts/up keeps in its directory; when
    they are unknown the list says why, and the report prints null.        */
#ifndef CF_BENCH_CPU_H
#define CF_BENCH_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CF_BENCH_CPU_PROCS  72          /* up to 8 brokers (scripts/up) and 64 workers */

typedef struct {
    char name[24];              /* "broker", "broker-2", ..., "worker-1", ... */
    pid_t pid;
    double start_s;             /* its CPU seconds at the start of the phase */
    double cpu_s;               /* over the phase; < 0 when unknown (the process went away) */
} cf_bench_cpu_proc_t;

typedef struct {
    cf_bench_cpu_proc_t procs[CF_BENCH_CPU_PROCS];
    size_t count;
    char unknown[256];          /* why the stack's processes are not measured; "" when they are */
    double self_start_s, self_s;        /* this process (the producers), over the phase */
    bool measured;              /* start and stop were called */
} cf_bench_cpu_t;

/*  Adds a process to measure; past CF_BENCH_CPU_PROCS it is ignored.      */
void cf_bench_cpu_add(cf_bench_cpu_t *cpu, const char *name, pid_t pid);

/*  Adds the brokers and workers of a scripts/up stack kept in dir, from its
    broker.pid, broker-2.pid... and worker-1.pid, worker-2.pid... files.
    Refuses a directory whose env file names another intake than the one
    measured, and a pid that is not a running caseflow-broker or
    caseflow-worker. 0, or -1 with the reason in cpu->unknown (and no
    process added).                                                         */
int cf_bench_cpu_from_dir(cf_bench_cpu_t *cpu, const char *dir, const char *intake);

/*  Whether p is a broker ("broker", or "broker-N" of several).            */
bool cf_bench_cpu_is_broker(const cf_bench_cpu_proc_t *p);

/*  CPU seconds of every broker together over the phase; < 0 when there is
    none or one is unknown.                                                 */
double cf_bench_cpu_brokers(const cf_bench_cpu_t *cpu);

/*  Records that the stack's processes are not measured, and why.          */
void cf_bench_cpu_set_unknown(cf_bench_cpu_t *cpu, const char *why);

/*  Samples every process (and this one) at the start and at the end of a
    phase. A process unreadable at either end gets cpu_s < 0.              */
void cf_bench_cpu_start(cf_bench_cpu_t *cpu);
void cf_bench_cpu_stop(cf_bench_cpu_t *cpu);

/*  utime + stime in clock ticks from the text of /proc/<pid>/stat (the
    process's name, in parentheses, may hold spaces and parentheses). 0, or
    -1 when the text is not such a line.                                    */
int cf_bench_cpu_parse_stat(const char *text, unsigned long long *ticks);

/*  CPU seconds of a process so far (every thread), < 0 when unreadable.  */
double cf_bench_cpu_of(pid_t pid);

/*  CPU seconds of this process so far (getrusage, every thread).          */
double cf_bench_cpu_self(void);

/*  Microseconds of CPU per event: seconds * 1e6 / events; NAN when the
    seconds are unknown (< 0) or there were no events.                      */
double cf_bench_cpu_per_event(double seconds, size_t events);

/*  The CPU seconds of the whole pipeline over the phase: this process,
    every process of the list and Redis's redis_s; < 0 when any of them is
    unknown (the list's processes, one gone, or redis_s < 0).               */
double cf_bench_cpu_total(const cf_bench_cpu_t *cpu, double redis_s);

/*  The name of the process that spent the most CPU over the phase among
    those known: "producer", "redis" or a name of the list.                */
const char *cf_bench_cpu_busiest(const cf_bench_cpu_t *cpu, double redis_s);

#endif
