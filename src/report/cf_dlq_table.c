/*  cf_dlq_table: the dead letters and the outcomes of their replay as
    cf_tables; see cf_dlq_table.h. The replay itself is cf_dlq's, the
    reading cf_store_dlq_read's; this file chooses the columns.             */
#include "caseflow/cf_dlq_table.h"
#include "caseflow/cf_dlq.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void dlq_time(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int dlq_list_row(void *arg, const cf_dead_letter_t *letter)
{
    cf_table_t *table = arg;
    size_t row = cf_table_add_row(table);
    char when[32];
    dlq_time(letter->time_ms, when, sizeof when);
    cf_table_set_text(table, row, 0, letter->id);
    cf_table_set_text(table, row, 1, when);
    cf_table_set_text(table, row, 2, letter->event_id);
    cf_table_set_text(table, row, 3, letter->type);
    cf_table_set_int(table, row, 4, letter->tries);
    cf_table_set_text(table, row, 5, letter->error);
    return 0;
}

cf_table_t *cf_dlq_table_list(cf_store_t *store, char *err, size_t err_size)
{
    assert(store && err);
    cf_table_t *table = cf_table_new();
    const char *text[] = { "id", "time", "event_id", "type" };
    for (size_t i = 0; i < 4; i++)
        cf_table_add_column(table, text[i], CF_TABLE_TEXT);
    cf_table_add_column(table, "tries", CF_TABLE_INT);
    cf_table_add_column(table, "error", CF_TABLE_TEXT);
    if (cf_store_dlq_read(store, "-", "+", dlq_list_row, table) < 0) {
        snprintf(err, err_size, "%s", cf_store_error(store));
        cf_table_destroy(&table);
    }
    return table;
}

static void dlq_replay_row(void *arg, const cf_dlq_outcome_t *outcome)
{
    cf_table_t *table = arg;
    size_t row = cf_table_add_row(table);
    cf_table_set_text(table, row, 0, outcome->id);
    cf_table_set_text(table, row, 1, outcome->event_id);
    cf_table_set_text(table, row, 2, outcome->outcome);
    cf_table_set_text(table, row, 3, outcome->error);
}

cf_table_t *cf_dlq_table_replay(cf_store_t *store, const char *id, bool *missing, char *err,
                                size_t err_size)
{
    assert(store && err);
    cf_table_t *table = cf_table_new();
    const char *columns[] = { "id", "event_id", "outcome", "error" };
    for (size_t i = 0; i < 4; i++)
        cf_table_add_column(table, columns[i], CF_TABLE_TEXT);
    bool none = false;
    if (cf_dlq_replay(store, id, dlq_replay_row, table, err, err_size) < 0) {
        /* cf_dlq_replay fails without a store error only when the stream
           was read and held no such entry */
        none = id && cf_store_error_code(store) == CF_STORE_OK;
        cf_table_destroy(&table);
    }
    if (missing)
        *missing = none;
    return table;
}

bool cf_dlq_table_id_valid(const char *id)
{
    assert(id);
    const char *dash = strchr(id, '-');
    if (!dash || dash == id || !dash[1] || strlen(id) >= CF_DLQ_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (p != dash && !isdigit((unsigned char) *p))
            return false;
    return true;
}
