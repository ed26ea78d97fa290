/*  cf_settings: one program's settings, each with ONE name used everywhere:
    the key `queue` in the configuration file is the flag --queue and the
    environment variable CASEFLOW_QUEUE (dashes become underscores, upper
    case). A value comes from the first of: the flag, the environment, the
    program's section of the --config file ([broker]...), the file's shared
    [caseflow] section (for keys marked shared), the built-in default.

    Every setting of every program is one row of the table in
    cf_settings_table.c: its name, the programs that take it, its type (with
    a range for numbers), its default and its --help text. Values are checked
    when the settings are resolved, and an error names the value's origin:
    "--queue: ...", "CASEFLOW_QUEUE: ..." or "caseflow.conf:12: key 'queue':
    ...", so a typo never starts a daemon wrongly (docs/operations.md).       */
#ifndef CF_SETTINGS_H
#define CF_SETTINGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include "caseflow/cf_config.h"
#include "caseflow/cf_log.h"

/*  The programs; a row's `programs` is a set of these bits.                 */
enum {
    CF_PROG_BROKER = 1 << 0, CF_PROG_WORKER = 1 << 1, CF_PROG_PUSH = 1 << 2,
    CF_PROG_WATCH = 1 << 3, CF_PROG_CTL = 1 << 4, CF_PROG_BENCH = 1 << 5, CF_PROG_WEB = 1 << 6,
    CF_PROG_ALERT = 1 << 7
};

typedef enum {
    CF_SETTING_TEXT,            /* any non-empty text */
    CF_SETTING_NUMBER,          /* a whole decimal number in min..max */
    CF_SETTING_ENDPOINT,        /* a ZeroMQ endpoint: tcp://HOST:PORT, ipc://PATH ... */
    CF_SETTING_ENDPOINTS,       /* a client's list of them, comma-separated (cf_endpoints):
                                   one, or one per broker */
    CF_SETTING_HOST_PORT,       /* HOST:PORT, port 1..65535 */
    CF_SETTING_LOG_LEVEL,       /* error, warn, info or debug */
    CF_SETTING_PATH,            /* a file or directory name (existence is checked by its user) */
    CF_SETTING_BOOL             /* yes or no: a flag without a value; 1/0, yes/no, true/false,
                                   on/off in the environment or the file */
} cf_setting_type_t;

/*  Row flags.                                                               */
#define CF_SETTING_SHARED   1u  /* may stand in [caseflow], for every program that takes it */
#define CF_SETTING_ENV_ONLY 2u  /* no flag, no file key: the environment only (a password) */
#define CF_SETTING_SECRET   4u  /* the value is never shown, not even in an error */

/*  One setting. Rows with the same name (a shared endpoint that the broker
    binds and a client connects to, each with its own help) must agree on
    type, range, default and flags, except that a client's row may take a
    list (CF_SETTING_ENDPOINTS) where the broker binds one endpoint
    (CF_SETTING_ENDPOINT); unit.cf_settings checks that they do.          */
typedef struct {
    const char *name;           /* the key; --name; CASEFLOW_NAME */
    unsigned programs;          /* CF_PROG_* bits */
    cf_setting_type_t type;
    long long min, max;         /* CF_SETTING_NUMBER only */
    const char *def;            /* the default as text, or NULL for none */
    unsigned flags;             /* CF_SETTING_* */
    const char *arg;            /* in --help: N, MS, ENDPOINT, HOST:PORT, FILE ... */
    const char *help;           /* one sentence for --help and the example file */
    const char *alias;          /* an older flag kept working (--publish), or NULL */
} cf_setting_t;

