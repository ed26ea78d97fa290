/*  cf_rules_parse: a rules file into a rules set, libinih doing the lexing.

    Debian's inih calls the handler without a line number, reads an indented
    line as the continuation of the value above, cuts a line longer than its
    buffer and reads the rest as another line, and says nothing about a
    section that holds no key. So the file reaches inih through our own
    reader, which counts lines, drops leading white space (indentation means
    nothing in a rules file), refuses over-long lines and checks each
    [section] heading as it passes. The first error stops the parse; the
    values are read by cf_rules_value.c, the sinks' by cf_rules_sink.c,
    which checks each sink section whole once the file is read.                                     */
#include "cf_rules_internal.h"
#include "caseflow/cf_alloc.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    rules_set_t *set;
    const char *path;
    FILE *file;
    char *buf;
    size_t cap;
    int line;               /* of the line inih has now */
    int error_line;         /* 0 until the first error */
    int read_errno;
    char *err;
    size_t n;
} parse_t;

/*  The keys of the fixed sections; [spike.<route>] takes spike's two, and
    [overdue]'s keys (key NULL) are the limits (cf_vocab).                    */
static const struct {
    const char *section, *key;
    rules_key_t id;
} s_keys[] = {
    { "spike", "ratio", RULES_KEY_RATIO },
    { "spike", "min_count", RULES_KEY_MIN_COUNT },
    { "overdue", NULL, RULES_KEY_OVERDUE },
    { "vulnerable", "flags", RULES_KEY_FLAGS },
    { "predeparture", "window", RULES_KEY_WINDOW } };
#define S_KEYS (sizeof s_keys / sizeof s_keys[0])

/*  Records the first error as "path:line: where: reason" (where may be NULL)
    and returns 0, inih's "stop".                                            */
static int parse_fail(parse_t *p, const char *where, const char *fmt, ...)
{
    if (p->error_line)
        return 0;
    p->error_line = p->line;
    int len = snprintf(p->err, p->n, "%s:%d: %s%s", p->path, p->line, where ? where : "",
                       where ? ": " : "");
    if (len >= 0 && (size_t) len < p->n) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(p->err + len, p->n - (size_t) len, fmt, args);
        va_end(args);
    }
    return 0;
}

/*  Checks the heading at s ("[name]..."); -1 after recording the error. A
    heading without "]" is left to inih, which calls it a syntax error.      */
static int parse_heading(parse_t *p, const char *s)
{
    const char *end = strchr(s, ']');
    if (!end)
        return 0;
    const char *name = s + 1;
    int len = (int) (end - name);
    if (len == 0) {
        parse_fail(p, NULL, "[]: a section needs a name");
        return -1;
    }
    for (size_t i = 0; i < S_KEYS; i++)
        if ((size_t) len == strlen(s_keys[i].section) && !strncmp(name, s_keys[i].section, len))
            return 0;
    if (len == 10 && !strncmp(name, "milestones", 10))
        return 0;
    if (len >= 5 && !strncmp(name, "sink.", 5)) {
        char why[256];
        if (rules_sink_open(p->set, name + 5, (size_t) len - 5, p->line, why, sizeof why) == 0)
            return 0;
        parse_fail(p, NULL, "%.*s: %s", len, name, why);
        return -1;
    }
    if (len >= 6 && !strncmp(name, "spike.", 6)) {
        if (rules_name_ok(name + 6, (size_t) len - 6, false))
            return 0;
        parse_fail(p, NULL, "%.*s: '%.*s' is not a route name ([A-Za-z0-9_-], 1 to %d characters)",
                   len, name, len - 6, name + 6, CF_RULES_NAME_MAX);
        return -1;
    }
    parse_fail(p, NULL, "%.*s: unknown section (milestones, spike, spike.<route>, overdue, "
               "vulnerable, predeparture, sink.<name>)", len, name);
    return -1;
}

/*  inih's fgets: one line of the file per call, as described at the top.    */
static char *parse_reader(char *str, int num, void *stream)
{
    parse_t *p = stream;
    if (p->error_line)
        return NULL;
    ssize_t got = getline(&p->buf, &p->cap, p->file);
    if (got < 0) {
        p->read_errno = ferror(p->file) ? errno : 0;
        return NULL;
    }
    p->line++;
    char *s = p->buf;
    if (p->line == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))    /* a UTF-8 byte order mark */
        s += 3;
    s += strspn(s, " \t");
    size_t len = strlen(s);
    if (s + len != p->buf + got) {
        parse_fail(p, NULL, "a NUL byte in the line");
        return NULL;
    }
    if (len && s[len - 1] == '\n')
        len--;
    if (len && s[len - 1] == '\r')
        len--;
    if (len + 3 > (size_t) num) {
        parse_fail(p, NULL, "line longer than %d characters", num - 3);
        return NULL;
    }
    if (*s == '[' && parse_heading(p, s) < 0)
        return NULL;
    memcpy(str, s, len);
    str[len] = '\0';
    return str;
}

/*  A [milestones] line: programme = marks, each increasing on its kind.     */
static int parse_programme(parse_t *p, const char *where, const char *name, const char *value)
{
    rules_set_t *set = p->set;
    if (!rules_name_ok(name, strlen(name), true))
        return parse_fail(p, where, "'%s' is not a programme name ([A-Za-z0-9_-], 1 to %d "
                          "characters, or *)", name, CF_RULES_NAME_MAX);
    for (size_t i = 0; i < set->programmes_n; i++)
        if (!strcmp(set->programmes[i].name, name))
            return parse_fail(p, where, "duplicate key (first on line %d)",
                              set->programmes[i].line);
    set->programmes = cf_grow(set->programmes, &set->programmes_cap, set->programmes_n + 1,
                              sizeof *set->programmes);
    rules_programme_t *programme = &set->programmes[set->programmes_n++];
    memset(programme, 0, sizeof *programme);
    strcpy(programme->name, name);
    programme->line = p->line;
    char why[512];
    if (rules_value_marks(value, programme->marks, &programme->count, why, sizeof why) < 0)
        return parse_fail(p, where, "%s", why);
    return 1;
}

