/*  cf_store_pack: turns one shard's events into the argument vector of one
    FCALL of the apply script (lua/apply_*.lua): its KEYS (the fixed keys,
    one dedupe key per event, each distinct case hash once) and its ARGV
    (the msgpack blob of the events, whose payloads cf_store_payload.c
    packs, the TTLs, the times, the rules, the request's tag, the markers'
    fields, the event ids and their generation; docs/storage.md, "Script
    input"). Also the shard function and the checks the store relies on.
    No I/O.                                                                  */
#include "cf_store_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t store_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 16777619u;
    }
    return h;
}

static int store_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

unsigned cf_store_shard_of(const cf_event_t *event)
{
    assert(event);
    if (event->type == CF_EV_FLOW_OBSERVED)     /* a route's flows meet in one shard */
        return store_fnv1a(event->route[0] ? event->route : "-") % CF_STORE_SHARDS;
    if (!cf_event_is_case_event(event->type))
        return store_fnv1a(event->event_id) % CF_STORE_SHARDS;
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        int d = store_hex(event->case_id[i]);
        if (d < 0)      /* not a pseudonym: cf_store_check_events refuses it */
            return store_fnv1a(event->case_id) % CF_STORE_SHARDS;
        v = v << 4 | (uint32_t) d;
    }
    return v % CF_STORE_SHARDS;
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

/* ---- the call ----------------------------------------------------------- */

void cf_store_call_init(store_call_t *call)
{
    memset(call, 0, sizeof *call);
    msgpack_sbuffer_init(&call->blob);
    msgpack_sbuffer_init(&call->times);
    msgpack_sbuffer_init(&call->ids);
}

void cf_store_call_free(store_call_t *call)
{
    free(call->argv);
    free(call->argvlen);
    free(call->keys);
    free(call->digests);
    msgpack_sbuffer_destroy(&call->blob);
    msgpack_sbuffer_destroy(&call->times);
    msgpack_sbuffer_destroy(&call->ids);
    memset(call, 0, sizeof *call);
}

/* Room for n events: the family keys, 2n eid keys, at most n case keys. */
static void store_call_reserve(store_call_t *call, size_t n)
{
    if (n <= call->capacity)
        return;
    size_t keys = CF_KEYS_FIXED + 3 * n, args = keys + 13;   /* FCALL fn numkeys, version, 9 ARGV */
    call->argv = cf_realloc(call->argv, args * sizeof *call->argv);
    call->argvlen = cf_realloc(call->argvlen, args * sizeof *call->argvlen);
    call->keys = cf_realloc(call->keys, keys * sizeof *call->keys);
    call->digests = cf_realloc(call->digests, n * CF_KEYS_EID_DIGEST);
    call->capacity = n;
}

static void store_arg(store_call_t *call, const char *s, size_t len)
{
    call->argv[call->argc] = s;
    call->argvlen[call->argc++] = len;
}

/* Appends KEYS[nkeys + 1], of len bytes in call->keys[nkeys], to argv;
   returns its 1-based index. */
static size_t store_key(store_call_t *call, size_t nkeys, size_t len)
{
    store_arg(call, call->keys[nkeys], len);
    return nkeys + 1;
}

/* Index in KEYS of each event's case hash (0 for non-case events); each
   distinct case_id gets one key, found through a small open-address table. */
static void store_case_keys(store_call_t *call, size_t *nkeys, unsigned shard,
                            const cf_event_t *events, const size_t *idx, size_t n, size_t *case_key)
{
    size_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    size_t *table = cf_calloc(slots, sizeof *table);   /* i + 1 of an event */
    for (size_t i = 0; i < n; i++) {
        const cf_event_t *e = &events[idx[i]];
        case_key[i] = 0;
        if (!cf_event_is_case_event(e->type))
            continue;
        size_t slot = store_fnv1a(e->case_id) & (slots - 1);
        while (table[slot] && strcmp(events[idx[table[slot] - 1]].case_id, e->case_id))
            slot = (slot + 1) & (slots - 1);
        if (table[slot]) {
            case_key[i] = case_key[table[slot] - 1];
        } else {
            table[slot] = i + 1;
            size_t len = cf_keys_case(call->keys[*nkeys], CF_KEYS_MAX, shard, e->case_id,
                                      strlen(e->case_id));
            case_key[i] = *nkeys = store_key(call, *nkeys, len);
        }
    }
    free(table);
}

void cf_store_call_build(store_call_t *call, const cf_store_t *store, unsigned shard,
                         const cf_event_t *events, const size_t *idx, size_t n)
{
    assert(call && store && shard < CF_STORE_SHARDS && n > 0);
    store_call_reserve(call, n);
    call->argc = 0;
    store_arg(call, "FCALL", 5);
    store_arg(call, CF_STORE_FN_APPLY, strlen(CF_STORE_FN_APPLY));
    store_arg(call, call->numkeys, 0);          /* length set below */
    size_t nkeys = 0;
    for (int k = 0; k < CF_KEYS_FIXED; k++)
        nkeys = store_key(call, nkeys, cf_keys_fixed(call->keys[nkeys], CF_KEYS_MAX, shard, k));
    /* each event's bucket in the markers' generation and the one before
       (the script checks the generation against Redis's clock) */
    long long generation = store->eid_generation > 0 ? store->eid_generation : 0;
    for (size_t i = 0; i < n; i++) {
        unsigned bucket = cf_keys_eid_digest(events[idx[i]].event_id,
                                             call->digests + i * CF_KEYS_EID_DIGEST);
        for (long long g = generation; g >= generation - 1; g--)
            nkeys = store_key(call, nkeys, cf_keys_eid(call->keys[nkeys], CF_KEYS_MAX, shard,
                                                       g > 0 ? g : 0, bucket));
    }
    size_t *case_key = cf_malloc(n * sizeof *case_key);
    store_case_keys(call, &nkeys, shard, events, idx, n, case_key);
    call->argvlen[2] = (size_t) snprintf(call->numkeys, sizeof call->numkeys, "%zu", nkeys);
    store_arg(call, store->version, CF_STORE_VERSION_LEN);

    msgpack_sbuffer_clear(&call->blob);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &call->blob, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++)
        cf_store_pack_event(&pk, &events[idx[i]], case_key[i]);
    free(case_key);
    store_arg(call, call->blob.data, call->blob.size);
    store_arg(call, call->ttl, (size_t) snprintf(call->ttl, sizeof call->ttl, "%u",
                                                 store->eid_ttl));
    store_arg(call, call->case_ttl, (size_t) snprintf(call->case_ttl, sizeof call->case_ttl, "%u",
                                                      store->case_ttl));
    msgpack_sbuffer_clear(&call->times);
    msgpack_packer_init(&pk, &call->times, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_int64(&pk, events[idx[i]].occurred_at);
    store_arg(call, call->times.data, call->times.size);
    store_arg(call, store->rules, store->rules_len);
    store_arg(call, store->request, store->request_len);
    store_arg(call, (const char *) call->digests, n * CF_KEYS_EID_DIGEST);
    msgpack_sbuffer_clear(&call->ids);
    msgpack_packer_init(&pk, &call->ids, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++)
        cf_pack_str(&pk, events[idx[i]].event_id);
    store_arg(call, call->ids.data, call->ids.size);
    store_arg(call, call->generation, (size_t) snprintf(call->generation,
                                                        sizeof call->generation, "%lld",
                                                        generation));
}
