/*  caseflow-ctl alerts: how caseflow-alert's sinks fare, from what each
    sink saves in Redis after every try (cf:alert:sinks names them,
    cf:alert:sink:<name> holds each one's counts): delivered, failed tries,
    retries, pending, lost, given up, lag and the last error. Read-only:
    the ctl user's rights suffice.                                           */
#include "ctl.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_redis_cluster.h"
#include "caseflow/cf_table.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s_alerts_usage =
    "Usage: caseflow-ctl alerts [options]\n"
    "  caseflow-alert's sinks: delivered, failed tries, retries, pending, lost,\n"
    "  given up (moved to cf:alert:dead:<sink>), lag (seconds), when the last\n"
    "  delivery was, and the last error\n"
    "  --json, --csv         machine-readable output\n"
    "  --help                this text\n";

/*  The table's columns, in order: the field of cf:alert:sink:<name> each
    shows (NULL: the sink's name), and its type.                            */
static const struct {
    const char *column, *field;
    cf_table_type_t type;
} s_columns[] = {
    { "sink", NULL, CF_TABLE_TEXT }, { "type", "type", CF_TABLE_TEXT },
    { "delivered", "delivered", CF_TABLE_INT }, { "failed", "failed", CF_TABLE_INT },
    { "retries", "retries", CF_TABLE_INT }, { "pending", "pending", CF_TABLE_INT },
    { "lost", "lost", CF_TABLE_INT }, { "given_up", "given_up", CF_TABLE_INT },
    { "lag_s", "lag_ms", CF_TABLE_INT }, { "last_delivered", "last_delivered_at", CF_TABLE_TEXT },
    { "last_error", "last_error", CF_TABLE_TEXT }, { "last_error_at", "last_error_at",
                                                      CF_TABLE_TEXT } };
#define S_COLUMNS (sizeof s_columns / sizeof s_columns[0])

static const char *alerts_field(const redisReply *hash, const char *field)
{
    for (size_t i = 0; i + 1 < hash->elements; i += 2)
        if (!strcmp(hash->element[i]->str, field))
            return hash->element[i + 1]->str;
    return NULL;
}

