/*  cf_dlq: replaying dead letters; see cf_dlq.h and docs/reliability.md.   */
#include "caseflow/cf_dlq.h"
#include "caseflow/cf_event.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    cf_store_t *store;
    cf_dlq_outcome_fn *fn;
    void *arg;
    size_t seen;
} dlq_replay_t;

/* Hands one entry's outcome to the caller. */
static int dlq_report(dlq_replay_t *r, const cf_dead_letter_t *letter, const char *outcome,
                      const char *error)
{
    r->fn(r->arg, &(cf_dlq_outcome_t) { letter->id, letter->event_id, outcome, error });
    return 0;
}

/* Applies one letter; never stops the walk: each entry has its own outcome. */
static int dlq_replay_one(void *arg, const cf_dead_letter_t *letter)
{
    dlq_replay_t *r = arg;
    r->seen++;
    cf_event_t event;
    char why[CF_REASON_MAX + 64];
    cf_ack_status_t status;
    if (cf_event_decode(&event, letter->payload, letter->payload_len, why, sizeof why) < 0)
        return dlq_report(r, letter, "failed", why);
    /* the dead letter's case_ref is the pseudonym already (cf_store_apply
       refuses anything that is not 32 hex digits) */
    if (cf_event_is_case_event(event.type) && strlen(event.case_ref) != CF_PSEUDONYM_LEN)
        return dlq_report(r, letter, "failed", "case_ref: not a pseudonym, not a dead letter's");
    memcpy(event.case_id, event.case_ref, sizeof event.case_id - 1);
    event.case_id[sizeof event.case_id - 1] = '\0';
    memset(event.case_ref, 0, sizeof event.case_ref);
    if (letter->has_shard_hash)     /* the decode hashed the pseudonym, not the raw key */
        event.shard_hash = letter->shard_hash;
    if (cf_store_apply(r->store, &event, 1, &status) < 0)
        return dlq_report(r, letter, "failed", cf_store_error(r->store));
    bool kept = cf_store_dlq_delete(r->store, letter->id, letter->event_id) < 0;
    return dlq_report(r, letter, cf_ack_status_name(status),
                      kept ? cf_store_error(r->store) : "");
}

int cf_dlq_replay(cf_store_t *store, const char *id, cf_dlq_outcome_fn *fn, void *arg,
                  char *err, size_t err_size)
{
    assert(store && fn && err);
    dlq_replay_t r = { store, fn, arg, 0 };
    if (cf_store_dlq_read(store, id ? id : "-", id ? id : "+", dlq_replay_one, &r) < 0) {
        snprintf(err, err_size, "%s", cf_store_error(store));
        return -1;
    }
    if (id && r.seen == 0) {
        snprintf(err, err_size, "no dead letter with id '%s' (see caseflow-ctl dlq list)", id);
        return -1;
    }
    return 0;
}
