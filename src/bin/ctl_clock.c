/*  caseflow-ctl clock: the clock the overdue alerts are measured by. By
    default it is the wall clock; an operator replaying past events (or a
    test) sets it to a time of the events' own, and back to the wall clock
    when done. The workers read it every second.                            */
#include "ctl.h"
#include "caseflow/cf_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s_clock_usage =
    "Usage: caseflow-ctl clock [show]         the clock in force\n"
    "       caseflow-ctl clock set TIME       TIME: YYYY-MM-DD[THH:MM[:SS]][Z] (UTC)\n"
    "                                         or Unix milliseconds\n"
    "       caseflow-ctl clock wall           back to the wall clock\n"
    "  --help                this text\n";

/* TIME as Unix ms; -1 when it is neither form. */
static int64_t clock_parse(const char *text)
{
    char *end;
    long long ms = strtoll(text, &end, 10);
    if (*text && !*end && ms >= 0)
        return ms;
    struct tm tm = { 0 };
    const char *forms[] = { "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%MZ",
                            "%Y-%m-%dT%H:%M", "%Y-%m-%dZ", "%Y-%m-%d" };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        memset(&tm, 0, sizeof tm);
        const char *rest = strptime(text, forms[i], &tm);
        if (rest && !*rest)
            return (int64_t) timegm(&tm) * 1000;
    }
    return -1;
}

static void clock_print(int64_t ms)
{
    if (ms < 0) {
        puts("wall clock");
        return;
    }
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char text[32];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s (%lld, set with caseflow-ctl clock set)\n", text, (long long) ms);
}

/*  The clock command, with the settings it reads. Exit status.             */
static int clock_run(int argc, char **argv, cf_settings_t *settings)
{
    int rc = ctl_options("clock", s_clock_usage, argc, argv, settings);
    if (rc >= 0)
        return rc;
    const char *action = optind < argc ? argv[optind++] : "show";
    const char *value = optind < argc ? argv[optind++] : NULL;
    int64_t ms = -1;
    bool bad = optind < argc || (strcmp(action, "show") && strcmp(action, "set")
                                 && strcmp(action, "wall"))
               || (!strcmp(action, "set") != (value != NULL));
    if (bad || (value && (ms = clock_parse(value)) < 0)) {
        fprintf(stderr, "caseflow-ctl: clock: %s (see caseflow-ctl clock --help)\n",
                value && !bad ? "TIME is not YYYY-MM-DD[THH:MM[:SS]][Z] nor Unix milliseconds"
                              : "give show, set TIME or wall");
        return 2;
    }
    char where[CF_SETTINGS_HOST_MAX + 16];
    cf_store_t *store = ctl_store_open("clock", settings, false, where, sizeof where, &rc);
    if (!store)
        return rc;
    rc = !strcmp(action, "show") ? cf_store_clock(store, &ms)
           : cf_store_set_clock(store, !strcmp(action, "set") ? ms : -1);
    if (rc < 0)
        fprintf(stderr, "caseflow-ctl: clock: redis %s: %s\n", where, cf_store_error(store));
    else
        clock_print(!strcmp(action, "wall") ? -1 : ms);
    cf_store_destroy(&store);
    return rc < 0 ? 1 : 0;
}

int ctl_clock(int argc, char **argv)
{
    cf_settings_t *settings = cf_settings_new("ctl");
    int rc = clock_run(argc, argv, settings);
    cf_settings_destroy(&settings);
    return rc;
}
