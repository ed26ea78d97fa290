/*  caseflow-ctl: the operator's command line over the live aggregates and
    the running broker. A thin main: the dispatch table of commands, each in
    its own file: `report` (ctl_report.c) prints a report of one counter
    family; `dlq` (ctl_dlq.c) lists and replays dead letters; `rules`
    (ctl_rules.c) checks a rules file, `config` (ctl_config.c) a
    configuration file; `clock` (ctl_clock.c) shows or sets the overdue
    clock; `alerts` (ctl_alerts.c) shows how caseflow-alert's sinks fare;
    `functions` (ctl_functions.c) checks or loads the Redis
    function library; `keygen` (ctl_keygen.c) makes a CURVE key pair; status, workers,
    drain, pause and resume (ctl_control.c) ask the running broker. What
    they share is in ctl_settings.c. Usage errors exit 2, runtime errors
    (Redis unreachable) exit 1, each with one line on stderr.                */
#include "ctl.h"
#include "caseflow/cf_args.h"

#include <stdio.h>
#include <string.h>

static const char *s_usage =
    "Usage: caseflow-ctl COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  report NAME [options]   print a report of the live aggregates\n"
    "                          (caseflow-ctl report --help lists them)\n"
    "  dlq list|replay         the dead letters: events set aside after their tries\n"
    "                          (caseflow-ctl dlq --help)\n"
    "  rules check FILE        validate a notification rules file\n"
    "                          (caseflow-ctl rules --help)\n"
    "  config check FILE       validate a configuration file; config keys lists\n"
    "                          every setting (caseflow-ctl config --help)\n"
    "  clock [set TIME|wall]   the clock overdue alerts are measured by\n"
    "  alerts [--json]         caseflow-alert's sinks: delivered, pending, last error\n"
    "  functions [load]        the function library the workers and the broker\n"
    "                          call: check it, or load it as the Redis admin\n"
    "  keygen NAME [--dir D]   a CURVE key pair: NAME.key (secret) and NAME.pub\n"
    "  status                  the running broker: queue, rates, workers\n"
    "  workers                 the broker's connected workers\n"
    "  drain WORKER            let a worker finish what it holds, then exit\n"
    "  pause, resume           stop or start the broker's intake\n"
    "                          (caseflow-ctl status --help)\n"
    "\n"
    "Options:\n"
    "  --help                  this text\n"
    "  --version               print the program's name and version, and exit\n"
    "\n"
    "The commands that reach Redis take --redis HOST:PORT (env CASEFLOW_REDIS) and\n"
    "--config FILE (env CASEFLOW_CONFIG; keys of [ctl] and [caseflow]), and its\n"
    "credentials --redis-user and --redis-password-file (or CASEFLOW_REDIS_PASSWORD).\n";

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} s_commands[] = { { "report", ctl_report }, { "dlq", ctl_dlq }, { "rules", ctl_rules },
                   { "clock", ctl_clock }, { "alerts", ctl_alerts },
                   { "functions", ctl_functions },
                   { "config", ctl_config }, { "keygen", ctl_keygen },
                   { "status", ctl_control }, { "workers", ctl_control },
                   { "drain", ctl_control }, { "pause", ctl_control },
                   { "resume", ctl_control } };

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "caseflow-ctl: which command? (see caseflow-ctl --help)\n");
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(s_usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cf_args_version("caseflow-ctl");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "caseflow-ctl: unknown command '%s' (see caseflow-ctl --help)\n", argv[1]);
    return 2;
}
