/*  Tests of cf_fold, the domain logic in C: the same events as the apply
    script's tests (test_cf_store*.c, against Redis) give the same counters,
    notifications and deadlines here. A small model stands for Redis: it
    sums the merged deltas, keeps the packed states and the deadline set,
    collects the notifications and remembers applied event ids, as the
    store's commit will. Also: bodies key by key, order independence over
    every permutation, packed states round trip and garbage is refused, an
    overdue limit fires once, and a batch whose own sum overflows fails.   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_rules.h"
#include "caseflow/cf_fold.h"
#include "cf_test_store.h"

#define at cf_test_at

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* ---- the model of Redis --------------------------------------------------------- */

typedef struct { int family; char field[200]; int64_t value; } sum_t;
typedef struct { char key[64]; unsigned char bytes[2048]; size_t len; bool closed; } blob_t;
typedef struct { char member[96]; int64_t due; } due_t;
typedef struct { char topic[96]; char body[512]; } note_t;

#define MAX_ITEMS   256
#define ROUTE_DAY   (-1)

typedef struct {
    cf_fold_t *fold;
    sum_t *sums;
    size_t sums_n;
    blob_t cases[MAX_ITEMS], routes[8];
    size_t cases_n, routes_n;
    due_t dues[MAX_ITEMS];
    size_t dues_n;
    note_t *notes;
    size_t notes_n;
    char seen[MAX_ITEMS * 2][CF_EVENT_ID_MAX + 1];
    size_t seen_n;
    int64_t clock;              /* the batches' (cf_fold_set_clock); -1: none */
    char text[16384];
} model_t;

static void model_rules(model_t *m, const char *ini)
{
    cf_rules_t *rules = cf_rules_new();
    if (ini) {
        char path[] = "/tmp/cf_fold_rules_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *out = fdopen(fd, "w");
        fputs(ini, out);
        fclose(out);
        assert_int_equal(cf_rules_load(rules, path), 0);
        remove(path);
    }
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(rules, &packed);
    assert_int_equal(cf_fold_set_rules(m->fold, packed.data, packed.size), 0);
    msgpack_sbuffer_destroy(&packed);
    cf_rules_destroy(&rules);
}

static int setup(void **state)
{
    model_t *m = calloc(1, sizeof *m);
    m->fold = cf_fold_new();
    m->clock = -1;
    model_rules(m, NULL);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    model_t *m = *state;
    cf_fold_destroy(&m->fold);
    assert_null(m->fold);
    free(m->sums);
    free(m->notes);
    free(m);
    return 0;
}

static void model_clear(model_t *m)
{
    m->sums_n = m->cases_n = m->routes_n = m->dues_n = m->notes_n = m->seen_n = 0;
}

static void sum_add(model_t *m, int family, const char *field, size_t len, int64_t d)
{
    for (size_t i = 0; i < m->sums_n; i++)
        if (m->sums[i].family == family && strlen(m->sums[i].field) == len
            && !memcmp(m->sums[i].field, field, len)) {
            m->sums[i].value += d;
            return;
        }
    m->sums = realloc(m->sums, (m->sums_n + 1) * sizeof *m->sums);
    sum_t *s = &m->sums[m->sums_n++];
    assert_true(len < sizeof s->field);
    s->family = family;
    memcpy(s->field, field, len);
    s->field[len] = '\0';
    s->value = d;
}

static blob_t *blob_find(blob_t *blobs, size_t *n, const char *key, bool create)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(blobs[i].key, key))
            return &blobs[i];
    if (!create)
        return NULL;
    assert_true(*n < MAX_ITEMS);
    blob_t *b = &blobs[(*n)++];
    memset(b, 0, sizeof *b);
    snprintf(b->key, sizeof b->key, "%s", key);
    return b;
}

static bool model_seen(model_t *m, const char *event_id)
{
    for (size_t i = 0; i < m->seen_n; i++)
        if (!strcmp(m->seen[i], event_id))
            return true;
    assert_true(m->seen_n < MAX_ITEMS * 2);
    strcpy(m->seen[m->seen_n++], event_id);
    return false;
}

/* A body as text: its keys in order, strings quoted, integers bare, floats f:x. */
static void body_text(const void *body, size_t len, char *out, size_t size)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    assert_int_equal(msgpack_unpack_next(&u, body, len, NULL), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
    char items[16][160];
    uint32_t n = u.data.via.map.size;
    assert_true(n <= 16);
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *k = &u.data.via.map.ptr[i].key, *v = &u.data.via.map.ptr[i].val;
        assert_int_equal(k->type, MSGPACK_OBJECT_STR);
        int w = snprintf(items[i], sizeof items[i], "%.*s=", (int) k->via.str.size, k->via.str.ptr);
        if (v->type == MSGPACK_OBJECT_STR)
            snprintf(items[i] + w, sizeof items[i] - (size_t) w, "'%.*s'", (int) v->via.str.size,
                     v->via.str.ptr);
        else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            snprintf(items[i] + w, sizeof items[i] - (size_t) w, "%llu",
                     (unsigned long long) v->via.u64);
        else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            snprintf(items[i] + w, sizeof items[i] - (size_t) w, "%lld", (long long) v->via.i64);
        else if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
            snprintf(items[i] + w, sizeof items[i] - (size_t) w, "f:%g", v->via.f64);
        else
            fail_msg("a body value of msgpack type %d", v->type);
    }
    qsort(items, n, sizeof items[0], (int (*)(const void *, const void *)) strcmp);
    out[0] = '\0';
    for (uint32_t i = 0; i < n; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", items[i]);
    msgpack_unpacked_destroy(&u);
}

/* What the store will do with a finished fold: commit everything. */
static void model_commit(model_t *m)
{
    cf_fold_t *fold = m->fold;
    assert_null(cf_fold_error(fold));
    for (size_t i = 0; i < cf_fold_counters(fold); i++) {
        int family;
        const char *field;
        size_t len;
        int64_t d;
        cf_fold_counter(fold, i, &family, &field, &len, &d);
        assert_true(d != 0 && family >= 0 && family < CF_FAMILY_COUNT);
        sum_add(m, family, field, len, d);
    }
    for (size_t i = 0; i < cf_fold_route_days(fold); i++) {
        const char *field;
        size_t len;
        int64_t d;
        cf_fold_route_day(fold, i, &field, &len, &d);
        sum_add(m, ROUTE_DAY, field, len, d);
    }
    for (size_t i = 0; i < cf_fold_cases(fold); i++) {
        const char *id;
        const void *state;
        size_t len;
        bool closed;
        cf_fold_case(fold, i, &id, &state, &len, &closed);
        blob_t *b = blob_find(m->cases, &m->cases_n, id, true);
        assert_true(len <= sizeof b->bytes);
        memcpy(b->bytes, state, len);
        b->len = len;
        b->closed = closed;
    }
    for (size_t i = 0; i < cf_fold_routes(fold); i++) {
        const char *route;
        const void *state;
        size_t len;
        cf_fold_route(fold, i, &route, &state, &len);
        blob_t *b = blob_find(m->routes, &m->routes_n, route, true);
        memcpy(b->bytes, state, len);
        b->len = len;
    }
    for (size_t i = 0; i < cf_fold_deadlines(fold); i++) {
        const char *member;
        size_t len;
        int64_t due;
        cf_fold_deadline(fold, i, &member, &len, &due);
        assert_int_equal(strlen(member), len);
        size_t j = 0;
        while (j < m->dues_n && strcmp(m->dues[j].member, member))
            j++;
        if (due < 0) {
            assert_true(j < m->dues_n);                 /* removes only what it added */
            m->dues[j] = m->dues[--m->dues_n];
        } else {
            if (j == m->dues_n)
                snprintf(m->dues[m->dues_n++].member, sizeof m->dues[0].member, "%s", member);
            m->dues[j].due = due;
        }
    }
    for (size_t i = 0; i < cf_fold_notes(fold); i++) {
        const char *topic;
        const void *body;
        size_t len;
        cf_fold_note(fold, i, &topic, &body, &len);
        m->notes = realloc(m->notes, (m->notes_n + 1) * sizeof *m->notes);
        note_t *n = &m->notes[m->notes_n++];
        snprintf(n->topic, sizeof n->topic, "%s", topic);
        body_text(body, len, n->body, sizeof n->body);
    }
}

