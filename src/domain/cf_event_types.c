/*  cf_event_types: the event types as one table (docs/domain.md). A type's
    row is all caseflow needs to know of it but the checks of its fields
    (cf_event_rules.c): its wire name, whether it belongs to a case, the
    stage it moves a case to, the fields it requires and allows, its payload
    and the services it counts. cf_event decodes with it and cf_fold counts
    the services with it, so that a new type needs no code elsewhere unless
    it counts in a new way.                                                  */
#include "cf_event_internal.h"

#include <assert.h>
#include <string.h>

#define AT(member)      offsetof(cf_event_t, member)
#define B(f)            CF_FIELD_BIT(CF_F_##f)
#define CASE            true
#define OTHER           false

/*  0, after checking at compile time that member m is of type T (a payload
    element is read through its offset, so its type must match its kind).  */
#define IS(m, T)        (0 * sizeof(struct { int ok : _Generic(((cf_event_t *) 0)->m, T: 1, \
                                                                  default: -1); }))

#define TEXT(m)         { CF_PAY_TEXT, AT(m) + IS(m, char *), CF_PAY_ALWAYS }
#define DASH(m)         { CF_PAY_TEXT_OR_DASH, AT(m) + IS(m, char *), CF_PAY_ALWAYS }
#define ESCAPED(m)      { CF_PAY_ESCAPED, AT(m) + IS(m, char *), CF_PAY_ALWAYS }
#define CODE(m)         { CF_PAY_CODE, AT(m) + IS(m, uint8_t), CF_PAY_ALWAYS }
#define UINT(m)         { CF_PAY_UINT, AT(m) + IS(m, uint64_t), CF_PAY_ALWAYS }
#define OPT_UINT(m)     { CF_PAY_UINT, AT(m) + IS(m, uint64_t), AT(has_##m) + IS(has_##m, bool) }
#define BOOL(m)         { CF_PAY_BOOL, AT(m) + IS(m, bool), AT(has_##m) + IS(has_##m, bool) }
#define SCORE(m)        { CF_PAY_SCORE, AT(m) + IS(m, double), CF_PAY_ALWAYS }
#define OPT_SCORE(m)    { CF_PAY_SCORE, AT(m) + IS(m, double), AT(has_##m) + IS(has_##m, bool) }
#define FIXED(how)      { CF_PAY_##how, 0, CF_PAY_ALWAYS }
#define NO_SERVICES     { { .kind = NULL } }

_Static_assert(offsetof(cf_event_t, event_id) == 0, "0 is no payload member (services)");

