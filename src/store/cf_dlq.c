/*  cf_dlq: listing and replaying dead letters; see cf_dlq.h and
    docs/reliability.md.                                                     */
#include "caseflow/cf_dlq.h"
#include "caseflow/cf_event.h"

#include <assert.h>
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

cf_table_t *cf_dlq_table(cf_store_t *store, char *err, size_t err_size)
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

typedef struct {
    cf_store_t *store;
    cf_table_t *table;
} dlq_replay_t;

/* Applies one letter; never stops the walk: each entry has its own outcome. */
static int dlq_replay_one(void *arg, const cf_dead_letter_t *letter)
{
    dlq_replay_t *r = arg;
    size_t row = cf_table_add_row(r->table);
    cf_table_set_text(r->table, row, 0, letter->id);
    cf_table_set_text(r->table, row, 1, letter->event_id);
    cf_event_t event;
    char why[CF_REASON_MAX + 64];
    cf_ack_status_t status;
    if (cf_event_decode(&event, letter->payload, letter->payload_len, why, sizeof why) < 0) {
        cf_table_set_text(r->table, row, 2, "failed");
        cf_table_set_text(r->table, row, 3, why);
        return 0;
    }
    /* the dead letter's case_ref is the pseudonym already (cf_store_apply
       refuses anything that is not 32 hex digits) */
    if (cf_event_is_case_event(event.type) && strlen(event.case_ref) != CF_PSEUDONYM_LEN) {
        cf_table_set_text(r->table, row, 2, "failed");
        cf_table_set_text(r->table, row, 3, "case_ref: not a pseudonym, not a dead letter's");
        return 0;
    }
    memcpy(event.case_id, event.case_ref, sizeof event.case_id - 1);
    event.case_id[sizeof event.case_id - 1] = '\0';
    memset(event.case_ref, 0, sizeof event.case_ref);
    if (cf_store_apply(r->store, &event, 1, &status) < 0) {
        cf_table_set_text(r->table, row, 2, "failed");
        cf_table_set_text(r->table, row, 3, cf_store_error(r->store));
        return 0;
    }
    cf_table_set_text(r->table, row, 2, cf_ack_status_name(status));
    if (cf_store_dlq_delete(r->store, letter->id, letter->event_id) < 0)
        cf_table_set_text(r->table, row, 3, cf_store_error(r->store));
    return 0;
}

cf_table_t *cf_dlq_replay(cf_store_t *store, const char *id, char *err, size_t err_size)
{
    assert(store && err);
    cf_table_t *table = cf_table_new();
    const char *columns[] = { "id", "event_id", "outcome", "error" };
    for (size_t i = 0; i < 4; i++)
        cf_table_add_column(table, columns[i], CF_TABLE_TEXT);
    dlq_replay_t r = { store, table };
    if (cf_store_dlq_read(store, id ? id : "-", id ? id : "+", dlq_replay_one, &r) < 0) {
        snprintf(err, err_size, "%s", cf_store_error(store));
        cf_table_destroy(&table);
        return NULL;
    }
    if (id && cf_table_rows(table) == 0) {
        snprintf(err, err_size, "no dead letter with id '%s' (see caseflow-ctl dlq list)", id);
        cf_table_destroy(&table);
    }
    return table;
}
