/*  cf_settings: one program's settings from flags, environment, the --config
    file and the table's defaults, in that order (see cf_settings.h). The
    rows are in cf_settings_table.c, the value checks in cf_settings_value.c;
    the file is read by cf_config with the rules of cf_settings_file.c.      */
#include "cf_settings_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_args.h"
#include "caseflow/cf_config.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT_VERSION 0x0ffe          /* getopt values of --version, --config and the settings */
#define OPT_CONFIG  0x0fff
#define OPT_BASE    0x1000

typedef struct {
    const cf_setting_t *row;
    char *flag;                 /* the flag's value, or NULL */
    const char *flag_name;      /* the spelling given: --publish or --subscribe */
    const char *value;          /* resolved; points into flag, environ, config or row */
    char *origin;               /* "--queue", "CASEFLOW_QUEUE", "FILE:LINE", "default" */
} setting_t;

struct _cf_settings_t {
    const char *section;
    setting_t *items;
    size_t count;
    char *config_flag;
    struct option *options;
    const struct option *extra;
    cf_config_t *config;
    char *usage;                /* cf_settings_usage's text */
    char err[2048];
};

cf_settings_t *cf_settings_new(const char *section)
{
    unsigned program = cf_settings_program(section);
    assert(program);
    cf_settings_t *self = cf_calloc(1, sizeof *self);
    self->items = cf_calloc(cf_settings_rows(), sizeof *self->items);
    self->section = cf_settings_program_name((size_t) __builtin_ctz(program));
    for (size_t i = 0; i < cf_settings_rows(); i++)
        if (cf_settings_row(i)->programs & program)
            self->items[self->count++].row = cf_settings_row(i);
    return self;
}

void cf_settings_destroy(cf_settings_t **self_p)
{
    cf_settings_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++) {
        free(self->items[i].flag);
        free(self->items[i].origin);
    }
    free(self->items);
    free(self->config_flag);
    free(self->options);
    free(self->usage);
    cf_config_destroy(&self->config);
    free(self);
    *self_p = NULL;
}

static setting_t *settings_item(const cf_settings_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (!strcmp(self->items[i].row->name, name))
            return &self->items[i];
    return NULL;
}

/*  The long options: each setting (and its alias), --config, --version,
    then extra.                                                              */
static struct option *settings_options(const cf_settings_t *self, const struct option *extra)
{
    size_t extras = 0;
    while (extra && extra[extras].name)
        extras++;
    struct option *options = cf_calloc(2 * self->count + extras + 3, sizeof *options);
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++) {
        const cf_setting_t *row = self->items[i].row;
        if (row->flags & CF_SETTING_ENV_ONLY)
            continue;
        int has_arg = row->type == CF_SETTING_BOOL ? no_argument : required_argument;
        options[n++] = (struct option) { row->name, has_arg, 0, OPT_BASE + (int) i };
        if (row->alias)
            options[n++] = (struct option) { row->alias, has_arg, 0, OPT_BASE + (int) i };
    }
    options[n++] = (struct option) { "config", required_argument, 0, OPT_CONFIG };
    options[n++] = (struct option) { "version", no_argument, 0, OPT_VERSION };
    for (size_t i = 0; i < extras; i++)
        options[n++] = extra[i];
    return options;             /* calloc'd: the last row is zero */
}

void cf_settings_set_flag(cf_settings_t *self, const char *name, const char *value)
{
    assert(self && name && value);
    if (!strcmp(name, "config")) {
        free(self->config_flag);
        self->config_flag = cf_strdup(value);
        return;
    }
    setting_t *item = settings_item(self, name);
    for (size_t i = 0; !item && i < self->count; i++)
        if (self->items[i].row->alias && !strcmp(self->items[i].row->alias, name))
            item = &self->items[i];
    if (!item || (item->row->flags & CF_SETTING_ENV_ONLY))
        abort();                        /* not a flag of the program: a bug */
    free(item->flag);
    item->flag = cf_strdup(value);
    item->flag_name = strcmp(name, item->row->name) ? item->row->alias : item->row->name;
}

int cf_settings_getopt(cf_settings_t *self, int argc, char **argv, const char *shortopts,
                       const struct option *extra)
{
    assert(self);
    if (!self->options) {
        self->options = settings_options(self, extra);
        self->extra = extra;
    }
    assert(self->extra == extra);
    int opt, index = -1;
    while ((opt = getopt_long(argc, argv, shortopts, self->options, &index)) != -1) {
        if (opt == OPT_CONFIG) {
            cf_settings_set_flag(self, "config", optarg);
        } else if (opt == OPT_VERSION) {
            char program[64];
            snprintf(program, sizeof program, "caseflow-%s", self->section);
            exit(cf_args_version(program));
        } else if (opt >= OPT_BASE && opt < OPT_BASE + (int) self->count) {
            cf_settings_set_flag(self, self->options[index].name, optarg ? optarg : "1");
        } else
            return opt;
        index = -1;
    }
    return -1;
}

