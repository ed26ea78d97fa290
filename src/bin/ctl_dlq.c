/*  caseflow-ctl dlq: the dead-letter stream. `dlq list` shows what is in it,
    `dlq replay ID` (or --all) applies entries again once their cause is
    fixed. The tables are cf_dlq_table's (caseflow-web's /api/v1/dlq serves
    the same); this file parses options and renders them. A replay first
    asks Redis whether its user may remove a dead letter (XDEL of an id no
    entry has: a no-op), so that a read-only user hears which user can
    replay rather than a refusal deep inside the store. A replay in which an
    entry failed again exits 1, so that a script sees it.                   */
#include "ctl.h"
#include "caseflow/cf_dlq_table.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_redis_cluster.h"
#include "caseflow/cf_store.h"
#include "caseflow/cf_table.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_dlq_usage =
    "Usage: caseflow-ctl dlq list [options]\n"
    "       caseflow-ctl dlq replay ID|--all [options]\n"
    "  list                  the dead letters: id, time, event_id, type, tries, error\n"
    "  replay ID             apply entry ID again; it leaves the stream once Redis took it\n"
    "  --all                 replay: every entry\n"
    "  --json, --csv         machine-readable output\n"
    "  --help                this text\n"
    "Exit status: 0 when done (replay: every entry taken, accepted or duplicate);\n"
    "1 when Redis cannot be read, no entry has ID, the Redis user may not replay,\n"
    "or an entry failed again (the table shows it, and it stays in the stream);\n"
    "2 on a usage error.\n";

typedef struct {
    const char *action, *id;
    bool all, help;
    cf_table_format_t format;
} dlq_args_t;

static int dlq_parse(int argc, char **argv, cf_settings_t *settings, dlq_args_t *a, char *err,
                     size_t n)
{
    static const struct option options[] = {
        { "all", no_argument, 0, 'a' },         { "json", no_argument, 0, 'j' },
        { "csv", no_argument, 0, 'c' },         { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 } };
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = cf_settings_getopt(settings, argc, argv, ":h", options)) != -1) {
        switch (opt) {
        case 'a': a->all = true; break;
        case 'j': case 'c':
            if (a->format != CF_TABLE_PLAIN) {
                snprintf(err, n, "--json and --csv: give one of them");
                return -1;
            }
            a->format = opt == 'j' ? CF_TABLE_JSON : CF_TABLE_CSV;
            break;
        case 'h': a->help = true; break;
        case ':': snprintf(err, n, "%s needs a value", argv[optind - 1]); return -1;
        default:
            snprintf(err, n, "unknown option '%s' (see caseflow-ctl dlq --help)", argv[optind - 1]);
            return -1;
        }
    }
    a->action = optind < argc ? argv[optind++] : NULL;
    a->id = optind < argc ? argv[optind++] : NULL;
    if (optind < argc) {
        snprintf(err, n, "unexpected argument '%s' (see caseflow-ctl dlq --help)", argv[optind]);
        return -1;
    }
    return 0;
}

/* The usage problem of a, or NULL. */
static const char *dlq_check(const dlq_args_t *a)
{
    if (!a->action)
        return "which action? list or replay (see caseflow-ctl dlq --help)";
    if (strcmp(a->action, "list") && strcmp(a->action, "replay"))
        return "unknown action (list or replay; see caseflow-ctl dlq --help)";
    if (!strcmp(a->action, "list") && (a->id || a->all))
        return "list takes no ID and no --all";
    if (!strcmp(a->action, "replay") && !a->id == !a->all)
        return "replay: give one entry ID or --all";
    return NULL;
}

static int dlq_print(cf_table_t *table, cf_table_format_t format)
{
    char *text = cf_table_render(table, format);
    int rc = fputs(text, stdout) < 0 || fflush(stdout) ? 1 : 0;
    free(text);
    return rc;
}

/*  How many rows of a replay's table failed again (outcome "failed").      */
static size_t dlq_failed(const cf_table_t *table)
{
    size_t failed = 0;
    for (size_t row = 0; row < cf_table_rows(table); row++) {
        const char *outcome = cf_table_text(table, row, 2);
        failed += outcome && !strcmp(outcome, "failed");
    }
    return failed;
}

