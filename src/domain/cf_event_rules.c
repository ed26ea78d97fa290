/*  cf_event_rules: the fields of docs/domain.md as data. The field table says,
    for every field name, what kind of value it takes, its limits or its set
    of values and where it lands in cf_event_t; the type table
    (cf_event_types.c) says which fields each event type requires and allows,
    and cf_vocab holds the domain's plain lists (flags, risks, sexes, age
    bands). Adding a field is a row here, not new code, unless it is a new
    kind of value. The checks themselves live in cf_event_check.c; this file
    picks one per field, walks the arrays (persons, vulnerabilities, transit)
    and applies the rules that tie fields together. Free text and case_ref
    are never echoed in a reason.                                           */
#include "cf_event_internal.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NO_FLAG         SIZE_MAX

typedef enum {
    K_ID, K_TYPE, K_SCHEMA, K_TIME, K_UINT, K_HEADCOUNT, K_TEXT, K_TOKEN, K_ENUM, K_COUNTRY,
    K_CURRENCY, K_BOOL, K_AMOUNT, K_SCORE, K_TXTYPE, K_PERSONS, K_VULNS, K_TRANSIT
} rules_kind_t;

typedef struct {
    const char *name;
    size_t name_len;            /* strlen(name), from the literal: lookups compare it first */
    rules_kind_t kind;
    size_t min, max;            /* bytes for strings, entries for arrays */
    size_t at;                  /* offset of the value in cf_event_t */
    size_t size;                /* its size, for strings */
    size_t has;                 /* offset of its has_ flag, or NO_FLAG */
    const char *const *set;     /* K_ENUM: the values, NULL-terminated */
} rules_field_t;

static const char *const s_programme_types[] = {
    "avrr", "vhr", "evacuation", "family_reunification", "resettlement", "idp_return", NULL };
static const char *const s_categories[] = {
    "stranded", "irregular", "rejected_asylum", "withdrawn_asylum", "regular", "displaced", NULL };
static const char *const s_screenings[] = {
    "vulnerability", "medical", "documents", "immigration", NULL };
static const char *const s_outcomes[] = { "cleared", "not_cleared", "pending", "referred", NULL };
static const char *const s_assistances[] = {
    "counselling", "accommodation", "medical", "psychosocial", "documents", "cash", "transport", NULL };
static const char *const s_modes[] = { "charter", "commercial", "land", "sea", NULL };
static const char *const s_dimensions[] = { "economic", "social", "psychosocial", NULL };
static const char *const s_modalities[] = { "cash", "in_kind", "voucher", "service", NULL };
static const char *const s_levels[] = { "individual", "collective", "community", NULL };
static const char *const s_services[] = {
    "health", "mental_health", "legal", "shelter", "education", "livelihood", "family_tracing",
    "child_protection", "gbv", "other", NULL };
static const char *const s_provider_types[] = {
    "government", "un_agency", "ngo", "community", "private", NULL };
static const char *const s_reasons[] = {
    "completed", "withdrawn", "no_show", "absconded", "deceased", "referred", NULL };
static const char *const s_roles[] = { "principal", "dependant", NULL };

#define AT(member)      offsetof(cf_event_t, member)
#define SIZE(member)    sizeof(((cf_event_t *) 0)->member)
#define NAME(name)      name, sizeof name - 1
#define STR(name, kind, min, max, member) \
    { NAME(name), kind, min, max, AT(member), SIZE(member), NO_FLAG, NULL }
#define ENUM(name, member, set) \
    { NAME(name), K_ENUM, 0, 0, AT(member), SIZE(member), NO_FLAG, set }
#define VAL(name, kind, member)     { NAME(name), kind, 0, 0, AT(member), 0, NO_FLAG, NULL }
#define OPT(name, kind, member, flag) { NAME(name), kind, 0, 0, AT(member), 0, AT(flag), NULL }
#define LIST(name, kind, min, max)  { NAME(name), kind, min, max, 0, 0, NO_FLAG, NULL }

