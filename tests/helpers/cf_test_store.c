/*  Helpers for tests of cf_store; see cf_test_store.h. Test support code: it
    fails the running cmocka test on unexpected replies.                   */
#include "cf_test_store.h"
#include "caseflow/cf_fold.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_shard.h"
#include "cf_test_notes.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *keep(fixture_t *f, char *s)
{
    f->garbage = realloc(f->garbage, (f->garbage_count + 1) * sizeof *f->garbage);
    assert_non_null(f->garbage);
    f->garbage[f->garbage_count++] = s;
    return s;
}

/* A growing string. */
typedef struct { char *s; size_t len, cap; } text_t;

static void text_add(text_t *t, const char *s, size_t len)
{
    if (t->len + len + 1 > t->cap) {
        t->cap = (t->len + len + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    memcpy(t->s + t->len, s, len);
    t->s[t->len += len] = '\0';
}

static void text_str(text_t *t, const char *s)
{
    text_add(t, s, strlen(s));
}

static const char *text_keep(fixture_t *f, text_t *t)
{
    text_add(t, "", 0);
    return keep(f, t->s);
}

void cf_test_notes_clear(fixture_t *f)
{
    for (size_t i = 0; i < f->garbage_count; i++)
        free(f->garbage[i]);
    free(f->garbage);
    free(f->notes);
    f->garbage = NULL;
    f->notes = NULL;
    f->garbage_count = f->note_count = 0;
}

/* ---- fixture ---------------------------------------------------------- */

int cf_test_store_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    f->redis = cf_test_redis_start();
    if (!f->redis)
        return -1;
    f->script_dir = CF_SOURCE_DIR "/lua";
    f->store = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), f->script_dir);
    cf_store_set_shards(f->store, CF_SHARD_DEFAULT, true);     /* as a worker's */
    f->raw = redisConnect("127.0.0.1", cf_test_redis_port(f->redis));
    if (cf_store_connect(f->store) < 0 || !f->raw || f->raw->err)
        return -1;
    return 0;
}

int cf_test_store_teardown(void **state)
{
    fixture_t *f = *state;
    cf_store_destroy(&f->store);
    if (f->raw)
        redisFree(f->raw);
    cf_test_redis_stop(&f->redis);
    cf_test_notes_clear(f);
    free(f->cursor);
    free(f);
    return 0;
}

void cf_test_default_rules(cf_store_t *store)
{
    cf_rules_t *rules = cf_rules_new();
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(rules, &packed);
    cf_store_set_rules(store, packed.data, packed.size);
    msgpack_sbuffer_destroy(&packed);
    cf_rules_destroy(&rules);
}

/* ---- events ----------------------------------------------------------- */

void cf_test_stage(cf_event_t *ev, const char *id, const char *case_id, cf_event_type_t type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    snprintf(ev->event_id, sizeof ev->event_id, "%s", id);
    snprintf(ev->case_id, sizeof ev->case_id, "%s", case_id);
    snprintf(ev->case_ref, sizeof ev->case_ref, "%s", RAW_REF);
    ev->occurred_at = T0;
    /* what each type requires, as a decoded event would have it */
    strcpy(ev->screening, "medical");
    strcpy(ev->outcome, "cleared");
    strcpy(ev->assistance, "counselling");
    strcpy(ev->country, "LBY");
    strcpy(ev->departure_country, "LBY");
    strcpy(ev->mode, "charter");
    strcpy(ev->arrival_country, "MLI");
    strcpy(ev->dimension, "economic");
    strcpy(ev->modality, "cash");
    strcpy(ev->reason, "completed");
    strcpy(ev->service, "legal");
    strcpy(ev->provider_type, "ngo");
    strcpy(ev->donor, "EU");
    strcpy(ev->project_id, "XM-DAC-1");
    strcpy(ev->currency, "EUR");
    ev->transaction_type = 2;
    strcpy(ev->from_country, "LBY");
    strcpy(ev->to_country, "ITA");
    ev->count = 1;
    cf_test_shard(ev, 1);
}

void cf_test_shard(cf_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = cf_event_type_name(ev[i].type);
        cf_shard_by_t by = name ? cf_shard_by(name, strlen(name)) : CF_SHARD_BY_EVENT_ID;
        const char *key = by == CF_SHARD_BY_CASE_REF ? ev[i].case_id
                        : by == CF_SHARD_BY_ROUTE ? (ev[i].route[0] ? ev[i].route : "-")
                        : ev[i].event_id;
        ev[i].shard_hash = cf_shard_hash(key, strlen(key));
    }
}

