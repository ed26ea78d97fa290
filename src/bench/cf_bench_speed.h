/*  cf_bench_speed: how fast this machine runs now, as the times of two fixed
    pieces of work. A shared host's speed moves within the hour (Redis's own
    time per O(1) command by up to three times, docs/performance.md, "Issue
    14: the fourteenth stop"), and the open loop's latency moves with it:
    caseflow-bench measures both before its closed loop and after its open
    loop, so that each report says in which spell it was taken. The slow
    spells seen so far were in the memory, not in a core: a random access
    beyond the caches took 1.5 times as long while the core's own work took
    as long as ever (docs/performance.md, "Issue 14: the fifteenth stop"). */
#ifndef CF_BENCH_SPEED_H
#define CF_BENCH_SPEED_H

typedef struct {
    double cpu_ms;      /* cf_hash over a 256 KiB buffer (a core's L2), 256 times */
    double memory_ns;   /* one step of a walk of dependent loads over 32 MiB, at random */
} cf_bench_speed_t;

/*  Both, each the best of three: the larger, the slower the machine is
    running. Takes about 0.2 s and 32 MiB for its time.                     */
void cf_bench_speed_measure(cf_bench_speed_t *out);

#endif
