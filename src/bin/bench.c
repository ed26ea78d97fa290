/*  caseflow-bench: measures caseflow's acknowledged path and its ceiling
    (docs/performance.md). With no --intake it starts a stack of its own
    (cf_bench_stack: redis-server in strict durability, or none with
    --no-persistence, a broker and --workers workers), runs the closed loop,
    the ceiling and the open loop (cf_bench), stops everything and prints
    the report: text, or one JSON object with --json. Progress goes to
    stderr when it is a terminal. Exit 0 when every event was accepted, 1
    when a phase failed or an event was not, 2 on a usage error.            */
#include "caseflow/cf_args.h"
#include "caseflow/cf_curve.h"
#include "cf_bench.h"
#include "cf_bench_stack.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_settings.h"

#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENCH_STR_(x)   #x
#define BENCH_STR(x)    BENCH_STR_(x)

static const char *s_usage =
    "Usage: caseflow-bench [options]\n"
    "Pushes a generated event mix through broker, workers and Redis and reports\n"
    "throughput, ack latency, Redis cost and the ceiling of the store code.\n"
    "\n"
    "Options:\n"
    "  --json              the report as one JSON object\n"
    "  --events N          events of the closed loop and the ceiling (default "
    BENCH_STR(CF_BENCH_EVENTS) ")\n"
    "  --workers W         workers of the bench's own stack, and ceiling threads (default 2)\n"
    "  --producers P       producer threads of the closed loop (default 1)\n"
    "  --batch B           events per request, 1..1000 (default 200)\n"
    "  --window N          requests in flight per producer (default " BENCH_STR(CF_BENCH_WINDOW)
    ")\n"
    "  --rate R            open loop: events/s offered, 0 for none (default 20000)\n"
    "  --open-seconds S    open loop: how long (default 3)\n"
    "  --open-batch B      open loop: events per request (default 20)\n"
    "  --senders N         deprecated, ignored: the open loop is one thread that sends\n"
    "                      each request at its time, up to " BENCH_STR(CF_BENCH_OPEN_WINDOW) " in flight\n"
    "  --seed N            the event mix (default 1); use a new one per run on a kept Redis\n"
    "  --no-persistence    the bench's own Redis without AOF (default: appendfsync always)\n"
    "  --aof-rewrite       the bench's own Redis rewrites its AOF on its own, as by\n"
    "                      default (when it doubles, past 64 MB); else never, so that a\n"
    "                      rewrite does not fall in a phase by chance\n"
    "  --replica           the bench's own Redis gets a replica, and the workers ack a\n"
    "                      batch only once it holds it (ack-replicas 1)\n"
    "  --intake ENDPOINT   use a running stack: its broker's intake (needs --redis)\n"
    "  --redis HOST:PORT   ... and the Redis its workers use (its aggregates change)\n"
    "  --stack DIR         ... and the scripts/up directory of its pid files, for the CPU\n"
    "                      of its brokers and workers (default: $CASEFLOW_STACK)\n"
    "  --bin DIR           where caseflow-broker and caseflow-worker are (default: beside this)\n"
    "  --quiet             no progress on stderr\n"
    "  --help              this text\n"
    "Settings (a flag, an environment variable or a key of [bench], or [caseflow]\n"
    "for shared ones, in the --config file, in that order of precedence):\n";

typedef struct {
    cf_bench_config_t bench;
    const char *redis, *bin, *stack;
    cf_curve_t *curve;
    long long workers;
    bool json, quiet, persistence, replica, aof_rewrite;
    bool senders;               /* the deprecated --senders was given */
    char redis_host[256];
} bench_options_t;

static int parse_number(const char *flag, long long min, long long max, long long *out,
                        char *err, size_t n)
{
    return cf_args_number(flag, optarg, min, max, out, err, n);
}

