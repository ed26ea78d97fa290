/*  caseflow-worker: validates events, applies them to Redis and publishes
    what they change. A thin main over cf_worker.                            */
#include "caseflow/cf_args.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_metrics_http.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_worker.h"

#include <stdio.h>
#include <stdlib.h>

static const char *s_usage =
    "Usage: caseflow-worker [options]\n"
    "Each setting is a flag, an environment variable or a key of the --config\n"
    "file ([worker], or [caseflow] for shared ones); a flag wins, then the\n"
    "environment, then the file, then the default.\n"
    "\n"
    "Options:\n";

typedef struct {
    cf_worker_config_t config;
    char redis_host[CF_SETTINGS_HOST_MAX];
    char metrics_host[CF_SETTINGS_HOST_MAX];
    int metrics_port;           /* 0: no metrics */
    cf_curve_t *curve;          /* NULL = plain */
} worker_options_t;

/*  Reads the settings into o. 0, -1 with err set, or 1 after --help.       */
static int parse_options(int argc, char **argv, cf_settings_t *s, void *arg, char *err, size_t n)
{
    worker_options_t *o = arg;
    int rc = cf_settings_parse(s, argc, argv);
    if (rc != 0) {          /* --help, or a bad flag or value */
        fputs(rc > 0 ? cf_settings_usage(s, s_usage, NULL) : "", stdout);
        snprintf(err, n, "%s", cf_settings_error(s));
        return rc;
    }
    cf_log_init("worker", cf_settings_log_level(s, "log-level"));
    cf_worker_config_t *c = &o->config;
    c->broker_endpoint = cf_settings_text(s, "workers");
    c->key_file = cf_settings_text(s, "key-file");
    c->script_dir = cf_settings_text(s, "scripts");
    c->rules_file = cf_settings_text(s, "rules");
    c->credit = (unsigned) cf_settings_number(s, "credit");
    c->eid_ttl_s = (uint32_t) cf_settings_number(s, "eid-ttl");
    c->shards = (unsigned) cf_settings_number(s, "shards");
    c->case_ttl_s = (uint32_t) cf_settings_number(s, "case-ttl");
    c->poison_tries = (unsigned) cf_settings_number(s, "poison-tries");
    c->ack_replicas = (unsigned) cf_settings_number(s, "ack-replicas");
    c->ack_replica_timeout_ms = (int) cf_settings_number(s, "ack-replica-timeout");
    c->heartbeat_ms = (int) cf_settings_number(s, "heartbeat");
    c->liveness_ms = (int) cf_settings_number(s, "liveness");
    cf_settings_host_port(s, "redis", o->redis_host, sizeof o->redis_host, &c->redis_port);
    c->redis_host = o->redis_host;
    if (cf_settings_host_port(s, "metrics", o->metrics_host, sizeof o->metrics_host,
                              &o->metrics_port) < 0)
        o->metrics_port = 0;
    if (!c->broker_endpoint) {
        snprintf(err, n, "missing broker endpoint: give --workers (or --broker), set "
                 "CASEFLOW_WORKERS or put workers in the --config file");
        return -1;
    }
    if (!c->key_file) {
        snprintf(err, n, "missing key file: give --key-file, set CASEFLOW_KEY_FILE or put "
                 "key-file in the --config file");
        return -1;
    }
    if (cf_curve_client_new(cf_settings_text(s, "worker-key"), cf_settings_text(s, "server-key"),
                            &o->curve, err, n) < 0)
        return -1;
    c->curve = o->curve;
    return 0;
}

int main(int argc, char **argv)
{
    worker_options_t options = { 0 };
    char err[2048];
    int status;
    cf_settings_t *settings = cf_args_start("worker", true, argc, argv, parse_options, &options,
                                            &status);
    if (!settings)
        return status;
    volatile sig_atomic_t *stop = cf_args_trap_signals();
    options.config.reload = cf_args_trap_reload();
    cf_metrics_http_t *http = NULL;
    cf_worker_t *worker = NULL;
    cf_redis_auth_t *auth = cf_redis_auth_from_env(cf_settings_text(settings, "redis-user"),
                                                   cf_settings_text(settings, "redis-password-file"),
                                                   err, sizeof err);
    options.config.redis_auth = auth;
    if (!auth
        || cf_metrics_http_serve(options.metrics_host, options.metrics_port,
                                 &options.config.metrics, &http, err, sizeof err) < 0
        || !(worker = cf_worker_new(&options.config, err, sizeof err))) {
        CF_LOG(CF_LOG_ERROR, "cannot start", "error=%s", CF_LOG_QUOTE(err));
        cf_metrics_http_stop(&http, &options.config.metrics);
        cf_redis_auth_destroy(&auth);
        cf_settings_destroy(&settings);
        cf_curve_destroy(&options.curve);
        return 1;
    }
    CF_LOG(CF_LOG_INFO, "worker started", "broker=%s redis=%s:%d redis_user=%s security=%s",
           options.config.broker_endpoint, options.redis_host, options.config.redis_port,
           cf_redis_auth_user(auth), options.curve ? "curve" : "plain");
    if (http)
        CF_LOG(CF_LOG_INFO, "metrics served", "address=%s:%d", options.metrics_host,
               options.metrics_port);
    int rc = cf_worker_run(worker, stop);
    cf_worker_destroy(&worker);
    cf_metrics_http_stop(&http, &options.config.metrics);
    cf_redis_auth_destroy(&auth);
    cf_settings_destroy(&settings);
    cf_curve_destroy(&options.curve);
    return rc < 0 ? 1 : 0;
}
