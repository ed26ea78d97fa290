/*  cf_args: shared command-line helpers; see cf_args.h.                     */
#include "caseflow/cf_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static volatile sig_atomic_t s_stop;

int cf_args_number(const char *flag, const char *text, long long min, long long max,
                   long long *out, char *err, size_t err_size)
{
    char *end = NULL;
    errno = 0;
    long long value = text ? strtoll(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || value < min || value > max) {
        snprintf(err, err_size, "%s: '%s' is not a number from %lld to %lld", flag,
                 text ? text : "", min, max);
        return -1;
    }
    *out = value;
    return 0;
}

int cf_args_log_level(const char *text, cf_log_level_t *level, char *err, size_t err_size)
{
    if (text && cf_log_level_parse(text, level) == 0)
        return 0;
    snprintf(err, err_size, "--log-level: '%s' is not error, warn, info or debug", text ? text : "");
    return -1;
}

const char *cf_args_or_env(const char *value, const char *env, const char *fallback)
{
    if (value)
        return value;
    const char *from_env = getenv(env);
    return from_env && *from_env ? from_env : fallback;
}

int cf_args_host_port(const char *what, const char *text, char *host, size_t host_size,
                      int *port, char *err, size_t err_size)
{
    const char *colon = text ? strrchr(text, ':') : NULL;
    long long number;
    if (!colon || colon == text || (size_t) (colon - text) >= host_size
        || cf_args_number(what, colon + 1, 1, 65535, &number, err, err_size) < 0) {
        snprintf(err, err_size, "%s: '%s' is not HOST:PORT with a port from 1 to 65535", what,
                 text ? text : "");
        return -1;
    }
    memcpy(host, text, (size_t) (colon - text));
    host[colon - text] = '\0';
    *port = (int) number;
    return 0;
}

int cf_args_version(const char *program)
{
    printf("%s %s\n", program, CF_VERSION);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

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