int cf_settings_parse(cf_settings_t *self, int argc, char **argv)
{
    static const struct option help[] = { { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    opterr = 0;
    int opt = cf_settings_getopt(self, argc, argv, ":h", help);
    if (opt == 'h')
        return 1;
    if (opt != -1)
        snprintf(self->err, sizeof self->err, "%s '%s' (see --help)",
                 opt == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
    else if (optind < argc)
        snprintf(self->err, sizeof self->err, "unexpected argument '%s' (see --help)",
                 argv[optind]);
    else
        return cf_settings_resolve(self);
    return -1;
}

/*  Reads the --config or CASEFLOW_CONFIG file, if any. 0, or -1.           */
static int settings_load(cf_settings_t *self)
{
    const char *env = getenv("CASEFLOW_CONFIG");
    const char *path = self->config_flag ? self->config_flag : env && *env ? env : NULL;
    if (!path)
        return 0;
    cf_config_destroy(&self->config);   /* resolved before */
    self->config = cf_settings_config_new();
    if (cf_config_load(self->config, path) == 0)
        return 0;
    snprintf(self->err, sizeof self->err, "%s%s%s", cf_config_error_line(self->config, 0) ? ""
             : self->config_flag ? "--config: " : "CASEFLOW_CONFIG: ",
             cf_config_error(self->config, 0),
             cf_config_errors(self->config) > 1 ? " (and more: caseflow-ctl config check)" : "");
    return -1;
}

/*  The value of item from the file: its program's section, else [caseflow]. */
static const char *settings_from_file(cf_settings_t *self, setting_t *item, int *line)
{
    const char *name = item->row->name;
    const char *value = cf_config_value(self->config, self->section, name, line);
    if (!value && (item->row->flags & CF_SETTING_SHARED))
        value = cf_config_value(self->config, CF_SETTINGS_SHARED, name, line);
    return value;
}

/*  Chooses item's value and origin, and checks it. 0, or -1 with err set.  */
static int settings_choose(cf_settings_t *self, setting_t *item)
{
    const cf_setting_t *row = item->row;
    char env[64], origin[1024], why[512];
    cf_settings_env_name(row, env, sizeof env);
    const char *from_env = getenv(env);
    int line = 0;
    if (item->flag) {
        item->value = item->flag;
        snprintf(origin, sizeof origin, "--%s", item->flag_name);
    } else if (from_env && *from_env) {
        item->value = from_env;
        snprintf(origin, sizeof origin, "%s", env);
    } else if (self->config && !(row->flags & CF_SETTING_ENV_ONLY)
               && (item->value = settings_from_file(self, item, &line))) {
        snprintf(origin, sizeof origin, "%s:%d", cf_config_path(self->config), line);
    } else {
        item->value = row->def;
        snprintf(origin, sizeof origin, "default");
    }
    free(item->origin);
    item->origin = cf_strdup(origin);
    if (!item->value || cf_settings_check(row, item->value, why, sizeof why) == 0)
        return 0;
    assert(line || item->value != row->def);      /* a table default is good */
    if (line)
        snprintf(self->err, sizeof self->err, "%s: key '%s': %s", origin, row->name, why);
    else
        snprintf(self->err, sizeof self->err, "%s: %s", origin, why);
    return -1;
}

int cf_settings_resolve(cf_settings_t *self)
{
    assert(self);
    self->err[0] = '\0';
    if (settings_load(self) < 0)
        return -1;
    for (size_t i = 0; i < self->count; i++)
        if (settings_choose(self, &self->items[i]) < 0)
            return -1;
    return 0;
}

const char *cf_settings_error(const cf_settings_t *self)
{
    assert(self);
    return self->err;
}

static const setting_t *settings_get(const cf_settings_t *self, const char *name)
{
    assert(self && name);
    const setting_t *item = settings_item(self, name);
    if (!item || !item->origin)         /* not a setting of the program, or not resolved */
        abort();
    return item;
}

const char *cf_settings_text(const cf_settings_t *self, const char *name)
{
    return settings_get(self, name)->value;
}

const char *cf_settings_origin(const cf_settings_t *self, const char *name)
{
    return settings_get(self, name)->origin;
}

long long cf_settings_number(const cf_settings_t *self, const char *name)
{
    const setting_t *item = settings_get(self, name);
    assert(item->row->type == CF_SETTING_NUMBER && item->value);
    return strtoll(item->value, NULL, 10);
}

cf_log_level_t cf_settings_log_level(const cf_settings_t *self, const char *name)
{
    const setting_t *item = settings_get(self, name);
    cf_log_level_t level = CF_LOG_INFO;
    assert(item->row->type == CF_SETTING_LOG_LEVEL);
    if (item->value)
        cf_log_level_parse(item->value, &level);
    return level;
}

bool cf_settings_bool(const cf_settings_t *self, const char *name)
{
    const setting_t *item = settings_get(self, name);
    bool yes = false;
    assert(item->row->type == CF_SETTING_BOOL);
    if (item->value)
        cf_settings_yes(item->value, &yes);
    return yes;
}

int cf_settings_host_port(const cf_settings_t *self, const char *name, char *host, size_t size,
                          int *port)
{
    const setting_t *item = settings_get(self, name);
    assert(item->row->type == CF_SETTING_HOST_PORT);
    if (!item->value)
        return -1;
    const char *colon = strrchr(item->value, ':');
    snprintf(host, size, "%.*s", (int) (colon - item->value), item->value);
    *port = atoi(colon + 1);
    return 0;
}

const char *cf_settings_usage(cf_settings_t *self, const char *head, const char *tail)
{
    assert(self && head);
    free(self->usage);
    self->usage = settings_usage_text(self->section, head, tail);
    return self->usage;
}
