/*  caseflow-web: the dashboard's daemon: serves the page, the report API and
    the live feed of notifications over HTTP(S), the figures to holders of a
    bearer token, and takes events over HTTP for the broker from holders of
    a producer token. A thin main over cf_web: read the settings, the token file
    and the page's files, build the Redis source, the feed and the server,
    wait for SIGINT or SIGTERM (reading the token file and the form mappings
    again on SIGHUP), clean up.
    docs/web.md says how to run it.                                          */
#include "caseflow/cf_args.h"
#include "caseflow/cf_control.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_metrics_http.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_settings.h"
#include "cf_web.h"
#include "cf_web_assets.h"
#include "cf_web_forms.h"
#include "cf_web_intake.h"
#include "cf_web_redis.h"
#include "cf_web_tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *s_usage =
    "Usage: caseflow-web [options]\n"
    "Serves caseflow's report API and live feed to holders of a token of the\n"
    "--tokens file (docs/web.md). Each setting is a flag, an environment variable\n"
    "or a key of the --config file ([web], or [caseflow] for shared ones); a flag\n"
    "wins, then the environment, then the file, then the default.\n"
    "\n"
    "Options:\n";

typedef struct {
    cf_web_config_t web;
    char host[CF_SETTINGS_HOST_MAX], redis_host[CF_SETTINGS_HOST_MAX];
    char metrics_host[CF_SETTINGS_HOST_MAX];
    int redis_port, metrics_port;      /* metrics_port 0: no metrics */
    const char *tokens, *subscribe, *intake, *dashboard, *forms;
    cf_curve_t *curve;                  /* the subscriber's CURVE settings; NULL: plain */
    const char *control;                /* the broker's control endpoint; NULL: none */
    int control_timeout;
    cf_curve_t *operator;               /* control's CURVE settings; NULL: plain */
    bool posting;                       /* POST /api/v1/events: intake, and a key under CURVE */
    cf_curve_t *producer;               /* its CURVE settings; NULL: plain */
} web_options_t;

/*  The broker's status for GET /api/v1/status (cf_web_source_t.broker).    */
static char *web_broker(void *ctx, char *err, size_t n)
{
    const web_options_t *o = ctx;
    return cf_control_status_json(o->control, o->control_timeout, o->operator, err, n);
}

/*  SIGHUP: reads the token file again and serves its tokens from the next
    request on; a file that cannot be read or parsed keeps *tokens.         */
static void reload_tokens(cf_web_t *web, cf_web_tokens_t **tokens, const char *path)
{
    char err[2048];
    cf_web_tokens_t *fresh = cf_web_tokens_load(path, err, sizeof err);
    if (!fresh) {
        CF_LOG(CF_LOG_ERROR, "token file not reloaded: the old tokens stay",
               "tokens=%zu error=%s", cf_web_tokens_size(*tokens), CF_LOG_QUOTE(err));
        return;
    }
    cf_web_set_tokens(web, fresh);
    cf_web_tokens_destroy(tokens);
    *tokens = fresh;
    CF_LOG(CF_LOG_INFO, "token file reloaded", "tokens=%zu", cf_web_tokens_size(fresh));
}

/*  SIGHUP, with a forms folder: reads its mappings again and serves them
    from the next request on; a folder that cannot be read, or a mapping
    that does not load, keeps *forms (every mapping, not just the others).  */
static void reload_forms(cf_web_t *web, cf_web_forms_t **forms, const char *dir)
{
    char err[1024];
    cf_web_forms_t *fresh = cf_web_forms_load(dir, err, sizeof err);
    if (!fresh) {
        CF_LOG(CF_LOG_ERROR, "form mappings not reloaded: the old mappings stay",
               "forms=%s error=%s", CF_LOG_QUOTE(cf_web_forms_names(*forms)),
               CF_LOG_QUOTE(err));
        return;
    }
    cf_web_set_forms(web, fresh);
    cf_web_forms_destroy(forms);
    *forms = fresh;
    CF_LOG(CF_LOG_INFO, "form mappings reloaded", "forms=%s",
           CF_LOG_QUOTE(cf_web_forms_names(fresh)));
}

