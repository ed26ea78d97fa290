/*  Tests of cf_event: a valid event of each of the 13 types decodes into every
    field it carries; every rejection rule of docs/domain.md is hit at least
    once with its exact reason; event_id survives a rejection; and no input
    crashes the decoder: every strict prefix of every valid event, every
    single-byte mutation of them, and random bytes. Events are built with
    msgpack_packer from a base event per type plus overrides (replace, omit,
    add or repeat a key), so each case states only what it breaks.           */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include "caseflow/cf_event.h"

/* ---- building events ----------------------------------------------------- */

typedef void (*pack_fn)(msgpack_packer *pk);

typedef enum {
    V_END, V_STR, V_UINT, V_INT, V_DBL, V_F32, V_BOOL, V_NIL, V_BIN, V_FN, V_OMIT, V_PAIR
} vkind_t;

typedef struct {
    vkind_t kind;
    const char *key;
    const char *s;
    uint64_t u;
    int64_t i;
    double f;
    pack_fn fn;
    bool append;        /* added even when the base has the key */
} kv_t;

#define S(k, v)     { .kind = V_STR, .key = k, .s = v }
#define U(k, v)     { .kind = V_UINT, .key = k, .u = v }
#define I(k, v)     { .kind = V_INT, .key = k, .i = v }
#define D(k, v)     { .kind = V_DBL, .key = k, .f = v }
#define F32(k, v)   { .kind = V_F32, .key = k, .f = v }
#define BOOL(k, v)  { .kind = V_BOOL, .key = k, .u = v }
#define NIL(k)      { .kind = V_NIL, .key = k }
#define BIN(k, v)   { .kind = V_BIN, .key = k, .s = v }
#define FN(k, f)    { .kind = V_FN, .key = k, .fn = f }
#define OMIT(k)     { .kind = V_OMIT, .key = k }
#define AGAIN(k, v) { .kind = V_STR, .key = k, .s = v, .append = true }
#define PAIR(f)     { .kind = V_PAIR, .key = "", .fn = f, .append = true }
#define END         { .kind = V_END }

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t len = strlen(s);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static void pack_value(msgpack_packer *pk, const kv_t *kv)
{
    switch (kv->kind) {
    case V_STR: pack_str(pk, kv->s); break;
    case V_UINT: msgpack_pack_uint64(pk, kv->u); break;
    case V_INT: msgpack_pack_int64(pk, kv->i); break;
    case V_DBL: msgpack_pack_double(pk, kv->f); break;
    case V_F32: msgpack_pack_float(pk, (float) kv->f); break;
    case V_BOOL: kv->u ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case V_NIL: msgpack_pack_nil(pk); break;
    case V_BIN:
        msgpack_pack_bin(pk, strlen(kv->s));
        msgpack_pack_bin_body(pk, kv->s, strlen(kv->s));
        break;
    case V_FN: kv->fn(pk); break;
    default: fail();
    }
}

static const kv_t *find_override(const kv_t *over, const char *key)
{
    for (; over && over->kind != V_END; over++)
        if (!over->append && strcmp(over->key, key) == 0)
            return over;
    return NULL;
}

static bool in_base(const kv_t *base, const char *key)
{
    for (; base->kind != V_END; base++)
        if (strcmp(base->key, key) == 0)
            return true;
    return false;
}

static void pack_pair(msgpack_packer *pk, const kv_t *kv)
{
    if (kv->kind == V_PAIR) {
        kv->fn(pk);
        return;
    }
    pack_str(pk, kv->key);
    pack_value(pk, kv);
}

/* The base event with the overrides applied, keys in base order (or reversed),
   then the added keys. */
static void pack_event(msgpack_sbuffer *sb, const kv_t *base, const kv_t *over, bool reverse)
{
    const kv_t *pairs[128];
    size_t count = 0, n = 0;
    while (base[n].kind != V_END)
        n++;
    for (size_t k = 0; k < n; k++) {
        const kv_t *kv = &base[reverse ? n - 1 - k : k];
        const kv_t *o = find_override(over, kv->key);
        if (!o || o->kind != V_OMIT)
            pairs[count++] = o ? o : kv;
    }
    for (; over && over->kind != V_END; over++)
        if (over->append || (over->kind != V_OMIT && !in_base(base, over->key)))
            pairs[count++] = over;
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, count);
    for (size_t k = 0; k < count; k++)
        pack_pair(&pk, pairs[k]);
}

/* ---- array and odd values ---------------------------------------------------- */

static void pack_person(msgpack_packer *pk, const char *sex, const char *age, const char *role)
{
    msgpack_pack_map(pk, 3);
    pack_str(pk, "sex");
    pack_str(pk, sex);
    pack_str(pk, "age_band");
    pack_str(pk, age);
    pack_str(pk, "role");
    pack_str(pk, role);
}

static void persons_valid(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 5);
    pack_person(pk, "f", "18-59", "principal");
    pack_person(pk, "m", "5-11", "dependant");
    pack_person(pk, "x", "0-4", "dependant");
    pack_person(pk, "u", "60+", "dependant");
    pack_person(pk, "f", "12-17", "dependant");
}

static void persons_n(msgpack_packer *pk, size_t n)
{
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pack_person(pk, "m", "18-59", i ? "dependant" : "principal");
}

static void persons_0(msgpack_packer *pk) { persons_n(pk, 0); }
static void persons_64(msgpack_packer *pk) { persons_n(pk, 64); }
static void persons_65(msgpack_packer *pk) { persons_n(pk, 65); }

static void persons_bad_age(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 3);
    pack_person(pk, "f", "18-59", "principal");
    pack_person(pk, "m", "18-59", "dependant");
    pack_person(pk, "m", "3-7", "dependant");
}

static void persons_bad_sex(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    pack_person(pk, "z", "18-59", "principal");
}

static void persons_bad_role(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 2);
    pack_person(pk, "f", "18-59", "principal");
    pack_person(pk, "m", "18-59", "head");
}

static void persons_named(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, 4);
    pack_str(pk, "sex");
    pack_str(pk, "f");
    pack_str(pk, "name");
    pack_str(pk, "Awa");
    pack_str(pk, "age_band");
    pack_str(pk, "18-59");
    pack_str(pk, "role");
    pack_str(pk, "principal");
}

static void persons_no_role(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, 2);
    pack_str(pk, "sex");
    pack_str(pk, "f");
    pack_str(pk, "age_band");
    pack_str(pk, "18-59");
}

static void persons_twice(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, 4);
    pack_str(pk, "sex");
    pack_str(pk, "f");
    pack_str(pk, "age_band");
    pack_str(pk, "18-59");
    pack_str(pk, "role");
    pack_str(pk, "principal");
    pack_str(pk, "sex");
    pack_str(pk, "m");
}

static void persons_int_key(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, 1);
    msgpack_pack_int(pk, 1);
    pack_str(pk, "f");
}

static void persons_int_sex(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, 3);
    pack_str(pk, "sex");
    msgpack_pack_int(pk, 1);
    pack_str(pk, "age_band");
    pack_str(pk, "18-59");
    pack_str(pk, "role");
    pack_str(pk, "principal");
}

static void persons_not_map(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    pack_str(pk, "f");
}

static void pack_strs(msgpack_packer *pk, size_t n, const char *const *list)
{
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pack_str(pk, list[i]);
}

static void vulns_valid(msgpack_packer *pk)
{
    pack_strs(pk, 2, (const char *[]) { "health", "single_parent" });
}

