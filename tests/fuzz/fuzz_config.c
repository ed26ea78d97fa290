/*  libFuzzer harness: the configuration file parser (cf_config_load,
    libinih underneath, every value checked against the settings table).
    The input is the file (fuzz_file.h). A refused file must say why, each
    error naming the file; a good one has no error, and every key it holds
    is read back with its line, a shared one only from [caseflow].                                                        */
#include "caseflow/cf_config.h"
#include "caseflow/cf_settings.h"
#include "fuzz_file.h"

#include <string.h>

static void check_refused(const cf_config_t *config, const char *path)
{
    assert(cf_config_errors(config) > 0);
    for (size_t i = 0; i < cf_config_errors(config); i++) {
        const char *error = cf_config_error(config, i);
        assert(error && !strncmp(error, path, strlen(path)));
        assert(cf_config_error_line(config, i) >= 0);
    }
}

/* Every value of a good file is found, with its line, where the table
   says it may stand: a program's section, or [caseflow] for shared keys. */
static void check_good(const cf_config_t *config)
{
    assert(cf_config_errors(config) == 0);
    for (size_t i = 0; i < cf_settings_rows(); i++) {
        const cf_setting_t *row = cf_settings_row(i);
        int line = -1;
        for (size_t p = 0; cf_settings_program_name(p); p++)
            if ((row->programs & (1u << p))
                && cf_config_value(config, cf_settings_program_name(p), row->name, &line))
                assert(line > 0);
        if (cf_config_value(config, CF_SETTINGS_SHARED, row->name, &line))
            assert(line > 0 && (row->flags & CF_SETTING_SHARED));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write("config", data, size);
    cf_config_t *config = cf_settings_config_new();
    if (cf_config_load(config, path) < 0)
        check_refused(config, path);
    else
        check_good(config);
    cf_config_destroy(&config);
    return 0;
}
