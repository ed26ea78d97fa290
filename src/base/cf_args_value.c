/*  cf_args_value: the values every caseflow command line reads its flags
    as (numbers in a range, log levels, HOST:PORT, a value or its
    environment variable) and --version's line; see cf_args.h. Apart from
    cf_args.c's start, which builds the settings, so that the settings can
    read their values here without calling back into the start.             */
#include "caseflow/cf_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
