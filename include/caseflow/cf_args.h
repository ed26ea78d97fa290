/*  cf_args: the small pieces every caseflow command line shares: numbers
    checked against a range, values that fall back to an environment
    variable, a stop flag wired to SIGINT and SIGTERM, the daemons'
    refusal to dump core, and the start every main shares (cf_args_start).
    Errors name the
    flag and the bad value, so that a typo never starts a daemon wrongly.    */
#ifndef CF_ARGS_H
#define CF_ARGS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "caseflow/cf_log.h"
#include "caseflow/cf_settings.h"

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

/*  Installs SIGINT and SIGTERM handlers that set *cf_args_stop (and SIGPIPE
    is ignored). Returns the flag for loops to watch.                         */
volatile sig_atomic_t *cf_args_trap_signals(void);

/*  Installs a SIGHUP handler that sets the returned flag: "read your
    configuration again". The daemon clears it when it has.                  */
volatile sig_atomic_t *cf_args_trap_reload(void);

/*  --version: prints "<program> <version>" (CF_VERSION, the project's
    version in CMakeLists.txt) on stdout, the form help2man reads. Returns
    the exit status: 0, or 1 when stdout could not be written. Every
    program's settings take --version (cf_settings_getopt calls this), and
    caseflow-ctl's main for its first word.                                  */
int cf_args_version(const char *program);

/*  Makes the process undumpable, first thing in a daemon's main: no core
    file (RLIMIT_CORE 0, hard and soft) and PR_SET_DUMPABLE 0, which also
    keeps other processes of the same user from ptrace and from reading its
    memory in /proc (docs/security.md: a broker's or worker's memory holds
    raw case refs and the HMAC key). 0, or -1 with the reason in err.        */
int cf_args_no_dumps(char *err, size_t err_size);

/*  A program's option parser: fills options (the program's own struct)
    from argv through settings. 0 to run; above 0 when it has printed the
    help (exit 0); -1 with the reason in err (a usage error).                */
typedef int (cf_args_parse_fn)(int argc, char **argv, cf_settings_t *settings, void *options,
                               char *err, size_t err_size);

/*  The start of a program's main: a daemon first makes itself undumpable
    (cf_args_no_dumps, before any secret is read); then the settings of role
    ("broker", ...) and parse. Returns the settings to run with (the caller
    destroys them), or NULL with *status the exit status: 1 when core dumps
    cannot be turned off, 0 after the help, 2 on a usage error; an error is
    printed on stderr as "caseflow-<role>: <reason>".                        */
cf_settings_t *cf_args_start(const char *role, bool daemon, int argc, char **argv,
                             cf_args_parse_fn *parse, void *options, int *status);

#endif