cf_event_t *cf_test_at(cf_event_t *ev, int64_t t)
{
    ev->occurred_at = t;
    return ev;
}

void cf_test_register(cf_event_t *ev, const char *id, const char *case_id, const char *programme,
                      const char *sexes, const char *bands)
{
    cf_test_stage(ev, id, case_id, CF_EV_CASE_REGISTERED);
    snprintf(ev->programme, sizeof ev->programme, "%s", programme);
    strcpy(ev->programme_type, "avrr");
    strcpy(ev->host_country, "CHE");
    strcpy(ev->origin_country, "SRB");
    strcpy(ev->destination_country, "SRB");
    strcpy(ev->route, "central_mediterranean");
    cf_test_shard(ev, 1);
    ev->person_count = (uint8_t) strlen(sexes);
    for (size_t i = 0; i < ev->person_count; i++)
        ev->persons[i] = (cf_person_t) { sexes[i], (uint8_t) bands[i], i == 0 };
}

enum { ORDER_CASES = 12, ORDER_PER_CASE = 13 };
_Static_assert(ORDER_CASES * ORDER_PER_CASE == CF_TEST_ORDER_EVENTS, "the set's size");

size_t cf_test_order_events(cf_event_t *ev)
{
    static const cf_event_type_t types[ORDER_PER_CASE] = {
        CF_EV_CASE_REGISTERED, CF_EV_CASE_SCREENED, CF_EV_CASE_ASSISTED, CF_EV_CASE_DETAINED,
        CF_EV_CASE_RELEASED, CF_EV_CASE_DETAINED, CF_EV_CASE_RELEASED, CF_EV_CASE_DEPARTED,
        CF_EV_CASE_DEPARTED, CF_EV_CASE_ARRIVED, CF_EV_CASE_ARRIVED, CF_EV_CASE_REINTEGRATION,
        CF_EV_CASE_REFERRED };
    size_t n = 0;
    for (int c = 0; c < ORDER_CASES; c++) {
        char case_id[40];
        snprintf(case_id, sizeof case_id, "%08x%024d", (unsigned) c * 2654435761u, c);
        for (int k = 0; k < ORDER_PER_CASE; k++, n++) {
            char id[32];
            snprintf(id, sizeof id, "o-%d-%d", c, k);
            if (types[k] == CF_EV_CASE_REGISTERED)
                cf_test_register(&ev[n], id, case_id, c % 3 ? "CH-AVR" : "EU-IOM-JI", "fmu",
                                 "\0\3\4");
            else
                cf_test_stage(&ev[n], id, case_id, types[k]);
            /* times spread over days and hours, varied per case */
            cf_test_at(&ev[n], T0 + (k * 7 + c) * DAY + ((k * 5 + c * 3) % 24) * HOUR);
            ev[n].has_value = types[k] == CF_EV_CASE_ASSISTED;
            ev[n].value = 10.5 * (c + 1);
            strcpy(ev[n].currency, "EUR");
            strcpy(ev[n].risk, c % 2 ? "medium" : "high");
        }
    }
    return n;
}

void cf_test_shuffle(cf_event_t *ev, size_t n, unsigned *seed)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t) rand_r(seed) % (i + 1);
        cf_event_t t = ev[i];
        ev[i] = ev[j];
        ev[j] = t;
    }
}

cf_event_t *cf_test_flow(cf_event_t *ev, const char *id, int day, uint64_t count)
{
    cf_test_stage(ev, id, CASE_A, CF_EV_FLOW_OBSERVED);
    strcpy(ev->route, "western_balkans");
    cf_test_shard(ev, 1);
    ev->count = count;
    return cf_test_at(ev, T0 + day * DAY);
}

/* ---- apply and notifications ---------------------------------------------- */

static void copy_str(char *out, size_t size, const msgpack_object *o)
{
    assert_int_equal(o->type, MSGPACK_OBJECT_STR);
    assert_true(o->via.str.size < size);
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
}

