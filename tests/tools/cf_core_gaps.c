/*  cf_core_gaps: whether this machine keeps its cores, before its figures
    are trusted (docs/performance.md, "Issue 14: the sixteenth stop"). Spins
    one thread per core (cf_bench_gaps) and prints how often, and for how
    long, a thread lost its core: a machine that takes one away for
    milliseconds while all its cores are busy stalls Redis's thread as
    often, and every reply waiting on it.
    Usage: cf_core_gaps [--seconds S] [--threads N] [--json]
    (defaults: 20 s, one thread per online core)                           */
#include "cf_bench_gaps.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* argv's number at i + 1, within [low, high]; exits with a message if not. */
static double gaps_flag(int argc, char **argv, int i, double low, double high)
{
    char *end = NULL;
    double v = i + 1 < argc ? strtod(argv[i + 1], &end) : 0;
    if (i + 1 >= argc || end == argv[i + 1] || *end || v < low || v > high) {
        fprintf(stderr, "cf_core_gaps: %s takes a number from %g to %g%s%s\n", argv[i], low,
                high, i + 1 < argc ? ", not " : "", i + 1 < argc ? argv[i + 1] : "");
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    double seconds = 20;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cores > 0 ? (unsigned) cores : 1;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--seconds") == 0) {
            seconds = gaps_flag(argc, argv, i++, 0.01, 3600);
        } else if (strcmp(argv[i], "--threads") == 0) {
            threads = (unsigned) gaps_flag(argc, argv, i++, 1, 1024);
        } else {
            fprintf(stderr, "cf_core_gaps: unknown argument %s (usage: cf_core_gaps "
                    "[--seconds S] [--threads N] [--json])\n", argv[i]);
            return 2;
        }
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "spinning %u threads for %g s...\n", threads, seconds);
    cf_bench_gaps_t g;
    if (cf_bench_gaps_measure(threads, seconds, &g) < 0) {
        fprintf(stderr, "cf_core_gaps: only %u of %u threads could be started\n", g.threads,
                threads);
        return 1;
    }
    if (json)
        printf("{\"threads\": %u, \"seconds\": %g, \"gaps_over_1ms\": %ld, \"gaps_over_3ms\": %ld, "
               "\"worst_ms\": %.2f, \"lost_share\": %.4f}\n", g.threads, g.seconds, g.over_1ms,
               g.over_3ms, g.worst_ms, g.lost_share);
    else
        printf("%u threads for %g s: %ld gaps over 1 ms, %ld over 3 ms, the longest %.2f ms; "
               "%.2f %% of their time lost in gaps over 0.1 ms\n", g.threads, g.seconds,
               g.over_1ms, g.over_3ms, g.worst_ms, 100 * g.lost_share);
    return 0;
}
