/*  cf_bench_speed: how fast this machine runs now, as the time of a fixed
    piece of work. A shared host's speed moves within the hour, by up to
    three times (docs/performance.md, "Issue 14: the fourteenth stop"), and
    the open loop's latency moves with it: caseflow-bench times this work
    before its closed loop and after its open loop, so that each report says
    in which spell it was taken.                                            */
#ifndef CF_BENCH_SPEED_H
#define CF_BENCH_SPEED_H

/*  The fixed work (hashing a 256 KiB buffer 256 times with cf_hash, one
    core), best of three, in milliseconds: the larger, the slower the
    machine is running. Takes about 0.1 s.                                  */
double cf_bench_speed_ms(void);

#endif