static void on_note(fixture_t *f, const char *topic, const void *body, size_t size)
{
    f->notes = realloc(f->notes, (f->note_count + 1) * sizeof *f->notes);
    assert_non_null(f->notes);
    cf_test_note_t *note = &f->notes[f->note_count++];
    memset(note, 0, sizeof *note);
    snprintf(note->topic, sizeof note->topic, "%s", topic);
    note->has_raw = memmem(body, size, RAW_REF, strlen(RAW_REF)) != NULL;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    assert_int_equal(msgpack_unpack_next(&result, body, size, NULL), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *map = &result.data;
    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        char key[32];
        copy_str(key, sizeof key, &map->via.map.ptr[i].key);
        const msgpack_object *v = &map->via.map.ptr[i].val;
        if (!strcmp(key, "case_id"))
            copy_str(note->case_id, sizeof note->case_id, v);
        else if (!strcmp(key, "programme") && v->type == MSGPACK_OBJECT_STR)
            copy_str(note->programme, sizeof note->programme, v);
        else if (!strcmp(key, "stage"))
            copy_str(note->stage, sizeof note->stage, v);
        else if (!strcmp(key, "event_id"))
            copy_str(note->event_id, sizeof note->event_id, v);
        else if (!strcmp(key, "occurred_at"))
            note->occurred_at = v->via.i64;
        else if (!strcmp(key, "persons"))
            note->persons = (int) v->via.i64;
    }
    msgpack_unpacked_destroy(&result);
}

/* Reads what the outboxes got since the last read, shard by shard. */
static void read_outboxes(fixture_t *f)
{
    unsigned shards = cf_store_shards(f->store);
    if (!f->cursor)
        f->cursor = calloc(CF_SHARD_MAX, sizeof *f->cursor);
    for (unsigned s = 0; s < shards; s++) {     /* in one round trip */
        char key[32];
        snprintf(key, sizeof key, "cf:{s%u}:outbox", s);
        char from[64];
        snprintf(from, sizeof from, "(%s", f->cursor[s][0] ? f->cursor[s] : "0-0");
        assert_int_equal(redisAppendCommand(f->raw, "XRANGE %s %s +", key, from), REDIS_OK);
    }
    for (unsigned s = 0; s < shards; s++) {
        redisReply *reply = NULL;
        assert_int_equal(redisGetReply(f->raw, (void **) &reply), REDIS_OK);
        assert_non_null(reply);
        assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
        for (size_t i = 0; i < reply->elements; i++) {
            const redisReply *entry = reply->element[i], *fields = entry->element[1];
            snprintf(f->cursor[s], sizeof f->cursor[s], "%s", entry->element[0]->str);
            size_t notes = cf_test_notes_count(fields);
            assert_true(notes > 0);                     /* every entry holds some */
            for (size_t k = 0; k < notes; k++) {
                cf_outbox_note_t note = cf_test_notes_get(fields, k);
                on_note(f, note.topic, note.body, note.body_len);
            }
        }
        freeReplyObject(reply);
    }
}

const char *cf_test_apply(fixture_t *f, cf_event_t *events, size_t count)
{
    cf_ack_status_t *statuses = calloc(count, sizeof *statuses);
    cf_test_shard(events, count);
    if (cf_store_apply(f->store, events, count, statuses) < 0)
        fail_msg("cf_store_apply: %s", cf_store_error(f->store));
    read_outboxes(f);
    char *codes = calloc(count + 1, 1);
    for (size_t i = 0; i < count; i++) {
        assert_true(statuses[i] == CF_ACK_ACCEPTED || statuses[i] == CF_ACK_DUPLICATE);
        codes[i] = statuses[i] == CF_ACK_ACCEPTED ? 'a' : 'd';
    }
    free(statuses);
    return keep(f, codes);
}

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static const char *topics(fixture_t *f, int sorted)
{
    const char **list = calloc(f->note_count + 1, sizeof *list);
    for (size_t i = 0; i < f->note_count; i++)
        list[i] = f->notes[i].topic;
    if (sorted)
        qsort(list, f->note_count, sizeof *list, compare_str);
    text_t t = { 0 };
    for (size_t i = 0; i < f->note_count; i++) {
        text_str(&t, list[i]);
        text_str(&t, " ");
    }
    free(list);
    return text_keep(f, &t);
}

const char *cf_test_topics(fixture_t *f) { return topics(f, 0); }
const char *cf_test_sorted_topics(fixture_t *f) { return topics(f, 1); }

/* ---- reading Redis ---------------------------------------------------------- */

static const char *family(fixture_t *f, const char *name, int nonzero)
{
    cf_counts_t *counts = NULL;
    if (cf_store_read_family(f->store, name, &counts) < 0)
        fail_msg("cf_store_read_family: %s", cf_store_error(f->store));
    text_t t = { 0 };
    char value[32];
    for (size_t i = 0; i < cf_counts_size(counts); i++) {
        if (nonzero && cf_counts_value(counts, i) == 0)
            continue;
        text_str(&t, cf_counts_name(counts, i));
        snprintf(value, sizeof value, "=%lld ", (long long) cf_counts_value(counts, i));
        text_str(&t, value);
    }
    cf_counts_destroy(&counts);
    return text_keep(f, &t);
}

