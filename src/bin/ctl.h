/*  caseflow-ctl's commands, one file each, dispatched by ctl.c: report
    (ctl_report.c), dlq (ctl_dlq.c), rules (ctl_rules.c), config
    (ctl_config.c), clock (ctl_clock.c), alerts (ctl_alerts.c), functions
    (ctl_functions.c), keygen (ctl_keygen.c) and the broker's control (ctl_control.c: status, workers,
    drain, pause, resume, by argv[0]). Each takes argv from its own name on and returns the exit
    status: 0, 1 for a runtime error, 2 for a usage error. The helpers below
    are ctl_settings.c's.                                                    */
#ifndef CTL_H
#define CTL_H

#include "caseflow/cf_settings.h"

#include <stdbool.h>
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

/*  Parses the options of a command that takes none but --help and the
    settings' own: -1 when the command goes on (optind at its first operand),
    else its exit status (0 after printing usage, 2 on a bad option, said
    on stderr).                                                              */
int ctl_options(const char *command, const char *usage, int argc, char **argv,
                cf_settings_t *settings);

/*  ctl_settings_redis, then ctl_store_new (with the scripts directory of
    the settings, or the built-in one, when with_scripts; else a reader): a
    store, with "host:port" in where; NULL with the line said on stderr and
    the exit status in *rc (2 for bad settings, 1 for unreadable
    credentials).                                                            */
cf_store_t *ctl_store_open(const char *command, cf_settings_t *settings, bool with_scripts,
                           char *where, size_t where_size, int *rc);

/*  Prints value, a --json answer, in the one style of docs/operations.md
    ("JSON output"): an array of rows as "[", a row a line, "]"; anything
    else compact on one line. Takes value. 0, or 1 when stdout fails.       */
int ctl_print_json(void *value);

int ctl_report(int argc, char **argv);
int ctl_dlq(int argc, char **argv);
int ctl_clock(int argc, char **argv);
int ctl_alerts(int argc, char **argv);
int ctl_functions(int argc, char **argv);
int ctl_rules(int argc, char **argv);
int ctl_config(int argc, char **argv);
int ctl_keygen(int argc, char **argv);
int ctl_control(int argc, char **argv);

/*  A command that talks to the broker takes --operator-key FILE (env
    CASEFLOW_OPERATOR_KEY) and --server-key FILE (env CASEFLOW_SERVER_KEY),
    settings rows of the ctl program; the broker admits it on an endpoint
    whose ZAP domain names CF_ZAP_OPERATORS.                                 */

#endif