/*  Unix ms as UTC ISO 8601, "" for 0 or none.                              */
static void alerts_time(const char *ms, char *out, size_t size)
{
    long long value = ms ? strtoll(ms, NULL, 10) : 0;
    *out = '\0';
    if (value <= 0)
        return;
    time_t t = (time_t) (value / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void alerts_row(cf_table_t *table, const char *name, const redisReply *hash)
{
    size_t row = cf_table_add_row(table);
    for (size_t c = 0; c < S_COLUMNS; c++) {
        const char *value = s_columns[c].field ? alerts_field(hash, s_columns[c].field) : name;
        char when[32];
        if (s_columns[c].type == CF_TABLE_INT) {
            long long n = value ? strtoll(value, NULL, 10) : 0;
            cf_table_set_int(table, row, c, !strcmp(s_columns[c].column, "lag_s") ? n / 1000 : n);
        } else if (strstr(s_columns[c].field ? s_columns[c].field : "", "_at")) {
            alerts_time(value, when, sizeof when);
            cf_table_set_text(table, row, c, when);
        } else
            cf_table_set_text(table, row, c, value ? value : "");
    }
}

/*  The table of every sink cf:alert:sinks names (their hashes read in one
    pipelined round, each routed by its key on a cluster). NULL with err
    set.                                                                    */
static cf_table_t *alerts_read(cf_redis_cluster_t *c, char *err, size_t n)
{
    redisReply *names = cf_redis_cluster_command(c, CF_KEYS_ALERT_SINKS, "HGETALL %s",
                                                 CF_KEYS_ALERT_SINKS);
    if (!names || names->type != REDIS_REPLY_ARRAY) {
        snprintf(err, n, "%s", !names ? cf_redis_cluster_error(c)
                 : names->type == REDIS_REPLY_ERROR ? names->str : "unexpected reply");
        if (names)
            freeReplyObject(names);
        return NULL;
    }
    cf_table_t *table = cf_table_new();
    for (size_t col = 0; col < S_COLUMNS; col++)
        cf_table_add_column(table, s_columns[col].column, s_columns[col].type);
    for (size_t i = 0; i + 1 < names->elements; i += 2) {
        char key[CF_KEYS_MAX];
        cf_keys_alert_sink(key, sizeof key, names->element[i]->str);
        cf_redis_cluster_append(c, key, "HGETALL %s", key);
    }
    bool failed = false;
    for (size_t i = 0; i + 1 < names->elements && !failed; i += 2) {
        redisReply *hash = NULL;
        if (cf_redis_cluster_get_reply(c, &hash) < 0 || hash->type != REDIS_REPLY_ARRAY) {
            snprintf(err, n, "%s", !hash ? cf_redis_cluster_error(c)
                     : hash->type == REDIS_REPLY_ERROR ? hash->str : "unexpected reply");
            failed = true;
        } else {
            alerts_row(table, names->element[i]->str, hash);
        }
        if (hash)
            freeReplyObject(hash);
    }
    if (failed) {
        freeReplyObject(names);
        cf_table_destroy(&table);
        return NULL;            /* the context goes with what is left of the batch */
    }
    freeReplyObject(names);
    cf_table_key_t by_name = { 0, NULL };
    cf_table_sort(table, &by_name, 1);
    return table;
}

/*  The options; -1 when the command goes on, else the exit status.        */
static int alerts_options(int argc, char **argv, cf_settings_t *settings,
                          cf_table_format_t *format)
{
    static const struct option options[] = {
        { "json", no_argument, 0, 'j' }, { "csv", no_argument, 0, 'c' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = cf_settings_getopt(settings, argc, argv, ":h", options)) != -1) {
        if (opt == 'h') {
            ctl_help(s_alerts_usage, settings);
            return 0;
        }
        if ((opt == 'j' || opt == 'c') && *format == CF_TABLE_PLAIN) {
            *format = opt == 'j' ? CF_TABLE_JSON : CF_TABLE_CSV;
            continue;
        }
        fprintf(stderr, "caseflow-ctl: alerts: %s '%s' (see caseflow-ctl alerts --help)\n",
                opt == 'j' || opt == 'c' ? "give one of --json and --csv, not" :
                opt == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "caseflow-ctl: alerts: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}

static int alerts_run(int argc, char **argv, cf_settings_t *settings)
{
    cf_table_format_t format = CF_TABLE_PLAIN;
    int rc = alerts_options(argc, argv, settings, &format);
    if (rc >= 0)
        return rc;
    char host[CF_SETTINGS_HOST_MAX], err[2048];
    int port;
    if (ctl_settings_redis(settings, host, sizeof host, &port, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-ctl: alerts: %s\n", err);
        return 2;
    }
    cf_redis_auth_t *auth = cf_redis_auth_from_env(cf_settings_text(settings, "redis-user"),
                                                   cf_settings_text(settings, "redis-password-file"),
                                                   err, sizeof err);
    if (!auth) {
        fprintf(stderr, "caseflow-ctl: alerts: %s\n", err);
        return 1;
    }
    cf_redis_cluster_t *c = cf_redis_cluster_new(host, port, auth, CF_REDIS_MODE_AUTO, 5000);
    cf_table_t *table = NULL;
    bool connected = cf_redis_cluster_connect(c) == 0;
    if (!connected)         /* the message names the node */
        fprintf(stderr, "caseflow-ctl: alerts: %s\n", cf_redis_cluster_error(c));
    else
        table = alerts_read(c, err, sizeof err);
    cf_redis_cluster_destroy(&c);
    cf_redis_auth_destroy(&auth);
    if (!table) {
        if (connected)
            fprintf(stderr, "caseflow-ctl: alerts: redis %s:%d: %s\n", host, port, err);
        return 1;
    }
    char *text = cf_table_render(table, format);
    rc = fputs(text, stdout) < 0 || fflush(stdout) != 0;
    if (rc)
        fprintf(stderr, "caseflow-ctl: alerts: cannot write to standard output\n");
    free(text);
    cf_table_destroy(&table);
    return rc;
}

int ctl_alerts(int argc, char **argv)
{
    cf_settings_t *settings = cf_settings_new("ctl");
    int rc = alerts_run(argc, argv, settings);
    cf_settings_destroy(&settings);
    return rc;
}