const char *cf_test_family(fixture_t *f, const char *name) { return family(f, name, 0); }
const char *cf_test_family_nonzero(fixture_t *f, const char *name) { return family(f, name, 1); }

int64_t cf_test_get(fixture_t *f, const char *name, const char *field)
{
    cf_counts_t *counts = NULL;
    assert_int_equal(cf_store_read_family(f->store, name, &counts), 0);
    int64_t value = cf_counts_get(counts, field);
    cf_counts_destroy(&counts);
    return value;
}

int cf_test_has(fixture_t *f, const char *name, const char *field)
{
    cf_counts_t *counts = NULL;
    assert_int_equal(cf_store_read_family(f->store, name, &counts), 0);
    int has = cf_counts_has(counts, field);
    cf_counts_destroy(&counts);
    return has;
}

size_t cf_test_count_words(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == ' ';
    return n;
}

int64_t cf_test_integer(fixture_t *f, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    redisReply *reply = redisvCommand(f->raw, format, args);
    va_end(args);
    assert_non_null(reply);
    if (reply->type == REDIS_REPLY_ERROR)
        fail_msg("%s: %s", format, reply->str);
    int64_t value = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
    freeReplyObject(reply);
    return value;
}

unsigned cf_test_funding(fixture_t *f, cf_event_t *ev, const char *prefix, int64_t value, int s)
{
    for (int n = 0;; n++) {
        char id[32];
        snprintf(id, sizeof id, "%s%d", prefix, n);
        cf_test_stage(ev, id, CASE_A, CF_EV_FUNDING_TRANSACTION);
        strcpy(ev->donor, "US");
        ev->value = value;
        strcpy(ev->currency, "USD");
        unsigned shard = cf_store_shard_of(f->store, ev);
        if (s < 0 || shard == (unsigned) s)
            return shard;
    }
}

int64_t cf_test_calls(fixture_t *f, const char *name)
{
    redisReply *info = redisCommand(f->raw, "INFO commandstats");
    assert_true(info && info->type == REDIS_REPLY_STRING);
    char want[64];
    int len = snprintf(want, sizeof want, "cmdstat_%s:calls=", name);
    const char *at = strstr(info->str, want);
    int64_t n = at ? strtoll(at + len, NULL, 10) : 0;
    freeReplyObject(info);
    return n;
}

const char *cf_test_case_state(fixture_t *f, unsigned shard, const char *case_id)
{
    char key[CF_KEYS_MAX];
    cf_keys_case(key, sizeof key, shard, case_id, strlen(case_id));
    redisReply *reply = redisCommand(f->raw, "GET %s", key);
    assert_non_null(reply);
    if (reply->type == REDIS_REPLY_NIL) {
        freeReplyObject(reply);
        return NULL;
    }
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    char *text = cf_fold_describe_case(reply->str, reply->len);
    freeReplyObject(reply);
    assert_non_null(text);
    return keep(f, text);
}

/* "a=b " pairs of an HGETALL, sorted. */
static void hash_text(fixture_t *f, const char *key, text_t *t)
{
    redisReply *reply = redisCommand(f->raw, "HGETALL %s", key);
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
    size_t n = reply->elements / 2;
    char **pairs = calloc(n + 1, sizeof *pairs);
    for (size_t i = 0; i < n; i++)
        assert_true(asprintf(&pairs[i], "%s=%s ", reply->element[2 * i]->str,
                             reply->element[2 * i + 1]->str) > 0);
    qsort(pairs, n, sizeof *pairs, compare_str);
    for (size_t i = 0; i < n; i++) {
        text_str(t, pairs[i]);
        free(pairs[i]);
    }
    free(pairs);
    freeReplyObject(reply);
}

const char *cf_test_hgetall(fixture_t *f, const char *key)
{
    text_t t = { 0 };
    hash_text(f, key, &t);
    return text_keep(f, &t);
}

