/*  cf_form_map: reading and checking a form's mapping file (see
    cf_form_map.h; a key's value alone is cf_form_map_value.c, applying the
    mapping cf_form_map_apply.c). cf_config reads the INI and checks each
    section, key and value alone, collecting every error with its line;
    what needs the whole file (a code list named by a filter exists, a
    field is written once, the event type and event_id are made, each field
    belongs to the type) is checked here after it.                           */
#include "cf_form_map_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_config.h"
#include "caseflow/cf_event.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_sections[] = { "form", "fields", "constants", "templates" };
#define S_SECTIONS (sizeof s_sections / sizeof s_sections[0])

/* ---- cf_config's rules: each section, key and value alone ------------------ */

static int rules_section(const char *name, char *why, size_t n)
{
    for (size_t i = 0; i < S_SECTIONS; i++)
        if (!strcmp(name, s_sections[i]))
            return 0;
    if (!strncmp(name, "codes.", 6) && map_name_ok(name + 6, strlen(name + 6)))
        return 0;
    snprintf(why, n, "unknown section (form, fields, constants, templates, codes.NAME with "
             "NAME [A-Za-z0-9_-])");
    return -1;
}

static int rules_key(const char *section, const char *key, char *why, size_t n)
{
    if (!strncmp(section, "codes.", 6))
        return 0;
    if (!strcmp(section, "form")) {
        if (!strcmp(key, "ignore"))
            return 0;
        snprintf(why, n, "unknown key ([form] has ignore)");
        return -1;
    }
    if (!*section) {
        snprintf(why, n, "outside any section");
        return -1;
    }
    if (cf_event_field_find(key, strlen(key)) < 0) {
        snprintf(why, n, "not a field of caseflow's events (docs/domain.md): a mapping writes "
                 "only those");
        return -1;
    }
    if (!strcmp(key, "persons")) {
        snprintf(why, n, "a form's fields cannot make a list of persons: post case.registered "
                 "events to /api/v1/events");
        return -1;
    }
    return 0;
}

static int rules_value(const char *section, const char *key, const char *value, char *why,
                       size_t n)
{
    (void) key;
    if (!*value) {
        snprintf(why, n, "no value");
        return -1;
    }
    if (!strcmp(section, "fields")) {
        map_rule_t rule = { 0 };
        int rc = map_parse_field(value, &rule, why, n);
        free(rule.path);
        return rc;
    }
    if (!strcmp(section, "constants")) {
        json_t *json = map_parse_constant(value, why, n);
        json_decref(json);
        return json ? 0 : -1;
    }
    if (!strcmp(section, "templates"))
        return map_check_template(value, why, n);
    return 0;
}

static const cf_config_rules_t s_rules = { rules_section, rules_key, rules_value };

/* ---- the whole file --------------------------------------------------------- */

typedef struct {
    cf_form_map_t *map;
    const char *path;
    char *err;
    size_t n;
    size_t errors;
} map_load_t;

/*  Records an error about key (on line) as cf_config words its own; the
    first one is kept in err.                                                */
__attribute__((format(printf, 4, 5)))
static void map_fail(map_load_t *l, int line, const char *key, const char *fmt, ...)
{
    if (l->errors++)
        return;
    char reason[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);
    if (line)
        snprintf(l->err, l->n, "%s:%d: key '%s': %s", l->path, line, key, reason);
    else
        snprintf(l->err, l->n, "%s: key '%s': %s", l->path, key, reason);
}

static void map_use(cf_form_map_t *self, const char *path, size_t len)
{
    for (size_t i = 0; i < self->nused; i++)
        if (strlen(self->used[i]) == len && !strncmp(self->used[i], path, len))
            return;
    self->used = cf_grow(self->used, &self->used_size, self->nused + 1, sizeof *self->used);
    self->used[self->nused++] = cf_strndup(path, len);
}

static map_codes_t *map_codes(cf_form_map_t *self, const char *name)
{
    for (size_t i = 0; i < self->ncodes; i++)
        if (!strcmp(self->codes[i].name, name))
            return &self->codes[i];
    return NULL;
}