/*  Row constructors' type part, so that a row stays one line.               */
#define CF_NUMBER(min, max) CF_SETTING_NUMBER, (min), (max)
#define CF_TEXT             CF_SETTING_TEXT, 0, 0
#define CF_ENDPOINT         CF_SETTING_ENDPOINT, 0, 0
#define CF_ENDPOINTS        CF_SETTING_ENDPOINTS, 0, 0
#define CF_HOST_PORT        CF_SETTING_HOST_PORT, 0, 0
#define CF_LOG_LEVEL        CF_SETTING_LOG_LEVEL, 0, 0
#define CF_PATH             CF_SETTING_PATH, 0, 0
#define CF_BOOL             CF_SETTING_BOOL, 0, 0

#define CF_SETTINGS_HOST_MAX 256    /* bytes of a HOST:PORT's host, with its NUL */
#define CF_SETTINGS_SHARED "caseflow"

/*  The numeric defaults, one number each: the table's rows show them, and
    the modules fall back on them when their config leaves a value 0 (a
    test, or a program that does not read the setting).                     */
#define CF_SETTINGS_QUEUE_DEFAULT           100000      /* broker: events waiting for a worker */
#define CF_SETTINGS_QUEUE_BYTES_DEFAULT     1073741824  /* broker: their bytes (1 GiB) */
#define CF_SETTINGS_PRODUCER_RATE_DEFAULT   50000       /* broker: events/s per producer */
#define CF_SETTINGS_PRODUCER_RATE_MAX       100000000   /* ... the most it may be set to */
#define CF_SETTINGS_PRODUCER_BYTES_DEFAULT  268435456   /* broker: a quarter of the queue's bytes */
#define CF_SETTINGS_PRODUCERS_MAX_DEFAULT   10000       /* broker: producers tracked at once */
#define CF_SETTINGS_CONNECTIONS_MAX_DEFAULT 4096        /* broker: per endpoint */
#define CF_SETTINGS_STATS_DEFAULT           10000       /* broker: ms between stats */
#define CF_SETTINGS_HEARTBEAT_DEFAULT       1000        /* broker, worker: ms */
#define CF_SETTINGS_LIVENESS_DEFAULT        3000        /* broker, worker: ms */
#define CF_SETTINGS_CREDIT_DEFAULT          1           /* worker: jobs held at once (docs/operations.md) */
#define CF_SETTINGS_BATCH_DEFAULT           200         /* push: events per PUSH */
#define CF_SETTINGS_WINDOW_DEFAULT          8           /* push: requests in flight */
#define CF_SETTINGS_WINDOW_MAX              1000        /* push: the most --window takes */
#define CF_SETTINGS_TIMEOUT_DEFAULT         5000        /* push: ms before the first resend */
#define CF_SETTINGS_DEADLINE_DEFAULT        60          /* push: s without progress */
#define CF_SETTINGS_CONNECT_TIMEOUT_DEFAULT 2000        /* push: ms for the broker's first answer */

/*  The protocol's limits that bound a setting, restated so that the
    settings module includes nothing above it; cf_broker.c and cf_client.c
    check at compile time that they are cf_msg.h's.                         */
#define CF_SETTINGS_QUEUE_BYTES_MIN     (16 << 20)  /* CF_MSG_MAX_PUSH_BYTES: one largest PUSH */
#define CF_SETTINGS_BATCH_MAX           1000        /* CF_MSG_MAX_EVENTS: events in one PUSH */
#define CF_SETTINGS_JOB_EVENTS_MAX      4000        /* CF_MSG_MAX_JOB_EVENTS: in one JOB */

/* ---- the table ------------------------------------------------------ */

/*  The rows, in --help order; cf_settings_row(i) for i < cf_settings_rows(). */
size_t cf_settings_rows(void);
const cf_setting_t *cf_settings_row(size_t index);

/*  A program's bit from its section name ("broker"); 0 when none.           */
unsigned cf_settings_program(const char *section);

/*  The section name of the n-th program (0..), NULL past the last.          */
const char *cf_settings_program_name(size_t n);

/*  The row of key in section ("caseflow" finds shared rows only), or NULL.  */
const cf_setting_t *cf_settings_find(const char *section, const char *key);

