/*  cf_tuple: a counter row's measures in one hash field (cf_tuple.h). The
    integer parser is the one every reader and the commit's checks use, so
    that a value one of them takes is a value all of them take.            */
#include "caseflow/cf_tuple.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cf_tuple_measure(int family, const char *field, size_t len, size_t *row_len)
{
    assert(field && row_len);
    *row_len = len;
    const char *const *measures = cf_vocab_family_measures(family);
    const char *bar = len ? memrchr(field, '|', len) : NULL;
    if (!measures || !bar)
        return -1;
    const char *last = bar + 1;
    size_t last_len = len - (size_t) (last - field);
    for (int m = 0; measures[m]; m++)
        if (strlen(measures[m]) == last_len && memcmp(measures[m], last, last_len) == 0) {
            *row_len = (size_t) (bar - field);
            return m;
        }
    return -1;
}

/* One whole decimal number in a signed 64-bit integer: an optional '-',
   then digits (no spaces, no '+'). Leading zeros pass: the worker writes
   every counter as the value it computed, so one never reaches Redis's
   own arithmetic (HINCRBY would refuse it). */
static int tuple_parse_one(const char *s, size_t len, int64_t *value)
{
    if (len == 0 || len > 20 || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
        || (s[0] == '-' && len == 1))
        return -1;
    char text[24], *end;
    memcpy(text, s, len);
    text[len] = '\0';
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end)
        return -1;
    *value = v;
    return 0;
}

int cf_tuple_parse(const char *value, size_t len, int64_t *values, size_t width)
{
    assert((value || !len) && values && width >= 1);
    size_t at = 0;
    for (size_t i = 0; i < width; i++) {
        const char *comma = memchr(value + at, ',', len - at);
        size_t end = i + 1 < width ? (comma ? (size_t) (comma - value) : len) : len;
        if ((i + 1 < width && !comma) || tuple_parse_one(value + at, end - at, &values[i]) < 0)
            return -1;
        at = end + 1;
    }
    return 0;
}

size_t cf_tuple_format(char *text, const int64_t *values, size_t width)
{
    assert(text && values && width >= 1 && width <= CF_VOCAB_MEASURES_MAX);
    size_t len = 0;
    for (size_t i = 0; i < width; i++) {
        if (i)
            text[len++] = ',';
        len += cf_fmt_i64(text + len, values[i]);
    }
    text[len] = '\0';
    return len;
}

int cf_tuple_expand(int family, const char *field, size_t len, const char *value,
                    size_t value_len, cf_tuple_fn *each, void *arg)
{
    assert(field && (value || !value_len) && each);
    int64_t values[CF_VOCAB_MEASURES_MAX];
    if (!value_len || !memchr(value, ',', value_len)) {
        if (tuple_parse_one(value, value_len, &values[0]) < 0)
            return -1;
        each(arg, field, len, values[0]);
        return 0;
    }
    const char *const *measures = cf_vocab_family_measures(family);
    size_t width = cf_vocab_family_width(family);
    char logical[CF_TUPLE_FIELD_MAX + 32];
    if (!measures || len > CF_TUPLE_FIELD_MAX
        || cf_tuple_parse(value, value_len, values, width) < 0)
        return -1;
    memcpy(logical, field, len);
    logical[len] = '|';
    for (size_t m = 0; m < width; m++) {
        if (values[m] == 0)
            continue;               /* as absent (docs/storage.md) */
        size_t mlen = strlen(measures[m]);
        memcpy(logical + len + 1, measures[m], mlen);
        each(arg, logical, len + 1 + mlen, values[m]);
    }
    return 0;
}
