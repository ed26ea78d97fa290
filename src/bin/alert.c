/*  caseflow-alert: delivers notifications to the sinks of the rules file
    (webhooks, chat webhooks, mail; docs/notifications.md, "Alert sinks"). A
    thin main over cf_alert: read the settings and the rules, start a
    deliverer per sink, wait for SIGINT or SIGTERM, clean up. A change of
    sinks takes a restart (SIGHUP is logged, not fatal); what each sink
    delivered is kept in Redis, so a restart loses nothing.                                                   */
#include "caseflow/cf_args.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_metrics_http.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_settings.h"
#include "cf_alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *s_usage =
    "Usage: caseflow-alert [options]\n"
    "Delivers the notifications that the --rules file's [sink.<name>] sections\n"
    "select to webhooks, chat webhooks and mail (docs/notifications.md). Each\n"
    "setting is a flag, an environment variable or a key of the --config file\n"
    "([alert], or [caseflow] for shared ones); a flag wins, then the environment,\n"
    "then the file, then the default.\n"
    "\n"
    "Options:\n";

typedef struct {
    char redis_host[CF_SETTINGS_HOST_MAX], metrics_host[CF_SETTINGS_HOST_MAX];
    int redis_port, metrics_port;       /* metrics_port 0: no metrics */
    unsigned shards;
    const char *rules;
} alert_options_t;

/*  Reads the settings into o. 0, -1 with err set, or 1 after --help.       */
static int parse_options(int argc, char **argv, cf_settings_t *s, void *arg, char *err, size_t n)
{
    alert_options_t *o = arg;
    int rc = cf_settings_parse(s, argc, argv);
    if (rc != 0) {
        fputs(rc > 0 ? cf_settings_usage(s, s_usage, NULL) : "", stdout);
        snprintf(err, n, "%s", cf_settings_error(s));
        return rc;
    }
    cf_log_init("alert", cf_settings_log_level(s, "log-level"));
    cf_settings_host_port(s, "redis", o->redis_host, sizeof o->redis_host, &o->redis_port);
    if (cf_settings_host_port(s, "metrics", o->metrics_host, sizeof o->metrics_host,
                              &o->metrics_port) < 0)
        o->metrics_port = 0;
    o->shards = (unsigned) cf_settings_number(s, "shards");
    o->rules = cf_settings_text(s, "rules");
    if (!o->rules) {
        snprintf(err, n, "no rules file: give --rules FILE (or CASEFLOW_RULES, or rules in the "
                 "--config file) with the [sink.<name>] sections to deliver to");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    alert_options_t o = { 0 };
    char err[2048];
    int status;
    cf_settings_t *settings = cf_args_start("alert", true, argc, argv, parse_options, &o, &status);
    if (!settings)
        return status;
    volatile sig_atomic_t *stop = cf_args_trap_signals();
    volatile sig_atomic_t *reload = cf_args_trap_reload();     /* not fatal, as in the others */
    cf_rules_t *rules = cf_rules_new();
    cf_metrics_t *metrics = NULL;
    cf_metrics_http_t *http = NULL;
    cf_alert_t *alert = NULL;
    cf_redis_auth_t *auth = NULL;
    int rc = 0;
    if (cf_rules_load(rules, o.rules) < 0)
        snprintf(err, sizeof err, "%s", cf_rules_error(rules));
    else
        auth = cf_redis_auth_from_env(cf_settings_text(settings, "redis-user"),
                                      cf_settings_text(settings, "redis-password-file"), err,
                                      sizeof err);
    cf_alert_config_t config = { .redis_host = o.redis_host, .redis_port = o.redis_port,
                                 .auth = auth, .rules = rules, .shards = o.shards };
    if (!auth
        || cf_metrics_http_serve(o.metrics_host, o.metrics_port, &metrics, &http, err,
                                 sizeof err) < 0
        || !(config.metrics = metrics, alert = cf_alert_new(&config, err, sizeof err))) {
        CF_LOG(CF_LOG_ERROR, "cannot start", "error=%s", CF_LOG_QUOTE(err));
        rc = 1;
    } else {
        CF_LOG(CF_LOG_INFO, "alert started", "sinks=%zu rules=%s redis=%s:%d redis_user=%s",
               cf_alert_sinks(alert), CF_LOG_QUOTE(o.rules), o.redis_host, o.redis_port,
               cf_redis_auth_user(auth));
        if (http)
            CF_LOG(CF_LOG_INFO, "metrics served", "address=%s:%d", o.metrics_host,
                   o.metrics_port);
        while (!*stop) {
            sleep(1);       /* a signal ends the sleep; the sinks run in their threads */
            if (*reload) {
                *reload = 0;
                CF_LOG(CF_LOG_WARN, "SIGHUP ignored: the sinks are read at start; restart to "
                       "change them (nothing is lost)", "sinks=%zu", cf_alert_sinks(alert));
            }
        }
    }
    cf_alert_destroy(&alert);
    cf_metrics_http_stop(&http, &metrics);
    cf_redis_auth_destroy(&auth);
    cf_rules_destroy(&rules);
    cf_settings_destroy(&settings);
    if (rc == 0)
        CF_LOG(CF_LOG_INFO, "alert stopped", "%s", "");
    return rc;
}
