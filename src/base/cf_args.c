/*  cf_args: the start every caseflow main shares (cf_args_start), the stop
    and reload flags wired to signals and the daemons' refusal to dump
    core; see cf_args.h. The values a command line's flags are read as are
    in cf_args_value.c, which the settings use too.                          */
#include "caseflow/cf_args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static volatile sig_atomic_t s_stop;

static void args_on_signal(int signum)
{
    (void) signum;
    s_stop = 1;
}

static volatile sig_atomic_t s_reload;

static void args_on_reload(int signum)
{
    (void) signum;
    s_reload = 1;
}

static void args_trap(int signum, void (*handler)(int))
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    sigaction(signum, &action, NULL);
}

volatile sig_atomic_t *cf_args_trap_reload(void)
{
    args_trap(SIGHUP, args_on_reload);
    return &s_reload;
}

volatile sig_atomic_t *cf_args_trap_signals(void)
{
    args_trap(SIGINT, args_on_signal);
    args_trap(SIGTERM, args_on_signal);
    signal(SIGPIPE, SIG_IGN);
    return &s_stop;
}

int cf_args_no_dumps(char *err, size_t err_size)
{
    const struct rlimit none = { 0, 0 };
    if (setrlimit(RLIMIT_CORE, &none) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        snprintf(err, err_size, "cannot turn core dumps off: %s", strerror(errno));
        return -1;
    }
    return 0;
}

cf_settings_t *cf_args_start(const char *role, bool daemon, int argc, char **argv,
                             cf_args_parse_fn *parse, void *options, int *status)
{
    char err[2048];
    if (daemon && cf_args_no_dumps(err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-%s: %s\n", role, err);
        *status = 1;
        return NULL;
    }
    cf_settings_t *settings = cf_settings_new(role);
    int parsed = parse(argc, argv, settings, options, err, sizeof err);
    if (parsed == 0)
        return settings;
    if (parsed < 0)
        fprintf(stderr, "caseflow-%s: %s\n", role, err);
    cf_settings_destroy(&settings);
    *status = parsed < 0 ? 2 : 0;
    return NULL;
}