/*  Whether the settings' Redis user may replay: -1 with the reason in err
    when Redis refuses it the removal of a dead letter (NOPERM); 0 when it
    may, or when Redis cannot be asked (the replay then says why).          */
static int dlq_may_replay(cf_settings_t *settings, const char *host, int port, char *err,
                          size_t n)
{
    cf_redis_auth_t *auth = cf_redis_auth_from_env(cf_settings_text(settings, "redis-user"),
                                                   cf_settings_text(settings, "redis-password-file"),
                                                   err, n);
    cf_redis_cluster_t *c = auth ? cf_redis_cluster_new(host, port, auth, CF_REDIS_MODE_AUTO,
                                                        5000) : NULL;
    redisReply *reply = c ? cf_redis_cluster_command(c, CF_KEYS_DLQ_STREAM, "XDEL %s 0-1",
                                                     CF_KEYS_DLQ_STREAM) : NULL;
    int rc = 0;
    if (reply && reply->type == REDIS_REPLY_ERROR && !strncmp(reply->str, "NOPERM", 6)) {
        snprintf(err, n, "the Redis user %s may not write: a replay needs one that may, such as "
                 "caseflow-admin (--redis-user caseflow-admin --redis-password-file FILE, or "
                 "CASEFLOW_REDIS_USER and CASEFLOW_REDIS_PASSWORD_FILE; scripts/up exports "
                 "CASEFLOW_REDIS_ADMIN_USER and CASEFLOW_REDIS_ADMIN_PASSWORD_FILE). Redis "
                 "said: %.200s", cf_redis_auth_user(auth), reply->str);
        rc = -1;
    }
    freeReplyObject(reply);
    cf_redis_cluster_destroy(&c);
    cf_redis_auth_destroy(&auth);
    return rc;
}

/*  The dlq command, with the settings it reads. Exit status.               */
static int dlq_run(int argc, char **argv, cf_settings_t *settings)
{
    dlq_args_t a = { 0 };
    char err[2048], host[CF_SETTINGS_HOST_MAX];
    int port;
    const char *problem = NULL;
    if (dlq_parse(argc, argv, settings, &a, err, sizeof err) < 0)
        problem = err;
    else if (a.help) {
        ctl_help(s_dlq_usage, settings);
        return 0;
    } else if ((problem = dlq_check(&a)) == NULL
               && ctl_settings_redis(settings, host, sizeof host, &port, err, sizeof err) < 0)
        problem = err;
    if (problem) {
        fprintf(stderr, "caseflow-ctl: dlq: %s\n", problem);
        return 2;
    }
    bool replay = !strcmp(a.action, "replay");
    if (replay && dlq_may_replay(settings, host, port, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-ctl: dlq replay: %s\n", err);
        return 1;
    }
    const char *scripts = cf_settings_text(settings, "scripts");
    scripts = scripts ? scripts : cf_store_default_scripts();
    cf_store_t *store = ctl_store_new(settings, host, port, replay ? scripts : NULL, err, sizeof err);
    cf_table_t *table = NULL;
    if (!store)
        ;                           /* err says why */
    else if (cf_store_connect(store) < 0)
        snprintf(err, sizeof err, "redis %s:%d: %s", host, port, cf_store_error(store));
    else
        table = replay ? cf_dlq_table_replay(store, a.id, NULL, err, sizeof err)
                       : cf_dlq_table_list(store, err, sizeof err);
    int rc = table ? dlq_print(table, a.format) : 1;
    if (!table)
        fprintf(stderr, "caseflow-ctl: dlq %s: %s\n", a.action, err);
    size_t failed = table && replay ? dlq_failed(table) : 0;
    if (failed) {
        fprintf(stderr, "caseflow-ctl: dlq replay: %zu of %zu entries failed again; they stay in "
                "the stream\n", failed, cf_table_rows(table));
        rc = 1;
    }
    cf_table_destroy(&table);
    cf_store_destroy(&store);
    return rc;
}

int ctl_dlq(int argc, char **argv)
{
    cf_settings_t *settings = cf_settings_new("ctl");
    int rc = dlq_run(argc, argv, settings);
    cf_settings_destroy(&settings);
    return rc;
}
