/*  cf_settings_file: what a --config file may hold, as the settings table
    says, given to cf_config as its rules: the sections are the programs'
    and the shared [caseflow], the keys each section's settings, the values
    good for their type. An unknown key gets the most precise reason the
    table allows (a near miss, an older flag name, a key that belongs in
    another section or only in the environment), so that a typo is found
    and mended from the message alone.                                       */
#include "caseflow/cf_settings.h"

#include <stdio.h>
#include <string.h>

static int file_section(const char *name, char *why, size_t size)
{
    if (!strcmp(name, CF_SETTINGS_SHARED) || cf_settings_program(name))
        return 0;
    snprintf(why, size, "unknown section (%s", CF_SETTINGS_SHARED);
    for (size_t i = 0; cf_settings_program_name(i); i++)
        snprintf(why + strlen(why), size - strlen(why), ", %s", cf_settings_program_name(i));
    snprintf(why + strlen(why), size - strlen(why), ")");
    return -1;
}

/*  Why key is not a key of section, as precisely as the table allows.       */
static int file_unknown(const char *section, const char *key, char *why, size_t size)
{
    char near[64];
    snprintf(near, sizeof near, "%s", key);
    for (char *c = near; *c; c++)
        *c = *c == '_' ? '-' : *c;
    if (strcmp(near, key) && cf_settings_find(section, near)) {
        snprintf(why, size, "unknown key (did you mean '%s'?)", near);
        return -1;
    }
    char owners[128] = "";
    for (size_t i = 0; i < cf_settings_rows(); i++) {
        const cf_setting_t *row = cf_settings_row(i);
        if (row->alias && !strcmp(row->alias, key)) {
            snprintf(why, size, "--%s is an older name of --%s: the key is '%s'", key, row->name,
                     row->name);
            return -1;
        }
        if (strcmp(row->name, key))
            continue;
        if (row->flags & CF_SETTING_ENV_ONLY) {
            char env[64];
            snprintf(why, size, "only from the environment (%s)",
                     cf_settings_env_name(row, env, sizeof env));
            return -1;
        }
        for (size_t p = 0; cf_settings_program_name(p); p++)
            if ((row->programs & (1u << p)) && !strstr(owners, cf_settings_program_name(p)))
                snprintf(owners + strlen(owners), sizeof owners - strlen(owners), "%s[%s]",
                         *owners ? ", " : "", cf_settings_program_name(p));
    }
    if (*owners)
        snprintf(why, size, "not a key of [%s] (it belongs in %s)", section, owners);
    else
        snprintf(why, size, "unknown key (caseflow-ctl config keys lists them)");
    return -1;
}

static int file_key(const char *section, const char *key, char *why, size_t size)
{
    if (!*section) {
        snprintf(why, size, "outside a section (put it under [%s] or a program's section)",
                 CF_SETTINGS_SHARED);
        return -1;
    }
    return cf_settings_find(section, key) ? 0 : file_unknown(section, key, why, size);
}

static int file_value(const char *section, const char *key, const char *value, char *why,
                      size_t size)
{
    return cf_settings_check(cf_settings_find(section, key), value, why, size);
}

static const cf_config_rules_t s_rules = { file_section, file_key, file_value };

cf_config_t *cf_settings_config_new(void)
{
    return cf_config_new(&s_rules);
}