static const rules_field_t s_fields[] = {
    [CF_F_EVENT_ID]            = STR("event_id", K_ID, 1, CF_EVENT_ID_MAX, event_id),
    [CF_F_EVENT_TYPE]          = { NAME("event_type"), K_TYPE, 0, 0, 0, 0, NO_FLAG, NULL },
    [CF_F_SCHEMA_VERSION]      = { NAME("schema_version"), K_SCHEMA, 0, 0, 0, 0, NO_FLAG, NULL },
    [CF_F_OCCURRED_AT]         = VAL("occurred_at", K_TIME, occurred_at),
    [CF_F_REPORTED_AT]         = OPT("reported_at", K_TIME, reported_at, has_reported_at),
    [CF_F_SOURCE_SYSTEM]       = STR("source_system", K_TEXT, 0, CF_SOURCE_MAX, source_system),
    [CF_F_CASE_REF]            = STR("case_ref", K_TEXT, 1, CF_CASE_REF_MAX, case_ref),
    [CF_F_CASE_SEQ]            = OPT("case_seq", K_UINT, case_seq, has_case_seq),
    [CF_F_PROGRAMME]           = STR("programme", K_TOKEN, 1, CF_PROGRAMME_MAX, programme),
    [CF_F_PROGRAMME_TYPE]      = ENUM("programme_type", programme_type, s_programme_types),
    [CF_F_HOST_COUNTRY]        = STR("host_country", K_COUNTRY, 3, 3, host_country),
    [CF_F_ORIGIN_COUNTRY]      = STR("origin_country", K_COUNTRY, 3, 3, origin_country),
    [CF_F_DESTINATION_COUNTRY] = STR("destination_country", K_COUNTRY, 3, 3, destination_country),
    [CF_F_ROUTE]               = STR("route", K_TOKEN, 1, CF_ROUTE_MAX, route),
    [CF_F_CATEGORY]            = ENUM("category", category, s_categories),
    [CF_F_PERSONS]             = LIST("persons", K_PERSONS, 1, CF_PERSONS_MAX),
    [CF_F_VULNERABILITIES]     = LIST("vulnerabilities", K_VULNS, 0, CF_VULN_COUNT),
    [CF_F_CONSENT]             = OPT("consent", K_BOOL, consent, has_consent),
    [CF_F_PROJECT_ID]          = STR("project_id", K_TEXT, 1, CF_NAME_MAX, project_id),
    [CF_F_SCREENING]           = ENUM("screening", screening, s_screenings),
    [CF_F_OUTCOME]             = ENUM("outcome", outcome, s_outcomes),
    [CF_F_RISK]                = ENUM("risk", risk, cf_vocab_risks),
    [CF_F_ASSISTANCE]          = ENUM("assistance", assistance, s_assistances),
    [CF_F_VALUE]               = OPT("value", K_AMOUNT, value, has_value),
    [CF_F_CURRENCY]            = STR("currency", K_CURRENCY, 3, 3, currency),
    [CF_F_COUNTRY]             = STR("country", K_COUNTRY, 3, 3, country),
    [CF_F_DEPARTURE_COUNTRY]   = STR("departure_country", K_COUNTRY, 3, 3, departure_country),
    [CF_F_MODE]                = ENUM("mode", mode, s_modes),
    [CF_F_ESCORT]              = OPT("escort", K_BOOL, escort, has_escort),
    [CF_F_TRANSIT]             = LIST("transit", K_TRANSIT, 0, CF_TRANSIT_MAX),
    [CF_F_ARRIVAL_COUNTRY]     = STR("arrival_country", K_COUNTRY, 3, 3, arrival_country),
    [CF_F_ADMIN1]              = STR("admin1", K_TEXT, 1, CF_NAME_MAX, admin1),
    [CF_F_DIMENSION]           = ENUM("dimension", dimension, s_dimensions),
    [CF_F_MODALITY]            = ENUM("modality", modality, s_modalities),
    [CF_F_LEVEL]               = ENUM("level", level, s_levels),
    [CF_F_ECONOMIC]            = VAL("economic", K_SCORE, economic),
    [CF_F_SOCIAL]              = VAL("social", K_SCORE, social),
    [CF_F_PSYCHOSOCIAL]        = VAL("psychosocial", K_SCORE, psychosocial),
    [CF_F_COMPOSITE]           = OPT("composite", K_SCORE, composite, has_composite),
    [CF_F_SERVICE]             = ENUM("service", service, s_services),
    [CF_F_PROVIDER_TYPE]       = ENUM("provider_type", provider_type, s_provider_types),
    [CF_F_URGENT]              = OPT("urgent", K_BOOL, urgent, has_urgent),
    [CF_F_REASON]              = ENUM("reason", reason, s_reasons),
    [CF_F_DONOR]               = STR("donor", K_TEXT, 1, CF_NAME_MAX, donor),
    [CF_F_TRANSACTION_TYPE]    = VAL("transaction_type", K_TXTYPE, transaction_type),
    [CF_F_RECIPIENT_COUNTRY]   = STR("recipient_country", K_COUNTRY, 3, 3, recipient_country),
    [CF_F_POINT]               = STR("point", K_TEXT, 1, CF_NAME_MAX, point),
    [CF_F_FROM_COUNTRY]        = STR("from_country", K_COUNTRY, 3, 3, from_country),
    [CF_F_TO_COUNTRY]          = STR("to_country", K_COUNTRY, 3, 3, to_country),
    [CF_F_COUNT]               = VAL("count", K_HEADCOUNT, count),
    [CF_F_FEMALES]             = OPT("females", K_UINT, females, has_females),
    [CF_F_MALES]               = OPT("males", K_UINT, males, has_males),
    [CF_F_UASC]                = OPT("uasc", K_UINT, uasc, has_uasc),
};
_Static_assert(sizeof s_fields / sizeof *s_fields == CF_F_COUNT_ALL, "a field without its row");
_Static_assert(CF_F_COUNT_ALL <= 64, "field masks are 64 bits");