/*  A [spike.<route>] key: the route's override of ratio or min_count.       */
static int parse_route(parse_t *p, const char *where, const char *route, const char *key,
                       const char *value)
{
    rules_set_t *set = p->set;
    bool ratio = !strcmp(key, "ratio");
    if (!ratio && strcmp(key, "min_count"))
        return parse_fail(p, where, "unknown key (ratio, min_count)");
    rules_route_t *slot = NULL;
    for (size_t i = 0; i < set->routes_n && !slot; i++)
        if (!strcmp(set->routes[i].name, route))
            slot = &set->routes[i];
    if (!slot) {
        set->routes = cf_grow(set->routes, &set->routes_cap, set->routes_n + 1,
                              sizeof *set->routes);
        slot = &set->routes[set->routes_n++];
        memset(slot, 0, sizeof *slot);
        strcpy(slot->name, route);      /* checked by parse_heading: fits */
    }
    int *line = ratio ? &slot->ratio_line : &slot->min_count_line;
    if (*line)
        return parse_fail(p, where, "duplicate key (first on line %d)", *line);
    char why[512];
    if ((ratio ? rules_value_ratio(value, &slot->ratio, why, sizeof why)
               : rules_value_count(value, &slot->min_count, why, sizeof why)) < 0)
        return parse_fail(p, where, "%s", why);
    *line = p->line;
    return 1;
}

/*  Appends name to the comma-separated list known (size bytes).            */
static void parse_known(char *known, size_t size, const char *name)
{
    snprintf(known + strlen(known), size - strlen(known), "%s%s", *known ? ", " : "", name);
}

/*  The id of key in section (s_keys), or -1 with the section's keys listed
    in known.                                                                */
static int parse_key_id(const char *section, const char *key, char *known, size_t size)
{
    for (size_t i = 0; i < S_KEYS; i++) {
        if (strcmp(s_keys[i].section, section))
            continue;
        if (s_keys[i].key && !strcmp(s_keys[i].key, key))
            return (int) s_keys[i].id;
        if (s_keys[i].key) {
            parse_known(known, size, s_keys[i].key);
            continue;
        }
        int limit = cf_vocab_limit_find(key, strlen(key));
        if (limit >= 0)
            return (int) s_keys[i].id + limit;
        for (int l = 0; l < CF_LIMIT_COUNT; l++)
            parse_known(known, size, cf_vocab_limit_name(l));
    }
    return -1;
}

/*  A key of a section with fixed keys (s_keys).                             */
static int parse_fixed(parse_t *p, const char *where, const char *section, const char *key,
                       const char *value)
{
    rules_set_t *set = p->set;
    char known[128] = "";
    int id = parse_key_id(section, key, known, sizeof known);
    if (id < 0)
        return parse_fail(p, where, "unknown key (%s)", known);
    if (set->key_lines[id])
        return parse_fail(p, where, "duplicate key (first on line %d)", set->key_lines[id]);
    char why[512];
    int rc;
    if (id == RULES_KEY_RATIO)
        rc = rules_value_ratio(value, &set->ratio, why, sizeof why);
    else if (id == RULES_KEY_MIN_COUNT)
        rc = rules_value_count(value, &set->min_count, why, sizeof why);
    else if (id == RULES_KEY_FLAGS)
        rc = rules_value_flags(value, &set->vulnerable, why, sizeof why);
    else if (id == RULES_KEY_WINDOW)
        rc = rules_value_duration(value, &set->predeparture_ms, why, sizeof why);
    else
        rc = rules_value_duration(value, &set->overdue_ms[id - RULES_KEY_OVERDUE], why, sizeof why);
    if (rc < 0)
        return parse_fail(p, where, "%s", why);
    set->key_lines[id] = p->line;
    return 1;
}

static int parse_handler(void *user, const char *section, const char *key, const char *value)
{
    parse_t *p = user;
    char where[128];
    snprintf(where, sizeof where, "%s%s%s", section, *section ? "." : "", key);
    if (!*section)
        return parse_fail(p, where, "key outside a section");
    if (!strcmp(section, "milestones"))
        return parse_programme(p, where, key, value);
    if (!strncmp(section, "spike.", 6))
        return parse_route(p, where, section + 6, key, value);
    if (!strncmp(section, "sink.", 5)) {
        char why[512];
        if (rules_sink_key(p->set, section + 5, key, value, p->line, why, sizeof why) < 0)
            return parse_fail(p, where, "%s", why);
        return 1;
    }
    return parse_fixed(p, where, section, key, value);
}

int rules_parse(rules_set_t *set, const char *path, char *err, size_t n)
{
    parse_t p = { .set = set, .path = path, .err = err, .n = n };
    if (!(p.file = fopen(path, "r"))) {
        snprintf(err, n, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int rc = ini_parse_stream(parse_reader, &p, parse_handler, &p);
    if (rc == -2)
        abort();                        /* inih out of memory */
    if (rc > 0 && (!p.error_line || rc < p.error_line))
        snprintf(err, n, "%s:%d: syntax error: expected [section], key = value or a comment",
                 path, rc);
    else if (!p.error_line && p.read_errno)
        snprintf(err, n, "%s: cannot read: %s", path, strerror(p.read_errno));
    fclose(p.file);
    free(p.buf);
    if (rc || p.error_line || p.read_errno)
        return -1;
    return rules_sinks_check(set, path, err, n);
}