/* One shard's batch through the fold: loads each case and route once. */
static void model_apply(model_t *m, const cf_event_t *ev, size_t n)
{
    cf_fold_t *fold = m->fold;
    cf_fold_reset(fold);
    if (m->clock >= 0)
        cf_fold_set_clock(fold, m->clock);
    const char *loaded[MAX_ITEMS];
    bool loaded_case[MAX_ITEMS];
    size_t loaded_n = 0;
    for (size_t i = 0; i < n; i++) {
        bool is_case = cf_event_is_case_event(ev[i].type);
        const char *key = is_case ? ev[i].case_id : ev[i].route;
        if (!is_case && (ev[i].type != CF_EV_FLOW_OBSERVED || !key[0] || !strcmp(key, "-")))
            continue;
        bool again = false;
        for (size_t k = 0; k < loaded_n; k++)
            again |= loaded_case[k] == is_case && !strcmp(loaded[k], key);
        if (again)
            continue;
        loaded_case[loaded_n] = is_case;
        loaded[loaded_n++] = key;
        blob_t *b = is_case ? blob_find(m->cases, &m->cases_n, key, false)
                            : blob_find(m->routes, &m->routes_n, key, false);
        int rc = is_case ? cf_fold_load_case(fold, key, b ? b->bytes : NULL, b ? b->len : 0)
                         : cf_fold_load_route(fold, key, b ? b->bytes : NULL, b ? b->len : 0);
        assert_int_equal(rc, 0);
    }
    for (size_t i = 0; i < n; i++)
        cf_fold_apply(fold, &ev[i], !model_seen(m, ev[i].event_id));
    cf_fold_finish(fold);
    model_commit(m);
}

/* The overdue timer: fires every deadline due by now, one fold each. */
static unsigned model_fire(model_t *m, int64_t now)
{
    unsigned fired = 0;
    for (size_t i = 0; i < m->dues_n;) {
        if (m->dues[i].due > now) {
            i++;
            continue;
        }
        char id[96];
        snprintf(id, sizeof id, "%s", m->dues[i].member);
        char *bar = strchr(id, '|');
        *bar = '\0';
        int limit = cf_vocab_limit_find(bar + 1, strlen(bar + 1));
        assert_true(limit >= 0);
        blob_t *b = blob_find(m->cases, &m->cases_n, id, false);
        cf_fold_reset(m->fold);
        assert_int_equal(cf_fold_load_case(m->fold, id, b ? b->bytes : NULL, b ? b->len : 0), 0);
        int64_t due = m->dues[i].due;
        assert_true(cf_fold_fire(m->fold, id, limit, due, now));
        assert_false(cf_fold_fire(m->fold, id, limit, due, now));      /* once */
        cf_fold_finish(m->fold);
        model_commit(m);
        fired++;
        i = 0;
    }
    return fired;
}

/* "field=value " of a family in field order (zeros too: Redis keeps them). */
static const char *family(model_t *m, int fam, bool nonzero)
{
    const char *fields[4096];
    size_t n = 0;
    for (size_t i = 0; i < m->sums_n; i++)
        if (m->sums[i].family == fam && (!nonzero || m->sums[i].value))
            fields[n++] = m->sums[i].field;
    qsort(fields, n, sizeof *fields, by_text);
    m->text[0] = '\0';
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < m->sums_n; j++)
            if (m->sums[j].family == fam && m->sums[j].field == fields[i])
                snprintf(m->text + strlen(m->text), sizeof m->text - strlen(m->text),
                         "%s=%lld ", fields[i], (long long) m->sums[j].value);
    return m->text;
}

static int64_t get(model_t *m, int fam, const char *field)
{
    for (size_t i = 0; i < m->sums_n; i++)
        if (m->sums[i].family == fam && !strcmp(m->sums[i].field, field))
            return m->sums[i].value;
    return 0;
}

static bool has(model_t *m, int fam, const char *field)
{
    for (size_t i = 0; i < m->sums_n; i++)
        if (m->sums[i].family == fam && !strcmp(m->sums[i].field, field))
            return true;
    return false;
}