static void vulns_all(msgpack_packer *pk)
{
    pack_strs(pk, 7, (const char *[]) { "vot", "uasc", "health", "disability", "elderly",
                                         "pregnant", "single_parent" });
}

static void vulns_none(msgpack_packer *pk) { pack_strs(pk, 0, NULL); }

static void vulns_repeat(msgpack_packer *pk)
{
    pack_strs(pk, 3, (const char *[]) { "vot", "uasc", "vot" });
}

static void vulns_unknown(msgpack_packer *pk)
{
    pack_strs(pk, 2, (const char *[]) { "vot", "sick" });
}

static void vulns_int(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 1);
    msgpack_pack_int(pk, 1);
}

static void transit_valid(msgpack_packer *pk)
{
    pack_strs(pk, 2, (const char *[]) { "TUN", "ITA" });
}

static void transit_n(msgpack_packer *pk, size_t n)
{
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pack_str(pk, "TUN");
}

static void transit_16(msgpack_packer *pk) { transit_n(pk, 16); }
static void transit_17(msgpack_packer *pk) { transit_n(pk, 17); }

static void transit_bad(msgpack_packer *pk)
{
    pack_strs(pk, 2, (const char *[]) { "TUN", "XXX" });
}

static void nest(msgpack_packer *pk, int levels)
{
    for (int i = 0; i < levels; i++)
        msgpack_pack_array(pk, 1);
    msgpack_pack_nil(pk);
}

static void nest_15(msgpack_packer *pk) { nest(pk, 15); }
static void nest_16(msgpack_packer *pk) { nest(pk, 16); }

static void pair_int_key(msgpack_packer *pk)
{
    msgpack_pack_int(pk, 7);
    pack_str(pk, "x");
}

static void pack_map_value(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    pack_str(pk, "a");
    pack_str(pk, "b");
}

/* ---- the base events ------------------------------------------------------- */

#define ENV(type)   S("event_id", "ev-0001"), S("event_type", type), U("schema_version", 1), \
                    U("occurred_at", 1700000000000)
#define CASE        S("case_ref", "CH-2023-000123")

static const kv_t ev_registered[] = {
    ENV("case.registered"), CASE, U("case_seq", 1), U("reported_at", 1700000005000),
    S("source_system", "intake-ch"), S("programme", "CH-AVR"), S("programme_type", "avrr"),
    S("host_country", "CHE"), S("origin_country", "GMB"), FN("persons", persons_valid),
    S("route", "central_mediterranean"), S("category", "rejected_asylum"),
    FN("vulnerabilities", vulns_valid), BOOL("consent", true),
    S("project_id", "XM-DAC-47066-PR-1234"), END };
static const kv_t ev_screened[] = {
    ENV("case.screened"), CASE, S("screening", "medical"), S("outcome", "cleared"),
    FN("vulnerabilities", vulns_all), S("risk", "high"), END };
static const kv_t ev_assisted[] = {
    ENV("case.assisted"), CASE, S("assistance", "cash"), D("value", 250.5),
    S("currency", "CHF"), END };
static const kv_t ev_detained[] = { ENV("case.detained"), CASE, S("country", "LBY"), END };
static const kv_t ev_released[] = { ENV("case.released"), CASE, S("country", "LBY"), END };
static const kv_t ev_departed[] = {
    ENV("case.departed"), CASE, S("departure_country", "LBY"), S("mode", "charter"),
    BOOL("escort", true), FN("transit", transit_valid), END };
static const kv_t ev_arrived[] = {
    ENV("case.arrived"), CASE, S("arrival_country", "GMB"), S("admin1", "Banjul"), END };
static const kv_t ev_reintegration[] = {
    ENV("case.reintegration"), CASE, S("dimension", "economic"), S("modality", "in_kind"),
    S("level", "individual"), U("value", 1500), S("currency", "EUR"), END };
static const kv_t ev_monitored[] = {
    ENV("case.monitored"), CASE, D("economic", 0.5), F32("social", 0.75), U("psychosocial", 1),
    D("composite", 0.25), END };
static const kv_t ev_reunified[] = { ENV("case.reunified"), CASE, S("country", "DEU"), END };
static const kv_t ev_referred[] = {
    ENV("case.referred"), CASE, S("service", "mental_health"), S("provider_type", "ngo"),
    S("country", "GMB"), BOOL("urgent", true), END };
static const kv_t ev_closed[] = { ENV("case.closed"), CASE, S("reason", "completed"), END };
static const kv_t ev_funding[] = {
    ENV("funding.transaction"), S("project_id", "XM-DAC-47066-PR-1234"), S("donor", "CH-SEM"),
    U("transaction_type", 3), U("value", 130000), S("currency", "USD"),
    S("recipient_country", "LBY"), END };
static const kv_t ev_flow[] = {
    ENV("flow.observed"), S("point", "Lampedusa"), S("country", "ITA"), S("from_country", "LBY"),
    S("to_country", "ITA"), U("count", 13000), S("route", "central_mediterranean"),
    U("females", 1200), U("males", 11000), U("uasc", 800), END };

static const kv_t *const s_bases[CF_EV_TYPE_COUNT] = {
    ev_registered, ev_screened, ev_assisted, ev_detained, ev_released, ev_departed, ev_arrived,
    ev_reintegration, ev_monitored, ev_reunified, ev_referred, ev_closed, ev_funding, ev_flow };

/* ---- decoding ---------------------------------------------------------------- */

static bool touches(const kv_t *over, const char *key)
{
    for (; over && over->kind != V_END; over++)
        if (strcmp(over->key, key) == 0)
            return true;
    return false;
}

