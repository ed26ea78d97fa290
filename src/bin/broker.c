/*  caseflow-broker: takes events from producers, load-balances them across
    workers and fans their notifications out to subscribers. A thin main over
    cf_broker: parse options, build, run, clean up.                          */
#include "caseflow/cf_args.h"
#include "caseflow/cf_broker.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_redis_auth.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static const char *s_usage =
    "usage: caseflow-broker [options]\n"
    "  --intake ENDPOINT     where producers connect (env CASEFLOW_INTAKE)\n"
    "  --workers ENDPOINT    where workers connect (env CASEFLOW_WORKERS)\n"
    "  --publish ENDPOINT    where subscribers connect (env CASEFLOW_SUBSCRIBE)\n"
    "  --redis HOST:PORT     Redis, whose outboxes hold the notifications to publish\n"
    "                        (env CASEFLOW_REDIS, default 127.0.0.1:6379)\n"
    CF_REDIS_AUTH_USAGE
    "  --stats MS            how often to publish a stats notification (default 10000)\n"
    "  --rules FILE          notification rules: the milestone marks (env\n"
    "                        CASEFLOW_RULES); SIGHUP reads the file again\n"
    "  --scripts DIR         the Redis Lua scripts (env CASEFLOW_SCRIPTS)\n"
    "  --queue N             events waiting for a worker before producers hear\n"
    "                        'busy' (default 100000)\n"
    "  --heartbeat MS        heartbeat interval (default 1000)\n"
    "  --liveness MS         a worker silent this long is dropped and its jobs\n"
    "                        handed to others (default 3000)\n"
    "  --log-level LEVEL     error, warn, info (default) or debug\n"
    "  --help                this text\n"
    "Endpoints are ZeroMQ addresses such as tcp://127.0.0.1:5570.\n";

static char s_redis_host[256];
static const char *s_redis_user, *s_redis_password_file;

static int parse_options(int argc, char **argv, cf_broker_config_t *config, char *err, size_t n)
{
    static const struct option options[] = {
        { "intake", required_argument, 0, 'i' }, { "workers", required_argument, 0, 'w' },
        { "publish", required_argument, 0, 'p' }, { "queue", required_argument, 0, 'q' },
        { "heartbeat", required_argument, 0, 'b' }, { "liveness", required_argument, 0, 'l' },
        { "log-level", required_argument, 0, 'L' }, { "help", no_argument, 0, 'h' },
        { "redis", required_argument, 0, 'r' }, { "stats", required_argument, 0, 's' },
        { "rules", required_argument, 0, 'R' }, { "scripts", required_argument, 0, 'S' },
        { "redis-user", required_argument, 0, 'u' },
        { "redis-password-file", required_argument, 0, 'P' },
        { 0, 0, 0, 0 } };
    const char *intake = NULL, *workers = NULL, *publish = NULL, *redis = NULL, *rules = NULL,
               *scripts = NULL;
    long long number;
    cf_log_level_t level = CF_LOG_INFO;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'i': intake = optarg; break;
        case 'w': workers = optarg; break;
        case 'p': publish = optarg; break;
        case 'q': if (cf_args_number("--queue", optarg, 1, 100000000, &number, err, n) < 0) return -1;
                  config->queue_limit = (size_t) number; break;
        case 'b': if (cf_args_number("--heartbeat", optarg, 10, 60000, &number, err, n) < 0) return -1;
                  config->heartbeat_ms = (int) number; break;
        case 'l': if (cf_args_number("--liveness", optarg, 20, 600000, &number, err, n) < 0) return -1;
                  config->liveness_ms = (int) number; break;
        case 'L': if (cf_args_log_level(optarg, &level, err, n) < 0) return -1;
                  break;
        case 'r': redis = optarg; break;
        case 'u': s_redis_user = optarg; break;
        case 'P': s_redis_password_file = optarg; break;
        case 'R': rules = optarg; break;
        case 'S': scripts = optarg; break;
        case 's': if (cf_args_number("--stats", optarg, 100, 3600000, &number, err, n) < 0) return -1;
                  config->stats_ms = (int) number; break;
        case 'h': fputs(s_usage, stdout); exit(0);
        default: snprintf(err, n, "unknown option (see --help)"); return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, n, "unexpected argument '%s' (see --help)", argv[optind]);
        return -1;
    }
    cf_log_init("broker", level);
    config->intake_endpoint = cf_args_or_env(intake, "CASEFLOW_INTAKE", NULL);
    config->worker_endpoint = cf_args_or_env(workers, "CASEFLOW_WORKERS", NULL);
    config->publish_endpoint = cf_args_or_env(publish, "CASEFLOW_SUBSCRIBE", NULL);
    const char *address = cf_args_or_env(redis, "CASEFLOW_REDIS", "127.0.0.1:6379");
    if (cf_args_host_port(redis ? "--redis" : "CASEFLOW_REDIS", address, s_redis_host,
                          sizeof s_redis_host, &config->redis_port, err, n) < 0)
        return -1;
    config->redis_host = s_redis_host;
    config->rules_file = cf_args_or_env(rules, "CASEFLOW_RULES", NULL);
    config->script_dir = cf_args_or_env(scripts, "CASEFLOW_SCRIPTS", NULL);
    if (!config->intake_endpoint || !config->worker_endpoint || !config->publish_endpoint) {
        snprintf(err, n, "missing endpoint: give --intake, --workers and --publish "
                 "(or CASEFLOW_INTAKE, CASEFLOW_WORKERS, CASEFLOW_SUBSCRIBE)");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cf_broker_config_t config = { 0 };
    char err[256];
    if (parse_options(argc, argv, &config, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-broker: %s\n", err);
        return 2;
    }
    volatile sig_atomic_t *stop = cf_args_trap_signals();
    config.reload = cf_args_trap_reload();
    cf_redis_auth_t *auth = cf_redis_auth_from_env(s_redis_user, s_redis_password_file, err,
                                                   sizeof err);
    config.redis_auth = auth;
    cf_broker_t *broker = auth ? cf_broker_new(&config, err, sizeof err) : NULL;
    if (!broker) {
        CF_LOG(CF_LOG_ERROR, "cannot start", "error=\"%s\"", err);
        cf_redis_auth_destroy(&auth);
        return 1;
    }
    CF_LOG(CF_LOG_INFO, "broker started", "intake=%s workers=%s publish=%s",
           config.intake_endpoint, config.worker_endpoint, config.publish_endpoint);
    int rc = cf_broker_run(broker, stop);
    cf_broker_destroy(&broker);
    cf_redis_auth_destroy(&auth);
    CF_LOG(CF_LOG_INFO, "broker stopped", "%s", "");
    return rc < 0 ? 1 : 0;
}
