/*  caseflow-broker: takes events from producers, load-balances them across
    workers and fans their notifications out to subscribers. A thin main over
    cf_broker: parse options, build, run, clean up.                          */
#include "caseflow/cf_args.h"
#include "caseflow/cf_broker.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_metrics_http.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_redis_auth.h"

#include <stdio.h>
#include <stdlib.h>

static const char *s_usage =
    "Usage: caseflow-broker [options]\n"
    "Each setting is a flag, an environment variable or a key of the --config\n"
    "file ([broker], or [caseflow] for shared ones); a flag wins, then the\n"
    "environment, then the file, then the default. Endpoints are ZeroMQ\n"
    "addresses such as tcp://127.0.0.1:5570.\n"
    "\n"
    "Options:\n";

static char s_metrics_host[CF_SETTINGS_HOST_MAX];
static int s_metrics_port;     /* 0: no metrics */

/*  Reads the settings into config. 0, -1 with err set, or 1 after --help.  */
static int parse_options(int argc, char **argv, cf_settings_t *s, void *arg, char *err, size_t n)
{
    cf_broker_config_t *config = arg;
    static char redis_host[CF_SETTINGS_HOST_MAX];
    int rc = cf_settings_parse(s, argc, argv);
    if (rc != 0) {          /* --help, or a bad flag or value */
        fputs(rc > 0 ? cf_settings_usage(s, s_usage, NULL) : "", stdout);
        snprintf(err, n, "%s", cf_settings_error(s));
        return rc;
    }
    cf_log_init("broker", cf_settings_log_level(s, "log-level"));
    config->intake_endpoint = cf_settings_text(s, "intake");
    config->worker_endpoint = cf_settings_text(s, "workers");
    config->publish_endpoint = cf_settings_text(s, "subscribe");
    config->control_endpoint = cf_settings_text(s, "control");
    cf_settings_host_port(s, "redis", redis_host, sizeof redis_host, &config->redis_port);
    config->redis_host = redis_host;
    config->rules_file = cf_settings_text(s, "rules");
    config->script_dir = cf_settings_text(s, "scripts");
    config->queue_limit = (size_t) cf_settings_number(s, "queue");
    config->heartbeat_ms = (int) cf_settings_number(s, "heartbeat");
    config->liveness_ms = (int) cf_settings_number(s, "liveness");
    config->stats_ms = (int) cf_settings_number(s, "stats");
    config->queue_bytes = (size_t) cf_settings_number(s, "queue-bytes");
    config->producer_rate = (double) cf_settings_number(s, "producer-rate");
    config->producer_bytes = (size_t) cf_settings_number(s, "producer-bytes");
    config->producers_max = (size_t) cf_settings_number(s, "producers-max");
    config->connections_max = (size_t) cf_settings_number(s, "connections-max");
    config->shards = (unsigned) cf_settings_number(s, "shards");
    config->job_events = (size_t) cf_settings_number(s, "job-events");
    if (cf_settings_host_port(s, "metrics", s_metrics_host, sizeof s_metrics_host,
                              &s_metrics_port) < 0)
        s_metrics_port = 0;
    config->curve_key = cf_settings_text(s, "broker-key");
    config->allow_producers = cf_settings_text(s, "allow-producers");
    config->allow_workers = cf_settings_text(s, "allow-workers");
    config->allow_subscribers = cf_settings_text(s, "allow-subscribers");
    config->allow_operators = cf_settings_text(s, "allow-operators");
    config->plain = cf_settings_bool(s, "plain");
    if (!config->intake_endpoint || !config->worker_endpoint || !config->publish_endpoint) {
        snprintf(err, n, "missing endpoint: give --intake, --workers and --subscribe "
                 "(or CASEFLOW_INTAKE, CASEFLOW_WORKERS, CASEFLOW_SUBSCRIBE, or intake, "
                 "workers and subscribe in the --config file)");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cf_broker_config_t config = { 0 };
    char err[2048];
    int status;
    cf_settings_t *settings = cf_args_start("broker", true, argc, argv, parse_options, &config,
                                            &status);
    if (!settings)
        return status;
    volatile sig_atomic_t *stop = cf_args_trap_signals();
    config.reload = cf_args_trap_reload();
    cf_metrics_http_t *http = NULL;
    cf_broker_t *broker = NULL;
    cf_redis_auth_t *auth = cf_redis_auth_from_env(cf_settings_text(settings, "redis-user"),
                                                   cf_settings_text(settings, "redis-password-file"),
                                                   err, sizeof err);
    config.redis_auth = auth;
    if (!auth
        || cf_metrics_http_serve(s_metrics_host, s_metrics_port, &config.metrics, &http, err,
                                 sizeof err) < 0
        || !(broker = cf_broker_new(&config, err, sizeof err))) {
        CF_LOG(CF_LOG_ERROR, "cannot start", "error=%s", CF_LOG_QUOTE(err));
        cf_metrics_http_stop(&http, &config.metrics);
        cf_redis_auth_destroy(&auth);
        cf_settings_destroy(&settings);
        return 1;
    }
    CF_LOG(CF_LOG_INFO, "broker started",
           "intake=%s workers=%s publish=%s control=%s security=%s", config.intake_endpoint,
           config.worker_endpoint, config.publish_endpoint,
           config.control_endpoint ? config.control_endpoint : "none",
           config.plain ? "plain" : "curve");
    if (http)
        CF_LOG(CF_LOG_INFO, "metrics served", "address=%s:%d", s_metrics_host, s_metrics_port);
    int rc = cf_broker_run(broker, stop);
    cf_broker_destroy(&broker);
    cf_metrics_http_stop(&http, &config.metrics);
    cf_settings_destroy(&settings);
    cf_redis_auth_destroy(&auth);
    CF_LOG(CF_LOG_INFO, "broker stopped", "%s", "");
    return rc < 0 ? 1 : 0;
}
