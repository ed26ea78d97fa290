/*  cf_rules_value: the values of a rules file, text to number, duration,
    flag set or mark list, each with the reason when the text is not one.
    Pure functions over strings, so that cf_rules_parse.c only walks the
    file and says where.                                                     */
#include "cf_rules_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MAX_INT   9007199254740991ULL     /* 2^53 - 1: exact in the Lua script's numbers */
#define RULES_ITEM      256                     /* longer than a line: no list item is cut */

int rules_fail(char *why, size_t n, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(why, n, fmt, args);
    va_end(args);
    return -1;
}

bool rules_name_ok(const char *s, size_t len, bool star)
{
    if (star && len == 1 && *s == '*')
        return true;
    if (len == 0 || len > CF_RULES_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/*  s[0..len) as a whole number up to RULES_MAX_INT: 0, -1 (not one), -2 (too
    large).                                                                  */
static int value_uint(const char *s, size_t len, uint64_t *out)
{
    if (len == 0)
        return -1;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (value > (RULES_MAX_INT - (uint64_t) (s[i] - '0')) / 10)
            return -2;
        value = value * 10 + (uint64_t) (s[i] - '0');
    }
    *out = value;
    return 0;
}

int rules_value_count(const char *value, uint64_t *out, char *why, size_t n)
{
    int rc = value_uint(value, strlen(value), out);
    if (rc == -2)
        return rules_fail(why, n, "'%s' is too large (at most %llu)", value, RULES_MAX_INT);
    return rc < 0 ? rules_fail(why, n, "'%s' is not a whole number, 0 or more", value) : 0;
}

int rules_value_ratio(const char *value, double *out, char *why, size_t n)
{
    char *end;
    errno = 0;
    double ratio = strtod(value, &end);
    if (end == value || *end || errno || !(ratio > 0) || !isfinite(ratio))
        return rules_fail(why, n, "'%s' is not a number above 0", value);
    *out = ratio;
    return 0;
}

int rules_value_duration(const char *value, uint64_t *out, char *why, size_t n)
{
    static const char units[] = "dhms";
    static const uint64_t unit_ms[] = { 86400000, 3600000, 60000, 1000 };
    size_t len = strlen(value);
    const char *unit = len ? strchr(units, value[len - 1]) : NULL;
    uint64_t count = 0;
    int rc = unit && *unit ? value_uint(value, len - 1, &count) : -1;
    if (rc == -1 || count == 0)
        return rules_fail(why, n, "'%s' is not a duration above 0 (<n>d, <n>h, <n>m or <n>s)",
                          value);
    uint64_t ms = unit_ms[unit - units];
    if (rc == -2 || count > RULES_MAX_INT / ms)
        return rules_fail(why, n, "'%s' is too long (at most 2^53 - 1 ms)", value);
    *out = count * ms;
    return 0;
}

/*  The next comma-separated item of *cursor, trimmed, into item; false at
    the end. An empty value has no items; "a,,b" has an empty one.          */
static bool value_item(const char **cursor, char item[RULES_ITEM])
{
    const char *s = *cursor;
    if (!s)
        return false;
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t) (comma - s) : strlen(s);
    *cursor = comma ? comma + 1 : NULL;
    while (len && isspace((unsigned char) *s))
        s++, len--;
    while (len && isspace((unsigned char) s[len - 1]))
        len--;
    len = len < RULES_ITEM ? len : RULES_ITEM - 1;
    memcpy(item, s, len);
    item[len] = '\0';
    return true;
}

int rules_value_flags(const char *value, unsigned *out, char *why, size_t n)
{
    char item[RULES_ITEM];
    unsigned mask = 0;
    for (const char *cursor = *value ? value : NULL; value_item(&cursor, item);) {
        int i = 0;
        while (i < CF_VOCAB_ALERT_FLAGS && strcmp(item, cf_vocab_alert_flag_name(i)))
            i++;
        if (i == CF_VOCAB_ALERT_FLAGS) {
            char flags[160] = "";
            for (int f = 0; f < CF_VOCAB_ALERT_FLAGS; f++)
                snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%s",
                         f ? ", " : "", cf_vocab_alert_flag_name(f));
            return rules_fail(why, n, "'%s' is not one of %s", item, flags);
        }
        if (mask & (1u << i))
            return rules_fail(why, n, "'%s' is listed twice", item);
        mask |= 1u << i;
    }
    *out = mask;
    return 0;
}

int rules_value_marks(const char *value, cf_rules_mark_t marks[CF_RULES_MAX_MARKS],
                      size_t *count, char *why, size_t n)
{
    uint64_t last[2] = { 0, 0 };        /* cases, persons: each kind increases */
    char item[RULES_ITEM];
    *count = 0;
    for (const char *cursor = *value ? value : NULL; value_item(&cursor, item);) {
        if (*count == CF_RULES_MAX_MARKS)
            return rules_fail(why, n, "more than %d marks", CF_RULES_MAX_MARKS);
        cf_rules_mark_t *mark = &marks[(*count)++];
        size_t len = strlen(item);
        mark->persons = len && item[len - 1] == 'p';
        int rc = value_uint(item, len - mark->persons, &mark->mark);
        if (rc == -2)
            return rules_fail(why, n, "'%s' is too large (at most %llu)", item, RULES_MAX_INT);
        if (rc < 0 || mark->mark == 0)
            return rules_fail(why, n, "'%s' is not a mark (a whole number above 0, ending in p "
                              "to count persons)", item);
        if (mark->mark <= last[mark->persons])
            return rules_fail(why, n, "marks must increase: %s after %llu%s", item,
                              (unsigned long long) last[mark->persons], mark->persons ? "p" : "");
        last[mark->persons] = mark->mark;
    }
    return 0;
}

int rules_value_list(const char *value, char *items, size_t size, size_t max, size_t *count,
                     char *why, size_t n)
{
    char item[RULES_ITEM];
    *count = 0;
    for (const char *cursor = *value ? value : NULL; value_item(&cursor, item);) {
        if (!*item)
            return rules_fail(why, n, "an empty item in '%s'", value);
        if (*count == max)
            return rules_fail(why, n, "more than %zu items", max);
        if (strlen(item) >= size)
            return rules_fail(why, n, "'%s' is longer than %zu characters", item, size - 1);
        strcpy(items + *count * size, item);
        (*count)++;
    }
    if (*count == 0)
        return rules_fail(why, n, "an empty list");
    return 0;
}
