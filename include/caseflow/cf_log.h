/*  cf_log: the daemons' one log channel: logfmt lines on stderr.

    Library modules that parse, encode or store never log; they return an
    error on their object. The daemon modules (broker, worker) and the mains
    log through CF_LOG, which checks the level before formatting anything, so
    a debug line costs one comparison when debug is off. Lines look like
      ts=2026-11-23T07:50:01.123Z level=info proc=broker msg="worker joined" worker=1f3a
    and never carry personal data: callers pass pseudonyms and counts only.
    A value that a peer (a worker, a client, Redis, the broker) or a file
    supplied goes through CF_LOG_QUOTE, so that no byte of it can end the
    pair or the line: one line per call, whatever the peer sends.             */
#ifndef CF_LOG_H
#define CF_LOG_H

#include <stddef.h>
#include <string.h>

typedef enum { CF_LOG_ERROR = 0, CF_LOG_WARN, CF_LOG_INFO, CF_LOG_DEBUG } cf_log_level_t;

extern cf_log_level_t cf_log_threshold;

/*  Names the process in every line ("broker", "worker").                     */
void cf_log_init(const char *proc, cf_log_level_t threshold);

/*  Parses "error", "warn", "info", "debug"; -1 when it is none of them.      */
int cf_log_level_parse(const char *name, cf_log_level_t *level);

/*  msg is a short fixed text; fmt adds logfmt pairs (may be "").            */
void cf_log_write(cf_log_level_t level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CF_LOG(level, msg, ...) \
    do { if ((level) <= cf_log_threshold) cf_log_write((level), (msg), __VA_ARGS__); } while (0)

#define CF_LOG_QUOTE_MAX 256    /* a quoted value, with its NUL; a longer one is cut, ending "..." */

/*  Writes into out (size at least 8) text's len bytes as a logfmt value: as
    they are when they are printable ASCII other than space, '"', '=' and
    '\\'; else in double quotes, with '"' and '\\' escaped by a backslash,
    newline, CR and tab as \\n, \\r, \\t, and every other byte below 0x20 or
    from 0x7f as \\xNN. Empty is "". Returns out.                               */
const char *cf_log_quote(char *out, size_t size, const void *text, size_t len);

/*  The value of a C string for a "%s" of CF_LOG, in a buffer that lives to
    the end of the statement's block (evaluated only when the line is
    written, as CF_LOG checks the level first).                              */
#define CF_LOG_QUOTE(text) \
    cf_log_quote((char[CF_LOG_QUOTE_MAX]) { 0 }, CF_LOG_QUOTE_MAX, (text), strlen(text))

#endif