/* A linear scan: 50 short names, and a map with many unknown keys stops at
   the first. The first byte and the length go first: they turn most names
   away without comparing them (every key of every event comes here). */
int cf_event_field_find(const char *name, size_t len)
{
    if (len == 0)
        return -1;              /* no field is nameless */
    for (int id = 0; id < CF_F_COUNT_ALL; id++)
        if (s_fields[id].name[0] == name[0] && s_fields[id].name_len == len
            && memcmp(s_fields[id].name, name, len) == 0)
            return id;
    return -1;
}

/* The name of a field id, for reasons. */
const char *cf_event_field_name(cf_field_id_t id)
{
    assert(id >= 0 && id < CF_F_COUNT_ALL);
    return s_fields[id].name;
}

/* Copies a checked string into its char array in the event. */
static void rules_store(cf_decode_t *d, const rules_field_t *f, const char *s, size_t len)
{
    assert(len < f->size);
    char *to = (char *) d->event + f->at;
    if (len)
        memcpy(to, s, len);
    to[len] = '\0';
}

/* ---- strings ------------------------------------------------------------- */

static int rules_check_string(cf_decode_t *d, const rules_field_t *f, const msgpack_object *o)
{
    const char *s = NULL;
    size_t len = 0;
    if (f->kind == K_ENUM) {
        int index = cf_event_check_enum(d, f->name, f->set, o);
        if (index < 0)
            return -1;
        rules_store(d, f, f->set[index], strlen(f->set[index]));
        return 0;
    }
    if (f->kind == K_COUNTRY || f->kind == K_CURRENCY) {
        if (cf_event_check_code(d, f->name, o, f->kind == K_CURRENCY, &s) < 0)
            return -1;
        rules_store(d, f, s, 3);
        return 0;
    }
    if (cf_event_check_string(d, f->name, o, &s, &len) < 0)
        return -1;
    int rc = f->kind == K_ID ? cf_event_check_id(d, f->name, s, len, f->min, f->max)
           : f->kind == K_TOKEN ? cf_event_check_token(d, f->name, s, len, f->min, f->max)
           : cf_event_check_text(d, f->name, s, len, f->min, f->max);
    if (rc == 0)
        rules_store(d, f, s, len);
    return rc;
}

/* ---- arrays -------------------------------------------------------------- */

static int rules_array(cf_decode_t *d, const rules_field_t *f, const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return cf_event_check_type(d, f->name, "an array", o);
    size_t n = o->via.array.size;
    if (n < f->min)
        return cf_event_fail(d, "%s: empty, expected %zu..%zu entries", f->name, f->min, f->max);
    if (n > f->max)
        return cf_event_fail(d, "%s: %zu entries exceed the limit of %zu", f->name, n, f->max);
    return 0;
}

