/*  caseflow-ctl functions: the function library "caseflow" in Redis (Redis 7
    Functions), which the workers and the broker call with FCALL. Their Redis
    users may not load scripts (docs/security.md), so the Redis admin loads
    it, at the first start and after each upgrade of caseflow (load, with
    the admin's credentials), and anyone may ask whether Redis holds the
    library this build needs (status). docs/operations.md, "The function
    library".                                                                */
#include "ctl.h"
#include "caseflow/cf_store.h"

#include <stdio.h>
#include <string.h>

static const char *s_functions_usage =
    "Usage: caseflow-ctl functions load     load (or replace) the library from the scripts\n"
    "                                       directory, as the Redis admin (FUNCTION LOAD)\n"
    "       caseflow-ctl functions [status] the version Redis holds and the one this\n"
    "                                       build needs; exit 1 when they differ\n"
    "  --help                this text\n";

/* Loads the library; prints its version and the persistence it recorded. */
static int functions_load(cf_store_t *store, const char *where)
{
    char version[CF_STORE_VERSION_LEN + 1];
    if (cf_store_load_library(store, version) < 0) {
        fprintf(stderr, "caseflow-ctl: functions load: redis %s: %s\n", where,
                cf_store_error(store));
        return 1;
    }
    printf("loaded function library " CF_STORE_LIBRARY " %s\n", version);
    return 0;
}

/* Compares the library Redis holds with the one the scripts make. */
static int functions_status(const char *where, cf_store_t *store)
{
    char want[CF_STORE_VERSION_LEN + 1];
    cf_store_library_info_t info;
    if (cf_store_library_version(store, want) < 0 || cf_store_library_held(store, &info) < 0) {
        fprintf(stderr, "caseflow-ctl: functions: redis %s: %s\n", where, cf_store_error(store));
        return 1;
    }
    printf("redis holds:     %s\nthis build needs: %s\n",
           info.version[0] ? info.version : "(none)", want);
    if (info.version[0])
        printf("recorded at load: appendfsync %s, save '%s'\n",
               info.appendfsync[0] ? info.appendfsync : "unknown", info.save);
    if (strcmp(info.version, want) == 0)
        return 0;
    fprintf(stderr, "caseflow-ctl: functions: not the library this build needs: load it with "
            "caseflow-ctl functions load, as the Redis admin\n");
    return 1;
}

static int functions_run(int argc, char **argv, cf_settings_t *settings)
{
    int rc = ctl_options("functions", s_functions_usage, argc, argv, settings);
    if (rc >= 0)
        return rc;
    const char *action = optind < argc ? argv[optind++] : "status";
    if (optind < argc || (strcmp(action, "load") && strcmp(action, "status"))) {
        fprintf(stderr, "caseflow-ctl: functions: give load or status (see caseflow-ctl "
                "functions --help)\n");
        return 2;
    }
    char where[CF_SETTINGS_HOST_MAX + 16];
    cf_store_t *store = ctl_store_open("functions", settings, true, where, sizeof where, &rc);
    if (!store)
        return rc;
    rc = !strcmp(action, "load") ? functions_load(store, where)
                                 : functions_status(where, store);
    cf_store_destroy(&store);
    return rc;
}

int ctl_functions(int argc, char **argv)
{
    cf_settings_t *settings = cf_settings_new("ctl");
    int rc = functions_run(argc, argv, settings);
    cf_settings_destroy(&settings);
    return rc;
}
