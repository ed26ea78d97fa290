/*  cf_bench_gaps: how long this machine takes a core away from a thread
    that never yields. One thread per core spins for a while reading the
    clock; a jump between two readings is time its core was taken. On the
    development machine a thread alone saw hardly a jump over a millisecond,
    but with both cores busy a few a second of 1 to 9 ms: a guest whose
    cores are all busy loses one now and then to the host below it, and
    Redis, whose thread every reply waits for, with it (docs/performance.md,
    "Issue 14: the sixteenth stop"). tests/tools/cf_core_gaps runs it, so
    that a machine can be judged steady or not before its figures are.    */
#ifndef CF_BENCH_GAPS_H
#define CF_BENCH_GAPS_H

typedef struct {
    unsigned threads;           /* spinning at once */
    double seconds;             /* each, as long */
    long over_1ms, over_3ms;    /* gaps that long, all threads together */
    double worst_ms;            /* the longest */
    double lost_share;          /* of the threads' time, in gaps over 0.1 ms */
} cf_bench_gaps_t;

/*  Spins `threads` threads for `seconds` each, into out. 0, or -1 when a
    thread could not be started (out then holds those that ran).           */
int cf_bench_gaps_measure(unsigned threads, double seconds, cf_bench_gaps_t *out);

#endif