/*  Reads the settings into o. 0, -1 with err set, or 1 after --help.       */
static int parse_options(int argc, char **argv, cf_settings_t *s, void *arg, char *err, size_t n)
{
    web_options_t *o = arg;
    int rc = cf_settings_parse(s, argc, argv);
    if (rc != 0) {
        fputs(rc > 0 ? cf_settings_usage(s, s_usage, NULL) : "", stdout);
        snprintf(err, n, "%s", cf_settings_error(s));
        return rc;
    }
    cf_log_init("web", cf_settings_log_level(s, "log-level"));
    cf_settings_host_port(s, "listen", o->host, sizeof o->host, &o->web.port);
    o->web.host = o->host;
    cf_settings_host_port(s, "redis", o->redis_host, sizeof o->redis_host, &o->redis_port);
    if (cf_settings_host_port(s, "metrics", o->metrics_host, sizeof o->metrics_host,
                              &o->metrics_port) < 0)
        o->metrics_port = 0;
    o->web.tls_cert = cf_settings_text(s, "tls-cert");
    o->web.tls_key = cf_settings_text(s, "tls-key");
    o->tokens = cf_settings_text(s, "tokens");
    o->dashboard = cf_settings_text(s, "dashboard");
    o->forms = cf_settings_text(s, "forms");
    if (!o->dashboard)
        o->dashboard = CF_DASHBOARD_DIR;
    o->subscribe = cf_settings_text(s, "subscribe");
    o->intake = cf_settings_text(s, "intake");
    if (o->subscribe && !o->intake) {
        snprintf(err, n, "subscribe without intake: the live feed asks the broker's intake "
                 "endpoint for its snapshot (give --intake, or CASEFLOW_INTAKE)");
        return -1;
    }
    if (o->subscribe && cf_curve_client_new(cf_settings_text(s, "subscriber-key"),
                                            cf_settings_text(s, "server-key"), &o->curve, err,
                                            n) < 0)
        return -1;
    /* posting needs a producer key under CURVE; without one, intake serves
       the feed's snapshot only, as before there was HTTP intake */
    const char *producer_key = cf_settings_text(s, "producer-key");
    o->posting = o->intake && (producer_key || !cf_settings_text(s, "server-key"));
    if (o->posting && cf_curve_client_new(producer_key, cf_settings_text(s, "server-key"),
                                          &o->producer, err, n) < 0)
        return -1;
    o->control = cf_settings_text(s, "control");
    o->control_timeout = (int) cf_settings_number(s, "control-timeout");
    if (o->control && cf_curve_client_new(cf_settings_text(s, "operator-key"),
                                          cf_settings_text(s, "server-key"), &o->operator, err,
                                          n) < 0)
        return -1;
    if (!o->tokens) {
        snprintf(err, n, "no token file: give --tokens FILE (or CASEFLOW_TOKENS, or tokens in "
                 "the --config file); docs/web.md says how to make one");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    web_options_t o = { 0 };
    char err[2048];
    int status;
    cf_settings_t *settings = cf_args_start("web", true, argc, argv, parse_options, &o, &status);
    if (!settings) {
        cf_curve_destroy(&o.curve);
        cf_curve_destroy(&o.operator);
        cf_curve_destroy(&o.producer);
        return status;
    }
    volatile sig_atomic_t *stop = cf_args_trap_signals();
    volatile sig_atomic_t *reload = cf_args_trap_reload();     /* not fatal, as in the others */
    cf_metrics_http_t *http = NULL;
    cf_web_redis_t *redis = NULL;
    cf_web_t *web = NULL;
    int rc = 0;
    cf_web_tokens_t *tokens = cf_web_tokens_load(o.tokens, err, sizeof err);
    cf_web_forms_t *forms = NULL;
    bool formed = tokens && (!o.forms || (forms = cf_web_forms_load(o.forms, err, sizeof err)));
    cf_web_assets_t *assets = formed ? cf_web_assets_load(o.dashboard, NULL, err, sizeof err)
                                     : NULL;
    o.web.assets = assets;
    cf_redis_auth_t *auth = !assets ? NULL
        : cf_redis_auth_from_env(cf_settings_text(settings, "redis-user"),
                                 cf_settings_text(settings, "redis-password-file"), err,
                                 sizeof err);
    if (auth) {
        redis = cf_web_redis_new(o.redis_host, o.redis_port, auth,
                                 (unsigned) cf_settings_number(settings, "shards"),
                                 cf_settings_text(settings, "scripts"));
        o.web.tokens = tokens;
        o.web.source = cf_web_redis_source(redis);
        if (o.control)
            o.web.source.broker = web_broker, o.web.source.broker_ctx = &o;
        if (o.posting)
            o.web.source.intake = cf_web_intake_new(o.intake, o.producer);
        o.web.source.forms = forms;
    }
    if (!auth
        || cf_metrics_http_serve(o.metrics_host, o.metrics_port, &o.web.metrics, &http, err,
                                 sizeof err) < 0
        || (o.subscribe && !(o.web.feed = cf_web_feed_new(o.subscribe, o.intake, o.curve,
                                                          o.web.metrics, err, sizeof err)))
        || !(web = cf_web_new(&o.web, err, sizeof err))) {
        CF_LOG(CF_LOG_ERROR, "cannot start", "error=%s", CF_LOG_QUOTE(err));
        rc = 1;
    } else {
        CF_LOG(CF_LOG_INFO, "web started",
               "address=%s:%d tls=%s tokens=%zu redis=%s:%d feed=%s control=%s intake=%s "
               "forms=%s security=%s charts=%s", o.host,
               cf_web_port(web), o.web.tls_cert ? "yes" : "no", cf_web_tokens_size(tokens),
               o.redis_host, o.redis_port, o.subscribe ? o.subscribe : "none",
               o.control ? o.control : "none", o.posting ? o.intake : "none",
               CF_LOG_QUOTE(cf_web_forms_names(forms)), o.curve ? "curve" : "plain",
               cf_web_assets_has_charts(assets) ? "yes" : "no");
        if (http)
            CF_LOG(CF_LOG_INFO, "metrics served", "address=%s:%d", o.metrics_host,
                   o.metrics_port);
        while (!*stop) {
            sleep(1);   /* a signal ends the sleep; the server runs in its threads */
            if (*reload) {
                *reload = 0;
                reload_tokens(web, &tokens, o.tokens);
                if (o.forms)
                    reload_forms(web, &forms, o.forms);
            }
        }
    }
    /* one teardown for a failed start and a stop */
    cf_web_destroy(&web);
    cf_web_feed_destroy(&o.web.feed);       /* after the server: its streams read it */
    cf_metrics_http_stop(&http, &o.web.metrics);
    cf_web_redis_destroy(&redis);
    cf_web_intake_destroy(&o.web.source.intake);      /* after the server: requests use it */
    cf_curve_destroy(&o.curve);
    cf_curve_destroy(&o.operator);
    cf_curve_destroy(&o.producer);
    cf_redis_auth_destroy(&auth);
    cf_web_tokens_destroy(&tokens);
    cf_web_forms_destroy(&forms);       /* after the server: requests use them */
    cf_web_assets_destroy(&assets);
    cf_settings_destroy(&settings);
    if (rc == 0)
        CF_LOG(CF_LOG_INFO, "web stopped", "%s", "");
    return rc;
}
