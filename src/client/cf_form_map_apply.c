/*  cf_form_map_apply: one submission through a mapping (see cf_form_map.h;
    reading the mapping is cf_form_map.c). The submission is flattened to
    paths first ({"g": {"f": 1}} is "g/f", as KoboToolbox writes it), every
    path is checked against what the mapping reads or ignores, then the
    event is built rule by rule in the file's order, a field's value through
    its filters in cf_form_map_filter.c.                                     */
#include "cf_form_map_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#define MAP_DEPTH_MAX       8       /* nested groups in one submission */
#define MAP_PATH_MAX        256

/*  Adds object's members to flat as "prefix/key" paths, objects within
    objects too. 0, or -1 with the reason in err.                           */
static int map_flatten(json_t *flat, json_t *object, const char *prefix, int depth, char *err,
                       size_t n)
{
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) {
        char path[MAP_PATH_MAX + 1];
        int len = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", key);
        if (len < 0 || (size_t) len >= sizeof path)
            return cf_form_map_fail(err, n, prefix, "a field's path is over %d bytes",
                                    MAP_PATH_MAX);
        if (json_is_object(value) && depth == MAP_DEPTH_MAX)
            return cf_form_map_fail(err, n, path, "groups nested over %d deep", MAP_DEPTH_MAX);
        if (json_is_object(value)) {
            if (map_flatten(flat, value, path, depth + 1, err, n) < 0)
                return -1;
        } else if (json_object_get(flat, path))
            return cf_form_map_fail(err, n, path, "given twice");
        else
            json_object_set(flat, path, value);
    }
    return 0;
}

/*  Whether a submission's value counts as no answer: absent, null or "".  */
static bool map_blank(const json_t *value)
{
    return !value || json_is_null(value) || (json_is_string(value) && !json_string_length(value));
}

/*  A [fields] rule's value: a new reference, NULL with *err empty when the
    submission has no answer there, NULL with the reason in err.            */
static json_t *map_field(const cf_form_map_t *self, const map_rule_t *rule, json_t *flat,
                         char *err, size_t n)
{
    json_t *value = json_object_get(flat, rule->path);
    if (map_blank(value))
        return NULL;
    json_incref(value);
    for (size_t i = 0; value && i < rule->nfilters; i++) {
        json_t *next = cf_form_map_filter(self, &rule->filters[i], rule->path, value, err, n);
        json_decref(value);
        value = next;
    }
    if (value && rule->nfilters == 0 && (json_is_array(value) || json_is_object(value))) {
        cf_form_map_fail(err, n, rule->path, "%s: not one value (a list needs the filter list)",
                         ECHO(value));
        json_decref(value);
        return NULL;
    }
    return value;
}

/*  A [templates] rule's text: a new string, or NULL with the reason in err. */
static json_t *map_template(const map_rule_t *rule, json_t *flat, char *err, size_t n)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out)
        abort();
    const char *at = rule->spec, *start = at, *path;
    size_t lit, len;
    int rc = 0, found = 1;
    while (rc == 0 && found && (found = map_template_next(&at, &lit, &path, &len)) >= 0) {
        fwrite(start, 1, lit, out);         /* the text before the path, or the rest */
        start = at;
        if (!found)
            break;
        char name[MAP_PATH_MAX + 1];
        snprintf(name, sizeof name, "%.*s", (int) len, path);
        json_t *value = json_object_get(flat, name);
        if (map_blank(value))
            rc = cf_form_map_fail(err, n, name, "no answer, and %s = %s needs one", rule->target,
                                  rule->spec);
        else if (json_is_string(value))
            fputs(json_string_value(value), out);
        else if (json_is_integer(value))
            fprintf(out, "%lld", (long long) json_integer_value(value));
        else
            rc = cf_form_map_fail(err, n, name, "%s cannot stand in a template", ECHO(value));
    }
    cf_memstream_close(out);
    json_t *string = rc == 0 ? json_string(text) : NULL;
    if (rc == 0 && !string)
        cf_form_map_fail(err, n, rule->target, "not UTF-8");
    free(text);
    return string;
}

/*  The event of the flattened submission: a new object, or NULL with the
    reason in err.                                                           */
static json_t *map_event(const cf_form_map_t *self, json_t *flat, char *err, size_t n)
{
    json_t *event = json_object();
    for (size_t i = 0; i < self->nrules; i++) {
        const map_rule_t *rule = &self->rules[i];
        *err = 0;
        json_t *value = rule->kind == MAP_CONSTANT ? json_incref(rule->constant)
                      : rule->kind == MAP_TEMPLATE ? map_template(rule, flat, err, n)
                      : map_field(self, rule, flat, err, n);
        if (!value && *err) {
            json_decref(event);
            return NULL;
        }
        if (value)
            json_object_set_new(event, rule->target, value);
    }
    return event;
}

int cf_form_map_apply(const cf_form_map_t *self, const char *text, size_t len, char **event,
                      char *err, size_t n)
{
    assert(self && text && event && err);
    *event = NULL;
    json_error_t error;
    json_t *submission = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (!submission || !json_is_object(submission)) {
        if (submission)
            snprintf(err, n, "submission: not a JSON object");
        else
            snprintf(err, n, "submission: not JSON: %s at column %d", error.text, error.column);
        json_decref(submission);
        return -1;
    }
    json_t *flat = json_object(), *made = NULL;
    const char *key;
    json_t *value;
    bool known = map_flatten(flat, submission, "", 0, err, n) == 0;
    json_object_foreach(flat, key, value)
        if (known && !map_known(self, key))
            known = cf_form_map_fail(err, n, key, "not in the mapping: map it in [fields] or "
                                     "drop it with [form] ignore (an unknown field is refused, "
                                     "as in an event)")
                    == 0;
    if (known)
        made = map_event(self, flat, err, n);
    if (made) {
        *event = json_dumps(made, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!*event)
            abort();            /* jansson fails here on memory only */
    }
    json_decref(made);
    json_decref(flat);
    json_decref(submission);
    return *event ? 0 : -1;
}
