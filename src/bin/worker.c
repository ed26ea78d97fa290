/*  caseflow-worker: validates events, applies them to Redis and publishes
    what they change. A thin main over cf_worker.                            */
#include "caseflow/cf_args.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_worker.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static const char *s_usage =
    "usage: caseflow-worker [options]\n"
    "  --broker ENDPOINT     the broker's worker endpoint (env CASEFLOW_WORKERS)\n"
    "  --redis HOST:PORT     Redis server (env CASEFLOW_REDIS, default 127.0.0.1:6379)\n"
    CF_REDIS_AUTH_USAGE
    "  --key-file FILE       HMAC key for case_ref pseudonyms, at least 32 bytes\n"
    "                        (env CASEFLOW_KEY_FILE; required)\n"
    "  --scripts DIR         the Redis Lua scripts (env CASEFLOW_SCRIPTS)\n"
    "  --credit N            jobs held at once (default 2)\n"
    "  --eid-ttl SECONDS     how long event_ids are remembered (default 2592000)\n"
    "  --case-ttl SECONDS    how long a closed case's state is kept (default 2592000)\n"
    "  --rules FILE          notification rules (env CASEFLOW_RULES; default: the\n"
    "                        domain's); SIGHUP reads the file again\n"
    "  --poison-tries N      tries of one event, across workers, before it goes to\n"
    "                        the dead-letter stream (default 3)\n"
    "  --heartbeat MS        heartbeat interval (default 1000)\n"
    "  --liveness MS         reconnect when the broker is silent this long (default 3000)\n"
    "  --log-level LEVEL     error, warn, info (default) or debug\n"
    "  --help                this text\n";

typedef struct {
    cf_worker_config_t config;
    char redis_host[256];
    const char *redis_user, *redis_password_file;
} worker_options_t;

static int parse_number(const char *flag, long long min, long long max, long long *out,
                        char *err, size_t n)
{
    return cf_args_number(flag, optarg, min, max, out, err, n);
}

static int parse_options(int argc, char **argv, worker_options_t *o, char *err, size_t n)
{
    static const struct option options[] = {
        { "broker", required_argument, 0, 'b' }, { "redis", required_argument, 0, 'r' },
        { "key-file", required_argument, 0, 'k' }, { "scripts", required_argument, 0, 's' },
        { "credit", required_argument, 0, 'c' }, { "eid-ttl", required_argument, 0, 't' },
        { "case-ttl", required_argument, 0, 'T' }, { "poison-tries", required_argument, 0, 'p' },
        { "rules", required_argument, 0, 'R' }, { "redis-user", required_argument, 0, 'u' },
        { "redis-password-file", required_argument, 0, 'P' },
        { "heartbeat", required_argument, 0, 'H' }, { "liveness", required_argument, 0, 'l' },
        { "log-level", required_argument, 0, 'L' }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 } };
    const char *broker = NULL, *redis = NULL, *key = NULL, *scripts = NULL, *rules = NULL;
    cf_log_level_t level = CF_LOG_INFO;
    long long v;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'b': broker = optarg; break;
        case 'r': redis = optarg; break;
        case 'k': key = optarg; break;
        case 's': scripts = optarg; break;
        case 'R': rules = optarg; break;
        case 'u': o->redis_user = optarg; break;
        case 'P': o->redis_password_file = optarg; break;
        case 'c': if (parse_number("--credit", 1, 64, &v, err, n) < 0) return -1;
                  o->config.credit = (unsigned) v; break;
        case 't': if (parse_number("--eid-ttl", 60, 10LL * 365 * 86400, &v, err, n) < 0) return -1;
                  o->config.eid_ttl_s = (uint32_t) v; break;
        case 'T': if (parse_number("--case-ttl", 60, 10LL * 365 * 86400, &v, err, n) < 0) return -1;
                  o->config.case_ttl_s = (uint32_t) v; break;
        case 'p': if (parse_number("--poison-tries", 1, 100, &v, err, n) < 0) return -1;
                  o->config.poison_tries = (unsigned) v; break;
        case 'H': if (parse_number("--heartbeat", 10, 60000, &v, err, n) < 0) return -1;
                  o->config.heartbeat_ms = (int) v; break;
        case 'l': if (parse_number("--liveness", 20, 600000, &v, err, n) < 0) return -1;
                  o->config.liveness_ms = (int) v; break;
        case 'L': if (cf_args_log_level(optarg, &level, err, n) < 0) return -1;
                  break;
        case 'h': fputs(s_usage, stdout); exit(0);
        default: snprintf(err, n, "unknown option (see --help)"); return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, n, "unexpected argument '%s' (see --help)", argv[optind]);
        return -1;
    }
    cf_log_init("worker", level);
    o->config.broker_endpoint = cf_args_or_env(broker, "CASEFLOW_WORKERS", NULL);
    o->config.key_file = cf_args_or_env(key, "CASEFLOW_KEY_FILE", NULL);
    o->config.script_dir = cf_args_or_env(scripts, "CASEFLOW_SCRIPTS", NULL);
    o->config.rules_file = cf_args_or_env(rules, "CASEFLOW_RULES", NULL);
    if (!o->config.broker_endpoint) {
        snprintf(err, n, "missing broker endpoint: give --broker or set CASEFLOW_WORKERS");
        return -1;
    }
    if (!o->config.key_file) {
        snprintf(err, n, "missing key file: give --key-file or set CASEFLOW_KEY_FILE");
        return -1;
    }
    o->config.redis_host = o->redis_host;
    return cf_args_host_port("--redis", cf_args_or_env(redis, "CASEFLOW_REDIS", "127.0.0.1:6379"),
                             o->redis_host, sizeof o->redis_host, &o->config.redis_port, err, n);
}

int main(int argc, char **argv)
{
    worker_options_t options = { 0 };
    char err[512];
    if (parse_options(argc, argv, &options, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-worker: %s\n", err);
        return 2;
    }
    volatile sig_atomic_t *stop = cf_args_trap_signals();
    options.config.reload = cf_args_trap_reload();
    cf_redis_auth_t *auth = cf_redis_auth_from_env(options.redis_user,
                                                   options.redis_password_file, err, sizeof err);
    options.config.redis_auth = auth;
    cf_worker_t *worker = auth ? cf_worker_new(&options.config, err, sizeof err) : NULL;
    if (!worker) {
        CF_LOG(CF_LOG_ERROR, "cannot start", "error=\"%s\"", err);
        cf_redis_auth_destroy(&auth);
        return 1;
    }
    CF_LOG(CF_LOG_INFO, "worker started", "broker=%s redis=%s:%d redis_user=%s",
           options.config.broker_endpoint, options.redis_host, options.config.redis_port,
           cf_redis_auth_user(auth));
    int rc = cf_worker_run(worker, stop);
    cf_worker_destroy(&worker);
    cf_redis_auth_destroy(&auth);
    return rc < 0 ? 1 : 0;
}