/* One persons[i] map: exactly sex, age_band and role. */
static int rules_person(cf_decode_t *d, unsigned i, const msgpack_object *o, cf_person_t *person)
{
    static const char *const names[] = { "sex", "age_band", "role" };
    static const char *const *const sets[] = { cf_vocab_sexes, cf_vocab_age_bands, s_roles };
    char path[64], echo[CF_ECHO_BUF];
    cf_fmt(path, sizeof path, "persons[%u]", i);
    if (o->type != MSGPACK_OBJECT_MAP)
        return cf_event_check_type(d, path, "a map", o);
    const msgpack_object *values[3] = { NULL, NULL, NULL };
    for (uint32_t k = 0; k < o->via.map.size; k++) {
        const msgpack_object *key = &o->via.map.ptr[k].key;
        if (key->type != MSGPACK_OBJECT_STR)
            return cf_event_fail(d, "%s: a key is not a string (got %s)", path, cf_event_got(key));
        int j = 2;
        while (j >= 0 && !(strlen(names[j]) == key->via.str.size
                           && memcmp(names[j], key->via.str.ptr, key->via.str.size) == 0))
            j--;
        if (j < 0)
            return cf_event_fail(d, "%s.%s: unknown field", path,
                                 cf_event_echo(echo, key->via.str.ptr, key->via.str.size));
        if (values[j])
            return cf_event_fail(d, "%s.%s: appears twice", path, names[j]);
        values[j] = &o->via.map.ptr[k].val;
    }
    int index[3];
    for (int j = 0; j < 3; j++)
        if (!values[j])
            return cf_event_fail(d, "%s.%s: required", path, names[j]);
    for (int j = 0; j < 3; j++) {
        char field[80];
        cf_fmt(field, sizeof field, "%s.%s", path, names[j]);
        if ((index[j] = cf_event_check_enum(d, field, sets[j], values[j])) < 0)
            return -1;
    }
    person->sex = cf_vocab_sexes[index[0]][0];
    person->age_band = (uint8_t) index[1];
    person->principal = index[2] == 0;
    return 0;
}

static int rules_persons(cf_decode_t *d, const rules_field_t *f, const msgpack_object *o)
{
    if (rules_array(d, f, o) < 0)
        return -1;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (rules_person(d, i, &o->via.array.ptr[i], &d->event->persons[i]) < 0)
            return -1;
    d->event->person_count = (uint8_t) o->via.array.size;
    return 0;
}

static int rulecf_vocab_vulns(cf_decode_t *d, const rules_field_t *f, const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return cf_event_check_type(d, f->name, "an array", o);
    uint32_t mask = 0;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        char path[48];
        cf_fmt(path, sizeof path, "%s[%" PRIu32 "]", f->name, i);
        int index = cf_event_check_enum(d, path, cf_vocab_vulns, &o->via.array.ptr[i]);
        if (index < 0)
            return -1;
        if (mask & (UINT32_C(1) << index))
            return cf_event_fail(d, "%s: '%s' appears twice", path, cf_vocab_vulns[index]);
        mask |= UINT32_C(1) << index;
    }
    d->event->vulnerabilities = mask;
    return 0;
}

static int rules_transit(cf_decode_t *d, const rules_field_t *f, const msgpack_object *o)
{
    if (rules_array(d, f, o) < 0)
        return -1;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        char path[48];
        const char *s = NULL;
        cf_fmt(path, sizeof path, "%s[%" PRIu32 "]", f->name, i);
        if (cf_event_check_code(d, path, &o->via.array.ptr[i], false, &s) < 0)
            return -1;
        memcpy(d->event->transit[i], s, 3);
        d->event->transit[i][3] = '\0';
    }
    d->event->transit_count = (uint8_t) o->via.array.size;
    return 0;
}

/* ---- numbers, booleans ----------------------------------------------------- */

