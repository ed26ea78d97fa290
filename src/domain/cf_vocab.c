/*  cf_vocab: the domain's plain lists, one table each (see cf_vocab.h). Each
    table is indexed by its enum with designated initializers and its size
    asserted against the enum's count, so that a value added at the end of an
    enum without its row does not compile; tests/unit/test_cf_vocab.c checks
    that no row inside is missing either.                                   */
#include "caseflow/cf_vocab.h"

#include <string.h>

#define COUNT(table)    (sizeof (table) / sizeof *(table))

const char *const cf_vocab_stages[] = {
    [CF_STAGE_REGISTERED] = "registered", [CF_STAGE_SCREENED] = "screened",
    [CF_STAGE_ASSISTED] = "assisted", [CF_STAGE_DEPARTED] = "departed",
    [CF_STAGE_ARRIVED] = "arrived", [CF_STAGE_REINTEGRATING] = "reintegrating",
    [CF_STAGE_CLOSED] = "closed", [CF_STAGE_COUNT] = NULL
};
_Static_assert(COUNT(cf_vocab_stages) == CF_STAGE_COUNT + 1, "a stage without its name");

const char *const cf_vocab_vulns[] = {
    [CF_VULN_VOT] = "vot", [CF_VULN_UASC] = "uasc", [CF_VULN_HEALTH] = "health",
    [CF_VULN_DISABILITY] = "disability", [CF_VULN_ELDERLY] = "elderly",
    [CF_VULN_PREGNANT] = "pregnant", [CF_VULN_SINGLE_PARENT] = "single_parent",
    [CF_VULN_COUNT] = NULL
};
_Static_assert(COUNT(cf_vocab_vulns) == CF_VULN_COUNT + 1, "a flag without its name");

/*  docs/domain.md, "Data protection": cells of these flags need 11.        */
const char *const cf_vocab_vulns_sensitive[] = { "vot", "uasc", "health", NULL };

const char *const cf_vocab_risks[] = { "low", "medium", "high", NULL };
_Static_assert(COUNT(cf_vocab_risks) == CF_RISK_LEVELS + 1, "a risk level without its name");

const char *const cf_vocab_sexes[] = { "f", "m", "x", "u", NULL };
_Static_assert(COUNT(cf_vocab_sexes) == CF_SEXES + 1, "a sex without its code");

const char *const cf_vocab_age_bands[] = { "0-4", "5-11", "12-17", "18-59", "60+", NULL };
_Static_assert(COUNT(cf_vocab_age_bands) == CF_AGE_BANDS + 1, "an age band without its name");

static const char *const s_families[] = {
    [CF_FAMILY_STAGE] = "stage", [CF_FAMILY_RETURNS] = "returns", [CF_FAMILY_VULN] = "vuln",
    [CF_FAMILY_DEMO] = "demo", [CF_FAMILY_QUALITY] = "quality", [CF_FAMILY_DUR] = "dur",
    [CF_FAMILY_DETENTION] = "detention", [CF_FAMILY_REINT] = "reint",
    [CF_FAMILY_MONITOR] = "monitor", [CF_FAMILY_SERVICES] = "services",
    [CF_FAMILY_FUNDING] = "funding", [CF_FAMILY_FLOWS] = "flows"
};
_Static_assert(COUNT(s_families) == CF_FAMILY_COUNT, "a family without its name");

/*  Each family's measures, in the order its tuples hold them (kept in
    Redis: see cf_vocab.h).                                                 */
static const char *const s_stage_measures[] = { "cases", "persons", NULL };
static const char *const s_returns_measures[] = { "cases", "persons", NULL };
static const char *const s_dur_measures[] = { "count", "seconds", NULL };
static const char *const s_detention_measures[] = { "now", "cases", "episodes", "seconds", NULL };
static const char *const s_reint_measures[] = { "services", "value", NULL };
static const char *const s_monitor_measures[] = { "surveys", "economic", "social", "psychosocial",
                                                  "composite", "composite_surveys", NULL };
static const char *const s_services_measures[] = { "events", "value", NULL };
static const char *const s_funding_measures[] = { "transactions", "value", NULL };
static const char *const s_flows_measures[] = { "count", "females", "males", "uasc", "uasc_base",
                                                NULL };
static const struct {
    const char *const *names;
    size_t width;
} s_measures[CF_FAMILY_COUNT] = {
#define MEASURES(family, list)  [CF_FAMILY_##family] = { list, COUNT(list) - 1 }
    MEASURES(STAGE, s_stage_measures), MEASURES(RETURNS, s_returns_measures),
    MEASURES(DUR, s_dur_measures), MEASURES(DETENTION, s_detention_measures),
    MEASURES(REINT, s_reint_measures), MEASURES(MONITOR, s_monitor_measures),
    MEASURES(SERVICES, s_services_measures), MEASURES(FUNDING, s_funding_measures),
    MEASURES(FLOWS, s_flows_measures)
#undef MEASURES
};  /* vuln, demo and quality: none */
_Static_assert(COUNT(s_monitor_measures) - 1 == CF_VOCAB_MEASURES_MAX, "the widest family");

