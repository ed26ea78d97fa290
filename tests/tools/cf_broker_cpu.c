/*  cf_broker_cpu: the CPU per event of the broker's intake rule, without
    ZeroMQ, for profiling it (docs/performance.md, "What is next"). Generates
    caseflow-bench's event mix (cf_bench_gen) and computes each event's
    shard as cf_broker_route_shards does at intake (cf_shard_of_frame, then
    cf_shard_pick over 64 shards), --rounds times over the set. Prints the
    process's CPU time per event; --reference does the same with the rule's
    former way (the frame decoded whole: tests/helpers/cf_test_unpack.h), so
    that one build measures before and after in the same minute of a noisy
    machine. Both ways must give the same shard for every event: a
    difference exits 1.
    Usage: cf_broker_cpu [--events N] [--rounds N] [--seed N] [--reference] */
#include "cf_bench_gen.h"
#include "cf_test_unpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t events = 20000, rounds = 20;
    unsigned long seed = 1;
    int (*rule)(const void *, size_t, uint64_t *) = cf_shard_of_frame;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reference") == 0)
            rule = cf_test_shard_of_frame;
        else if (i + 1 < argc && strcmp(argv[i], "--events") == 0)
            events = strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0)
            rounds = strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0)
            seed = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: cf_broker_cpu [--events N] [--rounds N] [--seed N] "
                    "[--reference]\n");
            return 2;
        }
    }
    cf_bench_gen_t *gen = cf_bench_gen_new(seed, 0);
    cf_bench_gen_fill(gen, events);
    unsigned *shard = calloc(events, sizeof *shard);
    if (!shard)
        return 1;
    for (size_t i = 0; i < events; i++) {     /* both ways agree, and warm the caches */
        size_t size;
        const void *data = cf_bench_gen_data(gen, i, &size);
        uint64_t now = 0, before = 0;
        if (cf_shard_of_frame(data, size, &now) != cf_test_shard_of_frame(data, size, &before)
            || now != before) {
            fprintf(stderr, "cf_broker_cpu: event %zu: the two ways differ\n", i);
            return 1;
        }
        shard[i] = cf_shard_pick(now, CF_SHARD_DEFAULT);
    }
    size_t bytes = 0, differ = 0;
    double start = cpu_seconds();
    for (size_t r = 0; r < rounds; r++)
        for (size_t i = 0; i < events; i++) {
            size_t size;
            const void *data = cf_bench_gen_data(gen, i, &size);
            uint64_t hash = 0;
            if (rule(data, size, &hash) < 0 || cf_shard_pick(hash, CF_SHARD_DEFAULT) != shard[i])
                differ++;
            bytes += size;
        }
    double spent = cpu_seconds() - start;
    printf("%s: %zu events x %zu rounds, %.0f bytes per event: %.3f us of CPU per event\n",
           rule == cf_shard_of_frame ? "cf_shard_of_frame" : "reference (cf_unpack)", events,
           rounds, (double) bytes / (double) (events * rounds),
           spent * 1e6 / (double) (events * rounds));
    free(shard);
    cf_bench_gen_destroy(&gen);
    return differ ? 1 : 0;
}