static int rules_check_scalar(cf_decode_t *d, const rules_field_t *f, const msgpack_object *o)
{
    char *at = (char *) d->event + f->at;
    uint64_t u = 0;
    double x = 0;
    switch (f->kind) {
    case K_SCHEMA:
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == 1)
            return 0;
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            return cf_event_fail(d, "%s: %" PRIu64 " is not supported, only 1", f->name, o->via.u64);
        if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return cf_event_fail(d, "%s: %" PRId64 " is not supported, only 1", f->name, o->via.i64);
        return cf_event_check_type(d, f->name, "an integer", o);
    case K_TIME:
        return cf_event_check_time(d, f->name, o, (int64_t *) at);
    case K_UINT:
    case K_HEADCOUNT:
        if (cf_event_check_uint(d, f->name, o, &u) < 0)
            return -1;
        if (f->kind == K_HEADCOUNT && u > CF_HEADCOUNT_MAX)
            return cf_event_fail(d, "%s: %" PRIu64 " is over the limit of %llu", f->name, u,
                                 (unsigned long long) CF_HEADCOUNT_MAX);
        *(uint64_t *) at = u;
        return 0;
    case K_TXTYPE:
        if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return cf_event_fail(d, "%s: %" PRId64 " is not one of 1, 2, 3, 4, 11", f->name, o->via.i64);
        if (cf_event_check_uint(d, f->name, o, &u) < 0)
            return -1;
        if (u == 0 || (u > 4 && u != 11))
            return cf_event_fail(d, "%s: %" PRIu64 " is not one of 1, 2, 3, 4, 11", f->name, u);
        *(uint8_t *) at = (uint8_t) u;
        return 0;
    case K_AMOUNT:
    case K_SCORE:
        if (cf_event_check_number(d, f->name, o, &x) < 0)
            return -1;
        if (x < 0 && f->kind == K_AMOUNT)
            return cf_event_fail(d, "%s: %g is negative", f->name, x);
        if (x > CF_AMOUNT_MAX && f->kind == K_AMOUNT)
            return cf_event_fail(d, "%s: %g is over the limit of 1e12", f->name, x);
        if ((x < 0 || x > 1) && f->kind == K_SCORE)
            return cf_event_fail(d, "%s: %g is outside 0..1", f->name, x);
        *(double *) at = x;
        return 0;
    case K_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return cf_event_check_type(d, f->name, "a boolean", o);
        *(bool *) at = o->via.boolean;
        return 0;
    default:
        assert(!"not a scalar kind");
        return cf_event_fail(d, "%s: internal error", f->name);
    }
}

/* Dispatches on the field's kind; sets its has_ flag only when it passed. */
int cf_event_field_check(cf_decode_t *d, cf_field_id_t id, const msgpack_object *value)
{
    assert(d && value && id >= 0 && id < CF_F_COUNT_ALL && id != CF_F_EVENT_TYPE);
    const rules_field_t *f = &s_fields[id];
    int rc;
    switch (f->kind) {
    case K_ID: case K_TEXT: case K_TOKEN: case K_ENUM: case K_COUNTRY: case K_CURRENCY:
        rc = rules_check_string(d, f, value);
        break;
    case K_PERSONS:
        rc = rules_persons(d, f, value);
        break;
    case K_VULNS:
        rc = rulecf_vocab_vulns(d, f, value);
        break;
    case K_TRANSIT:
        rc = rules_transit(d, f, value);
        break;
    default:
        rc = rules_check_scalar(d, f, value);
        break;
    }
    if (rc == 0 && f->has != NO_FLAG)
        *(bool *) ((char *) d->event + f->has) = true;
    return rc;
}

/* ---- rules across fields ---------------------------------------------------- */

/* A breakdown never exceeds the total it breaks down. */
static int rules_flow_counts(cf_decode_t *d)
{
    const cf_event_t *e = d->event;
    if (e->has_females && e->females > e->count)
        return cf_event_fail(d, "females: %" PRIu64 " exceeds count %" PRIu64, e->females, e->count);
    if (e->has_males && e->males > e->count)
        return cf_event_fail(d, "males: %" PRIu64 " exceeds count %" PRIu64, e->males, e->count);
    if (e->has_females && e->has_males && e->males > e->count - e->females)
        return cf_event_fail(d, "males: females %" PRIu64 " + males %" PRIu64 " exceed count %" PRIu64,
                             e->females, e->males, e->count);
    if (e->has_uasc && e->uasc > e->count)
        return cf_event_fail(d, "uasc: %" PRIu64 " exceeds count %" PRIu64, e->uasc, e->count);
    return 0;
}

/* The cross-field rules, once every field passed on its own. */
int cf_event_fields_finish(cf_decode_t *d, const msgpack_object *const *values)
{
    assert(d && values);
    cf_event_t *e = d->event;
    if (values[CF_F_VALUE] && !values[CF_F_CURRENCY])
        return cf_event_fail(d, "currency: required when value is given");
    if (e->type == CF_EV_FLOW_OBSERVED && rules_flow_counts(d) < 0)
        return -1;
    if (e->type == CF_EV_CASE_REGISTERED && !values[CF_F_DESTINATION_COUNTRY])
        memcpy(e->destination_country, e->origin_country, sizeof e->destination_country);
    return 0;
}
