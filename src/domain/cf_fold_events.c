/*  cf_fold_events: what each case event does to its case and to the
    aggregates (docs/storage.md, "Semantics"): stages entered (counted,
    announced, kept until the registration when they come first),
    vulnerability flags and their alerts, the earliest times and detention
    lists. Its per-event counters (services, reintegration, monitoring) go
    through cf_fold_services.c; the events of no case (funding, flows) are
    in cf_fold_flows.c. Derived aggregates are kept in step by fold_touch
    before the first change of what they read.                             */
#include "cf_fold_internal.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <string.h>

/* ---- notifications of a case -------------------------------------------------------- */

/*  Queues a notification about case c caused by event e: extra's members
    plus case_id, programme (when registered), event_id and occurred_at, or
    those of the event that caused it (by, at) when by is not NULL.         */
static void note_case(cf_fold_t *self, const fold_case_t *c, const cf_event_t *e,
                      const char *topic, const fold_kv_t *extra, size_t n, const char *by,
                      int64_t at)
{
    fold_kv_t kv[8];
    assert(n <= 4);
    memcpy(kv, extra, n * sizeof *kv);
    kv[n++] = (fold_kv_t) { "case_id", 's', c->id, 0, 0 };
    kv[n++] = (fold_kv_t) { "event_id", 's', by ? by : e->event_id, 0, 0 };
    kv[n++] = (fold_kv_t) { "occurred_at", 'i', NULL, by ? at : e->occurred_at, 0 };
    if (c->registered)
        kv[n++] = (fold_kv_t) { "programme", 's', c->prog, 0, 0 };
    fold_note(self, topic, kv, n);
}

/* alert.vulnerable.<flag> (a cf_vocab alert flag) when the rules name it. */
static void alert_vulnerable(cf_fold_t *self, const fold_case_t *c, const cf_event_t *e, int flag)
{
    if (!(self->rules.vulnerable & (1u << flag)))
        return;
    char topic[64];
    const char *name = cf_vocab_alert_flag_name(flag);
    cf_fmt(topic, sizeof topic, "alert.vulnerable.%s", name);
    fold_kv_t kv = { "flag", 's', name, 0, 0 };
    note_case(self, c, e, topic, &kv, 1, NULL, 0);
}

#define RISK_HIGH_FLAG  CF_VULN_COUNT       /* cf_vocab's alert flag after the vulns */

/* ---- stages ------------------------------------------------------------------------ */

static int highest(unsigned bits)
{
    for (int s = CF_STAGE_COUNT - 1; s >= 0; s--)
        if (bits & (1u << s))
            return s;
    return -1;
}

static void count_now(cf_fold_t *self, const fold_case_t *c, int s, int sign)
{
    const char *stage = cf_vocab_stage_name(s);
    fold_addf(self, CF_FAMILY_STAGE, sign, "%s|%s|now|cases", c->prog, stage);
    fold_addf(self, CF_FAMILY_STAGE, sign * (int64_t) c->n, "%s|%s|now|persons", c->prog, stage);
}

/*  The ever totals and the notification of stage s; a stage entered before
    the registration is announced with the event that entered it.          */
static void count_ever(cf_fold_t *self, fold_case_t *c, int s, const cf_event_t *e)
{
    const char *stage = cf_vocab_stage_name(s);
    fold_addf(self, CF_FAMILY_STAGE, 1, "%s|%s|ever|cases", c->prog, stage);
    fold_addf(self, CF_FAMILY_STAGE, c->n, "%s|%s|ever|persons", c->prog, stage);
    bool waited = c->waiting & (1u << s);
    c->waiting &= (uint8_t) ~(1u << s);
    char topic[96];
    cf_fmt(topic, sizeof topic, "case.%s.%s", c->prog, stage);
    fold_kv_t kv[] = { { "stage", 's', stage, 0, 0 }, { "persons", 'i', NULL, c->n, 0 } };
    note_case(self, c, e, topic, kv, 2, waited ? c->stage_by[s] : NULL, c->stage_at[s]);
}

