/*  cf_fmt: snprintf for the hot paths' few conversions (counter field
    names, key names, decimal integers), written by hand: a worker made
    every counter field and key name with snprintf, and vfprintf's general
    machinery was a quarter of its CPU (docs/performance.md). The bytes are
    exactly snprintf's; a format with anything else (a flag, a width, a
    precision other than .*, another conversion) is handed to vsnprintf
    whole, so the result never differs, it is only slower.                 */
#ifndef CF_FMT_H
#define CF_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define CF_FMT_INT_MAX  21      /* "-9223372036854775808" and its NUL */

/*  v in decimal at buf, which has room for CF_FMT_INT_MAX bytes; NUL-
    terminated. Returns its length (what snprintf's %lld / %llu writes).   */
size_t cf_fmt_i64(char *buf, int64_t v);
size_t cf_fmt_u64(char *buf, uint64_t v);

/*  snprintf and vsnprintf: the same bytes, the same return value (the
    length the whole output has, also when it was cut to size - 1 bytes).
    Fast without a fallback for: %s, %.*s, %c, %%, and d / u with
    no size, l, ll or z (so also PRId64 and PRIu64). buf may be NULL when
    size is 0.                                                             */
int cf_fmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cf_fmt_v(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
