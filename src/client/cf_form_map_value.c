/*  cf_form_map_value: the values of a form's mapping, each read alone: a
    submission's field path with its filters ([fields]: "path | filter |
    code NAME ..."), a constant ([constants]: one JSON scalar) and a template
    ([templates]: text with {path}s). cf_form_map.c checks a file's values
    with these as cf_config reads it, then keeps what they parse;
    cf_form_map_apply.c walks a template with map_template_next. No I/O.   */
#include "cf_form_map_internal.h"
#include "caseflow/cf_alloc.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    map_filter_kind_t kind;
} s_filters[] = {
    { "int", FILTER_INT }, { "number", FILTER_NUMBER }, { "bool", FILTER_BOOL },
    { "date", FILTER_DATE }, { "list", FILTER_LIST }, { "upper", FILTER_UPPER },
    { "lower", FILTER_LOWER }, { "code", FILTER_CODE } };
#define S_FILTERS (sizeof s_filters / sizeof s_filters[0])

bool map_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > MAP_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", s[i]))
            return false;
    return true;
}

bool map_path_ok(const char *s, size_t len)
{
    if (len == 0 || len > 256)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) s[i] <= ' ' || s[i] == 0x7f || strchr("{}|", s[i]))
            return false;
    return true;
}

int map_parse_field(const char *value, map_rule_t *rule, char *why, size_t n)
{
    const char *at = value + strspn(value, MAP_SPACE);
    size_t len = strcspn(at, "|");
    while (len && strchr(MAP_SPACE, at[len - 1]))
        len--;
    if (!map_path_ok(at, len)) {
        snprintf(why, n, "'%s' is not a submission's field, then filters: PATH | FILTER ... "
                 "(a path has no spaces, braces or '|')", value);
        return -1;
    }
    rule->path = cf_strndup(at, len);
    rule->nfilters = 0;
    for (at = strchr(at, '|'); at; at = strchr(at, '|')) {
        at++;
        at += strspn(at, MAP_SPACE);
        size_t word = strcspn(at, MAP_SPACE "|");
        size_t k = 0;
        while (k < S_FILTERS && (strlen(s_filters[k].name) != word
                                 || strncmp(s_filters[k].name, at, word)))
            k++;
        if (k == S_FILTERS) {
            snprintf(why, n, "unknown filter '%.*s' (int, number, bool, date, list, upper, "
                     "lower, code NAME)", (int) word, at);
            return -1;
        }
        if (rule->nfilters == MAP_FILTERS_MAX) {
            snprintf(why, n, "more than %d filters", MAP_FILTERS_MAX);
            return -1;
        }
        map_filter_t *f = &rule->filters[rule->nfilters++];
        *f = (map_filter_t) { .kind = s_filters[k].kind };
        at += word;
        at += strspn(at, MAP_SPACE);
        size_t arg = strcspn(at, MAP_SPACE "|");
        if (f->kind == FILTER_CODE) {
            if (!map_name_ok(at, arg)) {
                snprintf(why, n, "code needs the name of a code list ([codes.NAME], NAME "
                         "[A-Za-z0-9_-], 1 to %d characters)", MAP_NAME_MAX);
                return -1;
            }
            memcpy(f->name, at, arg);
            f->name[arg] = 0;
            at += arg;
            at += strspn(at, MAP_SPACE);
        }
        if (*at && *at != '|') {
            snprintf(why, n, "'%.32s' after filter %s: filters are separated by '|'", at,
                     s_filters[k].name);
            return -1;
        }
    }
    return 0;
}

json_t *map_parse_constant(const char *value, char *why, size_t n)
{
    json_error_t error;
    json_t *json = json_loads(value, JSON_DECODE_ANY, &error);
    if (!json || !(json_is_string(json) || json_is_number(json) || json_is_boolean(json))) {
        snprintf(why, n, "'%s' is not a JSON string (in double quotes), number or boolean",
                 value);
        json_decref(json);
        return NULL;
    }
    return json;
}

int map_template_next(const char **at, size_t *lit_len, const char **path, size_t *len)
{
    const char *open = strpbrk(*at, "{}");
    if (!open) {
        *lit_len = strlen(*at);
        *at += *lit_len;
        return 0;
    }
    const char *close = *open == '{' ? strpbrk(open + 1, "{}") : NULL;
    if (!close || *close != '}')
        return -1;
    *lit_len = (size_t) (open - *at);
    *path = open + 1;
    *len = (size_t) (close - open - 1);
    *at = close + 1;
    return 1;
}

int map_check_template(const char *value, char *why, size_t n)
{
    const char *at = value, *path;
    size_t lit, len, paths = 0;
    int rc;
    while ((rc = map_template_next(&at, &lit, &path, &len)) > 0) {
        if (!map_path_ok(path, len)) {
            snprintf(why, n, "'{%.*s}' does not name a submission's field", (int) len, path);
            return -1;
        }
        paths++;
    }
    if (rc < 0)
        snprintf(why, n, "a brace without its pair: a template is text with {path}s");
    else if (!paths)
        snprintf(why, n, "no {path}: a template without one is a constant ([constants])");
    return rc < 0 || !paths ? -1 : 0;
}
