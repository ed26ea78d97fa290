/*  caseflow-ctl config: `config check FILE` reads a configuration file the
    way every program does at start-up (cf_config) and lists every problem,
    without starting or reaching anything: "FILE: ok (...)" on stdout and
    exit 0, or each error as "FILE:LINE: key 'x': reason" on stderr and exit
    1. `config keys` lists every setting the programs take, from the same
    table they read (cf_settings_table.c), as a cf_table like the other
    commands' tables. --json for both.                                      */
#include "ctl.h"
#include "caseflow/cf_config.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_table.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_config_usage =
    "Usage: caseflow-ctl config check FILE [--json]\n"
    "       caseflow-ctl config keys [--json]\n"
    "  check FILE            validate a configuration file (deploy/caseflow.conf):\n"
    "                        every section, key and value; exit 0 and one line\n"
    "                        when good, 1 with every error as FILE:LINE: key 'x':\n"
    "                        reason on stderr when not\n"
    "  keys                  every section and key the programs take: type,\n"
    "                        default, environment variable\n"
    "  --json                one JSON object (check) on a line, or the rows (keys)\n"
    "  --help                this text\n";

static const char *s_types[] = { "text", "number", "endpoint", "endpoints", "host:port",
                                 "log level", "path", "yes/no" };
_Static_assert(sizeof s_types / sizeof *s_types == CF_SETTING_BOOL + 1,
               "a name for every cf_setting_type_t");

static int config_check(const char *path, bool json)
{
    cf_config_t *config = cf_settings_config_new();
    int bad = cf_config_load(config, path) < 0;
    size_t errors = cf_config_errors(config);
    int rc = 0;
    if (json) {
        json_t *list = json_array();
        for (size_t i = 0; i < errors; i++)
            json_array_append_new(list, json_pack("{s:i, s:s}", "line",
                                                  cf_config_error_line(config, i), "message",
                                                  cf_config_error(config, i)));
        rc = ctl_print_json(json_pack("{s:s, s:b, s:I, s:I, s:o}", "file", path, "ok", !bad,
                                         "keys", (json_int_t) cf_config_keys(config), "sections",
                                         (json_int_t) cf_config_sections(config), "errors", list));
    } else if (!bad) {
        size_t keys = cf_config_keys(config), sections = cf_config_sections(config);
        rc = printf("%s: ok (%zu key%s in %zu section%s)\n", path, keys, keys == 1 ? "" : "s",
                    sections, sections == 1 ? "" : "s") < 0 || fflush(stdout) != 0;
    }
    for (size_t i = 0; !json && i < errors; i++)
        fprintf(stderr, "%s\n", cf_config_error(config, i));
    cf_config_destroy(&config);
    if (rc)
        fprintf(stderr, "caseflow-ctl: config: cannot write to standard output\n");
    return rc || bad ? 1 : 0;
}

/*  The columns of `config keys` as text.                                    */
enum { KEY_SECTION, KEY_NAME, KEY_TYPE, KEY_DEFAULT, KEY_ENV, KEY_COLUMNS };
static const char *s_key_columns[KEY_COLUMNS] = { "section", "key", "type", "default", "env" };

/*  Adds one accepted key to the JSON list, or else to the table; shared_too:
    a shared key given in a program's section, documented under [caseflow].
    A setting taken from the environment only (a password) is listed too, as
    env_only.                                                                */
static void config_key(json_t *list, cf_table_t *table, const char *section,
                       const cf_setting_t *row, bool shared_too)
{
    bool env_only = row->flags & CF_SETTING_ENV_ONLY;
    char env[64], range[64] = "";
    cf_settings_env_name(row, env, sizeof env);
    if (row->type == CF_SETTING_NUMBER)
        snprintf(range, sizeof range, "%lld..%lld", row->min, row->max);
    if (list) {
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s*, s:s, s:b, s:b, s:s}",
                                              "section", section, "key", row->name, "type",
                                              s_types[row->type], "range", range, "default",
                                              row->def, "env", env, "shared_too", shared_too,
                                              "env_only", env_only, "help", row->help));
        return;
    }
    char env_note[128];
    snprintf(env_note, sizeof env_note, "%s%s", env, env_only ? " (environment only)"
             : shared_too ? " (also [caseflow])" : "");
    const char *cells[KEY_COLUMNS] = { section, row->name, *range ? range : s_types[row->type],
                                       row->def ? row->def : "-", env_note };
    size_t r = cf_table_add_row(table);
    for (size_t c = 0; c < KEY_COLUMNS; c++)
        cf_table_set_text(table, r, c, cells[c]);
}

/*  Every section's keys: [caseflow]'s shared ones, then each program's.    */
static int config_keys(bool json)
{
    json_t *list = json ? json_array() : NULL;
    cf_table_t *table = json ? NULL : cf_table_new();
    for (size_t c = 0; table && c < KEY_COLUMNS; c++)
        cf_table_add_column(table, s_key_columns[c], CF_TABLE_TEXT);
    for (size_t i = 0; i < cf_settings_rows(); i++) {
        const cf_setting_t *row = cf_settings_row(i);
        if ((row->flags & CF_SETTING_SHARED) && !(row->flags & CF_SETTING_ENV_ONLY)
            && cf_settings_find(CF_SETTINGS_SHARED, row->name) == row)
            config_key(list, table, CF_SETTINGS_SHARED, row, false);
    }
    for (size_t p = 0; cf_settings_program_name(p); p++) {
        const char *section = cf_settings_program_name(p);
        for (size_t i = 0; i < cf_settings_rows(); i++) {
            const cf_setting_t *row = cf_settings_row(i);
            if (row->programs & (1u << p))
                config_key(list, table, section, row, row->flags & CF_SETTING_SHARED);
        }
    }
    if (json)
        return ctl_print_json(list);
    char *text = cf_table_render(table, CF_TABLE_PLAIN);
    int rc = fputs(text, stdout) < 0 || fflush(stdout) != 0;
    free(text);
    cf_table_destroy(&table);
    return rc;
}

int ctl_config(int argc, char **argv)
{
    static const struct option options[] = {
        { "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    bool json = false;
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(s_config_usage, stdout);
            return 0;
        }
        if (opt != 'j') {
            fprintf(stderr, "caseflow-ctl: config: unknown option '%s' (see caseflow-ctl config "
                    "--help)\n", argv[optind - 1]);
            return 2;
        }
        json = true;
    }
    const char *action = optind < argc ? argv[optind++] : "";
    const char *file = optind < argc ? argv[optind++] : NULL;
    bool check = !strcmp(action, "check");
    if ((!check && strcmp(action, "keys")) || (check && !file) || (!check && file)
        || optind < argc) {
        fprintf(stderr, "caseflow-ctl: config: give check FILE or keys (see caseflow-ctl config "
                "--help)\n");
        return 2;
    }
    return check ? config_check(file, json) : config_keys(json);
}
