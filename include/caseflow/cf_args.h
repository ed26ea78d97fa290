/*  cf_args: the small pieces every caseflow command line shares: numbers
    checked against a range, values that fall back to an environment
    variable, and a stop flag wired to SIGINT and SIGTERM. Errors name the
    flag and the bad value, so that a typo never starts a daemon wrongly.    */
#ifndef CF_ARGS_H
#define CF_ARGS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "caseflow/cf_log.h"

/*  Parses text as a whole decimal number in min..max. Returns 0, or -1 and
    writes "--flag: 'x' is not a number from min to max" into err.           */
int cf_args_number(const char *flag, const char *text, long long min, long long max,
                   long long *out, char *err, size_t err_size);

/*  Parses the value of --log-level. 0, or -1 with the reason in err.         */
int cf_args_log_level(const char *text, cf_log_level_t *level, char *err, size_t err_size);

/*  value when it is set, else getenv(env), else fallback (may be NULL).     */
const char *cf_args_or_env(const char *value, const char *env, const char *fallback);

/*  Splits "host:port" into host (at most host_size bytes) and port. Returns
    0, or -1 and a reason naming what (from `what`) was wrong.               */
int cf_args_host_port(const char *what, const char *text, char *host, size_t host_size,
                      int *port, char *err, size_t err_size);

/*  The clients' two CURVE options for their --help; env names the role's
    key variable.                                                           */
#define CF_ARGS_CURVE_USAGE(env) \
    "  --curve-key FILE      this client's CURVE secret key, NAME.key, mode 0600\n" \
    "                        (env " env ")\n" \
    "  --server-key FILE     the broker's public key, NAME.pub (env\n" \
    "                        CASEFLOW_SERVER_KEY); CURVE with both, plain with neither\n"

/*  A yes/no environment setting (CASEFLOW_PLAIN): unset or empty leaves
    *out, "1" sets it, "0" clears it; anything else is an error naming env. */
int cf_args_flag_env(const char *env, bool *out, char *err, size_t err_size);

/*  A client's CURVE settings (cf_curve_client_new): --curve-key or the
    role's env (CASEFLOW_PRODUCER_KEY, ...), --server-key or
    CASEFLOW_SERVER_KEY. *out NULL = plain. 0, or -1 with err.             */
typedef struct _cf_curve_t cf_curve_t;
int cf_args_curve(const char *key_file, const char *key_env, const char *server_file,
                  cf_curve_t **out, char *err, size_t err_size);

/*  Installs SIGINT and SIGTERM handlers that set *cf_args_stop (and SIGPIPE
    is ignored). Returns the flag for loops to watch.                         */
volatile sig_atomic_t *cf_args_trap_signals(void);

/*  Installs a SIGHUP handler that sets the returned flag: "read your
    configuration again". The daemon clears it when it has.                  */
volatile sig_atomic_t *cf_args_trap_reload(void);

#endif
