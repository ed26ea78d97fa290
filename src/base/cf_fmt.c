/*  cf_fmt: snprintf's bytes for the conversions the hot paths use, without
    vfprintf's machinery; see cf_fmt.h. Anything the fast path does not know
    starts over with vsnprintf, from a copy of the arguments taken first.  */
#include "caseflow/cf_fmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

size_t cf_fmt_u64(char *buf, uint64_t v)
{
    char digits[CF_FMT_INT_MAX];
    size_t n = 0;
    do {
        digits[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = digits[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t cf_fmt_i64(char *buf, int64_t v)
{
    if (v >= 0)
        return cf_fmt_u64(buf, (uint64_t) v);
    buf[0] = '-';       /* the magnitude in unsigned arithmetic: INT64_MIN has no positive */
    return 1 + cf_fmt_u64(buf + 1, 0 - (uint64_t) v);
}

/* The output: what fits of it in buf (at most size - 1 bytes, then the
   NUL) from at up to stop, and how many bytes did not fit. Every helper is
   inlined, so that the cursor stays in registers. */
typedef struct {
    char *at, *stop;
    size_t cut;
} fmt_out_t;

static inline void fmt_putc(fmt_out_t *o, char c)
{
    if (o->at < o->stop)
        *o->at++ = c;
    else
        o->cut++;
}

/* s up to its NUL, or max bytes of it when that comes first. */
static inline void fmt_put(fmt_out_t *o, const char *s, size_t n)
{
    size_t room = (size_t) (o->stop - o->at);
    size_t fits = n < room ? n : room;
    if (fits)
        memcpy(o->at, s, fits);
    o->at += fits;
    o->cut += n - fits;
}

static inline void fmt_puts(fmt_out_t *o, const char *s, size_t max)
{
    fmt_put(o, s, max == SIZE_MAX ? strlen(s) : strnlen(s, max));
}

/* One conversion at *fmt (after the '%'); false when the fast path does not
   know it. Moves *fmt past it. */
static inline bool fmt_convert(fmt_out_t *o, const char **fmt, va_list *ap)
{
    const char *f = *fmt;
    char num[CF_FMT_INT_MAX];
    if (f[0] == '%') {
        fmt_putc(o, '%');
    } else if (f[0] == 's') {
        const char *s = va_arg(*ap, const char *);
        if (!s)
            return false;       /* glibc's "(null)" */
        fmt_puts(o, s, SIZE_MAX);
    } else if (f[0] == '.' && f[1] == '*' && f[2] == 's') {
        int precision = va_arg(*ap, int);
        const char *s = va_arg(*ap, const char *);
        if (!s)
            return false;
        /* a negative precision is taken as none */
        fmt_puts(o, s, precision < 0 ? SIZE_MAX : (size_t) precision);
        f += 2;
    } else if (f[0] == 'c') {
        fmt_putc(o, (char) va_arg(*ap, int));
    } else {
        int longs = 0;
        bool size_arg = f[0] == 'z';
        for (f += size_arg; !size_arg && f[0] == 'l' && longs < 2; f++)
            longs++;
        if ((f[0] != 'd' && f[0] != 'u') || (size_arg && f[0] == 'd'))
            return false;       /* %zd among others */
        size_t n;
        if (f[0] == 'd')
            n = cf_fmt_i64(num, longs == 2 ? va_arg(*ap, long long)
                              : longs == 1 ? va_arg(*ap, long) : va_arg(*ap, int));
        else
            n = cf_fmt_u64(num, size_arg ? va_arg(*ap, size_t)
                              : longs == 2 ? va_arg(*ap, unsigned long long)
                              : longs == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned));
        fmt_put(o, num, n);
    }
    *fmt = f + 1;
    return true;
}

int cf_fmt_v(char *buf, size_t size, const char *fmt, va_list ap)
{
    va_list again, args;
    va_copy(again, ap);
    va_copy(args, ap);
    fmt_out_t o = { buf, size ? buf + size - 1 : buf, 0 };
    const char *f = fmt;
    bool known = true;
    while (*f && known) {
        if (*f != '%')
            fmt_putc(&o, *f++);
        else {
            f++;
            known = fmt_convert(&o, &f, &args);
        }
    }
    va_end(args);
    int len;
    if (!known)
        len = vsnprintf(buf, size, fmt, again);
    else {
        if (size)
            *o.at = '\0';
        len = (int) ((size ? (size_t) (o.at - buf) : 0) + o.cut);
    }
    va_end(again);
    return len;
}

int cf_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = cf_fmt_v(buf, size, fmt, ap);
    va_end(ap);
    return len;
}
