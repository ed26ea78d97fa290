/*  cf_log: logfmt lines on stderr for the daemons; see cf_log.h.            */
#include "caseflow/cf_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

cf_log_level_t cf_log_threshold = CF_LOG_INFO;
static char s_proc[32] = "caseflow";
static const char *s_level_names[] = { "error", "warn", "info", "debug" };

void cf_log_init(const char *proc, cf_log_level_t threshold)
{
    snprintf(s_proc, sizeof s_proc, "%s", proc);
    cf_log_threshold = threshold;
}

int cf_log_level_parse(const char *name, cf_log_level_t *level)
{
    for (int i = 0; i <= CF_LOG_DEBUG; i++)
        if (strcmp(name, s_level_names[i]) == 0) {
            *level = (cf_log_level_t) i;
            return 0;
        }
    return -1;
}

void cf_log_write(cf_log_level_t level, const char *msg, const char *fmt, ...)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    char pairs[512] = "";
    va_list args;
    va_start(args, fmt);
    vsnprintf(pairs, sizeof pairs, fmt, args);
    va_end(args);
    fprintf(stderr, "ts=%s.%03ldZ level=%s proc=%s msg=\"%s\"%s%s\n", stamp,
            (long) (now.tv_usec / 1000), s_level_names[level], s_proc, msg,
            pairs[0] ? " " : "", pairs);
}
