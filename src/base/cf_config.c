/*  cf_config: a configuration file read by libinih and checked by the
    caller's rules (see cf_config.h).

    Debian's inih calls the handler without a line number, reads an indented
    line as the continuation of the one above, says nothing of a section
    without keys and reports only its first syntax error. So the file reaches
    it through our reader, which counts lines, drops the indentation, checks
    each [heading] as it passes and reports a line that is neither a heading,
    a comment nor key = value (handing inih a blank line instead), so that
    every error is found in one reading.                                     */
#include "caseflow/cf_config.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *section, *key, *value;
    int line;
} config_entry_t;

typedef struct {
    char *text;
    int line;
} config_error_t;

struct _cf_config_t {
    const cf_config_rules_t *rules;
    char *path;
    config_entry_t *entries;
    size_t entries_n, entries_cap;
    config_error_t *errors;
    size_t errors_n, errors_cap;
    FILE *file;                 /* while loading */
    char *buf;
    size_t cap;
    int line;                   /* of the line inih has now */
    bool skip;                  /* in a section already refused */
};

/*  Records "path:line: " + the formatted reason. Returns 1: inih goes on.   */
__attribute__((format(printf, 2, 3)))
static int config_fail(cf_config_t *self, const char *fmt, ...)
{
    char reason[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);
    self->errors = cf_grow(self->errors, &self->errors_cap, self->errors_n + 1,
                           sizeof *self->errors);
    size_t size = strlen(self->path) + strlen(reason) + 16;
    char *text = cf_malloc(size);
    if (self->line)
        snprintf(text, size, "%s:%d: %s", self->path, self->line, reason);
    else
        snprintf(text, size, "%s: %s", self->path, reason);
    self->errors[self->errors_n++] = (config_error_t) { text, self->line };
    return 1;
}

/*  A heading line "[name]": refuses an unknown or malformed one, and marks
    its keys to be skipped (they would only repeat the error).               */
static bool config_heading(cf_config_t *self, const char *line)
{
    const char *end = strchr(line, ']');
    const char *rest = end ? end + 1 + strspn(end + 1, " \t") : NULL;
    self->skip = true;
    if (!end || (*rest && *rest != ';' && *rest != '#')) {
        config_fail(self, "syntax error: expected [section]");
        return false;
    }
    int len = (int) (end - line - 1);
    char name[64], why[256] = "unknown section";
    snprintf(name, sizeof name, "%.*s", len, line + 1);
    /* a name cut short is no section's: the rules say why */
    if (self->rules->section(name, why, sizeof why) == 0 && (size_t) len < sizeof name) {
        self->skip = false;
        return true;
    }
    config_fail(self, "section '%.*s': %s", len, line + 1, why);
    return false;
}