static int decode(const kv_t *base, const kv_t *over, cf_event_t *event, char *reason)
{
    msgpack_sbuffer sb;
    pack_event(&sb, base, over, false);
    int rc = cf_event_decode(event, sb.data, sb.size, reason, CF_REASON_MAX);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void accept_(const kv_t *base, const kv_t *over, cf_event_t *event, int line)
{
    char reason[CF_REASON_MAX];
    if (decode(base, over, event, reason) != 0) {
        print_error("line %d: rejected: %s\n", line, reason);
        fail();
    }
    assert_string_equal(reason, "");
}

/* Rejected with exactly this reason; event_id kept unless the case touches
   it; no raw case_ref left behind. */
static void reject_(const kv_t *base, const kv_t *over, const char *want, int line)
{
    cf_event_t event;
    char reason[CF_REASON_MAX];
    int rc = decode(base, over, &event, reason);
    if (rc != -1 || strcmp(reason, want) != 0) {
        print_error("line %d: rc %d, reason \"%s\"\n         expected \"%s\"\n", line, rc,
                    reason, want);
        fail();
    }
    if (!touches(over, "event_id"))
        assert_string_equal(event.event_id, "ev-0001");
    assert_string_equal(event.case_ref, "");
    assert_int_equal(event.person_count, 0);
}

#define ACCEPT(base, event, ...) accept_(base, (const kv_t[]) { __VA_ARGS__, END }, event, __LINE__)
#define REJECT(base, want, ...) reject_(base, (const kv_t[]) { __VA_ARGS__, END }, want, __LINE__)

static int decode_raw(const void *data, size_t size, cf_event_t *event, char *reason)
{
    return cf_event_decode(event, data, size, reason, CF_REASON_MAX);
}

/* ---- valid events -------------------------------------------------------------- */

static void test_valid_registered(void **state)
{
    (void) state;
    cf_event_t e;
    accept_(ev_registered, NULL, &e, __LINE__);
    assert_string_equal(e.event_id, "ev-0001");
    assert_int_equal(e.type, CF_EV_CASE_REGISTERED);
    assert_int_equal(e.occurred_at, 1700000000000);
    assert_true(e.has_reported_at);
    assert_int_equal(e.reported_at, 1700000005000);
    assert_string_equal(e.source_system, "intake-ch");
    assert_string_equal(e.case_ref, "CH-2023-000123");
    assert_true(e.has_case_seq);
    assert_int_equal(e.case_seq, 1);
    assert_string_equal(e.case_id, "");
    assert_string_equal(e.programme, "CH-AVR");
    assert_string_equal(e.programme_type, "avrr");
    assert_string_equal(e.host_country, "CHE");
    assert_string_equal(e.origin_country, "GMB");
    assert_string_equal(e.destination_country, "GMB");      /* the default */
    assert_string_equal(e.route, "central_mediterranean");
    assert_string_equal(e.category, "rejected_asylum");
    assert_int_equal(e.vulnerabilities, 1u << CF_VULN_HEALTH | 1u << CF_VULN_SINGLE_PARENT);
    assert_true(e.has_consent);
    assert_true(e.consent);
    assert_string_equal(e.project_id, "XM-DAC-47066-PR-1234");
    assert_int_equal(e.person_count, 5);
    assert_int_equal(e.persons[0].sex, 'f');
    assert_string_equal(cf_vocab_age_band_name(e.persons[0].age_band), "18-59");
    assert_true(e.persons[0].principal);
    assert_int_equal(e.persons[1].sex, 'm');
    assert_string_equal(cf_vocab_age_band_name(e.persons[1].age_band), "5-11");
    assert_false(e.persons[1].principal);
    assert_int_equal(e.persons[2].sex, 'x');
    assert_int_equal(e.persons[2].age_band, 0);
    assert_int_equal(e.persons[3].sex, 'u');
    assert_string_equal(cf_vocab_age_band_name(e.persons[3].age_band), "60+");
    assert_string_equal(cf_vocab_age_band_name(e.persons[4].age_band), "12-17");
    assert_false(e.has_value);

    /* The minimum, and the explicit destination. */
    ACCEPT(ev_registered, &e, OMIT("case_seq"), OMIT("reported_at"), OMIT("source_system"),
           OMIT("route"), OMIT("category"), OMIT("vulnerabilities"), OMIT("consent"),
           OMIT("project_id"), S("destination_country", "SEN"));
    assert_false(e.has_case_seq || e.has_reported_at || e.has_consent);
    assert_string_equal(e.source_system, "");
    assert_string_equal(e.route, "");
    assert_int_equal(e.vulnerabilities, 0);
    assert_string_equal(e.destination_country, "SEN");
    ACCEPT(ev_registered, &e, FN("persons", persons_64), FN("vulnerabilities", vulns_none),
           BOOL("consent", false), S("programme", "EU-IOM-JI_2"), S("route", "x"),
           S("source_system", ""));
    assert_int_equal(e.person_count, 64);
    assert_true(e.has_consent);
    assert_false(e.consent);
}

static void test_valid_case_types(void **state)
{
    (void) state;
    cf_event_t e;
    accept_(ev_screened, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_SCREENED);
    assert_string_equal(e.screening, "medical");
    assert_string_equal(e.outcome, "cleared");
    assert_string_equal(e.risk, "high");
    assert_int_equal(e.vulnerabilities, (1u << CF_VULN_COUNT) - 1);
    assert_false(e.has_case_seq);

    accept_(ev_assisted, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_ASSISTED);
    assert_string_equal(e.assistance, "cash");
    assert_true(e.has_value);
    assert_true(e.value == 250.5);
    assert_string_equal(e.currency, "CHF");
    ACCEPT(ev_assisted, &e, OMIT("value"), OMIT("currency"));
    assert_false(e.has_value);
    assert_string_equal(e.currency, "");
    ACCEPT(ev_assisted, &e, OMIT("value"));     /* a currency alone is harmless */
    ACCEPT(ev_assisted, &e, U("value", 0));
    assert_true(e.has_value && e.value == 0);

    accept_(ev_detained, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_DETAINED);
    assert_string_equal(e.country, "LBY");
    accept_(ev_released, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_RELEASED);
    assert_string_equal(e.country, "LBY");

    accept_(ev_departed, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_DEPARTED);
    assert_string_equal(e.departure_country, "LBY");
    assert_string_equal(e.mode, "charter");
    assert_true(e.has_escort && e.escort);
    assert_int_equal(e.transit_count, 2);
    assert_string_equal(e.transit[0], "TUN");
    assert_string_equal(e.transit[1], "ITA");
    ACCEPT(ev_departed, &e, FN("transit", transit_16), OMIT("escort"));
    assert_int_equal(e.transit_count, 16);
    assert_false(e.has_escort);

    accept_(ev_arrived, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_ARRIVED);
    assert_string_equal(e.arrival_country, "GMB");
    assert_string_equal(e.admin1, "Banjul");
    ACCEPT(ev_arrived, &e, S("admin1", "Région de Tombouctou"), S("arrival_country", "XKX"));
    assert_string_equal(e.admin1, "Région de Tombouctou");

    accept_(ev_reintegration, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_REINTEGRATION);
    assert_string_equal(e.dimension, "economic");
    assert_string_equal(e.modality, "in_kind");
    assert_string_equal(e.level, "individual");
    assert_true(e.has_value && e.value == 1500);
    assert_string_equal(e.currency, "EUR");

    accept_(ev_monitored, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_MONITORED);
    assert_true(e.economic == 0.5 && e.social == 0.75 && e.psychosocial == 1);
    assert_true(e.has_composite && e.composite == 0.25);
    ACCEPT(ev_monitored, &e, OMIT("composite"), U("economic", 0));
    assert_false(e.has_composite);

    accept_(ev_reunified, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_REUNIFIED);
    assert_string_equal(e.country, "DEU");

    accept_(ev_referred, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_REFERRED);
    assert_string_equal(e.service, "mental_health");
    assert_string_equal(e.provider_type, "ngo");
    assert_string_equal(e.country, "GMB");
    assert_true(e.has_urgent && e.urgent);
    ACCEPT(ev_referred, &e, OMIT("country"), OMIT("urgent"));
    assert_string_equal(e.country, "");
    assert_false(e.has_urgent);

    accept_(ev_closed, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_CASE_CLOSED);
    assert_string_equal(e.reason, "completed");
    assert_string_equal(e.case_ref, "CH-2023-000123");
}

static void test_valid_funding_and_flow(void **state)
{
    (void) state;
    cf_event_t e;
    accept_(ev_funding, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_FUNDING_TRANSACTION);
    assert_string_equal(e.project_id, "XM-DAC-47066-PR-1234");
    assert_string_equal(e.donor, "CH-SEM");
    assert_int_equal(e.transaction_type, 3);
    assert_true(e.has_value && e.value == 130000);
    assert_string_equal(e.currency, "USD");
    assert_string_equal(e.recipient_country, "LBY");
    assert_string_equal(e.case_ref, "");
    ACCEPT(ev_funding, &e, U("transaction_type", 11), OMIT("recipient_country"),
           D("value", 650000.0));
    assert_int_equal(e.transaction_type, 11);
    assert_string_equal(e.recipient_country, "");

    accept_(ev_flow, NULL, &e, __LINE__);
    assert_int_equal(e.type, CF_EV_FLOW_OBSERVED);
    assert_string_equal(e.point, "Lampedusa");
    assert_string_equal(e.country, "ITA");
    assert_string_equal(e.from_country, "LBY");
    assert_string_equal(e.to_country, "ITA");
    assert_int_equal(e.count, 13000);
    assert_string_equal(e.route, "central_mediterranean");
    assert_true(e.has_females && e.has_males && e.has_uasc);
    assert_int_equal(e.females, 1200);
    assert_int_equal(e.males, 11000);
    assert_int_equal(e.uasc, 800);
    ACCEPT(ev_flow, &e, U("females", 2000), U("males", 11000), U("uasc", 13000));  /* = count */
    ACCEPT(ev_flow, &e, OMIT("females"), OMIT("males"), OMIT("uasc"), OMIT("route"),
           U("count", 0));
    assert_false(e.has_females || e.has_males || e.has_uasc);
}

/* Every value of every set is accepted and stored as sent. */
static void test_every_enum_value(void **state)
{
    (void) state;
    static const struct { const kv_t *base; const char *field; const char *values[8]; } sets[] = {
        { ev_registered, "programme_type", { "avrr", "vhr", "evacuation", "family_reunification",
                                             "resettlement", "idp_return" } },
        { ev_registered, "category", { "stranded", "irregular", "rejected_asylum",
                                       "withdrawn_asylum", "regular", "displaced" } },
        { ev_screened, "screening", { "vulnerability", "medical", "documents", "immigration" } },
        { ev_screened, "outcome", { "cleared", "not_cleared", "pending", "referred" } },
        { ev_screened, "risk", { "low", "medium", "high" } },
        { ev_assisted, "assistance", { "counselling", "accommodation", "medical", "psychosocial",
                                       "documents", "cash", "transport" } },
        { ev_departed, "mode", { "charter", "commercial", "land", "sea" } },
        { ev_reintegration, "dimension", { "economic", "social", "psychosocial" } },
        { ev_reintegration, "modality", { "cash", "in_kind", "voucher", "service" } },
        { ev_reintegration, "level", { "individual", "collective", "community" } },
        { ev_closed, "reason", { "completed", "withdrawn", "no_show", "absconded", "deceased",
                                 "referred" } },
        { ev_referred, "service", { "health", "mental_health", "legal", "shelter", "education",
                                    "livelihood", "family_tracing" } },
        { ev_referred, "service", { "child_protection", "gbv", "other" } },
        { ev_referred, "provider_type", { "government", "un_agency", "ngo", "community",
                                          "private" } },
    };
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
        for (size_t j = 0; sets[i].values[j]; j++) {
            cf_event_t e;
            char reason[CF_REASON_MAX];
            const kv_t over[] = { S(sets[i].field, sets[i].values[j]), END };
            if (decode(sets[i].base, over, &e, reason) != 0) {
                print_error("%s = %s: %s\n", sets[i].field, sets[i].values[j], reason);
                fail();
            }
            assert_true(memmem(&e, sizeof e, sets[i].values[j], strlen(sets[i].values[j]) + 1));
        }
}

/* ---- rejections: the bytes ------------------------------------------------------- */

static void test_reject_bytes(void **state)
{
    (void) state;
    cf_event_t e;
    char reason[CF_REASON_MAX];
    static unsigned char big[CF_EVENT_MAX_BYTES + 10000];
    assert_int_equal(decode_raw(big, 70000, &e, reason), -1);
    assert_string_equal(reason, "event: 70000 bytes exceeds the limit of 65536 bytes");
    assert_int_equal(decode_raw("\xc1", 1, &e, reason), -1);
    assert_string_equal(reason, "event: not valid msgpack");
    assert_int_equal(decode_raw("", 0, &e, reason), -1);
    assert_string_equal(reason, "event: not valid msgpack");
    assert_int_equal(decode_raw(NULL, 0, &e, reason), -1);
    assert_string_equal(reason, "event: not valid msgpack");
    assert_int_equal(decode_raw("\x92\x01\x02", 3, &e, reason), -1);
    assert_string_equal(reason, "event: not a map");
    assert_int_equal(decode_raw("\xa1x", 2, &e, reason), -1);
    assert_string_equal(reason, "event: not a map");
    assert_int_equal(decode_raw("\xc0", 1, &e, reason), -1);
    assert_string_equal(reason, "event: not a map");
    /* A count that the bytes cannot hold is refused before msgpack-c sees it. */
    assert_int_equal(decode_raw("\xdf\xff\xff\xff\xff", 5, &e, reason), -1);
    assert_string_equal(reason, "event: not valid msgpack");
    assert_int_equal(decode_raw("\xdd\x7f\xff\xff\xff\xc0", 6, &e, reason), -1);
    assert_string_equal(reason, "event: not valid msgpack");
    assert_int_equal(decode_raw("\xdb\xff\xff\xff\xff", 5, &e, reason), -1);
    assert_string_equal(reason, "event: not valid msgpack");

    /* Extra bytes after a complete map; event_id is still reported. */
    msgpack_sbuffer sb;
    pack_event(&sb, ev_closed, NULL, false);
    msgpack_sbuffer_write(&sb, "\xc0", 1);
    assert_int_equal(decode_raw(sb.data, sb.size, &e, reason), -1);
    assert_string_equal(reason, "event: extra bytes after the map");
    assert_string_equal(e.event_id, "ev-0001");
    msgpack_sbuffer_destroy(&sb);

    /* Nesting past 16 levels is refused before parsing, so without event_id. */
    const kv_t deep[] = { FN("extra", nest_16), END };
    assert_int_equal(decode(ev_closed, deep, &e, reason), -1);
    assert_string_equal(reason, "event: nested deeper than 16 levels");
    assert_string_equal(e.event_id, "");
    REJECT(ev_closed, "extra: unknown field for case.closed", FN("extra", nest_15));
}

/* Exactly the limit is parsed; one byte more is not. */
static void test_size_limit(void **state)
{
    (void) state;
    char *filler = malloc(CF_EVENT_MAX_BYTES);
    memset(filler, 'a', CF_EVENT_MAX_BYTES);
    filler[60000] = '\0';
    msgpack_sbuffer sb;
    const kv_t over[] = { S("filler", filler), END };
    pack_event(&sb, ev_closed, over, false);
    size_t len = 60000 + CF_EVENT_MAX_BYTES - sb.size;
    msgpack_sbuffer_destroy(&sb);
    filler[60000] = 'a';
    filler[len] = '\0';
    pack_event(&sb, ev_closed, over, false);
    assert_int_equal(sb.size, CF_EVENT_MAX_BYTES);
    cf_event_t e;
    char reason[CF_REASON_MAX];
    assert_int_equal(decode_raw(sb.data, sb.size, &e, reason), -1);
    assert_string_equal(reason, "filler: unknown field for case.closed");
    msgpack_sbuffer_destroy(&sb);
    filler[len] = 'a';
    filler[len + 1] = '\0';
    pack_event(&sb, ev_closed, over, false);
    assert_int_equal(decode_raw(sb.data, sb.size, &e, reason), -1);
    assert_string_equal(reason, "event: 65537 bytes exceeds the limit of 65536 bytes");
    assert_string_equal(e.event_id, "");        /* too big to be parsed at all */
    msgpack_sbuffer_destroy(&sb);
    free(filler);
}

/* ---- rejections: keys and the envelope -------------------------------------------- */

static void test_reject_keys(void **state)
{
    (void) state;
    REJECT(ev_closed, "event: a key is not a string (got integer)", PAIR(pair_int_key));
    REJECT(ev_closed, "reason: appears twice", AGAIN("reason", "withdrawn"));
    REJECT(ev_closed, "event_id: appears twice", AGAIN("event_id", "ev-0002"));
    REJECT(ev_registered, "phone: unknown field for case.registered", S("phone", "+41 79"));
    REJECT(ev_registered, "donor: unknown field for case.registered", S("donor", "CH-SEM"));
    REJECT(ev_registered, "name: unknown field for case.registered", S("name", "x"),
           S("birth_date", "1990-01-01"));
    REJECT(ev_closed, "country: unknown field for case.closed", S("country", "CHE"));
    REJECT(ev_flow, "currency: unknown field for flow.observed", S("currency", "EUR"));
    REJECT(ev_closed, "\\x01\\x27\\x5cfield\\xc3\\xa9: unknown field for case.closed",
           S("\x01'\\field\xc3\xa9", "x"));
    REJECT(ev_closed, "aaaaaaaaaaaaaaaaaaaaaaaa...: unknown field for case.closed",
           S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x"));
    REJECT(ev_funding, "case_ref: not allowed for funding.transaction", CASE);
    REJECT(ev_flow, "case_seq: not allowed for flow.observed", U("case_seq", 3));
}

static void test_reject_envelope(void **state)
{
    (void) state;
    REJECT(ev_closed, "event_id: required", OMIT("event_id"));
    REJECT(ev_closed, "event_id: empty string", S("event_id", ""));
    REJECT(ev_closed, "event_id: 65 bytes exceeds the limit of 64",
           S("event_id", "12345678901234567890123456789012345678901234567890123456789012345"));
    REJECT(ev_closed, "event_id: byte 2 is not visible ASCII (0x21..0x7E)", S("event_id", "ev 1"));
    REJECT(ev_closed, "event_id: byte 0 is not visible ASCII (0x21..0x7E)", S("event_id", "\xc3\xa9"));
    REJECT(ev_closed, "event_id: expected a string, got integer", U("event_id", 12));
    REJECT(ev_closed, "event_type: required", OMIT("event_type"));
    REJECT(ev_closed, "event_type: 'case.opened' is not a known event type",
           S("event_type", "case.opened"));
    REJECT(ev_closed, "event_type: expected a string, got binary", BIN("event_type", "case.closed"));
    REJECT(ev_closed, "schema_version: required", OMIT("schema_version"));
    REJECT(ev_closed, "schema_version: 2 is not supported, only 1", U("schema_version", 2));
    REJECT(ev_closed, "schema_version: 0 is not supported, only 1", U("schema_version", 0));
    REJECT(ev_closed, "schema_version: -1 is not supported, only 1", I("schema_version", -1));
    REJECT(ev_closed, "schema_version: expected an integer, got string", S("schema_version", "1"));
    REJECT(ev_closed, "occurred_at: required for case.closed", OMIT("occurred_at"));
    REJECT(ev_closed, "occurred_at: expected an integer, got string",
           S("occurred_at", "2023-11-14T22:13:20Z"));
    REJECT(ev_closed, "occurred_at: expected an integer, got float", D("occurred_at", 1.7e12));
    REJECT(ev_closed, "occurred_at: -1 is outside 0..253402300799999", I("occurred_at", -1));
    REJECT(ev_closed, "occurred_at: 253402300800000 is outside 0..253402300799999",
           U("occurred_at", 253402300800000));
    REJECT(ev_closed, "reported_at: 18446744073709551615 is outside 0..253402300799999",
           U("reported_at", UINT64_MAX));
    REJECT(ev_closed, "reported_at: expected an integer, got nil", NIL("reported_at"));
    REJECT(ev_closed, "source_system: 65 bytes exceeds the limit of 64",
           S("source_system", "12345678901234567890123456789012345678901234567890123456789012345"));
    REJECT(ev_closed, "source_system: contains a control character", S("source_system", "a\nb"));
    REJECT(ev_closed, "source_system: contains a control character", S("source_system", "a\xc2\x85"));
    REJECT(ev_closed, "source_system: not valid UTF-8", S("source_system", "\xff"));
    REJECT(ev_closed, "source_system: not valid UTF-8", S("source_system", "\xc0\xaf"));
    REJECT(ev_closed, "source_system: not valid UTF-8", S("source_system", "\xed\xa0\x80"));
    REJECT(ev_closed, "source_system: not valid UTF-8", S("source_system", "\xf4\x90\x80\x80"));
    REJECT(ev_closed, "source_system: not valid UTF-8", S("source_system", "ab\xe2\x82"));
    REJECT(ev_closed, "case_ref: required for case.closed", OMIT("case_ref"));
    REJECT(ev_closed, "case_ref: empty string", S("case_ref", ""));
    REJECT(ev_closed, "case_ref: 129 bytes exceeds the limit of 128",
           S("case_ref", "123456789012345678901234567890123456789012345678901234567890123456789"
                         "012345678901234567890123456789012345678901234567890123456789"));
    REJECT(ev_closed, "case_ref: expected a string, got binary", BIN("case_ref", "CH-1"));
    REJECT(ev_closed, "case_ref: contains a control character", S("case_ref", "CH\t1"));
    REJECT(ev_closed, "case_seq: -3 is negative", I("case_seq", -3));
    REJECT(ev_closed, "case_seq: expected a non-negative integer, got float", D("case_seq", 2.0));
}

/* event_id and source_system are kept on any rejection after parsing. */
static void test_reject_keeps_id(void **state)
{
    (void) state;
    cf_event_t e;
    char reason[CF_REASON_MAX];
    const kv_t bad_type[] = { S("event_type", "nope"), S("source_system", "desk-7"), END };
    assert_int_equal(decode(ev_registered, bad_type, &e, reason), -1);
    assert_string_equal(e.event_id, "ev-0001");
    assert_string_equal(e.source_system, "desk-7");
    assert_string_equal(e.programme, "");
    const kv_t bad_id[] = { S("event_id", "has space"), S("host_country", "XXX"), END };
    assert_int_equal(decode(ev_registered, bad_id, &e, reason), -1);
    assert_string_equal(reason, "event_id: byte 3 is not visible ASCII (0x21..0x7E)");
    assert_string_equal(e.event_id, "");
    assert_string_equal(e.source_system, "intake-ch");
    const kv_t twice[] = { AGAIN("event_id", "ev-0002"), END };
    assert_int_equal(decode(ev_registered, twice, &e, reason), -1);
    assert_string_equal(e.event_id, "");
    const kv_t late[] = { S("origin_country", "gmb"), END };    /* fails after case_ref */
    assert_int_equal(decode(ev_registered, late, &e, reason), -1);
    assert_string_equal(reason, "origin_country: 'gmb' is not an ISO 3166-1 alpha-3 code");
    assert_string_equal(e.event_id, "ev-0001");
    assert_string_equal(e.case_ref, "");
}

/* ---- rejections: the fields of each type ------------------------------------------ */

static void test_reject_registered(void **state)
{
    (void) state;
    const kv_t *b = ev_registered;
    REJECT(b, "programme: required for case.registered", OMIT("programme"));
    REJECT(b, "programme_type: required for case.registered", OMIT("programme_type"));
    REJECT(b, "host_country: required for case.registered", OMIT("host_country"));
    REJECT(b, "origin_country: required for case.registered", OMIT("origin_country"));
    REJECT(b, "persons: required for case.registered", OMIT("persons"));
    REJECT(b, "programme: 33 bytes exceeds the limit of 32",
           S("programme", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"));
    REJECT(b, "programme: empty string", S("programme", ""));
    REJECT(b, "programme: character '.' is not allowed, only A-Z, a-z, 0-9, _ and -",
           S("programme", "CH.AVR"));
    REJECT(b, "programme: character '|' is not allowed, only A-Z, a-z, 0-9, _ and -",
           S("programme", "CH|AVR"));
    REJECT(b, "programme: character '\\xc3' is not allowed, only A-Z, a-z, 0-9, _ and -",
           S("programme", "Z\xc3\xbcrich"));
    REJECT(b, "programme: expected a string, got integer", U("programme", 7));
    REJECT(b, "route: character ' ' is not allowed, only A-Z, a-z, 0-9, _ and -",
           S("route", "central mediterranean"));
    REJECT(b, "route: 33 bytes exceeds the limit of 32",
           S("route", "central_mediterranean_and_further"));
    REJECT(b, "programme_type: 'avr' is not one of avrr, vhr, evacuation, family_reunification, "
              "resettlement, idp_return", S("programme_type", "avr"));
    REJECT(b, "category: 'refugee' is not one of stranded, irregular, rejected_asylum, "
              "withdrawn_asylum, regular, displaced", S("category", "refugee"));
    REJECT(b, "host_country: 'XXX' is not an ISO 3166-1 alpha-3 code", S("host_country", "XXX"));
    REJECT(b, "host_country: 'CH' is not an ISO 3166-1 alpha-3 code", S("host_country", "CH"));
    REJECT(b, "host_country: 'che' is not an ISO 3166-1 alpha-3 code", S("host_country", "che"));
    REJECT(b, "origin_country: expected a string, got integer", U("origin_country", 270));
    REJECT(b, "destination_country: 'ANT' is not an ISO 3166-1 alpha-3 code",
           S("destination_country", "ANT"));
    REJECT(b, "consent: expected a boolean, got integer", U("consent", 1));
    REJECT(b, "project_id: 65 bytes exceeds the limit of 64",
           S("project_id", "XM-DAC-47066-1234567890123456789012345678901234567890123456789012"));
    REJECT(b, "project_id: empty string", S("project_id", ""));
}

static void test_reject_persons(void **state)
{
    (void) state;
    const kv_t *b = ev_registered;
    REJECT(b, "persons[2].age_band: '3-7' is not one of 0-4, 5-11, 12-17, 18-59, 60+",
           FN("persons", persons_bad_age));
    REJECT(b, "persons[0].sex: 'z' is not one of f, m, x, u", FN("persons", persons_bad_sex));
    REJECT(b, "persons[1].role: 'head' is not one of principal, dependant",
           FN("persons", persons_bad_role));
    REJECT(b, "persons[0].name: unknown field", FN("persons", persons_named));
    REJECT(b, "persons[0].role: required", FN("persons", persons_no_role));
    REJECT(b, "persons[0].sex: appears twice", FN("persons", persons_twice));
    REJECT(b, "persons[0]: a key is not a string (got integer)", FN("persons", persons_int_key));
    REJECT(b, "persons[0].sex: expected a string, got integer", FN("persons", persons_int_sex));
    REJECT(b, "persons[0]: expected a map, got string", FN("persons", persons_not_map));
    REJECT(b, "persons: empty, expected 1..64 entries", FN("persons", persons_0));
    REJECT(b, "persons: 65 entries exceed the limit of 64", FN("persons", persons_65));
    REJECT(b, "persons: expected an array, got string", S("persons", "5"));
    REJECT(b, "persons: expected an array, got map", FN("persons", pack_map_value));
}

static void test_reject_lists(void **state)
{
    (void) state;
    REJECT(ev_registered, "vulnerabilities[2]: 'vot' appears twice",
           FN("vulnerabilities", vulns_repeat));
    REJECT(ev_screened, "vulnerabilities[1]: 'sick' is not one of vot, uasc, health, disability, "
                        "elderly, pregnant, single_parent", FN("vulnerabilities", vulns_unknown));
    REJECT(ev_screened, "vulnerabilities[0]: expected a string, got integer",
           FN("vulnerabilities", vulns_int));
    REJECT(ev_screened, "vulnerabilities: expected an array, got string",
           S("vulnerabilities", "vot"));
    REJECT(ev_departed, "transit: 17 entries exceed the limit of 16", FN("transit", transit_17));
    REJECT(ev_departed, "transit[1]: 'XXX' is not an ISO 3166-1 alpha-3 code",
           FN("transit", transit_bad));
    REJECT(ev_departed, "transit: expected an array, got string", S("transit", "TUN"));
}

static void test_reject_case_fields(void **state)
{
    (void) state;
    REJECT(ev_screened, "screening: required for case.screened", OMIT("screening"));
    REJECT(ev_screened, "outcome: required for case.screened", OMIT("outcome"));
    REJECT(ev_screened, "screening: 'dental' is not one of vulnerability, medical, documents, "
                        "immigration", S("screening", "dental"));
    REJECT(ev_screened, "outcome: 'ok' is not one of cleared, not_cleared, pending, referred",
           S("outcome", "ok"));
    REJECT(ev_screened, "risk: 'HIGH' is not one of low, medium, high", S("risk", "HIGH"));
    REJECT(ev_assisted, "assistance: required for case.assisted", OMIT("assistance"));
    REJECT(ev_assisted, "assistance: 'food' is not one of counselling, accommodation, medical, "
                        "psychosocial, documents, cash, transport", S("assistance", "food"));
    REJECT(ev_assisted, "value: -1 is negative", I("value", -1));
    REJECT(ev_assisted, "value: -0.5 is negative", D("value", -0.5));
    REJECT(ev_assisted, "value: 1e+13 is over the limit of 1e12", D("value", 1e13));
    REJECT(ev_assisted, "value: not a finite number", D("value", NAN));
    REJECT(ev_assisted, "value: not a finite number", D("value", INFINITY));
    REJECT(ev_assisted, "value: expected a number, got string", S("value", "250"));
    REJECT(ev_assisted, "currency: required when value is given", OMIT("currency"));
    REJECT(ev_assisted, "currency: 'ABC' is not an ISO 4217 currency code", S("currency", "ABC"));
    REJECT(ev_assisted, "currency: 'usd' is not an ISO 4217 currency code", S("currency", "usd"));
    REJECT(ev_detained, "country: required for case.detained", OMIT("country"));
    REJECT(ev_released, "country: 'LY' is not an ISO 3166-1 alpha-3 code", S("country", "LY"));
    REJECT(ev_reunified, "country: required for case.reunified", OMIT("country"));
    REJECT(ev_departed, "departure_country: required for case.departed", OMIT("departure_country"));
    REJECT(ev_departed, "mode: required for case.departed", OMIT("mode"));
    REJECT(ev_departed, "mode: 'air' is not one of charter, commercial, land, sea", S("mode", "air"));
    REJECT(ev_departed, "escort: expected a boolean, got string", S("escort", "yes"));
    REJECT(ev_arrived, "arrival_country: required for case.arrived", OMIT("arrival_country"));
    REJECT(ev_arrived, "admin1: 65 bytes exceeds the limit of 64",
           S("admin1", "12345678901234567890123456789012345678901234567890123456789012345"));
    REJECT(ev_arrived, "admin1: contains a control character", S("admin1", "Banjul\x7f"));
    REJECT(ev_reintegration, "dimension: required for case.reintegration", OMIT("dimension"));
    REJECT(ev_reintegration, "modality: required for case.reintegration", OMIT("modality"));
    REJECT(ev_reintegration, "dimension: 'health' is not one of economic, social, psychosocial",
           S("dimension", "health"));
    REJECT(ev_reintegration, "modality: 'loan' is not one of cash, in_kind, voucher, service",
           S("modality", "loan"));
    REJECT(ev_reintegration, "level: 'family' is not one of individual, collective, community",
           S("level", "family"));
    REJECT(ev_reintegration, "currency: required when value is given", OMIT("currency"));
    REJECT(ev_monitored, "economic: required for case.monitored", OMIT("economic"));
    REJECT(ev_monitored, "social: required for case.monitored", OMIT("social"));
    REJECT(ev_monitored, "psychosocial: required for case.monitored", OMIT("psychosocial"));
    REJECT(ev_monitored, "economic: 1.5 is outside 0..1", D("economic", 1.5));
    REJECT(ev_monitored, "social: -0.1 is outside 0..1", D("social", -0.1));
    REJECT(ev_monitored, "psychosocial: 2 is outside 0..1", U("psychosocial", 2));
    REJECT(ev_monitored, "composite: 1.01 is outside 0..1", D("composite", 1.01));
    REJECT(ev_monitored, "economic: expected a number, got boolean", BOOL("economic", true));
    REJECT(ev_monitored, "composite: not a finite number", D("composite", NAN));
    REJECT(ev_closed, "reason: required for case.closed", OMIT("reason"));
    REJECT(ev_closed, "reason: 'done' is not one of completed, withdrawn, no_show, absconded, "
                      "deceased, referred", S("reason", "done"));
    REJECT(ev_referred, "service: required for case.referred", OMIT("service"));
    REJECT(ev_referred, "provider_type: required for case.referred", OMIT("provider_type"));
    REJECT(ev_referred, "service: 'dental' is not one of health, mental_health, legal, shelter, "
                        "education, livelihood, family_tracing, child_protection, gbv, other",
           S("service", "dental"));
    REJECT(ev_referred, "provider_type: 'church' is not one of government, un_agency, ngo, "
                        "community, private", S("provider_type", "church"));
    REJECT(ev_referred, "service: expected a string, got integer", U("service", 3));
    REJECT(ev_referred, "country: 'ZZZ' is not an ISO 3166-1 alpha-3 code",
           S("country", "ZZZ"));
    REJECT(ev_referred, "urgent: expected a boolean, got string", S("urgent", "yes"));
    REJECT(ev_referred, "case_ref: required for case.referred", OMIT("case_ref"));
    REJECT(ev_referred, "mode: unknown field for case.referred", S("mode", "land"));
}

static void test_reject_funding_and_flow(void **state)
{
    (void) state;
    const kv_t *f = ev_funding;
    REJECT(f, "project_id: required for funding.transaction", OMIT("project_id"));
    REJECT(f, "donor: required for funding.transaction", OMIT("donor"));
    REJECT(f, "transaction_type: required for funding.transaction", OMIT("transaction_type"));
    REJECT(f, "value: required for funding.transaction", OMIT("value"));
    REJECT(f, "currency: required for funding.transaction", OMIT("currency"));
    REJECT(f, "donor: 65 bytes exceeds the limit of 64",
           S("donor", "12345678901234567890123456789012345678901234567890123456789012345"));
    REJECT(f, "donor: empty string", S("donor", ""));
    REJECT(f, "transaction_type: 5 is not one of 1, 2, 3, 4, 11", U("transaction_type", 5));
    REJECT(f, "transaction_type: 0 is not one of 1, 2, 3, 4, 11", U("transaction_type", 0));
    REJECT(f, "transaction_type: 267 is not one of 1, 2, 3, 4, 11", U("transaction_type", 267));
    REJECT(f, "transaction_type: -3 is not one of 1, 2, 3, 4, 11", I("transaction_type", -3));
    REJECT(f, "transaction_type: expected a non-negative integer, got string",
           S("transaction_type", "3"));
    REJECT(f, "value: -130000 is negative", I("value", -130000));
    REJECT(f, "currency: 'XXX' is not an ISO 4217 currency code", S("currency", "XXX"));
    REJECT(f, "recipient_country: 'LBA' is not an ISO 3166-1 alpha-3 code",
           S("recipient_country", "LBA"));

    const kv_t *o = ev_flow;
    REJECT(o, "point: required for flow.observed", OMIT("point"));
    REJECT(o, "country: required for flow.observed", OMIT("country"));
    REJECT(o, "from_country: required for flow.observed", OMIT("from_country"));
    REJECT(o, "to_country: required for flow.observed", OMIT("to_country"));
    REJECT(o, "count: required for flow.observed", OMIT("count"));
    REJECT(o, "point: 65 bytes exceeds the limit of 64",
           S("point", "12345678901234567890123456789012345678901234567890123456789012345"));
    REJECT(o, "from_country: 'Libya' is not an ISO 3166-1 alpha-3 code", S("from_country", "Libya"));
    REJECT(o, "to_country: 'ITX' is not an ISO 3166-1 alpha-3 code", S("to_country", "ITX"));
    REJECT(o, "count: -5 is negative", I("count", -5));
    REJECT(o, "count: expected a non-negative integer, got float", D("count", 13000.0));
    REJECT(o, "females: expected a non-negative integer, got string", S("females", "many"));
    REJECT(o, "males: -1 is negative", I("males", -1));
    REJECT(o, "route: empty string", S("route", ""));
    REJECT(o, "females: 13001 exceeds count 13000", U("females", 13001));
    REJECT(o, "males: 13001 exceeds count 13000", U("males", 13001), OMIT("females"));
    REJECT(o, "males: females 2001 + males 11000 exceed count 13000", U("females", 2001));
    REJECT(o, "uasc: 13001 exceeds count 13000", U("uasc", 13001));
    REJECT(o, "count: 1000000001 is over the limit of 1000000000", U("count", 1000000001));
    REJECT(o, "males: females 1 + males 1000000000 exceed count 1000000000",
           U("count", 1000000000), U("females", 1), U("males", 1000000000));
}

/* The reason depends on the fields, not on the order of the keys. */
static void test_key_order(void **state)
{
    (void) state;
    const kv_t over[] = { S("category", "refugee"), S("host_country", "XXX"),
                          S("programme", "a b"), END };
    char forward[CF_REASON_MAX], backward[CF_REASON_MAX];
    cf_event_t e;
    msgpack_sbuffer sb;
    pack_event(&sb, ev_registered, over, false);
    assert_int_equal(cf_event_decode(&e, sb.data, sb.size, forward, sizeof forward), -1);
    msgpack_sbuffer_destroy(&sb);
    pack_event(&sb, ev_registered, over, true);
    assert_int_equal(cf_event_decode(&e, sb.data, sb.size, backward, sizeof backward), -1);
    msgpack_sbuffer_destroy(&sb);
    assert_string_equal(forward, "programme: character ' ' is not allowed, only A-Z, a-z, 0-9, "
                                 "_ and -");
    assert_string_equal(forward, backward);
    pack_event(&sb, ev_registered, NULL, true);
    assert_int_equal(cf_event_decode(&e, sb.data, sb.size, NULL, 0), 0);
    msgpack_sbuffer_destroy(&sb);
}

/* A short buffer gets a cut, terminated reason; no buffer is fine too. */
static void test_reason_buffer(void **state)
{
    (void) state;
    msgpack_sbuffer sb;
    const kv_t over[] = { S("host_country", "XXX"), END };
    pack_event(&sb, ev_registered, over, false);
    cf_event_t e;
    char reason[13];
    memset(reason, 'z', sizeof reason);
    assert_int_equal(cf_event_decode(&e, sb.data, sb.size, reason, sizeof reason), -1);
    assert_string_equal(reason, "host_country");
    assert_int_equal(cf_event_decode(&e, sb.data, sb.size, NULL, 0), -1);
    assert_int_equal(cf_event_decode(&e, sb.data, sb.size, reason, 0), -1);
    assert_string_equal(e.event_id, "ev-0001");
    msgpack_sbuffer_destroy(&sb);
    char long_reason[CF_REASON_MAX];
    const kv_t echo[] = { S("category", "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
                                        "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"), END };
    assert_int_equal(decode(ev_registered, echo, &e, long_reason), -1);
    assert_true(strlen(long_reason) == CF_REASON_MAX - 1);
    for (size_t i = 0; long_reason[i]; i++)
        assert_true(long_reason[i] >= 0x20 && long_reason[i] < 0x7f);
}

/* ---- robustness ----------------------------------------------------------------- */

static void test_every_prefix_rejected(void **state)
{
    (void) state;
    for (int type = 0; type < CF_EV_TYPE_COUNT; type++) {
        msgpack_sbuffer sb;
        pack_event(&sb, s_bases[type], NULL, false);
        cf_event_t e;
        char reason[CF_REASON_MAX];
        assert_int_equal(decode_raw(sb.data, sb.size, &e, reason), 0);
        for (size_t len = 0; len < sb.size; len++) {
            char *copy = malloc(len ? len : 1);        /* exact size: ASan sees overreads */
            memcpy(copy, sb.data, len);
            assert_int_equal(decode_raw(copy, len, &e, reason), -1);
            assert_string_equal(reason, "event: not valid msgpack");
            free(copy);
        }
        msgpack_sbuffer_destroy(&sb);
    }
}

/* Every byte of every valid event replaced by a few values: decoded or
   rejected with a reason, never a crash. */
static void test_mutations(void **state)
{
    (void) state;
    static const unsigned char subs[] = { 0x00, 0x7f, 0x80, 0x9f, 0xc1, 0xcb, 0xd9, 0xdd, 0xdf, 0xff };
    size_t accepted = 0, rejected = 0;
    for (int type = 0; type < CF_EV_TYPE_COUNT; type++) {
        msgpack_sbuffer sb;
        pack_event(&sb, s_bases[type], NULL, false);
        unsigned char *copy = malloc(sb.size);
        for (size_t at = 0; at < sb.size; at++)
            for (size_t k = 0; k < sizeof subs; k++) {
                memcpy(copy, sb.data, sb.size);
                copy[at] = subs[k];
                cf_event_t e;
                char reason[CF_REASON_MAX] = "unset";
                if (decode_raw(copy, sb.size, &e, reason) == 0) {
                    accepted++;
                    assert_string_equal(reason, "");
                    assert_true(strlen(e.event_id) > 0);
                } else {
                    rejected++;
                    assert_true(strlen(reason) > 0 && strchr(reason, ':'));
                }
            }
        free(copy);
        msgpack_sbuffer_destroy(&sb);
    }
    assert_true(rejected > accepted);
}

static void test_random_bytes(void **state)
{
    (void) state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 20000; round++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = (size_t) (seed >> 33) % 300;
        unsigned char *buf = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[i] = (unsigned char) (seed >> 56);
        }
        if (len && round % 2)
            buf[0] = (unsigned char) (0x80 | (buf[0] & 0x0f));     /* start like a map */
        cf_event_t e;
        char reason[CF_REASON_MAX];
        assert_int_equal(decode_raw(buf, len, &e, reason), -1);
        assert_true(strlen(reason) > 0);
        free(buf);
    }
}

/* ---- names ------------------------------------------------------------------------ */

static void test_names(void **state)
{
    (void) state;
    assert_string_equal(cf_event_type_name(CF_EV_CASE_REGISTERED), "case.registered");
    assert_string_equal(cf_event_type_name(CF_EV_CASE_REINTEGRATION), "case.reintegration");
    assert_string_equal(cf_event_type_name(CF_EV_FLOW_OBSERVED), "flow.observed");
    assert_null(cf_event_type_name(CF_EV_TYPE_COUNT));
    assert_null(cf_event_type_name((cf_event_type_t) -1));
    static const cf_stage_t stages[CF_EV_TYPE_COUNT] = {
        CF_STAGE_REGISTERED, CF_STAGE_SCREENED, CF_STAGE_ASSISTED, CF_STAGE_NONE, CF_STAGE_NONE,
        CF_STAGE_DEPARTED, CF_STAGE_ARRIVED, CF_STAGE_REINTEGRATING, CF_STAGE_NONE, CF_STAGE_NONE,
        CF_STAGE_NONE, CF_STAGE_CLOSED, CF_STAGE_NONE, CF_STAGE_NONE };
    for (int type = 0; type < CF_EV_TYPE_COUNT; type++) {
        assert_int_equal(cf_event_stage(type), stages[type]);
        assert_int_equal(cf_event_is_case_event(type), type <= CF_EV_CASE_CLOSED);
        assert_non_null(cf_event_type_name(type));
    }
    assert_int_equal(cf_event_stage(CF_EV_TYPE_COUNT), CF_STAGE_NONE);
    assert_false(cf_event_is_case_event(CF_EV_TYPE_COUNT));
    const char *stage_names[] = { "registered", "screened", "assisted", "departed", "arrived",
                                  "reintegrating", "closed" };
    for (int stage = 0; stage < CF_STAGE_COUNT; stage++)
        assert_string_equal(cf_vocab_stage_name(stage), stage_names[stage]);
    assert_null(cf_vocab_stage_name(CF_STAGE_NONE));
    assert_null(cf_vocab_stage_name(CF_STAGE_COUNT));
    assert_string_equal(cf_vocab_age_band_name(0), "0-4");
    assert_string_equal(cf_vocab_age_band_name(4), "60+");
    assert_null(cf_vocab_age_band_name(5));
    assert_string_equal(cf_vocab_vuln_name(CF_VULN_VOT), "vot");
    assert_string_equal(cf_vocab_vuln_name(CF_VULN_SINGLE_PARENT), "single_parent");
    assert_null(cf_vocab_vuln_name(CF_VULN_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_registered),
        cmocka_unit_test(test_valid_case_types),
        cmocka_unit_test(test_valid_funding_and_flow),
        cmocka_unit_test(test_every_enum_value),
        cmocka_unit_test(test_reject_bytes),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_reject_keys),
        cmocka_unit_test(test_reject_envelope),
        cmocka_unit_test(test_reject_keeps_id),
        cmocka_unit_test(test_reject_registered),
        cmocka_unit_test(test_reject_persons),
        cmocka_unit_test(test_reject_lists),
        cmocka_unit_test(test_reject_case_fields),
        cmocka_unit_test(test_reject_funding_and_flow),
        cmocka_unit_test(test_key_order),
        cmocka_unit_test(test_reason_buffer),
        cmocka_unit_test(test_every_prefix_rejected),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
