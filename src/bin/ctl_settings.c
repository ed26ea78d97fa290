/*  caseflow-ctl: what the commands share, all of it read from the [ctl]
    settings: --help with their lines, the Redis address they resolve to,
    and a store that authenticates with their credentials.                  */
#include "ctl.h"
#include "caseflow/cf_redis_auth.h"

#include <jansson.h>
#include <stdio.h>

void ctl_help(const char *usage, cf_settings_t *settings)
{
    fputs(cf_settings_usage(settings, usage, ""), stdout);
}

int ctl_settings_redis(cf_settings_t *settings, char *host, size_t size, int *port, char *err,
                       size_t n)
{
    if (cf_settings_resolve(settings) < 0) {
        snprintf(err, n, "%s", cf_settings_error(settings));
        return -1;
    }
    return cf_settings_host_port(settings, "redis", host, size, port);
}

cf_store_t *ctl_store_new(cf_settings_t *settings, const char *host, int port,
                          const char *script_dir, char *err, size_t err_size)
{
    cf_redis_auth_t *auth = cf_redis_auth_from_env(cf_settings_text(settings, "redis-user"),
                                                   cf_settings_text(settings, "redis-password-file"),
                                                   err, err_size);
    if (!auth)
        return NULL;
    cf_store_t *store = cf_store_new(host, port, script_dir);
    cf_store_set_auth(store, auth);
    cf_store_set_shards(store, (unsigned) cf_settings_number(settings, "shards"), false);
    cf_redis_auth_destroy(&auth);
    return store;
}

int ctl_options(const char *command, const char *usage, int argc, char **argv,
                cf_settings_t *settings)
{
    static const struct option options[] = { { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = cf_settings_getopt(settings, argc, argv, ":h", options)) != -1) {
        if (opt == 'h') {
            ctl_help(usage, settings);
            return 0;
        }
        fprintf(stderr, "caseflow-ctl: %s: %s '%s' (see caseflow-ctl %s --help)\n", command,
                opt == ':' ? "missing value for" : "unknown option", argv[optind - 1], command);
        return 2;
    }
    return -1;
}

cf_store_t *ctl_store_open(const char *command, cf_settings_t *settings, bool with_scripts,
                           char *where, size_t where_size, int *rc)
{
    char host[CF_SETTINGS_HOST_MAX], err[2048];
    int port;
    *rc = 2;
    if (ctl_settings_redis(settings, host, sizeof host, &port, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-ctl: %s: %s\n", command, err);
        return NULL;
    }
    snprintf(where, where_size, "%s:%d", host, port);
    *rc = 1;
    const char *scripts = cf_settings_text(settings, "scripts");
    scripts = !with_scripts ? NULL : scripts ? scripts : cf_store_default_scripts();
    cf_store_t *store = ctl_store_new(settings, host, port, scripts, err, sizeof err);
    if (!store)
        fprintf(stderr, "caseflow-ctl: %s: %s\n", command, err);
    return store;
}

int ctl_print_json(void *value)
{
    json_t *json = value;
    size_t rows = json_is_array(json) ? json_array_size(json) : 0;
    int failed = 0;
    if (!json_is_array(json)) {
        char *text = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);
        failed = !text || printf("%s\n", text) < 0;
        free(text);
    } else
        failed = fputs(rows ? "[\n" : "[]\n", stdout) < 0;
    for (size_t r = 0; !failed && r < rows; r++) {
        char *text = json_dumps(json_array_get(json, r), JSON_PRESERVE_ORDER);
        failed = !text || printf("  %s%s\n", text, r + 1 < rows ? "," : "") < 0;
        free(text);
    }
    if (rows && !failed)
        failed = fputs("]\n", stdout) < 0;
    json_decref(json);
    return failed || fflush(stdout) != 0;
}
