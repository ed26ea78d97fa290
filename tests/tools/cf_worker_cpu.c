/*  cf_worker_cpu: the worker's CPU per event, without ZeroMQ and the broker,
    for profiling it (docs/performance.md, "What is next", item 3). Starts a
    throw-away redis-server, generates caseflow-bench's event mix
    (cf_bench_gen), and serves it in jobs of --batch frames through cf_apply,
    as a worker serves the broker's jobs (decode, pseudonymise, read, fold,
    commit, acks), with the default rules and 64 shards. Prints the
    process's CPU time per event, and Redis's (from its INFO: it runs in
    its own process) with its commands per event, so that `perf record -g`
    of this program shows the worker's own profile, and two builds' costs
    compare, on a machine too noisy for the bench's figures.
    Usage: cf_worker_cpu [--events N] [--batch N] [--seed N] [--port P]
                         [--fenced]
    (--port: a redis-server already on 127.0.0.1:P, left as the run leaves
    it, for comparing what two builds wrote, or started with the bench's
    settings; --fenced: every shard owned, at epoch 1, as a worker's are
    in the bench: the apply path fences its commits by the owner record
    instead of watching every case).                                        */
#include "cf_apply.h"
#include "cf_bench_gen.h"
#include "cf_test_redis.h"
#include "caseflow/cf_pseudo.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_store.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Redis's CPU seconds and commands processed so far, from INFO. */
static int redis_counts(redisContext *c, double *cpu, double *commands)
{
    redisReply *r = redisCommand(c, "INFO");
    if (!r || r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        return -1;
    }
    double user = 0, sys = 0;
    const char *at;
    if ((at = strstr(r->str, "used_cpu_sys:")))
        sys = strtod(at + 13, NULL);
    if ((at = strstr(r->str, "used_cpu_user:")))
        user = strtod(at + 14, NULL);
    if ((at = strstr(r->str, "total_commands_processed:")))
        *commands = strtod(at + 25, NULL);
    *cpu = user + sys;
    freeReplyObject(r);
    return 0;
}

static double seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t events = 60000, batch = 200;
    unsigned long seed = 42, port = 0;
    bool fenced = false;
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--fenced") == 0) {
            fenced = true;
            i--;
        } else if (i + 1 >= argc) {
            fprintf(stderr, "cf_worker_cpu: %s needs a value\n", argv[i]);
            return 2;
        } else if (strcmp(argv[i], "--events") == 0)
            events = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--port") == 0)
            port = strtoul(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: cf_worker_cpu [--events N] [--batch N] [--seed N] [--port P] "
                    "[--fenced]\n");
            return 2;
        }
    }
    if (batch == 0 || batch > CF_MSG_MAX_JOB_EVENTS)
        batch = CF_MSG_MAX_JOB_EVENTS;
    char key_path[64], err[256];
    snprintf(key_path, sizeof key_path, "/tmp/cf_worker_cpu_%d.key", (int) getpid());
    FILE *file = fopen(key_path, "w");
    if (!file)
        return 1;
    fputs("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", file);
    fclose(file);
    cf_pseudo_t *pseudo = cf_pseudo_new(key_path, err, sizeof err);
    unlink(key_path);
    cf_test_redis_t *redis = port ? NULL : cf_test_redis_start();
    if (!pseudo || (!port && !redis)) {
        fprintf(stderr, "cf_worker_cpu: %s\n", pseudo ? "redis-server did not start" : err);
        return 1;
    }
    cf_store_t *store = cf_store_new("127.0.0.1", port ? (int) port : cf_test_redis_port(redis),
                                     CF_SOURCE_DIR "/lua");
    cf_store_set_shards(store, CF_SHARD_DEFAULT, true);
    cf_rules_t *rules = cf_rules_new();             /* a worker without a rules file */
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(rules, &packed);
    cf_store_set_rules(store, packed.data, packed.size);
    int rc = cf_store_connect(store);
    redisContext *info = redisConnect("127.0.0.1", port ? (int) port : cf_test_redis_port(redis));
    for (unsigned s = 0; fenced && rc == 0 && s < CF_SHARD_DEFAULT; s++) {
        redisReply *r = redisCommand(info, "HSET cf:{s%u}:owner epoch 1 worker cpu", s);
        rc = r && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
        freeReplyObject(r);
        cf_store_set_fence(store, s, 1);
    }
    cf_apply_t *apply = cf_apply_new(pseudo, store);
    cf_bench_gen_t *gen = cf_bench_gen_new(seed, 1);
    cf_bench_gen_fill(gen, events);
    const void *frames[CF_MSG_MAX_JOB_EVENTS];
    size_t sizes[CF_MSG_MAX_JOB_EVENTS], accepted = 0;
    double redis_cpu = 0, redis_commands = 0, redis_cpu_end = 0, redis_commands_end = 0;
    if (!info || info->err || redis_counts(info, &redis_cpu, &redis_commands) < 0)
        rc = -1;
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID), wall = seconds(CLOCK_MONOTONIC);
    for (size_t from = 0; rc == 0 && from < events; from += batch) {
        size_t n = events - from < batch ? events - from : batch;
        for (size_t i = 0; i < n; i++)
            frames[i] = cf_bench_gen_data(gen, from + i, &sizes[i]);
        uint64_t request = from / batch + 1;
        cf_store_set_request(store, &request, sizeof request);
        rc = cf_apply_run(apply, frames, sizes, n);
        accepted += cf_apply_count(apply, CF_ACK_ACCEPTED);
    }
    cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    wall = seconds(CLOCK_MONOTONIC) - wall;
    if (rc == 0 && redis_counts(info, &redis_cpu_end, &redis_commands_end) < 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "cf_worker_cpu: %s\n", info && info->err ? info->errstr
                                                                 : cf_apply_error(apply));
    else
        printf("events %zu accepted %zu batch %zu%s: %.2f us of CPU per event (wall %.2f s); "
               "redis %.2f us and %.2f commands per event\n", events, accepted, batch,
               fenced ? " fenced" : "", cpu * 1e6 / (double) events, wall,
               (redis_cpu_end - redis_cpu) * 1e6 / (double) events,
               (redis_commands_end - redis_commands - 1) / (double) events);
    redisFree(info);
    cf_bench_gen_destroy(&gen);
    cf_apply_destroy(&apply);
    cf_store_destroy(&store);
    cf_rules_destroy(&rules);
    msgpack_sbuffer_destroy(&packed);
    cf_pseudo_destroy(&pseudo);
    cf_test_redis_stop(&redis);
    return rc < 0 || accepted != events;
}