static int parse_values(bench_options_t *o, int opt, char *err, size_t n)
{
    cf_bench_config_t *b = &o->bench;
    long long v = 0;
    int rc = 0;
    switch (opt) {
    case 'e': rc = parse_number("--events", 1, 10000000, &v, err, n); b->events = (size_t) v; break;
    case 'W': rc = parse_number("--workers", 1, CF_BENCH_MAX_WORKERS, &o->workers, err, n); break;
    case 'P': rc = parse_number("--producers", 1, 64, &v, err, n); b->producers = (unsigned) v; break;
    case 'b': rc = parse_number("--batch", 1, CF_MSG_MAX_EVENTS, &v, err, n); b->batch = (unsigned) v; break;
    case 'w': rc = parse_number("--window", 1, 1000, &v, err, n); b->window = (unsigned) v; break;
    case 'r': rc = parse_number("--rate", 0, 10000000, &v, err, n); b->rate = (double) v; break;
    case 'o': rc = parse_number("--open-seconds", 1, 3600, &v, err, n); b->open_seconds = (double) v; break;
    case 'O': rc = parse_number("--open-batch", 1, CF_MSG_MAX_EVENTS, &v, err, n); b->open_batch = (unsigned) v; break;
    case 'S': rc = parse_number("--senders", 1, 256, &v, err, n); o->senders = true; break;
    case 's': rc = parse_number("--seed", 0, 999, &v, err, n); b->seed = (uint64_t) v; break;
    }
    return rc;
}