/*  inih's fgets: one line of the file per call, as said at the top.         */
static char *config_reader(char *str, int num, void *stream)
{
    cf_config_t *self = stream;
    ssize_t got = getline(&self->buf, &self->cap, self->file);
    if (got < 0)
        return NULL;
    self->line++;
    char *s = self->buf;
    bool nul = memchr(s, '\0', (size_t) got) != NULL;
    if (self->line == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
        s += 3;
    s += strspn(s, " \t");
    size_t len = strcspn(s, "\r\n");
    s[len] = '\0';
    str[0] = '\0';
    if (nul)
        config_fail(self, "a NUL byte in the line");
    else if (len + 3 > (size_t) num)
        config_fail(self, "line longer than %d characters", num - 3);
    else if (*s == '[') {
        if (config_heading(self, s))
            return strcpy(str, s);
    } else if (*s && *s != '#' && *s != ';' && !strpbrk(s, "=:"))
        config_fail(self, "syntax error: expected [section], key = value or a comment");
    else
        return strcpy(str, s);
    return str;                 /* a blank line for inih: the error is recorded */
}

static int config_handler(void *user, const char *section, const char *key, const char *value)
{
    cf_config_t *self = user;
    if (self->skip)
        return 1;
    char why[512];
    if (self->rules->key(section, key, why, sizeof why) < 0)
        return config_fail(self, "key '%s': %s", key, why);
    int first;
    if (cf_config_value(self, section, key, &first))
        return config_fail(self, "key '%s': given twice in [%s] (first on line %d)", key,
                           section, first);
    /* kept even when bad, so that a second one is called a duplicate too */
    self->entries = cf_grow(self->entries, &self->entries_cap, self->entries_n + 1,
                            sizeof *self->entries);
    self->entries[self->entries_n++] = (config_entry_t) { cf_strdup(section), cf_strdup(key),
                                                          cf_strdup(value), self->line };
    if (self->rules->value(section, key, value, why, sizeof why) < 0)
        return config_fail(self, "key '%s': %s", key, why);
    return 1;
}

cf_config_t *cf_config_new(const cf_config_rules_t *rules)
{
    assert(rules && rules->section && rules->key && rules->value);
    cf_config_t *self = cf_calloc(1, sizeof *self);
    self->rules = rules;
    self->path = cf_strdup("");
    return self;
}

void cf_config_destroy(cf_config_t **self_p)
{
    cf_config_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->entries_n; i++) {
        free(self->entries[i].section);
        free(self->entries[i].key);
        free(self->entries[i].value);
    }
    for (size_t i = 0; i < self->errors_n; i++)
        free(self->errors[i].text);
    free(self->entries);
    free(self->errors);
    free(self->path);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

int cf_config_load(cf_config_t *self, const char *path)
{
    assert(self && path && !self->file && !self->entries_n && !self->errors_n);
    free(self->path);
    self->path = cf_strdup(path);
    if (!(self->file = fopen(path, "r"))) {
        config_fail(self, "cannot open: %s", strerror(errno));
        return -1;
    }
    int rc = ini_parse_stream(config_reader, self, config_handler, self);
    if (rc == -2)
        abort();                        /* inih out of memory */
    if (rc > 0) {                       /* what our reader let through, inih refused */
        self->line = rc;
        config_fail(self, "syntax error: expected [section], key = value or a comment");
    }
    if (ferror(self->file)) {
        self->line = 0;
        config_fail(self, "cannot read: %s", strerror(errno));
    }
    fclose(self->file);
    self->file = NULL;
    return self->errors_n ? -1 : 0;
}

size_t cf_config_errors(const cf_config_t *self)
{
    assert(self);
    return self->errors_n;
}

const char *cf_config_error(const cf_config_t *self, size_t index)
{
    assert(self && index < self->errors_n);
    return self->errors[index].text;
}

int cf_config_error_line(const cf_config_t *self, size_t index)
{
    assert(self && index < self->errors_n);
    return self->errors[index].line;
}

const char *cf_config_value(const cf_config_t *self, const char *section, const char *key,
                            int *line)
{
    assert(self);
    for (size_t i = 0; i < self->entries_n; i++) {
        const config_entry_t *e = &self->entries[i];
        if (!strcmp(e->section, section) && !strcmp(e->key, key)) {
            if (line)
                *line = e->line;
            return e->value;
        }
    }
    return NULL;
}

const char *cf_config_entry(const cf_config_t *self, size_t index, const char **section,
                            const char **key, int *line)
{
    assert(self && index < self->entries_n);
    const config_entry_t *e = &self->entries[index];
    if (section)
        *section = e->section;
    if (key)
        *key = e->key;
    if (line)
        *line = e->line;
    return e->value;
}

size_t cf_config_keys(const cf_config_t *self)
{
    assert(self);
    return self->entries_n;
}

size_t cf_config_sections(const cf_config_t *self)
{
    assert(self);
    size_t count = 0;
    for (size_t i = 0; i < self->entries_n; i++) {
        size_t j = 0;
        while (j < i && strcmp(self->entries[j].section, self->entries[i].section))
            j++;
        count += j == i;
    }
    return count;
}

const char *cf_config_path(const cf_config_t *self)
{
    assert(self);
    return self->path;
}
