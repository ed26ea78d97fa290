/*  cf_store_events: what the store asks of an event before it applies it:
    its shard (cf_store_shard_of), its dedupe marker (cf_store_eid_digest,
    and a batch's at once: cf_store_eid_digests) and the checks it relies on
    (cf_store_check_events). No I/O.                                        */
#include "cf_store_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_hash.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int store_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

unsigned cf_store_shard_of(const cf_store_t *self, const cf_event_t *event)
{
    assert(self && event);
    return cf_shard_pick(event->shard_hash, self->shards);
}

unsigned cf_store_eid_digest(const cf_event_t *event, unsigned char digest[CF_KEYS_EID_DIGEST])
{
    assert(event && digest);
    return cf_keys_eid_digest(cf_event_is_case_event(event->type) ? event->case_id : NULL,
                              event->event_id, digest);
}

void cf_store_eid_digests(cf_store_t *self, const cf_event_t *events, size_t count)
{
    cf_store_batch_t *batch = self->batch;
    batch->case_slots = cf_table_clear(batch->case_slots, &batch->case_slots_n, count,
                                       sizeof *batch->case_slots);
    size_t mask = batch->case_slots_n - 1;
    for (size_t i = 0; i < count; i++) {
        const cf_event_t *e = &events[i];
        if (!cf_event_is_case_event(e->type) || !e->case_id[0]) {
            batch->buckets[i] = cf_keys_eid_digest(NULL, e->event_id, batch->digests[i]);
            continue;
        }
        cf_keys_eid_case_digest(e->case_id, e->event_id, batch->digests[i]);
        size_t at = cf_hash(e->case_id, strlen(e->case_id), 0) & mask;
        for (; batch->case_slots[at]; at = (at + 1) & mask)
            if (strcmp(events[batch->case_slots[at] - 1].case_id, e->case_id) == 0)
                break;
        if (batch->case_slots[at])
            batch->buckets[i] = batch->buckets[batch->case_slots[at] - 1];
        else {
            batch->buckets[i] = cf_keys_eid_case_bucket(e->case_id);
            batch->case_slots[at] = (uint32_t) i + 1;
        }
    }
}

/* ---- checks ------------------------------------------------------------- */

static const char *store_event_problem(const cf_event_t *e)
{
    size_t id_len = strnlen(e->event_id, sizeof e->event_id);
    if ((unsigned) e->type >= CF_EV_TYPE_COUNT)
        return "unknown type";
    if (id_len == 0 || id_len > CF_EVENT_ID_MAX)
        return "event_id is empty or unterminated";
    if (!cf_event_is_case_event(e->type))
        return NULL;
    for (int i = 0; i < CF_PSEUDONYM_LEN; i++)
        if (store_hex(e->case_id[i]) < 0)
            return "case_id is not a pseudonym (32 lower-case hex chars)";
    if (e->case_id[CF_PSEUDONYM_LEN] != '\0')
        return "case_id is not a pseudonym (32 lower-case hex chars)";
    if (e->type != CF_EV_CASE_REGISTERED)
        return NULL;
    if (!e->programme[0] || strchr(e->programme, '|') || strchr(e->route, '|'))
        return "programme is empty, or programme or route holds '|'";
    if (e->person_count < 1 || e->person_count > CF_PERSONS_MAX)
        return "person_count is not 1..64";
    for (unsigned i = 0; i < e->person_count; i++)
        if (cf_vocab_sex_find(&e->persons[i].sex, 1) < 0
            || e->persons[i].age_band >= CF_AGE_BANDS)
            return "a person has an unknown sex or age band";
    return NULL;
}

int cf_store_check_events(const cf_event_t *events, size_t count, char *err, size_t err_size)
{
    for (size_t i = 0; i < count; i++) {
        const char *problem = store_event_problem(&events[i]);
        if (problem) {
            snprintf(err, err_size, "event %zu: %s", i, problem);
            return -1;
        }
    }
    return 0;
}