static int parse_options(int argc, char **argv, cf_settings_t *settings, void *arg, char *err,
                         size_t n)
{
    bench_options_t *o = arg;
    static const struct option options[] = {
        { "json", no_argument, 0, 'j' }, { "events", required_argument, 0, 'e' },
        { "workers", required_argument, 0, 'W' }, { "producers", required_argument, 0, 'P' },
        { "batch", required_argument, 0, 'b' }, { "window", required_argument, 0, 'w' },
        { "rate", required_argument, 0, 'r' }, { "open-seconds", required_argument, 0, 'o' },
        { "open-batch", required_argument, 0, 'O' }, { "senders", required_argument, 0, 'S' },
        { "seed", required_argument, 0, 's' }, { "no-persistence", no_argument, 0, 'N' },
        { "replica", no_argument, 0, 'K' }, { "aof-rewrite", no_argument, 0, 'A' },
        { "intake", required_argument, 0, 'i' }, { "redis", required_argument, 0, 'R' },
        { "bin", required_argument, 0, 'B' }, { "stack", required_argument, 0, 'D' }, { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    *o = (bench_options_t) { .bench = { .events = CF_BENCH_EVENTS, .producers = 1,
        .batch = 200, .window = CF_BENCH_WINDOW, .rate = 20000, .open_seconds = 3,
        .open_batch = 20, .seed = 1, .aof_rewrite = -1 },
        .workers = 2, .persistence = true };
    int opt;
    opterr = 0;
    while ((opt = cf_settings_getopt(settings, argc, argv, ":", options)) != -1) {
        switch (opt) {
        case 'j': o->json = true; break;
        case 'N': o->persistence = false; break;
        case 'K': o->replica = true; o->bench.ack_replicas = 1; break;
        case 'A': o->aof_rewrite = true; break;
        case 'i': o->bench.intake = optarg; break;
        case 'R': o->redis = optarg; break;
        case 'B': o->bin = optarg; break;
        case 'D': o->stack = optarg; break;
        case 'q': o->quiet = true; break;
        case 'h': fputs(cf_settings_usage(settings, s_usage, ""), stdout); return 1;
        case ':': snprintf(err, n, "%s needs a value", argv[optind - 1]); return -1;
        case '?': snprintf(err, n, "unknown option '%s' (see --help)", argv[optind - 1]); return -1;
        default: if (parse_values(o, opt, err, n) < 0) return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, n, "unexpected argument '%s' (see --help)", argv[optind]);
        return -1;
    }
    if (!o->bench.intake != !o->redis) {
        snprintf(err, n, "--intake and --redis go together (a running stack), or neither");
        return -1;
    }
    if (o->stack && !o->redis) {
        snprintf(err, n, "--stack is for a running stack (--intake and --redis)");
        return -1;
    }
    if (o->redis && !o->persistence) {
        snprintf(err, n, "--no-persistence is for the bench's own Redis, not with --redis");
        return -1;
    }
    if (o->aof_rewrite && (o->redis || !o->persistence)) {
        snprintf(err, n, "--aof-rewrite is for the bench's own Redis with its AOF, not with %s",
                 o->redis ? "--redis" : "--no-persistence");
        return -1;
    }
    if (o->redis && o->replica) {
        snprintf(err, n, "--replica is for the bench's own Redis, not with --redis");
        return -1;
    }
    if (o->redis && cf_args_host_port("--redis", o->redis, o->redis_host, sizeof o->redis_host,
                                      &o->bench.redis_port, err, n) < 0)
        return -1;
    if (cf_settings_resolve(settings) < 0) {
        snprintf(err, n, "%s", cf_settings_error(settings));
        return -1;
    }
    /* the environment may name a stack's credentials; a flag says "use them" */
    if (!o->redis && (!strncmp(cf_settings_origin(settings, "redis-user"), "--", 2)
                      || !strncmp(cf_settings_origin(settings, "redis-password-file"), "--", 2))) {
        snprintf(err, n, "--redis-user and --redis-password-file are for a running stack (--redis)");
        return -1;
    }
    o->bench.key_file = cf_settings_text(settings, "key-file");
    if (o->redis && !o->bench.key_file) {
        snprintf(err, n, "a running stack needs its key: pass --key-file, set CASEFLOW_KEY_FILE "
                 "or put key-file in the --config file");
        return -1;
    }
    if (o->bench.intake
        && cf_curve_client_new(cf_settings_text(settings, "producer-key"),
                               cf_settings_text(settings, "server-key"), &o->curve, err, n) < 0)
        return -1;
    o->bench.curve = o->curve;
    o->bench.script_dir = cf_bench_scripts(cf_settings_text(settings, "scripts"));
    o->bench.redis_host = o->redis_host;
    o->bench.shards = (unsigned) cf_settings_number(settings, "shards");
    o->bench.ceiling_threads = (unsigned) o->workers;
    return 0;
}

static void on_progress(const char *phase, size_t done, size_t total, double seconds, void *arg)
{
    (void) arg;
    fprintf(stderr, "\r\033[K%-8s %zu/%zu events, %.1f s, %.0f/s", phase, done, total, seconds,
            seconds > 0 ? (double) done / seconds : 0.0);
}

/* The directory of this program, where the other caseflow programs are. */
static void own_dir(char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    snprintf(out, size, "%s", n > 0 ? dirname(self) : ".");
}

/* The processes whose CPU the closed loop measures: those of the own
   stack, or of a running one's directory (--stack, $CASEFLOW_STACK). */
static void bench_processes(const bench_options_t *o, const cf_bench_stack_t *stack,
                            cf_bench_cpu_t *cpu)
{
    const char *dir = o->stack ? o->stack : getenv("CASEFLOW_STACK");
    if (stack)
        cf_bench_stack_processes(stack, cpu);
    else if (dir && *dir)
        cf_bench_cpu_from_dir(cpu, dir, o->bench.intake);
    else
        cf_bench_cpu_set_unknown(cpu, "a running stack without --stack DIR (nor CASEFLOW_STACK): "
                                 "its broker's and workers' pids are unknown");
}

static int bench_run(bench_options_t *o, cf_bench_stack_t *stack)
{
    cf_bench_t *bench = cf_bench_new(&o->bench);
    int status = 0;
    bench_processes(o, stack, cf_bench_processes(bench));
    /* the open loop before the ceiling: the ceiling's stores commit every
       shard unfenced, which drops each owner's commit cache, and an open
       loop after it measured the owners relearning theirs (what a running
       stack sees after a rebalance), not its steady state
       (docs/performance.md, "Issue 14: the open loop's phase, its ACKs read
       as they come, and the disk") */
    if (cf_bench_closed(bench) < 0 || (o->bench.rate > 0 && cf_bench_open(bench) < 0)
        || cf_bench_ceiling(bench) < 0) {
        fprintf(stderr, "%scaseflow-bench: %s\n", o->bench.progress ? "\n" : "",
                cf_bench_error(bench));
        status = 1;
    } else {
        if (o->bench.progress)
            fputs("\r\033[K", stderr);
        cf_bench_set_peaks(bench, stack ? cf_bench_stack_broker_peak_kb(stack) : -1,
                           stack ? cf_bench_stack_worker_peak_kb(stack) : -1);
        const cf_bench_result_t *r = cf_bench_result(bench);
        if (o->json) {
            char *text = cf_bench_json(bench);
            puts(text);
            free(text);
        } else
            cf_bench_print(bench, stdout);
        status = r->accepted + r->duplicate == r->events && r->open_failed == 0 ? 0 : 1;
    }
    cf_bench_destroy(&bench);
    return status;
}

int main(int argc, char **argv)
{
    bench_options_t o;
    char err[2048], bin[PATH_MAX];
    int status;
    cf_settings_t *settings = cf_args_start("bench", false, argc, argv, parse_options, &o, &status);
    if (!settings)
        return status;
    if (!o.quiet && isatty(STDERR_FILENO))
        o.bench.progress = on_progress;
    if (o.senders)
        fprintf(stderr, "caseflow-bench: --senders is deprecated and ignored: the open loop is one "
                "thread that sends each request at its time, up to %d in flight\n",
                CF_BENCH_OPEN_WINDOW);
    cf_bench_stack_t *stack = NULL;
    cf_redis_auth_t *auth = NULL;
    if (o.bench.intake) {
        /* a running stack's Redis: its credentials (redis-user, redis-password-file
           or CASEFLOW_REDIS_PASSWORD); the bench's own stack makes its own */
        if (!(auth = cf_redis_auth_from_env(cf_settings_text(settings, "redis-user"),
                                            cf_settings_text(settings, "redis-password-file"),
                                            err, sizeof err))) {
            fprintf(stderr, "caseflow-bench: %s\n", err);
            cf_settings_destroy(&settings);
            return 1;
        }
        o.bench.redis_auth = auth;
    } else {
        own_dir(bin, sizeof bin);
        o.bench.aof_rewrite = o.persistence ? o.aof_rewrite : -1;
        cf_bench_stack_config_t sc = { o.bin ? o.bin : bin, o.bench.script_dir,
                                       (unsigned) o.workers, o.persistence, o.aof_rewrite,
                                       o.bench.shards, o.replica };
        stack = cf_bench_stack_new();
        if (cf_bench_stack_guard(stack) < 0 || cf_bench_stack_start(stack, &sc) < 0) {
            fprintf(stderr, "caseflow-bench: %s\n", cf_bench_stack_error(stack));
            cf_bench_stack_destroy(&stack);
            cf_settings_destroy(&settings);
            return 1;
        }
        o.bench.intake = cf_bench_stack_intake(stack);
        o.bench.redis_host = "127.0.0.1";
        o.bench.redis_port = cf_bench_stack_redis_port(stack);
        o.bench.key_file = cf_bench_stack_key_file(stack);
        if (!o.quiet)
            fputs("caseflow-bench: own stack on loopback, plain ZeroMQ (no CURVE)\n", stderr);
        o.bench.redis_auth = cf_bench_stack_redis_auth(stack);
    }
    status = bench_run(&o, stack);
    if (stack && cf_bench_stack_stop(stack) < 0) {
        fprintf(stderr, "caseflow-bench: %s\n", cf_bench_stack_error(stack));
        status = 1;
    }
    cf_bench_stack_destroy(&stack);
    cf_curve_destroy(&o.curve);
    cf_settings_destroy(&settings);
    cf_redis_auth_destroy(&auth);
    return status;
}
