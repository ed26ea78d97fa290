/*  cf_bench_speed: two fixed pieces of work, timed; see cf_bench_speed.h.  */
#include "cf_bench_speed.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define SPEED_TRIES         3
#define SPEED_CPU_BYTES     (256 * 1024)    /* fits a core's L2: the core, not the memory */
#define SPEED_CPU_ROUNDS    256
#define SPEED_WALK_SLOTS    (UINT32_C(1) << 23)     /* 32 MiB of uint32: past the caches */
#define SPEED_WALK_STEPS    300000

static double speed_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

/* The best of SPEED_TRIES runs of work(arg, try), in ms; what it returns
   is kept, so that the work is not optimised away. */
static double speed_best_ms(uint64_t (*work)(const void *arg, int try), const void *arg)
{
    volatile uint64_t sink = 0;
    double best = -1;
    for (int t = 0; t < SPEED_TRIES; t++) {
        double start = speed_now_ms();
        sink ^= work(arg, t);
        double took = speed_now_ms() - start;
        if (best < 0 || took < best)
            best = took;
    }
    (void) sink;
    return best;
}

static uint64_t speed_hash(const void *arg, int try)
{
    uint64_t h = (uint64_t) try;
    for (int r = 0; r < SPEED_CPU_ROUNDS; r++)
        h = cf_hash(arg, SPEED_CPU_BYTES, h);
    return h;
}

/* SPEED_WALK_STEPS dependent loads through next (cf_bench_speed_measure
   builds it), from slot try. */
static uint64_t speed_walk(const void *arg, int try)
{
    const uint32_t *next = arg;
    uint32_t at = (uint32_t) try;
    for (int s = 0; s < SPEED_WALK_STEPS; s++)
        at = next[at];
    return at;
}

void cf_bench_speed_measure(cf_bench_speed_t *out)
{
    unsigned char *buffer = cf_calloc(SPEED_CPU_BYTES, 1);
    for (size_t i = 0; i < SPEED_CPU_BYTES; i++)
        buffer[i] = (unsigned char) (i * 131 + 7);
    out->cpu_ms = speed_best_ms(speed_hash, buffer);
    free(buffer);
    /* each slot holds the next one to read, in the order of a full-period
       LCG modulo the slots (multiplier 1 mod 4, increment odd): every load
       waits for the one before, at an address no prefetcher follows, so a
       step costs a trip to memory */
    uint32_t *next = cf_calloc(SPEED_WALK_SLOTS, sizeof *next);
    for (uint32_t i = 0; i < SPEED_WALK_SLOTS; i++)
        next[i] = (i * UINT32_C(1664525) + UINT32_C(1013904223)) & (SPEED_WALK_SLOTS - 1);
    out->memory_ns = speed_best_ms(speed_walk, next) * 1e6 / SPEED_WALK_STEPS;
    free(next);
}