/*  One entry of the checked file into self.                                */
static void map_add(map_load_t *l, const char *section, const char *key, const char *value,
                    int line)
{
    cf_form_map_t *self = l->map;
    char why[512];
    if (!strncmp(section, "codes.", 6)) {
        map_codes_t *c = map_codes(self, section + 6);
        if (!c) {
            self->codes = cf_grow(self->codes, &self->codes_size, self->ncodes + 1,
                                  sizeof *self->codes);
            c = &self->codes[self->ncodes++];
            *c = (map_codes_t) { .name = cf_strdup(section + 6) };
        }
        c->items = cf_grow(c->items, &c->size, c->n + 1, sizeof *c->items);
        c->items[c->n++] = (map_code_t) { cf_strdup(key), cf_strdup(value) };
        return;
    }
    if (!strcmp(section, "form")) {         /* ignore: names a word each */
        for (const char *at = value + strspn(value, MAP_SPACE); *at;) {
            size_t len = strcspn(at, MAP_SPACE);
            self->ignore = cf_realloc(self->ignore, (self->nignore + 1) * sizeof *self->ignore);
            self->ignore[self->nignore++] = cf_strndup(at, len);
            at += len;
            at += strspn(at, MAP_SPACE);
        }
        return;
    }
    for (size_t i = 0; i < self->nrules; i++)
        if (!strcmp(self->rules[i].target, key)) {
            map_fail(l, line, key, "written twice (first on line %d)", self->rules[i].line);
            return;
        }
    self->rules = cf_grow(self->rules, &self->rules_size, self->nrules + 1, sizeof *self->rules);
    map_rule_t *rule = &self->rules[self->nrules++];
    *rule = (map_rule_t) { .target = cf_strdup(key), .spec = cf_strdup(value), .line = line };
    if (!strcmp(section, "fields")) {
        rule->kind = MAP_FIELD;
        if (map_parse_field(value, rule, why, sizeof why) == 0)
            map_use(self, rule->path, strlen(rule->path));
    } else if (!strcmp(section, "constants")) {
        rule->kind = MAP_CONSTANT;
        rule->constant = map_parse_constant(value, why, sizeof why);
    } else {
        rule->kind = MAP_TEMPLATE;
        const char *at = value, *path;
        size_t lit, len;
        while (map_template_next(&at, &lit, &path, &len) > 0)
            map_use(self, path, len);
    }
}

static const map_rule_t *map_rule(const cf_form_map_t *self, const char *target)
{
    for (size_t i = 0; i < self->nrules; i++)
        if (!strcmp(self->rules[i].target, target))
            return &self->rules[i];
    return NULL;
}

/*  The event types the mapping can make, as a bit mask by type; 0 after an
    error (recorded).                                                        */
static uint64_t map_types(map_load_t *l)
{
    const map_rule_t *rule = map_rule(l->map, "event_type");
    if (!rule) {
        map_fail(l, 0, "event_type", "not written: give it in [constants] (\"flow.observed\") "
                 "or in [fields] (a field's value through code NAME)");
        return 0;
    }
    if (rule->kind == MAP_CONSTANT) {
        const char *name = json_string_value(rule->constant);
        int type = name ? cf_event_type_find(name, strlen(name)) : -1;
        if (type < 0)
            map_fail(l, rule->line, "event_type", "%s is not an event type (docs/domain.md)",
                     rule->spec);
        return type < 0 ? 0 : UINT64_C(1) << type;
    }
    const map_filter_t *last = rule->nfilters ? &rule->filters[rule->nfilters - 1] : NULL;
    const map_codes_t *codes = last && last->kind == FILTER_CODE ? &l->map->codes[last->list]
                                                                 : NULL;
    if (rule->kind != MAP_FIELD || !codes) {
        map_fail(l, rule->line, "event_type", "chosen by a field, it must end with code NAME, "
                 "a list of the form's codes and the event types they stand for");
        return 0;
    }
    uint64_t types = 0;
    for (size_t i = 0; i < codes->n; i++) {
        const map_code_t *c = &codes->items[i];
        int type = cf_event_type_find(c->value, strlen(c->value));
        if (type < 0) {
            map_fail(l, rule->line, "event_type", "[codes.%s] %s = %s: not an event type",
                     codes->name, c->code, c->value);
            return 0;
        }
        types |= UINT64_C(1) << type;
    }
    return types;
}

/*  What needs the whole file: code lists exist, event_type and event_id are
    made, each field belongs to a type the mapping makes, and a constant
    type's required fields are all written.                                 */
