/*  caseflow-ctl: what the commands share, all of it read from the [ctl]
    settings: --help with their lines, the Redis address they resolve to,
    and a store that authenticates with their credentials.                  */
#include "ctl.h"
#include "caseflow/cf_redis_auth.h"

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
    cf_redis_auth_destroy(&auth);
    return store;
}