/*  CASEFLOW_<NAME> for row into buf (at least 64 bytes). Returns buf.       */
const char *cf_settings_env_name(const cf_setting_t *row, char *buf, size_t size);

/*  Checks text against row's type. 0, or -1 with the reason in why
    ("'x' is not a number from 1 to 64"; a secret's value is not quoted).   */
int cf_settings_check(const cf_setting_t *row, const char *text, char *why, size_t n);

/*  Reads a yes/no value: 1, yes, true, on or 0, no, false, off. 0, or -1
    when text is none of them.                                               */
int cf_settings_yes(const char *text, bool *out);

/*  A configuration file reader whose rules are the table's (sections are
    programs or [caseflow], keys their settings, values checked by type):
    what every program and caseflow-ctl config check read a file with.
    cf_settings_file.c.                                                      */
cf_config_t *cf_settings_config_new(void);

/* ---- one program's settings ----------------------------------------- */

typedef struct _cf_settings_t cf_settings_t;

/*  The settings of the program named by section ("broker"); asserts that it
    is one.                                                                  */
cf_settings_t *cf_settings_new(const char *section);

/*  Frees *self_p and sets it to NULL; accepts NULL.                        */
void cf_settings_destroy(cf_settings_t **self_p);

/*  getopt_long over argv with the program's setting flags, their aliases
    and --config taken here, and `extra` (the program's own options,
    terminated by a zero row; may be NULL) returned as getopt_long returns
    them, ':' and '?' included (shortopts should start with ':'). Setting
    values are only recorded; cf_settings_resolve checks them. --version is
    taken here too, for every program: it prints "caseflow-<section>
    <version>" (cf_args_version) and exits, as --help's text says.          */
int cf_settings_getopt(cf_settings_t *self, int argc, char **argv, const char *shortopts,
                       const struct option *extra);

/*  For a program whose own options are --help and nothing else, and that
    takes no arguments: cf_settings_getopt over argv, then cf_settings_resolve.
    0; 1 when --help was given (nothing resolved); -1 with cf_settings_error
    set ("unknown option '--x' (see --help)", or the resolve error).        */
int cf_settings_parse(cf_settings_t *self, int argc, char **argv);

/*  Sets name's flag value as if --name value had been given (a main's own
    spelling of a setting, or a test); name may be an alias, or "config".   */
void cf_settings_set_flag(cf_settings_t *self, const char *name, const char *value);

/*  Reads the --config file (or CASEFLOW_CONFIG) when there is one, takes
    each setting from flag, environment, file or default, and checks every
    value. 0, or -1 with cf_settings_error naming the first bad origin. The
    whole file is checked, every section, as caseflow-ctl config check does. */
int cf_settings_resolve(cf_settings_t *self);

/*  The message of the last failure ("" when none).                          */
const char *cf_settings_error(const cf_settings_t *self);

/*  The resolved value of name (NULL when unset with no default). Asserts
    that name is a setting of the program: asking for another is a bug.     */
const char *cf_settings_text(const cf_settings_t *self, const char *name);

/*  Where name's value came from: "--queue", "CASEFLOW_QUEUE",
    "FILE:LINE" or "default".                                                */
const char *cf_settings_origin(const cf_settings_t *self, const char *name);

/*  Typed views of a resolved (so already checked) value.                    */
long long cf_settings_number(const cf_settings_t *self, const char *name);
cf_log_level_t cf_settings_log_level(const cf_settings_t *self, const char *name);
bool cf_settings_bool(const cf_settings_t *self, const char *name);
/*  host gets CF_SETTINGS_HOST_MAX bytes at most. 0, or -1 when unset.       */
int cf_settings_host_port(const cf_settings_t *self, const char *name, char *host, size_t size,
                          int *port);

/*  The --help text: head, then a line for every setting of the program
    and for --config, each with its env name and default, then tail (NULL:
    the --help line). The text belongs to self until the next call.         */
const char *cf_settings_usage(cf_settings_t *self, const char *head, const char *tail);

#endif