static const cf_event_type_info_t s_types[] = {
    [CF_EV_CASE_REGISTERED] = {
        "case.registered", CASE, CF_STAGE_REGISTERED,
        B(PROGRAMME) | B(PROGRAMME_TYPE) | B(HOST_COUNTRY) | B(ORIGIN_COUNTRY) | B(PERSONS),
        B(DESTINATION_COUNTRY) | B(ROUTE) | B(CATEGORY) | B(VULNERABILITIES) | B(CONSENT)
        | B(PROJECT_ID),
        { TEXT(programme), FIXED(PERSONS), TEXT(origin_country), TEXT(host_country), DASH(route),
          FIXED(VULNS), FIXED(DEMO), FIXED(TIME) },
        NO_SERVICES },
    [CF_EV_CASE_SCREENED] = {
        "case.screened", CASE, CF_STAGE_SCREENED,
        B(SCREENING) | B(OUTCOME), B(VULNERABILITIES) | B(RISK),
        { FIXED(VULNS), TEXT(screening), TEXT(outcome), FIXED(RISK), FIXED(TIME) },
        { { .kind = "screening", .detail = { AT(screening), AT(outcome) } } } },
    [CF_EV_CASE_ASSISTED] = {
        "case.assisted", CASE, CF_STAGE_ASSISTED,
        B(ASSISTANCE), B(VALUE) | B(CURRENCY),
        { TEXT(assistance), FIXED(MONEY) },
        { { .kind = "assistance", .detail = { AT(assistance) }, .money = true } } },
    [CF_EV_CASE_DETAINED] = {
        "case.detained", CASE, CF_STAGE_NONE,
        B(COUNTRY), 0,
        { TEXT(country), FIXED(TIME) },
        NO_SERVICES },
    [CF_EV_CASE_RELEASED] = {
        "case.released", CASE, CF_STAGE_NONE,
        B(COUNTRY), 0,
        { TEXT(country), FIXED(TIME) },
        NO_SERVICES },
    [CF_EV_CASE_DEPARTED] = {
        "case.departed", CASE, CF_STAGE_DEPARTED,
        B(DEPARTURE_COUNTRY) | B(MODE), B(ESCORT) | B(TRANSIT),
        { TEXT(mode), BOOL(escort), FIXED(TIME) },
        { { .kind = "departure", .detail = { AT(mode) } },
          { .kind = "escort", .detail = { AT(mode) }, .when = AT(escort) } } },
    [CF_EV_CASE_ARRIVED] = {
        "case.arrived", CASE, CF_STAGE_ARRIVED,
        B(ARRIVAL_COUNTRY), B(ADMIN1),
        { FIXED(DAY), FIXED(TIME) },
        NO_SERVICES },
    [CF_EV_CASE_REINTEGRATION] = {
        "case.reintegration", CASE, CF_STAGE_REINTEGRATING,
        B(DIMENSION) | B(MODALITY), B(LEVEL) | B(VALUE) | B(CURRENCY),
        { TEXT(dimension), TEXT(modality), FIXED(MONEY), FIXED(TIME) },
        NO_SERVICES },
    [CF_EV_CASE_MONITORED] = {
        "case.monitored", CASE, CF_STAGE_NONE,
        B(ECONOMIC) | B(SOCIAL) | B(PSYCHOSOCIAL), B(COMPOSITE),
        { SCORE(economic), SCORE(social), SCORE(psychosocial), OPT_SCORE(composite) },
        NO_SERVICES },
    [CF_EV_CASE_REUNIFIED] = {
        "case.reunified", CASE, CF_STAGE_NONE,
        B(COUNTRY), 0,
        { TEXT(country) },
        { { .kind = "reunification", .detail = { AT(country) } } } },
    [CF_EV_CASE_REFERRED] = {
        "case.referred", CASE, CF_STAGE_NONE,
        B(SERVICE) | B(PROVIDER_TYPE), B(COUNTRY) | B(URGENT),
        { TEXT(service), TEXT(provider_type) },
        { { .kind = "referral", .detail = { AT(service), AT(provider_type) } } } },
    [CF_EV_CASE_CLOSED] = {
        "case.closed", CASE, CF_STAGE_CLOSED,
        B(REASON), 0,
        { TEXT(reason) },
        { { .kind = "closure", .detail = { AT(reason) } } } },
    [CF_EV_FUNDING_TRANSACTION] = {
        "funding.transaction", OTHER, CF_STAGE_NONE,
        B(PROJECT_ID) | B(DONOR) | B(TRANSACTION_TYPE) | B(VALUE) | B(CURRENCY),
        B(RECIPIENT_COUNTRY),
        { FIXED(DAY), ESCAPED(donor), ESCAPED(project_id), TEXT(currency), CODE(transaction_type),
          FIXED(CENTS) },
        NO_SERVICES },
    [CF_EV_FLOW_OBSERVED] = {
        "flow.observed", OTHER, CF_STAGE_NONE,
        B(POINT) | B(COUNTRY) | B(FROM_COUNTRY) | B(TO_COUNTRY) | B(COUNT),
        B(ROUTE) | B(FEMALES) | B(MALES) | B(UASC),
        { FIXED(DAY), DASH(route), TEXT(from_country), TEXT(to_country), TEXT(country),
          UINT(count), OPT_UINT(uasc), OPT_UINT(females), OPT_UINT(males), FIXED(DAY_NUMBER) },
        NO_SERVICES },
};
_Static_assert(sizeof s_types / sizeof *s_types == CF_EV_TYPE_COUNT, "a type without its row");

#define ENVELOPE_REQUIRED   (B(EVENT_ID) | B(EVENT_TYPE) | B(SCHEMA_VERSION) | B(OCCURRED_AT))
#define ENVELOPE_OPTIONAL   (B(REPORTED_AT) | B(SOURCE_SYSTEM))

const cf_event_type_info_t *cf_event_type_info(cf_event_type_t type)
{
    return type >= 0 && type < CF_EV_TYPE_COUNT ? &s_types[type] : NULL;
}

/* The wire name of a type, NULL when out of range. */
const char *cf_event_type_name(cf_event_type_t type)
{
    return type >= 0 && type < CF_EV_TYPE_COUNT ? s_types[type].name : NULL;
}

int cf_event_type_find(const char *name, size_t len)
{
    for (int type = 0; type < CF_EV_TYPE_COUNT; type++)
        if (strlen(s_types[type].name) == len && memcmp(s_types[type].name, name, len) == 0)
            return type;
    return -1;
}

cf_stage_t cf_event_stage(cf_event_type_t type)
{
    return type >= 0 && type < CF_EV_TYPE_COUNT ? s_types[type].stage : CF_STAGE_NONE;
}

bool cf_event_is_case_event(cf_event_type_t type)
{
    return type >= 0 && type < CF_EV_TYPE_COUNT && s_types[type].is_case;
}

/* The envelope's required fields (case_ref for case.*) plus the type's. */
uint64_t cf_event_fields_required(cf_event_type_t type)
{
    assert(type >= 0 && type < CF_EV_TYPE_COUNT);
    return ENVELOPE_REQUIRED | (s_types[type].is_case ? B(CASE_REF) : 0) | s_types[type].required;
}

/* Required plus optional: anything else in the map is refused. */
uint64_t cf_event_fields_allowed(cf_event_type_t type)
{
    assert(type >= 0 && type < CF_EV_TYPE_COUNT);
    return cf_event_fields_required(type) | ENVELOPE_OPTIONAL
         | (s_types[type].is_case ? B(CASE_SEQ) : 0) | s_types[type].optional;
}