#define STAGE_BIT(s)    (1u << CF_STAGE_##s)

static const struct {
    const char *name, *alert;
    unsigned days;              /* the domain contract's default */
    unsigned ended_by;          /* stage bits */
} s_limits[] = {
    [CF_LIMIT_REGISTERED_DEPARTED] = { "registered_departed", "registered", 60,
                                       STAGE_BIT(DEPARTED) | STAGE_BIT(CLOSED) },
    [CF_LIMIT_ARRIVED_REINTEGRATING] = { "arrived_reintegrating", "arrived", 30,
                                         STAGE_BIT(REINTEGRATING) | STAGE_BIT(CLOSED) },
    [CF_LIMIT_DETAINED] = { "detained", "detained", 30, STAGE_BIT(DEPARTED) | STAGE_BIT(CLOSED) },
};
_Static_assert(COUNT(s_limits) == CF_LIMIT_COUNT, "a limit without its row");

/* ---- names ---------------------------------------------------------------- */

static const char *vocab_name(const char *const *names, size_t count, int i)
{
    return i >= 0 && (size_t) i < count ? names[i] : NULL;
}

const char *cf_vocab_stage_name(int stage)
{
    return vocab_name(cf_vocab_stages, CF_STAGE_COUNT, stage);
}

const char *cf_vocab_vuln_name(int flag)
{
    return vocab_name(cf_vocab_vulns, CF_VULN_COUNT, flag);
}

const char *cf_vocab_risk_name(int level)
{
    return vocab_name(cf_vocab_risks, CF_RISK_LEVELS, level - 1);
}

const char *cf_vocab_sex_name(int sex)
{
    return vocab_name(cf_vocab_sexes, CF_SEXES, sex);
}

const char *cf_vocab_age_band_name(int band)
{
    return vocab_name(cf_vocab_age_bands, CF_AGE_BANDS, band);
}

const char *cf_vocab_family_name(int family)
{
    return vocab_name(s_families, CF_FAMILY_COUNT, family);
}

const char *const *cf_vocab_family_measures(int family)
{
    return family >= 0 && family < CF_FAMILY_COUNT ? s_measures[family].names : NULL;
}

size_t cf_vocab_family_width(int family)
{
    return family >= 0 && family < CF_FAMILY_COUNT ? s_measures[family].width : 0;
}

const char *cf_vocab_limit_name(int limit)
{
    return limit >= 0 && limit < CF_LIMIT_COUNT ? s_limits[limit].name : NULL;
}

const char *cf_vocab_alert_flag_name(int flag)
{
    return flag == CF_VULN_COUNT ? CF_VOCAB_RISK_ALERT : cf_vocab_vuln_name(flag);
}

/* ---- lookups --------------------------------------------------------------- */

static int vocab_find(const char *(*name_of)(int), int count, const char *name, size_t len)
{
    for (int i = 0; i < count; i++) {
        const char *candidate = name_of(i);
        if (strlen(candidate) == len && memcmp(candidate, name, len) == 0)
            return i;
    }
    return -1;
}

int cf_vocab_stage_find(const char *name, size_t len)
{
    return vocab_find(cf_vocab_stage_name, CF_STAGE_COUNT, name, len);
}

int cf_vocab_family_find(const char *name, size_t len)
{
    return vocab_find(cf_vocab_family_name, CF_FAMILY_COUNT, name, len);
}

int cf_vocab_limit_find(const char *name, size_t len)
{
    return vocab_find(cf_vocab_limit_name, CF_LIMIT_COUNT, name, len);
}

int cf_vocab_sex_find(const char *name, size_t len)
{
    return vocab_find(cf_vocab_sex_name, CF_SEXES, name, len);
}

/* ---- limits ---------------------------------------------------------------- */

const char *cf_vocab_limit_alert(cf_limit_t limit)
{
    return limit >= 0 && limit < CF_LIMIT_COUNT ? s_limits[limit].alert : NULL;
}

unsigned cf_vocab_limit_default_days(cf_limit_t limit)
{
    return limit >= 0 && limit < CF_LIMIT_COUNT ? s_limits[limit].days : 0;
}

bool cf_vocab_limit_ended_by(cf_limit_t limit, cf_stage_t stage)
{
    return limit >= 0 && limit < CF_LIMIT_COUNT && stage >= 0 && stage < CF_STAGE_COUNT
        && (s_limits[limit].ended_by & (1u << stage));
}