static void map_check(map_load_t *l)
{
    cf_form_map_t *self = l->map;
    for (size_t i = 0; i < self->nrules; i++) {
        map_rule_t *rule = &self->rules[i];
        for (size_t f = 0; f < rule->nfilters; f++) {
            map_filter_t *filter = &rule->filters[f];
            const map_codes_t *codes = filter->kind == FILTER_CODE
                                     ? map_codes(self, filter->name) : NULL;
            if (filter->kind == FILTER_CODE && !codes)
                map_fail(l, rule->line, rule->target, "no code list [codes.%s]", filter->name);
            else if (codes)
                filter->list = (size_t) (codes - self->codes);
        }
    }
    const map_rule_t *id = map_rule(self, "event_id");
    if (!id)
        map_fail(l, 0, "event_id", "not written: give it in [templates] from the submission's "
                 "own id (event_id = kobo-{_uuid}), so that a resent submission is a duplicate");
    else if (id->kind == MAP_CONSTANT)
        map_fail(l, id->line, "event_id", "a constant would make every submission one event");
    uint64_t types = l->errors ? 0 : map_types(l);
    if (!types)
        return;
    uint64_t allowed = 0, written = 0;
    for (int type = 0; type < 64; type++)
        if (types & (UINT64_C(1) << type))
            allowed |= cf_event_fields_allowed((cf_event_type_t) type);
    for (size_t i = 0; i < self->nrules; i++) {
        int field = cf_event_field_find(self->rules[i].target, strlen(self->rules[i].target));
        written |= CF_FIELD_BIT(field);
        if (!(allowed & CF_FIELD_BIT(field)))
            map_fail(l, self->rules[i].line, self->rules[i].target, "not a field of the event "
                     "type%s this mapping makes", types & (types - 1) ? "s" : "");
    }
    if (types & (types - 1))
        return;             /* chosen by a field: what each needs is the broker's to check */
    int type = 0;
    while (!(types & (UINT64_C(1) << type)))
        type++;
    uint64_t missing = cf_event_fields_required((cf_event_type_t) type) & ~written;
    for (int field = 0; field < CF_F_COUNT_ALL; field++)
        if (missing & CF_FIELD_BIT(field))
            map_fail(l, map_rule(self, "event_type")->line, "event_type", "%s needs %s, which "
                     "the mapping does not write (docs/domain.md)",
                     cf_event_type_name((cf_event_type_t) type),
                     cf_event_field_name((cf_field_id_t) field));
}

cf_form_map_t *cf_form_map_load(const char *path, char *err, size_t n)
{
    assert(path && err);
    cf_config_t *config = cf_config_new(&s_rules);
    cf_form_map_t *self = cf_calloc(1, sizeof *self);
    map_load_t l = { self, path, err, n, 0 };
    if (cf_config_load(config, path) < 0) {
        l.errors = cf_config_errors(config);
        snprintf(err, n, "%s", cf_config_error(config, 0));
    } else {
        for (size_t i = 0; i < cf_config_keys(config); i++) {
            const char *section, *key;
            int line;
            const char *value = cf_config_entry(config, i, &section, &key, &line);
            map_add(&l, section, key, value, line);
        }
        if (!l.errors)
            map_check(&l);
    }
    cf_config_destroy(&config);
    if (l.errors > 1) {
        size_t len = strlen(err);
        snprintf(err + len, n - len, " (and %zu more)", l.errors - 1);
    }
    if (l.errors)
        cf_form_map_destroy(&self);
    return self;
}

void cf_form_map_destroy(cf_form_map_t **self_p)
{
    cf_form_map_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->nrules; i++) {
        free(self->rules[i].target);
        free(self->rules[i].spec);
        free(self->rules[i].path);
        json_decref(self->rules[i].constant);
    }
    for (size_t i = 0; i < self->ncodes; i++) {
        for (size_t j = 0; j < self->codes[i].n; j++) {
            free(self->codes[i].items[j].code);
            free(self->codes[i].items[j].value);
        }
        free(self->codes[i].items);
        free(self->codes[i].name);
    }
    for (size_t i = 0; i < self->nignore; i++)
        free(self->ignore[i]);
    for (size_t i = 0; i < self->nused; i++)
        free(self->used[i]);
    free(self->rules);
    free(self->codes);
    free(self->ignore);
    free(self->used);
    free(self);
    *self_p = NULL;
}

bool map_known(const cf_form_map_t *self, const char *name)
{
    for (size_t i = 0; i < self->nused; i++)
        if (!strcmp(self->used[i], name))
            return true;
    for (size_t i = 0; i < self->nignore; i++) {
        const char *p = self->ignore[i];
        size_t len = strlen(p);
        if (len && p[len - 1] == '*' ? !strncmp(p, name, len - 1) : !strcmp(p, name))
            return true;
    }
    return false;
}
