/*  cf_log: logfmt lines on stderr for the daemons; see cf_log.h.            */
#include "caseflow/cf_log.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
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

static bool log_plain(unsigned char c)
{
    return c > ' ' && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

/* The escape of byte c, into esc (at least 5 bytes); its length. */
static size_t log_escape(unsigned char c, char *esc)
{
    static const char named[][2] = { { '"', '"' }, { '\\', '\\' }, { '\n', 'n' },
                                     { '\r', 'r' }, { '\t', 't' } };
    for (size_t i = 0; i < sizeof named / sizeof *named; i++)
        if (c == (unsigned char) named[i][0]) {
            esc[0] = '\\';
            esc[1] = named[i][1];
            return 2;
        }
    if (c >= ' ' && c < 0x7f) {
        esc[0] = (char) c;
        return 1;
    }
    snprintf(esc, 5, "\\x%02x", c);
    return 4;
}

const char *cf_log_quote(char *out, size_t size, const void *text, size_t len)
{
    assert(out && size >= 8 && (text || len == 0));
    const unsigned char *p = text;
    bool plain = len > 0;
    for (size_t i = 0; i < len && plain; i++)
        plain = log_plain(p[i]);
    if (plain && len < size) {
        memcpy(out, p, len);
        out[len] = '\0';
        return out;
    }
    out[0] = '"';
    size_t n = 1, cut = 1;      /* cut: the last end of an escape where "..." still fits */
    for (size_t i = 0; i < len; i++) {
        char esc[5];
        size_t k = log_escape(p[i], esc);
        if (n + k + 2 > size) {             /* no room for it and the closing quote */
            memcpy(out + cut, "...", 3);
            n = cut + 3;
            break;
        }
        memcpy(out + n, esc, k);
        n += k;
        if (n + 5 <= size)
            cut = n;
    }
    out[n++] = '"';
    out[n] = '\0';
    return out;
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