static void enter_stage(cf_fold_t *self, fold_case_t *c, int s, const cf_event_t *e)
{
    if (c->bits & (1u << s))
        return;
    int current = highest(c->bits);
    c->bits |= (uint8_t) (1u << s);
    if (!c->registered) {
        c->waiting |= (uint8_t) (1u << s);
        c->stage_at[s] = e->occurred_at;
        cf_fmt(c->stage_by[s], sizeof c->stage_by[s], "%s", e->event_id);
        return;
    }
    count_ever(self, c, s, e);
    if (s > current) {
        count_now(self, c, current, -1);
        count_now(self, c, s, 1);
    } else {
        fold_addf(self, CF_FAMILY_QUALITY, 1, "out_of_order");
    }
}

/* ---- vulnerabilities ----------------------------------------------------------------- */

/* The flags of mask the case has not seen: counted and alerted when registered. */
static void add_vulns(cf_fold_t *self, fold_case_t *c, uint32_t mask, const cf_event_t *e)
{
    for (int flag = 0; flag < CF_VULN_COUNT; flag++)
        if ((mask & (1u << flag)) && !(c->vulns & (1u << flag))) {
            c->vulns |= (uint8_t) (1u << flag);
            if (c->registered) {
                fold_addf(self, CF_FAMILY_VULN, 1, "%s|%s", c->prog, cf_vocab_vuln_name(flag));
                alert_vulnerable(self, c, e, flag);
            }
        }
}

/* ---- times ------------------------------------------------------------------------- */

/* Keeps the earliest time of a kind: whatever order the events came in. */
static bool keep_earliest(cf_fold_t *self, fold_case_t *c, int which, int64_t t)
{
    if ((c->has_time & (1u << which)) && c->time[which] <= t)
        return false;
    fold_touch(self, c);
    c->has_time |= (uint8_t) (1u << which);
    c->time[which] = t;
    return true;
}

/* alert.predeparture: no medical screening known in the window before t. */
static void check_predeparture(cf_fold_t *self, fold_case_t *c, const cf_event_t *e, int64_t t)
{
    if (!self->rules.has_predeparture)
        return;
    int64_t window = self->rules.predeparture_ms;
    size_t first, n;
    fold_case_times(c, FOLD_MEDICAL, "", &first, &n);
    for (size_t i = first; i < first + n; i++)
        if (c->times[i].t <= t && c->times[i].t >= t - window)
            return;
    fold_kv_t kv = { "window_h", 'n', NULL, 0, (double) window / 3600000 };
    note_case(self, c, e, "alert.predeparture", &kv, 1, NULL, 0);
}

/* ---- the types --------------------------------------------------------------------- */

/* The registration makes the case known: everything kept so far is counted. */
static void registered(cf_fold_t *self, fold_case_t *c, const cf_event_t *e)
{
    if (c->registered) {
        fold_addf(self, CF_FAMILY_QUALITY, 1, "repeat_registration");
        return;
    }
    fold_touch(self, c);
    add_vulns(self, c, e->vulnerabilities, e);     /* not yet registered: counted below */
    c->registered = true;
    cf_fmt(c->prog, sizeof c->prog, "%s", e->programme);
    c->n = e->person_count;
    cf_fmt(c->org, sizeof c->org, "%s", e->origin_country);
    cf_fmt(c->host, sizeof c->host, "%s", e->host_country);
    cf_fmt(c->route, sizeof c->route, "%s", e->route[0] ? e->route : "-");
    c->has_time |= 1u << FOLD_RT;
    c->time[FOLD_RT] = e->occurred_at;
    c->bits |= 1u << CF_STAGE_REGISTERED;
    for (int s = 0; s < CF_STAGE_COUNT; s++)
        if (c->bits & (1u << s))
            count_ever(self, c, s, e);
    count_now(self, c, highest(c->bits), 1);
    unsigned counts[CF_SEXES][CF_AGE_BANDS];
    cf_event_demo(e, counts);
    for (int s = 0; s < CF_SEXES; s++)
        for (int b = 0; b < CF_AGE_BANDS; b++)
            fold_addf(self, CF_FAMILY_DEMO, counts[s][b], "%s|%s|%s", c->prog,
                      cf_vocab_sex_name(s), cf_vocab_age_band_name(b));
    for (int flag = 0; flag < CF_VULN_COUNT; flag++)
        if (c->vulns & (1u << flag)) {
            fold_addf(self, CF_FAMILY_VULN, 1, "%s|%s", c->prog, cf_vocab_vuln_name(flag));
            alert_vulnerable(self, c, e, flag);
        }
    if (c->risk == CF_RISK_LEVELS)
        alert_vulnerable(self, c, e, RISK_HIGH_FLAG);
    fold_flush_pending(self, c);
}