/* Every key name, by SCAN (what an operator's tool would do). */
static char **all_keys(fixture_t *f, size_t *count)
{
    char **names = NULL;
    char cursor[32] = "0";
    *count = 0;
    do {
        redisReply *reply = redisCommand(f->raw, "SCAN %s COUNT 1000", cursor);
        assert_non_null(reply);
        assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof cursor, "%s", reply->element[0]->str);
        const redisReply *batch = reply->element[1];
        names = realloc(names, (*count + batch->elements + 1) * sizeof *names);
        for (size_t i = 0; i < batch->elements; i++)
            names[(*count)++] = strdup(batch->element[i]->str);
        freeReplyObject(reply);
    } while (strcmp(cursor, "0") != 0);
    qsort(names, *count, sizeof *names, compare_str);
    return names;
}

size_t cf_test_count_keys(fixture_t *f, const char *part)
{
    size_t count, n = 0;
    char **names = all_keys(f, &count);
    for (size_t i = 0; i < count; i++) {
        n += strstr(names[i], part) != NULL;
        free(names[i]);
    }
    free(names);
    return n;
}

const char *cf_test_dump(fixture_t *f, int everything)
{
    size_t count;
    char **names = all_keys(f, &count);
    text_t t = { 0 };
    for (size_t i = 0; i < count; i++) {
        /* owner records: routing, and the stamps of the commits that wrote
           them (docs/storage.md), which differ from run to run */
        if (strstr(names[i], ":owner")
            || (!everything && (strstr(names[i], ":eid:") || strstr(names[i], ":quality")))) {
            free(names[i]);
            continue;
        }
        text_str(&t, names[i]);
        redisReply *value = redisCommand(f->raw, "GET %s", names[i]);
        if (strstr(names[i], ":outbox")) {         /* a stream: its length */
            char len[32];
            snprintf(len, sizeof len, " stream(%lld)",
                     (long long) cf_test_integer(f, "XLEN %s", names[i]));
            text_str(&t, len);
        } else if (strstr(names[i], ":eid:")) {    /* dedupe markers: how many */
            char len[32];
            snprintf(len, sizeof len, " markers(%lld)",
                     (long long) cf_test_integer(f, "HLEN %s", names[i]));
            text_str(&t, len);
        } else if (strstr(names[i], ":due")) {     /* a sorted set: its size */
            char len[32];
            snprintf(len, sizeof len, " zset(%lld)",
                     (long long) cf_test_integer(f, "ZCARD %s", names[i]));
            text_str(&t, len);
        } else if (value->type == REDIS_REPLY_STRING && strstr(names[i], ":case:")) {
            char *state = cf_fold_describe_case(value->str, value->len);   /* packed: as text */
            text_str(&t, " = state(");
            text_str(&t, state ? state : "not a case state");
            text_str(&t, ")");
            free(state);
        } else if (value->type == REDIS_REPLY_STRING) {
            text_str(&t, " = ");
            text_str(&t, value->str);
        } else {
            text_str(&t, " { ");
            hash_text(f, names[i], &t);
            text_str(&t, "}");
        }
        text_str(&t, "\n");
        freeReplyObject(value);
        free(names[i]);
    }
    free(names);
    return text_keep(f, &t);
}

int64_t cf_test_marker(fixture_t *f, const cf_event_t *event)
{
    unsigned char digest[CF_KEYS_EID_DIGEST];
    char key[CF_KEYS_MAX];
    cf_keys_eid(key, sizeof key, cf_store_shard_of(f->store, event),
                cf_store_eid_digest(event, digest));
    redisReply *value = redisCommand(f->raw, "HGET %s %b", key, digest, sizeof digest);
    assert_non_null(value);
    long long generation = -1, tag;
    if (value->type != REDIS_REPLY_NIL) {
        assert_int_equal(value->type, REDIS_REPLY_STRING);
        assert_int_equal(cf_keys_eid_value_parse(value->str, value->len, &generation, &tag), 0);
    }
    freeReplyObject(value);
    return generation;
}

int64_t cf_test_generation(fixture_t *f, uint32_t eid_ttl)
{
    redisReply *now = redisCommand(f->raw, "TIME");
    assert_true(now && now->type == REDIS_REPLY_ARRAY);
    int64_t generation = atoll(now->element[0]->str) / eid_ttl;
    freeReplyObject(now);
    return generation;
}

int64_t cf_test_markers(fixture_t *f, int64_t *keys)
{
    size_t count;
    char **names = all_keys(f, &count);
    int64_t fields = 0;
    *keys = 0;
    for (size_t i = 0; i < count; i++) {
        if (strstr(names[i], ":eid:")) {
            fields += cf_test_integer(f, "HLEN %s", names[i]);
            ++*keys;
        }
        free(names[i]);
    }
    free(names);
    return fields;
}