static const char *topics(model_t *m, bool sorted)
{
    const char *t[512];
    size_t n = m->notes_n;
    assert_true(n <= 512);
    for (size_t i = 0; i < n; i++)
        t[i] = m->notes[i].topic;
    if (sorted)
        qsort(t, n, sizeof *t, by_text);
    m->text[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(m->text + strlen(m->text), sizeof m->text - strlen(m->text), "%s ", t[i]);
    return m->text;
}

static const char *note_body(model_t *m, const char *topic)
{
    for (size_t i = 0; i < m->notes_n; i++)
        if (!strcmp(m->notes[i].topic, topic))
            return m->notes[i].body;
    fail_msg("no note %s", topic);
    return NULL;
}

enum { STAGE = CF_FAMILY_STAGE, RETURNS = CF_FAMILY_RETURNS, VULN = CF_FAMILY_VULN,
       DEMO = CF_FAMILY_DEMO, QUALITY = CF_FAMILY_QUALITY, DUR = CF_FAMILY_DUR,
       DETENTION = CF_FAMILY_DETENTION, REINT = CF_FAMILY_REINT, MONITOR = CF_FAMILY_MONITOR,
       SERVICES = CF_FAMILY_SERVICES, FUNDING = CF_FAMILY_FUNDING, FLOWS = CF_FAMILY_FLOWS };

/* ---- the figures of test_cf_store*.c ---------------------------------------------- */

static void test_registration(void **state)
{
    model_t *m = *state;
    cf_event_t ev;
    cf_test_register(&ev, "r-1", CASE_A, "CH-AVR", "fmm", "\3\3\1");
    ev.vulnerabilities = 1u << CF_VULN_VOT | 1u << CF_VULN_HEALTH;
    model_apply(m, &ev, 1);
    assert_string_equal(family(m, STAGE, false),
        "CH-AVR|registered|ever|cases=1 CH-AVR|registered|ever|persons=3 "
        "CH-AVR|registered|now|cases=1 CH-AVR|registered|now|persons=3 ");
    assert_string_equal(family(m, DEMO, false),
                        "CH-AVR|f|18-59=1 CH-AVR|m|18-59=1 CH-AVR|m|5-11=1 ");
    assert_string_equal(family(m, VULN, false), "CH-AVR|health=1 CH-AVR|vot=1 ");
    assert_string_equal(family(m, RETURNS, false), "");
    assert_string_equal(family(m, QUALITY, false), "");
    /* the default rules alert vot and health, after the stage */
    assert_string_equal(topics(m, false),
        "case.CH-AVR.registered alert.vulnerable.vot alert.vulnerable.health ");
    assert_string_equal(m->notes[0].body,
        "case_id='" CASE_A "' event_id='r-1' occurred_at=1709251200000 persons=3 "
        "programme='CH-AVR' stage='registered'");
    assert_string_equal(m->notes[1].body,
        "case_id='" CASE_A "' event_id='r-1' flag='vot' occurred_at=1709251200000 "
        "programme='CH-AVR'");
    /* registered 60 days without departing is overdue then */
    assert_int_equal(m->dues_n, 1);
    assert_string_equal(m->dues[0].member, CASE_A "|registered_departed");
    assert_int_equal(m->dues[0].due, T0 + 60 * DAY);
    assert_int_equal(m->cases_n, 1);
    assert_true(m->cases[0].len <= 80);             /* small: the issue wants <= 200 B a case */
}

static void test_stage_moves(void **state)
{
    model_t *m = *state;
    cf_event_t ev[4];
    cf_test_register(&ev[0], "s-0", CASE_A, "UK-VARRP", "fm", "\3\0");
    ev[0].route[0] = '\0';
    cf_test_stage(&ev[1], "s-1", CASE_A, CF_EV_CASE_SCREENED);
    model_apply(m, ev, 2);
    cf_test_stage(&ev[2], "s-2", CASE_A, CF_EV_CASE_DEPARTED);
    cf_test_stage(&ev[3], "s-3", CASE_A, CF_EV_CASE_ARRIVED);
    model_apply(m, ev + 2, 2);
    assert_string_equal(family(m, STAGE, true),
        "UK-VARRP|arrived|ever|cases=1 UK-VARRP|arrived|ever|persons=2 "
        "UK-VARRP|arrived|now|cases=1 UK-VARRP|arrived|now|persons=2 "
        "UK-VARRP|departed|ever|cases=1 UK-VARRP|departed|ever|persons=2 "
        "UK-VARRP|registered|ever|cases=1 UK-VARRP|registered|ever|persons=2 "
        "UK-VARRP|screened|ever|cases=1 UK-VARRP|screened|ever|persons=2 ");
    /* a gauge that went up and down within one batch is not even written */
    assert_false(has(m, STAGE, "UK-VARRP|registered|now|cases"));
    assert_false(has(m, STAGE, "UK-VARRP|departed|now|cases"));
    assert_true(has(m, STAGE, "UK-VARRP|screened|now|cases"));
    assert_string_equal(family(m, RETURNS, false),
        "day:2024-03-01|host|CHE|UK-VARRP|cases=1 day:2024-03-01|host|CHE|UK-VARRP|persons=2 "
        "day:2024-03-01|origin|SRB|UK-VARRP|cases=1 day:2024-03-01|origin|SRB|UK-VARRP|persons=2 "
        "day:2024-03-01|programme|UK-VARRP|UK-VARRP|cases=1 "
        "day:2024-03-01|programme|UK-VARRP|UK-VARRP|persons=2 "
        "day:2024-03-01|route|-|UK-VARRP|cases=1 day:2024-03-01|route|-|UK-VARRP|persons=2 ");
    /* the medical screening was at the departure: no predeparture alert */
    assert_string_equal(topics(m, false), "case.UK-VARRP.registered case.UK-VARRP.screened "
                        "case.UK-VARRP.departed case.UK-VARRP.arrived ");
    assert_string_equal(family(m, QUALITY, false), "");
    /* departed: the registered limit ended; arrived: the reintegration one runs */
    assert_int_equal(m->dues_n, 1);
    assert_string_equal(m->dues[0].member, CASE_A "|arrived_reintegrating");
}

static void test_resent_is_duplicate(void **state)
{
    model_t *m = *state;
    cf_event_t ev[2];
    cf_test_register(&ev[0], "d-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "d-1", CASE_A, CF_EV_CASE_DEPARTED);
    model_apply(m, ev, 2);
    char before[4096];
    snprintf(before, sizeof before, "%s", family(m, STAGE, false));
    size_t notes = m->notes_n;
    model_apply(m, ev, 2);
    assert_string_equal(family(m, STAGE, false), before);
    assert_string_equal(family(m, QUALITY, false), "duplicate=2 ");
    assert_int_equal(m->notes_n, notes);
    assert_int_equal(cf_fold_cases(m->fold), 0);        /* nothing to write back */
}

/* A resend for a case that has no state (its registration's marker survives,
   its state does not, as a fuzzed PUSH found): the case stays empty and is
   not written back. Empty before and after compare without touching memory. */
static void test_duplicate_on_empty_case(void **state)
{
    model_t *m = *state;
    cf_event_t ev;
    cf_test_stage(&ev, "e-0", CASE_A, CF_EV_CASE_DEPARTED);
    cf_fold_reset(m->fold);
    assert_int_equal(cf_fold_load_case(m->fold, CASE_A, NULL, 0), 0);
    cf_fold_apply(m->fold, &ev, false);
    cf_fold_finish(m->fold);
    assert_int_equal(cf_fold_cases(m->fold), 0);
}

static void test_late_registration_keeps_stage_times(void **state)
{
    model_t *m = *state;
    cf_event_t ev[3];
    cf_test_stage(&ev[0], "late-dep", CASE_A, CF_EV_CASE_DEPARTED);
    at(&ev[0], T0 + 2 * DAY);
    cf_test_stage(&ev[1], "late-arr", CASE_A, CF_EV_CASE_ARRIVED);
    at(&ev[1], T0 + 3 * DAY);
    cf_test_register(&ev[2], "late-reg", CASE_A, "CH-AVR", "f", "\3");
    at(&ev[2], T0 + DAY);
    model_apply(m, ev, 2);
    size_t unregistered = m->cases[0].len;
    model_apply(m, ev + 2, 1);
    assert_string_equal(topics(m, false), "alert.predeparture case.CH-AVR.registered "
                        "case.CH-AVR.departed case.CH-AVR.arrived ");
    /* the predeparture alert of a case not registered yet has no programme */
    assert_string_equal(m->notes[0].body, "case_id='" CASE_A "' event_id='late-dep' "
                        "occurred_at=1709424000000 window_h=72");
    assert_string_equal(m->notes[2].body, "case_id='" CASE_A "' event_id='late-dep' "
                        "occurred_at=1709424000000 persons=1 programme='CH-AVR' stage='departed'");
    assert_string_equal(m->notes[3].body, "case_id='" CASE_A "' event_id='late-arr' "
                        "occurred_at=1709510400000 persons=1 programme='CH-AVR' stage='arrived'");
    assert_string_equal(m->notes[1].body, "case_id='" CASE_A "' event_id='late-reg' "
                        "occurred_at=1709337600000 persons=1 programme='CH-AVR' stage='registered'");
    /* the event ids that waited are gone from the state */
    assert_true(m->cases[0].len < unregistered);
    assert_null(memmem(m->cases[0].bytes, m->cases[0].len, "late-", 5));
}

static void test_duplicate_within_batch(void **state)
{
    model_t *m = *state;
    cf_event_t ev[4];
    cf_test_register(&ev[0], "w-0", CASE_A, "CH-AVR", "m", "\3");
    ev[1] = ev[0];
    cf_test_stage(&ev[2], "w-2", CASE_B, CF_EV_CASE_CLOSED);
    ev[3] = ev[2];
    model_apply(m, ev, 4);
    assert_string_equal(family(m, QUALITY, false), "before_registration=1 duplicate=2 ");
    assert_int_equal(get(m, STAGE, "CH-AVR|registered|ever|cases"), 1);
    /* a closed case is said to be so */
    blob_t *b = blob_find(m->cases, &m->cases_n, CASE_B, false);
    assert_true(b && b->closed);
}

/* Four events of one case in the orders of test_cf_store's test_order_does_not_matter. */
static void run_order(model_t *m, const int order[4], char *out, size_t size)
{
    model_clear(m);
    cf_event_t all[4], ev[4];
    cf_test_register(&all[0], "o-reg", CASE_A, "CH-AVR", "fmu", "\3\3\0");
    cf_test_stage(&all[1], "o-scr", CASE_A, CF_EV_CASE_SCREENED);
    cf_test_stage(&all[2], "o-dep", CASE_A, CF_EV_CASE_DEPARTED);
    cf_test_stage(&all[3], "o-arr", CASE_A, CF_EV_CASE_ARRIVED);
    for (int i = 0; i < 4; i++) {
        ev[i] = all[order[i]];
        at(&ev[i], T0 + order[i] * DAY);
        model_apply(m, &ev[i], 1);
    }
    out[0] = '\0';
    for (int f = 0; f < CF_FAMILY_COUNT; f++)
        if (f != QUALITY)
            snprintf(out + strlen(out), size - strlen(out), "%s", family(m, f, true));
}

static void test_order_does_not_matter(void **state)
{
    model_t *m = *state;
    char in_order[4096], late[4096], reversed[4096];
    run_order(m, (const int[]) { 0, 1, 2, 3 }, in_order, sizeof in_order);
    assert_string_equal(family(m, QUALITY, false), "");
    run_order(m, (const int[]) { 2, 3, 0, 1 }, late, sizeof late);
    assert_string_equal(late, in_order);
    assert_string_equal(family(m, QUALITY, false), "before_registration=2 out_of_order=1 ");
    assert_int_equal(get(m, STAGE, "CH-AVR|arrived|now|cases"), 1);
    assert_int_equal(get(m, STAGE, "CH-AVR|screened|now|cases"), 0);
    assert_int_equal(get(m, STAGE, "CH-AVR|screened|ever|persons"), 3);
    /* no screening known at the departure; then the stages in stage order */
    assert_string_equal(topics(m, false), "alert.predeparture case.CH-AVR.registered "
                        "case.CH-AVR.departed case.CH-AVR.arrived case.CH-AVR.screened ");
    assert_non_null(strstr(m->notes[3].body, "event_id='o-arr'"));
    run_order(m, (const int[]) { 3, 2, 1, 0 }, reversed, sizeof reversed);
    assert_string_equal(reversed, in_order);
    assert_string_equal(family(m, QUALITY, false), "before_registration=3 ");
}

static void test_registration_rules(void **state)
{
    model_t *m = *state;
    model_rules(m, "[vulnerable]\nflags = vot\n");
    cf_event_t ev[5];
    cf_test_stage(&ev[0], "v-0", CASE_B, CF_EV_CASE_SCREENED);
    ev[0].vulnerabilities = 1u << CF_VULN_VOT;
    cf_test_stage(&ev[1], "v-1", CASE_B, CF_EV_CASE_DETAINED);
    model_apply(m, ev, 2);
    assert_string_equal(family(m, VULN, false), "");
    assert_int_equal(m->notes_n, 0);
    cf_test_register(&ev[2], "v-2", CASE_B, "LY-VHR", "u", "\4");
    ev[2].vulnerabilities = 1u << CF_VULN_VOT | 1u << CF_VULN_ELDERLY;
    cf_test_stage(&ev[3], "v-3", CASE_B, CF_EV_CASE_SCREENED);
    ev[3].vulnerabilities = 1u << CF_VULN_ELDERLY | 1u << CF_VULN_DISABILITY;
    model_apply(m, ev + 2, 2);
    assert_string_equal(family(m, VULN, false),
                        "LY-VHR|disability=1 LY-VHR|elderly=1 LY-VHR|vot=1 ");
    assert_string_equal(topics(m, true), "alert.vulnerable.vot case.LY-VHR.registered "
                        "case.LY-VHR.screened ");
    cf_test_register(&ev[4], "v-4", CASE_B, "OTHER", "ff", "\0\0");
    ev[1] = ev[4];
    strcpy(ev[1].event_id, "v-6");
    size_t notes = m->notes_n;
    model_apply(m, ev + 1, 1);
    model_apply(m, ev + 4, 1);
    assert_int_equal(m->notes_n, notes);
    /* the repeats change no figure; the case's state changes only by the
       count of events applied, which every new event moves */
    assert_int_equal(cf_fold_cases(m->fold), 1);
    assert_string_equal(family(m, QUALITY, false),
                        "before_registration=2 repeat_registration=2 ");
}

/* ---- the figures of test_cf_store_families.c --------------------------------------- */

static void test_durations(void **state)
{
    model_t *m = *state;
    cf_event_t ev[5];
    cf_test_register(&ev[0], "u-0", CASE_A, "CH-AVR", "fm", "\3\3");
    at(&ev[0], T0);
    cf_test_stage(&ev[1], "u-1", CASE_A, CF_EV_CASE_DEPARTED);
    at(&ev[1], T0 + 60 * DAY);
    cf_test_stage(&ev[2], "u-2", CASE_A, CF_EV_CASE_ARRIVED);
    at(&ev[2], T0 + 60 * DAY + 5 * HOUR + 59 * 60000);
    cf_test_stage(&ev[3], "u-3", CASE_A, CF_EV_CASE_REINTEGRATION);
    at(&ev[3], T0 + 100 * DAY);
    model_apply(m, ev, 4);
    assert_string_equal(family(m, DUR, false),
        "CH-AVR|arrived-reintegrating|bucket|928|960=1 CH-AVR|arrived-reintegrating|count=1 "
        "CH-AVR|arrived-reintegrating|seconds=3434460 "
        "CH-AVR|departed-arrived|bucket|5|6=1 CH-AVR|departed-arrived|count=1 "
        "CH-AVR|departed-arrived|seconds=21540 "
        "CH-AVR|registered-departed|bucket|1408|1472=1 CH-AVR|registered-departed|count=1 "
        "CH-AVR|registered-departed|seconds=5184000 ");
    cf_test_stage(&ev[4], "u-4", CASE_A, CF_EV_CASE_DEPARTED);
    at(&ev[4], T0 + 59 * DAY);
    model_apply(m, ev + 4, 1);
    assert_int_equal(get(m, DUR, "CH-AVR|registered-departed|seconds"), 59 * 86400);
    assert_int_equal(get(m, DUR, "CH-AVR|registered-departed|count"), 1);
    assert_int_equal(get(m, DUR, "CH-AVR|registered-departed|bucket|1408|1472"), 1);
    assert_int_equal(get(m, DUR, "CH-AVR|departed-arrived|seconds"), 86400 + 21540);
    assert_string_equal(family(m, SERVICES, true), "CH-AVR|departure|charter|-|events=2 ");
    assert_int_equal(m->dues_n, 0);                 /* reintegrating: no limit runs */
}

static void test_earliest_arrival_dates_the_return(void **state)
{
    model_t *m = *state;
    cf_event_t ev[3];
    cf_test_register(&ev[0], "e-0", CASE_B, "EU-IOM-JI", "m", "\3");
    cf_test_stage(&ev[1], "e-1", CASE_B, CF_EV_CASE_ARRIVED);
    at(&ev[1], T0 + 40 * DAY);
    model_apply(m, ev, 2);
    assert_int_equal(get(m, RETURNS, "day:2024-04-10|origin|SRB|EU-IOM-JI|cases"), 1);
    cf_test_stage(&ev[2], "e-2", CASE_B, CF_EV_CASE_ARRIVED);
    at(&ev[2], T0 + 2 * DAY);
    model_apply(m, ev + 2, 1);
    assert_string_equal(family(m, RETURNS, true),
        "day:2024-03-03|host|CHE|EU-IOM-JI|cases=1 day:2024-03-03|host|CHE|EU-IOM-JI|persons=1 "
        "day:2024-03-03|origin|SRB|EU-IOM-JI|cases=1 day:2024-03-03|origin|SRB|EU-IOM-JI|persons=1 "
        "day:2024-03-03|programme|EU-IOM-JI|EU-IOM-JI|cases=1 "
        "day:2024-03-03|programme|EU-IOM-JI|EU-IOM-JI|persons=1 "
        "day:2024-03-03|route|central_mediterranean|EU-IOM-JI|cases=1 "
        "day:2024-03-03|route|central_mediterranean|EU-IOM-JI|persons=1 ");
    assert_int_equal(get(m, STAGE, "EU-IOM-JI|arrived|ever|cases"), 1);
}

static void test_detention(void **state)
{
    model_t *m = *state;
    cf_event_t ev[5];
    cf_test_stage(&ev[0], "t-0", CASE_B, CF_EV_CASE_RELEASED);
    at(&ev[0], T0 + 10 * DAY);
    cf_test_stage(&ev[1], "t-1", CASE_B, CF_EV_CASE_DETAINED);
    at(&ev[1], T0 + 40 * DAY);
    cf_test_stage(&ev[2], "t-2", CASE_B, CF_EV_CASE_DETAINED);
    at(&ev[2], T0);
    model_apply(m, ev, 3);
    assert_string_equal(family(m, DETENTION, false), "");
    cf_test_register(&ev[3], "t-3", CASE_B, "EU-IOM-JI", "m", "\3");
    model_apply(m, ev + 3, 1);
    assert_string_equal(family(m, DETENTION, false),
        "EU-IOM-JI|LBY|cases=1 EU-IOM-JI|LBY|episodes=1 EU-IOM-JI|LBY|now=1 "
        "EU-IOM-JI|LBY|seconds=864000 ");
    /* the open detention since day 40 is overdue 30 days later, and registered 60 */
    assert_int_equal(m->dues_n, 2);
    cf_test_stage(&ev[4], "t-4", CASE_B, CF_EV_CASE_RELEASED);
    at(&ev[4], T0 + 45 * DAY);
    model_apply(m, ev + 4, 1);
    assert_string_equal(family(m, DETENTION, false),
        "EU-IOM-JI|LBY|cases=1 EU-IOM-JI|LBY|episodes=2 EU-IOM-JI|LBY|now=0 "
        "EU-IOM-JI|LBY|seconds=1296000 ");
    assert_int_equal(m->dues_n, 1);
    assert_string_equal(m->dues[0].member, CASE_B "|registered_departed");
}

static void test_services_wait_for_registration(void **state)
{
    model_t *m = *state;
    cf_event_t ev[7];
    cf_test_stage(&ev[0], "w-0", CASE_A, CF_EV_CASE_ASSISTED);
    strcpy(ev[0].assistance, "cash");
    ev[0].has_value = true;
    ev[0].value = 150.25;
    strcpy(ev[0].currency, "CHF");
    cf_test_stage(&ev[1], "w-1", CASE_A, CF_EV_CASE_MONITORED);
    ev[1].economic = 0.5, ev[1].social = 0.25, ev[1].psychosocial = 1;
    cf_test_stage(&ev[2], "w-2", CASE_A, CF_EV_CASE_REINTEGRATION);
    cf_test_stage(&ev[3], "w-3", CASE_A, CF_EV_CASE_SCREENED);
    strcpy(ev[3].risk, "high");
    cf_test_stage(&ev[4], "w-6", CASE_A, CF_EV_CASE_REFERRED);
    strcpy(ev[4].service, "mental_health");
    model_apply(m, ev, 5);
    for (int f = 0; f < CF_FAMILY_COUNT; f++)
        assert_string_equal(family(m, f, false), f == QUALITY ? "before_registration=5 " : "");
    size_t waiting = m->cases[0].len;
    cf_test_register(&ev[5], "w-4", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[6], "w-5", CASE_A, CF_EV_CASE_SCREENED);
    strcpy(ev[6].risk, "low");
    model_apply(m, ev + 5, 2);
    assert_string_equal(family(m, SERVICES, false),
        "CH-AVR|assistance|cash|CHF|events=1 CH-AVR|assistance|cash|CHF|value=15025 "
        "CH-AVR|referral|mental_health:ngo|-|events=1 "
        "CH-AVR|screening|medical:cleared|-|events=2 ");
    assert_int_equal(get(m, STAGE, "CH-AVR|reintegrating|now|cases"), 1);
    assert_string_equal(family(m, MONITOR, false),
        "CH-AVR|SRB|economic=5000 CH-AVR|SRB|psychosocial=10000 CH-AVR|SRB|social=2500 "
        "CH-AVR|SRB|surveys=1 ");
    assert_string_equal(family(m, REINT, false), "CH-AVR|economic|cash|-|services=1 ");
    assert_string_equal(family(m, VULN, false), "CH-AVR|risk:high=1 ");
    /* the risk alert waited for the registration too */
    assert_non_null(strstr(topics(m, false), "alert.vulnerable.risk_high"));
    /* the waiting counters are gone from the case once counted */
    assert_true(m->cases[0].len < waiting);
    assert_null(memmem(m->cases[0].bytes, m->cases[0].len, "cash", 4));
}

static void test_funding_and_flows(void **state)
{
    model_t *m = *state;
    cf_event_t ev[3];
    cf_test_stage(&ev[0], "g-0", CASE_A, CF_EV_FUNDING_TRANSACTION);
    strcpy(ev[0].donor, "US|INL 100%");
    ev[0].value = 650000;
    strcpy(ev[0].currency, "USD");
    cf_test_stage(&ev[1], "g-1", CASE_A, CF_EV_FLOW_OBSERVED);
    ev[1].count = 40, ev[1].has_uasc = true, ev[1].uasc = 3;
    strcpy(ev[1].route, "central_mediterranean");
    strcpy(ev[1].country, "ITA");
    cf_test_stage(&ev[2], "g-2", CASE_A, CF_EV_FLOW_OBSERVED);
    ev[2].count = 10, ev[2].has_females = ev[2].has_males = true, ev[2].females = 4,
    ev[2].males = 6;
    strcpy(ev[2].country, "ITA");
    model_apply(m, ev, 3);
    assert_string_equal(family(m, FUNDING, false),
        "day:2024-03-01|US%7CINL 100%25|XM-DAC-1|USD|2|transactions=1 "
        "day:2024-03-01|US%7CINL 100%25|XM-DAC-1|USD|2|value=65000000 ");
    assert_string_equal(family(m, FLOWS, false),
        "day:2024-03-01|-|LBY|ITA|ITA|count=10 day:2024-03-01|-|LBY|ITA|ITA|females=4 "
        "day:2024-03-01|-|LBY|ITA|ITA|males=6 "
        "day:2024-03-01|central_mediterranean|LBY|ITA|ITA|count=40 "
        "day:2024-03-01|central_mediterranean|LBY|ITA|ITA|uasc=3 "
        "day:2024-03-01|central_mediterranean|LBY|ITA|ITA|uasc_base=40 ");
    assert_string_equal(family(m, ROUTE_DAY, false), "central_mediterranean|19783=40 ");
    assert_int_equal(m->cases_n, 0);
    assert_int_equal(m->routes_n, 1);
}

/* ---- order independence ---------------------------------------------------------- */

/* Every family but quality (its out-of-order counts depend on the order),
   the deadlines and every case's state, as one text. */
static char *everything(model_t *m)
{
    size_t size = 1 << 16, len = 0;
    char *text = calloc(1, size);
    for (int f = 0; f < CF_FAMILY_COUNT; f++)
        if (f != QUALITY)
            len += (size_t) snprintf(text + len, size - len, "%d: %s\n", f, family(m, f, true));
    char lines[MAX_ITEMS][256];
    size_t n = 0;
    for (size_t i = 0; i < m->dues_n; i++)
        snprintf(lines[n++], sizeof lines[0], "due %s %lld", m->dues[i].member,
                 (long long) m->dues[i].due);
    for (size_t i = 0; i < m->cases_n; i++) {
        int w = snprintf(lines[n], sizeof lines[0], "case %s ", m->cases[i].key);
        for (size_t b = 0; b < m->cases[i].len && w < 250; b++)
            w += snprintf(lines[n] + w, sizeof lines[0] - (size_t) w, "%02x", m->cases[i].bytes[b]);
        n++;
    }
    qsort(lines, n, sizeof lines[0], (int (*)(const void *, const void *)) strcmp);
    for (size_t i = 0; i < n; i++)
        len += (size_t) snprintf(text + len, size - len, "%s\n", lines[i]);
    return text;
}

static void test_any_order_same_counters(void **state)
{
    model_t *m = *state;
    cf_event_t *ev = calloc(CF_TEST_ORDER_EVENTS, sizeof *ev);
    size_t n = cf_test_order_events(ev);
    model_apply(m, ev, n);
    char *want = everything(m);
    for (int f = 0; f < CF_FAMILY_COUNT; f++)
        if (f != QUALITY && f != MONITOR && f != FUNDING && f != FLOWS)   /* none here */
            if (!strlen(family(m, f, true)))
                fail_msg("family %d is empty", f);
    unsigned seed = 20240301;
    for (int round = 0; round < 8; round++) {
        model_clear(m);
        cf_test_shuffle(ev, n, &seed);
        for (size_t done = 0; done < n;) {      /* random batch sizes, 1..40 */
            size_t take = 1 + (size_t) rand_r(&seed) % 40;
            take = take > n - done ? n - done : take;
            model_apply(m, ev + done, take);
            done += take;
        }
        char *got = everything(m);
        assert_string_equal(got, want);
        free(got);
    }
    free(want);
    free(ev);
}

/* Every permutation of one case's events, in one batch and one by one:
   the same counters, deadlines and packed state. */
static void permute(model_t *m, cf_event_t *ev, size_t k, size_t n, const char *want, int *runs)
{
    if (k == n) {
        for (int split = 0; split < 2; split++) {
            model_clear(m);
            if (split)
                for (size_t i = 0; i < n; i++)
                    model_apply(m, &ev[i], 1);
            else
                model_apply(m, ev, n);
            char *got = everything(m);
            assert_string_equal(got, want);
            free(got);
            ++*runs;
        }
        return;
    }
    for (size_t i = k; i < n; i++) {
        cf_event_t t = ev[k];
        ev[k] = ev[i], ev[i] = t;
        permute(m, ev, k + 1, n, want, runs);
        t = ev[k];
        ev[k] = ev[i], ev[i] = t;
    }
}

static void test_every_permutation(void **state)
{
    model_t *m = *state;
    cf_event_t ev[6];
    cf_test_register(&ev[0], "p-0", CASE_A, "CH-AVR", "fm", "\3\1");
    cf_test_stage(&ev[1], "p-1", CASE_A, CF_EV_CASE_DETAINED);
    at(&ev[1], T0 + 3 * DAY);
    cf_test_stage(&ev[2], "p-2", CASE_A, CF_EV_CASE_RELEASED);
    at(&ev[2], T0 + 9 * DAY);
    cf_test_stage(&ev[3], "p-3", CASE_A, CF_EV_CASE_ASSISTED);
    ev[3].has_value = true, ev[3].value = 12.5;
    cf_test_stage(&ev[4], "p-4", CASE_A, CF_EV_CASE_ARRIVED);
    at(&ev[4], T0 + 20 * DAY);
    cf_test_stage(&ev[5], "p-5", CASE_A, CF_EV_CASE_SCREENED);
    strcpy(ev[5].risk, "medium");
    strcpy(ev[5].screening, "protection");
    model_clear(m);
    model_apply(m, ev, 6);
    char *want = everything(m);
    int runs = 0;
    permute(m, ev, 0, 6, want, &runs);
    assert_int_equal(runs, 2 * 720);
    free(want);
}

/* ---- notifications of test_cf_store_alerts.c ---------------------------------------- */

static void test_vulnerable_once_per_flag(void **state)
{
    model_t *m = *state;
    cf_event_t ev[4];
    cf_test_stage(&ev[0], "v-0", CASE_A, CF_EV_CASE_SCREENED);
    ev[0].vulnerabilities = 1u << CF_VULN_UASC | 1u << CF_VULN_ELDERLY;
    model_apply(m, ev, 1);
    assert_string_equal(topics(m, false), "");
    cf_test_register(&ev[1], "v-1", CASE_A, "EU-IOM-JI", "m", "\2");
    ev[1].vulnerabilities = 1u << CF_VULN_VOT;
    cf_test_stage(&ev[2], "v-2", CASE_A, CF_EV_CASE_SCREENED);
    ev[2].vulnerabilities = 1u << CF_VULN_VOT | 1u << CF_VULN_HEALTH;
    strcpy(ev[2].risk, "high");
    cf_test_stage(&ev[3], "v-3", CASE_A, CF_EV_CASE_SCREENED);
    strcpy(ev[3].risk, "high");
    model_apply(m, ev + 1, 3);
    assert_string_equal(topics(m, true),
        "alert.vulnerable.health alert.vulnerable.risk_high alert.vulnerable.uasc "
        "alert.vulnerable.vot case.EU-IOM-JI.registered case.EU-IOM-JI.screened ");
    assert_string_equal(note_body(m, "alert.vulnerable.risk_high"),
        "case_id='" CASE_A "' event_id='v-2' flag='risk_high' occurred_at=1709251200000 "
        "programme='EU-IOM-JI'");
    assert_string_equal(note_body(m, "alert.vulnerable.uasc"),
        "case_id='" CASE_A "' event_id='v-1' flag='uasc' occurred_at=1709251200000 "
        "programme='EU-IOM-JI'");
}

static void test_predeparture(void **state)
{
    model_t *m = *state;
    cf_event_t ev[3];
    cf_test_register(&ev[0], "p-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "p-1", CASE_A, CF_EV_CASE_SCREENED);
    at(&ev[1], T0 + 12 * DAY);
    cf_test_stage(&ev[2], "p-2", CASE_A, CF_EV_CASE_DEPARTED);
    at(&ev[2], T0 + 14 * DAY);
    model_apply(m, ev, 3);
    assert_null(strstr(topics(m, false), "alert.predeparture"));
    assert_non_null(strstr(topics(m, false), "case.CH-AVR.departed"));
    const int64_t late[] = { 20 * DAY, 5 * DAY };
    for (int i = 0; i < 2; i++) {
        m->notes_n = 0;
        char id[8];
        snprintf(id, sizeof id, "p-%d", 3 + i);
        cf_test_stage(&ev[2], id, CASE_A, CF_EV_CASE_DEPARTED);
        at(&ev[2], T0 + late[i]);
        model_apply(m, ev + 2, 1);
        assert_string_equal(topics(m, false), "alert.predeparture ");
        char want[256];
        snprintf(want, sizeof want, "case_id='" CASE_A "' event_id='%s' occurred_at=%lld "
                 "programme='CH-AVR' window_h=72", id, (long long) (T0 + late[i]));
        assert_string_equal(m->notes[0].body, want);
        model_apply(m, ev + 2, 1);                     /* resent: nothing */
        assert_int_equal(m->notes_n, 1);
    }
    /* a window that is not whole hours is a number, as cmsgpack packs it */
    model_rules(m, "[predeparture]\nwindow = 90m\n");
    m->notes_n = 0;
    cf_test_stage(&ev[2], "p-9", CASE_A, CF_EV_CASE_DEPARTED);
    at(&ev[2], T0 + 30 * DAY);
    model_apply(m, ev + 2, 1);
    assert_non_null(strstr(m->notes[0].body, "window_h=f:1.5"));
}

static void test_spike_once_per_spike(void **state)
{
    model_t *m = *state;
    cf_event_t ev[40];
    size_t n = 0;
    char id[16];
    for (int d = 0; d < 35; d++) {
        snprintf(id, sizeof id, "f-%d", d);
        cf_test_flow(&ev[n++], id, d, 2);
    }
    model_apply(m, ev, n);
    assert_string_equal(topics(m, false), "");
    cf_test_flow(&ev[0], "f-x", 34, 10);
    model_apply(m, ev, 1);
    assert_string_equal(topics(m, false), "alert.spike.western_balkans ");
    assert_string_equal(m->notes[0].body, "day=19817 last_7_days=24 min_count=10 "
                        "previous_28_days=56 ratio=f:1.5 route='western_balkans'");
    cf_test_flow(&ev[0], "f-y", 34, 5);                    /* still a spike: no second alert */
    model_apply(m, ev, 1);
    assert_int_equal(m->notes_n, 1);
    /* 40 days later the window is empty: the spike ends, and a new one alerts */
    cf_test_flow(&ev[0], "f-z", 74, 1);
    model_apply(m, ev, 1);
    assert_int_equal(m->notes_n, 1);
    cf_test_flow(&ev[0], "f-w", 75, 20);
    model_apply(m, ev, 1);
    assert_int_equal(m->notes_n, 2);
    assert_non_null(strstr(m->notes[1].body, "day=19858 last_7_days=21 min_count=10 "
                                             "previous_28_days=0"));
    /* a late flow far behind the window counts in route_day, not in the window */
    cf_test_flow(&ev[0], "f-v", 1, 500);
    model_apply(m, ev, 1);
    assert_int_equal(get(m, ROUTE_DAY, "western_balkans|19784"), 502);
    assert_int_equal(cf_fold_notes(m->fold), 0);
}

/* Three deadlines: CASE_A's registered_departed at T0 + 60 days, CASE_B's
   detained at T0 + 35 days and registered_departed at T0 + 60 days. */
static void overdue_events(cf_event_t ev[3])
{
    cf_test_register(&ev[0], "o-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "o-1", CASE_B, CF_EV_CASE_DETAINED);
    cf_test_register(&ev[2], "o-2", CASE_B, "EU-IOM-JI", "m", "\3");
    at(&ev[1], T0 + 5 * DAY);
}

static void test_overdue_by_time_alone(void **state)
{
    model_t *m = *state;
    cf_event_t ev[3];
    overdue_events(ev);
    model_apply(m, ev, 3);
    assert_int_equal(model_fire(m, T0 + 34 * DAY), 0);
    assert_int_equal(model_fire(m, T0 + 35 * DAY), 1);
    assert_string_equal(m->notes[m->notes_n - 1].body,
        "case_id='" CASE_B "' due=1712275200000 limit='detained' now=1712275200000 "
        "overdue_days=0 programme='EU-IOM-JI' stage='detained'");
    assert_int_equal(model_fire(m, T0 + 61 * DAY), 2);
    assert_int_equal(model_fire(m, T0 + 400 * DAY), 0);
    assert_string_equal(m->notes[m->notes_n - 1].topic, "alert.overdue.registered");
    assert_non_null(strstr(m->notes[m->notes_n - 1].body, "overdue_days=1 "));
    /* a limit that fired never fires again for that case */
    cf_test_stage(&ev[1], "o-3", CASE_B, CF_EV_CASE_RELEASED);
    cf_test_stage(&ev[2], "o-4", CASE_B, CF_EV_CASE_DETAINED);
    at(&ev[2], T0 + 401 * DAY);
    model_apply(m, ev + 1, 2);
    assert_int_equal(model_fire(m, T0 + 900 * DAY), 0);
    /* a departure ends the registered limit before it fires */
    cf_event_t late[2];
    cf_test_register(&late[0], "o-5", "00000003000000000000000000000000", "CH-AVR", "f", "\3");
    cf_test_stage(&late[1], "o-6", "00000003000000000000000000000000", CF_EV_CASE_DEPARTED);
    at(&late[1], T0 + DAY);
    model_apply(m, late, 2);
    assert_int_equal(model_fire(m, T0 + 900 * DAY), 0);
    assert_int_equal(m->dues_n, 0);
    /* a deadline the case no longer has (moved, or another due) does not fire */
    cf_fold_reset(m->fold);
    blob_t *b = blob_find(m->cases, &m->cases_n, CASE_A, false);
    assert_int_equal(cf_fold_load_case(m->fold, CASE_A, b->bytes, b->len), 0);
    assert_false(cf_fold_fire(m->fold, CASE_A, CF_LIMIT_REGISTERED_DEPARTED, T0 + 60 * DAY,
                              T0 + 900 * DAY));
    assert_false(cf_fold_fire(m->fold, "not-loaded", CF_LIMIT_DETAINED, 0, T0));
    cf_fold_finish(m->fold);
    assert_int_equal(cf_fold_cases(m->fold), 0);
}

/* The events of test_overdue_by_time_alone, applied with the clock past
   their deadlines: each fires in the batch's own output, as the timer
   would have fired it, and none goes to the deadline set. */
static void test_overdue_fired_as_applied(void **state)
{
    model_t *m = *state;
    const int64_t now = T0 + 61 * DAY;
    cf_event_t ev[3];
    overdue_events(ev);
    /* the timer's way: to the set as applied, fired a moment later */
    model_apply(m, ev, 3);
    size_t applied_notes = m->notes_n;
    assert_int_equal(m->dues_n, 3);
    assert_int_equal(model_fire(m, now), 3);
    assert_int_equal(m->dues_n, 0);
    blob_t timer[2];
    memcpy(timer, m->cases, sizeof timer);
    char timer_alerts[3][700];
    for (size_t i = 0; i < 3; i++)
        snprintf(timer_alerts[i], sizeof timer_alerts[i], "%s %s", m->notes[applied_notes + i].topic,
                 m->notes[applied_notes + i].body);
    /* the same events with the batch's clock at now */
    model_clear(m);
    free(m->notes);
    m->notes = NULL;
    m->clock = now;
    model_apply(m, ev, 3);
    assert_int_equal(cf_fold_overdue_fired(m->fold), 3);
    assert_int_equal(m->dues_n, 0);
    assert_int_equal(m->notes_n, applied_notes + 3);
    for (size_t k = 0; k < 3; k++) {           /* the same alerts, bodies and all */
        bool found = false;
        for (size_t i = applied_notes; i < m->notes_n; i++) {
            char text[700];
            snprintf(text, sizeof text, "%s %s", m->notes[i].topic, m->notes[i].body);
            found |= strcmp(text, timer_alerts[k]) == 0;
        }
        assert_true(found);
    }
    for (size_t k = 0; k < 2; k++) {           /* and the same states */
        blob_t *b = blob_find(m->cases, &m->cases_n, timer[k].key, false);
        assert_non_null(b);
        assert_int_equal(b->len, timer[k].len);
        assert_memory_equal(b->bytes, timer[k].bytes, b->len);
    }
    assert_int_equal(model_fire(m, T0 + 900 * DAY), 0);     /* once each */
    /* a deadline in the set, due by the clock of a batch that touches its
       case, leaves the set and fires there; another case's stays */
    m->clock = T0;
    cf_event_t more[3];
    cf_test_register(&more[0], "o-5", "00000003000000000000000000000000", "CH-AVR", "f", "\3");
    cf_test_register(&more[1], "o-6", "00000004000000000000000000000000", "CH-AVR", "f", "\3");
    model_apply(m, more, 2);
    assert_int_equal(m->dues_n, 2);
    m->clock = now;
    cf_test_stage(&more[2], "o-7", "00000003000000000000000000000000", CF_EV_CASE_SCREENED);
    size_t before = m->notes_n;
    model_apply(m, more + 2, 1);
    assert_int_equal(m->dues_n, 1);
    assert_string_equal(m->dues[0].member, "00000004000000000000000000000000|registered_departed");
    assert_int_equal(m->notes_n, before + 2);  /* case.CH-AVR.screened and the alert */
    assert_string_equal(m->notes[m->notes_n - 1].topic, "alert.overdue.registered");
    assert_non_null(strstr(m->notes[m->notes_n - 1].body, "now=1714521600000 overdue_days=1 "));
    /* a deadline not yet due by the clock goes to the set; one due at the
       clock's very millisecond fires (as the timer's: due <= now) */
    m->clock = T0 + 60 * DAY - 1;
    cf_test_register(&more[0], "o-8", "00000005000000000000000000000000", "CH-AVR", "f", "\3");
    before = m->notes_n;
    model_apply(m, more, 1);
    assert_int_equal(cf_fold_overdue_fired(m->fold), 0);
    assert_int_equal(m->dues_n, 2);
    for (size_t i = before; i < m->notes_n; i++)
        assert_null(strstr(m->notes[i].topic, "overdue"));
    m->clock = T0 + 60 * DAY;
    cf_test_register(&more[0], "o-9", "00000006000000000000000000000000", "CH-AVR", "f", "\3");
    model_apply(m, more, 1);
    assert_int_equal(m->dues_n, 2);
    assert_string_equal(m->notes[m->notes_n - 1].topic, "alert.overdue.registered");
    assert_non_null(strstr(m->notes[m->notes_n - 1].body, "overdue_days=0 "));
}

static void test_closed_case_has_no_deadline(void **state)
{
    model_t *m = *state;
    cf_event_t ev[2];
    cf_test_register(&ev[0], "c-0", CASE_A, "CH-AVR", "f", "\3");
    model_apply(m, ev, 1);
    assert_int_equal(m->dues_n, 1);
    cf_test_stage(&ev[1], "c-1", CASE_A, CF_EV_CASE_CLOSED);
    model_apply(m, ev + 1, 1);
    assert_int_equal(m->dues_n, 0);
    assert_true(m->cases[0].closed);
    assert_string_equal(family(m, SERVICES, false), "CH-AVR|closure|completed|-|events=1 ");
}

/* ---- packed states --------------------------------------------------------------- */

/* Every case state the order test leaves loads and packs to the same bytes. */
static void test_state_round_trip(void **state)
{
    model_t *m = *state;
    cf_event_t *ev = calloc(CF_TEST_ORDER_EVENTS, sizeof *ev);
    size_t n = cf_test_order_events(ev);
    model_apply(m, ev, n - 20);                    /* some cases not registered yet */
    cf_test_stage(&ev[0], "x-1", "ffff0000000000000000000000000000", CF_EV_CASE_DEPARTED);
    cf_test_stage(&ev[1], "x-2", "ffff0000000000000000000000000000", CF_EV_CASE_MONITORED);
    ev[1].has_composite = true, ev[1].composite = 0.75;
    cf_test_stage(&ev[2], "x-3", "ffff0000000000000000000000000000", CF_EV_CASE_DETAINED);
    model_apply(m, ev, 3);
    size_t largest = 0;
    cf_fold_reset(m->fold);
    for (size_t i = 0; i < m->cases_n; i++) {
        assert_int_equal(cf_fold_load_case(m->fold, m->cases[i].key, m->cases[i].bytes,
                                           m->cases[i].len), 0);
        largest = m->cases[i].len > largest ? m->cases[i].len : largest;
    }
    for (size_t i = 0; i < m->routes_n; i++)
        assert_int_equal(cf_fold_load_route(m->fold, m->routes[i].key, m->routes[i].bytes,
                                            m->routes[i].len), 0);
    cf_fold_finish(m->fold);
    assert_int_equal(cf_fold_cases(m->fold), 0);   /* unchanged: the same bytes */
    assert_int_equal(cf_fold_deadlines(m->fold), 0);
    assert_int_equal(cf_fold_counters(m->fold), 0);
    assert_true(largest < 200);
    free(ev);
}

static void test_garbage_state(void **state)
{
    model_t *m = *state;
    cf_event_t ev[3];
    cf_test_stage(&ev[0], "g-0", CASE_A, CF_EV_CASE_DEPARTED);
    cf_test_stage(&ev[1], "g-1", CASE_A, CF_EV_CASE_ASSISTED);
    cf_test_register(&ev[2], "g-2", CASE_B, "CH-AVR", "f", "\3");
    model_apply(m, ev, 3);
    blob_t good[2] = { *blob_find(m->cases, &m->cases_n, CASE_A, false),
                       *blob_find(m->cases, &m->cases_n, CASE_B, false) };
    /* every cut of a good state, and every byte changed, is refused or read */
    for (int k = 0; k < 2; k++) {
        for (size_t len = 1; len < good[k].len; len++) {
            cf_fold_reset(m->fold);
            assert_int_equal(cf_fold_load_case(m->fold, CASE_A, good[k].bytes, len), -1);
            assert_non_null(strstr(cf_fold_error(m->fold), "not a packed state"));
        }
        for (size_t i = 0; i < good[k].len; i++)
            for (unsigned v = 0; v < 256; v += 7) {
                unsigned char bytes[2048];
                memcpy(bytes, good[k].bytes, good[k].len);
                bytes[i] = (unsigned char) v;
                cf_fold_reset(m->fold);
                if (cf_fold_load_case(m->fold, CASE_A, bytes, good[k].len) == 0) {
                    cf_fold_apply(m->fold, &ev[0], true);
                    cf_fold_finish(m->fold);
                }
            }
    }
    unsigned char later[] = { 3, 0, 0, 0, 0, 0 };
    cf_fold_reset(m->fold);
    assert_int_equal(cf_fold_load_case(m->fold, CASE_A, later, sizeof later), -1);
    assert_non_null(strstr(cf_fold_error(m->fold), "unknown format"));
    unsigned seed = 7;
    for (int round = 0; round < 20000; round++) {
        unsigned char bytes[64];
        size_t len = (size_t) rand_r(&seed) % sizeof bytes;
        for (size_t i = 0; i < len; i++)
            bytes[i] = (unsigned char) rand_r(&seed);
        bytes[0] = round % 2 ? 1 : bytes[0];
        cf_fold_reset(m->fold);
        int rc = cf_fold_load_case(m->fold, CASE_A, bytes, len);
        assert_true(rc == 0 || (rc == -1 && cf_fold_error(m->fold)));
        rc = cf_fold_load_route(m->fold, "r", bytes, len);
        assert_true(rc == 0 || (rc == -1 && cf_fold_error(m->fold)));
    }
}

/* ---- errors ------------------------------------------------------------------------ */

/* A batch whose own sum leaves int64 fails whole (the store dead-letters it). */
static void test_overflow_fails_the_batch(void **state)
{
    model_t *m = *state;
    cf_event_t ev;
    cf_test_stage(&ev, "big", CASE_A, CF_EV_FUNDING_TRANSACTION);
    ev.value = 1e12;                                    /* 1e14 cents */
    cf_fold_reset(m->fold);
    for (int i = 0; i < 92233; i++)
        cf_fold_apply(m->fold, &ev, true);
    assert_null(cf_fold_error(m->fold));
    cf_fold_apply(m->fold, &ev, true);
    assert_non_null(cf_fold_error(m->fold));
    assert_non_null(strstr(cf_fold_error(m->fold), "overflow"));
    assert_non_null(strstr(cf_fold_error(m->fold), "funding"));
    cf_fold_reset(m->fold);                             /* the next batch starts clean */
    assert_null(cf_fold_error(m->fold));
}

static void test_bad_rules(void **state)
{
    model_t *m = *state;
    assert_int_equal(cf_fold_set_rules(m->fold, "\x93", 1), -1);
    assert_non_null(cf_fold_error(m->fold));
    assert_int_equal(cf_fold_set_rules(m->fold, "\x81\xa5spike\x01", 8), -1);
    assert_non_null(strstr(cf_fold_error(m->fold), "spike"));
    /* the rules in force stay */
    cf_event_t ev;
    cf_test_register(&ev, "r-0", CASE_A, "CH-AVR", "f", "\3");
    ev.vulnerabilities = 1u << CF_VULN_VOT;
    model_apply(m, &ev, 1);
    assert_non_null(strstr(topics(m, false), "alert.vulnerable.vot"));
    /* empty rules: no alerts, no deadlines */
    assert_int_equal(cf_fold_set_rules(m->fold, "\x80", 1), 0);
    model_clear(m);
    strcpy(ev.event_id, "r-1");
    model_apply(m, &ev, 1);
    assert_string_equal(topics(m, false), "case.CH-AVR.registered ");
    assert_int_equal(m->dues_n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_registration), T(test_stage_moves), T(test_resent_is_duplicate),
        T(test_duplicate_on_empty_case),
        T(test_late_registration_keeps_stage_times), T(test_duplicate_within_batch),
        T(test_order_does_not_matter), T(test_registration_rules),
        T(test_durations), T(test_earliest_arrival_dates_the_return), T(test_detention),
        T(test_services_wait_for_registration), T(test_funding_and_flows),
        T(test_any_order_same_counters), T(test_every_permutation),
        T(test_vulnerable_once_per_flag), T(test_predeparture), T(test_spike_once_per_spike),
        T(test_overdue_by_time_alone), T(test_overdue_fired_as_applied),
        T(test_closed_case_has_no_deadline),
        T(test_state_round_trip), T(test_garbage_state), T(test_overflow_fails_the_batch),
        T(test_bad_rules),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