static void screened(cf_fold_t *self, fold_case_t *c, const cf_event_t *e)
{
    add_vulns(self, c, e->vulnerabilities, e);
    if (!strcmp(e->screening, "medical"))
        fold_case_add_time(c, FOLD_MEDICAL, "", e->occurred_at);
    int risk = cf_event_risk_level(e->risk);
    if (risk > c->risk) {
        fold_touch(self, c);
        c->risk = (uint8_t) risk;
        if (risk == CF_RISK_LEVELS && c->registered)
            alert_vulnerable(self, c, e, RISK_HIGH_FLAG);
    }
}

static void monitored(cf_fold_t *self, fold_case_t *c, const cf_event_t *e)
{
    fold_emit(self, c, CF_FAMILY_MONITOR, "surveys", 1);
    fold_emit(self, c, CF_FAMILY_MONITOR, "economic", cf_event_score(e->economic));
    fold_emit(self, c, CF_FAMILY_MONITOR, "social", cf_event_score(e->social));
    fold_emit(self, c, CF_FAMILY_MONITOR, "psychosocial", cf_event_score(e->psychosocial));
    int64_t composite = e->has_composite ? cf_event_score(e->composite) : -1;
    if (composite >= 0) {
        fold_emit(self, c, CF_FAMILY_MONITOR, "composite", composite);
        fold_emit(self, c, CF_FAMILY_MONITOR, "composite_surveys", 1);
    }
}

/* What the type does beyond its services and stage. */
static void handle(cf_fold_t *self, fold_case_t *c, const cf_event_t *e)
{
    char rest[FOLD_REST_MAX];
    switch (e->type) {
    case CF_EV_CASE_SCREENED: screened(self, c, e); break;
    case CF_EV_CASE_DETAINED: case CF_EV_CASE_RELEASED:
        fold_touch(self, c);
        fold_case_add_time(c, e->type == CF_EV_CASE_DETAINED ? FOLD_DETAINED : FOLD_RELEASED,
                           e->country, e->occurred_at);
        break;
    case CF_EV_CASE_DEPARTED:
        keep_earliest(self, c, FOLD_DT, e->occurred_at);
        check_predeparture(self, c, e, e->occurred_at);
        break;
    case CF_EV_CASE_ARRIVED:       /* the return's day is that of the earliest arrival */
        keep_earliest(self, c, FOLD_AT, e->occurred_at);
        break;
    case CF_EV_CASE_REINTEGRATION:
        cf_fmt(rest, sizeof rest, "%s|%s", e->dimension, e->modality);
        fold_service(self, c, CF_FAMILY_REINT, rest, fold_money_currency(e), fold_money_cents(e));
        keep_earliest(self, c, FOLD_IT, e->occurred_at);
        break;
    case CF_EV_CASE_MONITORED: monitored(self, c, e); break;
    default: break;
    }
}

void fold_apply_case(cf_fold_t *self, fold_case_t *c, const cf_event_t *e)
{
    if (e->type == CF_EV_CASE_REGISTERED) {
        registered(self, c, e);
        return;
    }
    if (!c->registered)
        fold_addf(self, CF_FAMILY_QUALITY, 1, "before_registration");
    fold_count_services(self, c, e);
    handle(self, c, e);
    cf_stage_t stage = cf_event_stage(e->type);
    if (stage != CF_STAGE_NONE)
        enter_stage(self, c, stage, e);
}
