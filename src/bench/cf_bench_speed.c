/*  cf_bench_speed: a fixed piece of work, timed; see cf_bench_speed.h.     */
#include "cf_bench_speed.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define SPEED_BYTES     (256 * 1024)    /* fits a core's L2: the core, not the memory bus */
#define SPEED_ROUNDS    256
#define SPEED_TRIES     3

static double speed_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

double cf_bench_speed_ms(void)
{
    unsigned char *buffer = cf_calloc(SPEED_BYTES, 1);
    for (size_t i = 0; i < SPEED_BYTES; i++)
        buffer[i] = (unsigned char) (i * 131 + 7);
    volatile uint64_t sink = 0;     /* the work's result is kept: not optimised away */
    double best = -1;
    for (int t = 0; t < SPEED_TRIES; t++) {
        double start = speed_now_ms();
        uint64_t h = 0;
        for (int r = 0; r < SPEED_ROUNDS; r++)
            h = cf_hash(buffer, SPEED_BYTES, h);
        sink ^= h;
        double took = speed_now_ms() - start;
        if (best < 0 || took < best)
            best = took;
    }
    (void) sink;
    free(buffer);
    return best;
}
