/*  caseflow-ctl's commands, one file each, dispatched by ctl.c: report
    (ctl_report.c), dlq (ctl_dlq.c), rules (ctl_rules.c), config
    (ctl_config.c), clock (ctl_clock.c), keygen (ctl_keygen.c) and the
    broker's control (ctl_control.c: status, workers, drain, pause, resume,
    by argv[0]). Each takes argv from its own name on and returns the exit
    status: 0, 1 for a runtime error, 2 for a usage error. The helpers below
    are ctl_settings.c's.                                                    */
#ifndef CTL_H
#define CTL_H

#include "caseflow/cf_settings.h"

#include <stddef.h>

#define CTL_DEFAULT_REDIS "127.0.0.1:6379"

/*  Prints usage, then the [ctl] settings' --help lines (--redis, --config...). */
void ctl_help(const char *usage, cf_settings_t *settings);

/*  Resolves the settings (flags given to cf_settings_getopt, environment,
    --config file) and gives the Redis address. 0, or -1 with err set.       */
int ctl_settings_redis(cf_settings_t *settings, char *host, size_t size, int *port, char *err,
                       size_t n);
#include "caseflow/cf_store.h"

/*  A store for Redis at host:port (script_dir NULL: a reader) that
    authenticates with the credentials of the settings (redis-user,
    redis-password-file, or CASEFLOW_REDIS_PASSWORD: cf_redis_auth). NULL
    with the reason in err when they cannot be read.                         */
cf_store_t *ctl_store_new(cf_settings_t *settings, const char *host, int port,
                          const char *script_dir, char *err, size_t err_size);

int ctl_report(int argc, char **argv);
int ctl_dlq(int argc, char **argv);
int ctl_clock(int argc, char **argv);
int ctl_rules(int argc, char **argv);
int ctl_config(int argc, char **argv);
int ctl_keygen(int argc, char **argv);
int ctl_control(int argc, char **argv);

/*  A command that talks to the broker takes --operator-key FILE (env
    CASEFLOW_OPERATOR_KEY) and --server-key FILE (env CASEFLOW_SERVER_KEY),
    settings rows of the ctl program; the broker admits it on an endpoint
    whose ZAP domain names CF_ZAP_OPERATORS.                                 */

#endif
