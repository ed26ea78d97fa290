/*  cf_fold_events: what each event does to its case and to the aggregates
    (docs/storage.md, "Semantics"): stages entered (counted, announced, kept
    until the registration when they come first), vulnerability flags and
    their alerts, the earliest times, detention lists, services and
    monitoring counted at once or kept until the registration, funding,
    flows and a route's spike. Derived aggregates are kept in step by
    fold_touch before the first change of what they read.                  */
#include "cf_fold_internal.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <stdio.h>
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

/* ---- vulnerabilities, services ------------------------------------------------------ */

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

/*  Adds d to a per-event counter of a case: at once when it is registered
    (<prog>|[<origin>|]<rest>), else kept on the case until then.          */
static void emit(cf_fold_t *self, fold_case_t *c, int family, const char *rest, int64_t d)
{
    if (d == 0)
        return;
    if (c->registered) {
        if (family == CF_FAMILY_MONITOR)
            fold_addf(self, family, d, "%s|%s|%s", c->prog, c->org, rest);
        else
            fold_addf(self, family, d, "%s|%s", c->prog, rest);
        return;
    }
    int64_t *v = fold_case_pending(c, family, rest);
    if (__builtin_add_overflow(*v, d, v))
        fold_fail(self, "counter would overflow on case %s: %s %s", c->id,
                  cf_vocab_family_name(family), rest);
}

static void flush_pending(cf_fold_t *self, fold_case_t *c)
{
    size_t n = c->pending_n;
    c->pending_n = 0;           /* emit counts now: nothing is kept */
    for (size_t i = 0; i < n; i++)
        emit(self, c, c->pending[i].family, c->pending[i].rest, c->pending[i].value);
}

/* A service counted once per event, with its value in cents if any. */
static void service(cf_fold_t *self, fold_case_t *c, int family, const char *rest,
                    const char *currency, int64_t cents)
{
    char field[FOLD_REST_MAX];
    int len = cf_fmt(field, sizeof field, "%s|%s|%s", rest, currency,
                       family == CF_FAMILY_REINT ? "services" : "events");
    assert(len > 0 && (size_t) len < sizeof field);
    (void) len;
    emit(self, c, family, field, 1);
    if (strcmp(currency, "-")) {
        cf_fmt(field, sizeof field, "%s|%s|value", rest, currency);
        emit(self, c, family, field, cents);
    }
}

static const char *money_currency(const cf_event_t *e)
{
    return e->has_value ? e->currency : "-";
}

static int64_t money_cents(const cf_event_t *e)
{
    return e->has_value ? cf_event_cents(e->value) : 0;
}

/* The payload element of the type's row that holds member at. */
static const cf_pay_element_t *element_of(const cf_event_type_info_t *info, size_t at)
{
    for (const cf_pay_element_t *p = info->payload; p->how != CF_PAY_END; p++)
        if (p->at == at && p->how != CF_PAY_MONEY)
            return p;
    assert(!"a service names a member its type's payload lacks");
    return NULL;
}

/* A text member as its payload element gives it ("-" for an empty one that may be). */
static const char *element_text(const cf_event_t *e, const cf_event_type_info_t *info, size_t at)
{
    const cf_pay_element_t *p = element_of(info, at);
    const char *s = (const char *) e + at;
    assert(p->how == CF_PAY_TEXT || p->how == CF_PAY_TEXT_OR_DASH);
    return p->how == CF_PAY_TEXT_OR_DASH && !*s ? "-" : s;
}

static bool element_flag(const cf_event_t *e, const cf_event_type_info_t *info, size_t at)
{
    const cf_pay_element_t *p = element_of(info, at);
    assert(p->how == CF_PAY_BOOL);
    return (p->has == CF_PAY_ALWAYS || *(const bool *) ((const char *) e + p->has))
        && *(const bool *) ((const char *) e + at);
}

/* The services of the type's row: <kind>|<detail>[:<detail2>], with money. */
static void count_services(cf_fold_t *self, fold_case_t *c, const cf_event_t *e)
{
    const cf_event_type_info_t *info = cf_event_type_info(e->type);
    for (const cf_event_service_t *s = info->services; s->kind; s++) {
        if (s->when && !element_flag(e, info, s->when))
            continue;
        char rest[FOLD_REST_MAX];
        int len = cf_fmt(rest, sizeof rest, "%s|%s", s->kind, element_text(e, info, s->detail[0]));
        if (s->detail[1])
            len += cf_fmt(rest + len, sizeof rest - (size_t) len, ":%s",
                            element_text(e, info, s->detail[1]));
        assert(len > 0 && (size_t) len < sizeof rest);
        (void) len;
        if (s->money)
            service(self, c, CF_FAMILY_SERVICES, rest, money_currency(e), money_cents(e));
        else
            service(self, c, CF_FAMILY_SERVICES, rest, "-", 0);
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
    flush_pending(self, c);
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
    emit(self, c, CF_FAMILY_MONITOR, "surveys", 1);
    emit(self, c, CF_FAMILY_MONITOR, "economic", cf_event_score(e->economic));
    emit(self, c, CF_FAMILY_MONITOR, "social", cf_event_score(e->social));
    emit(self, c, CF_FAMILY_MONITOR, "psychosocial", cf_event_score(e->psychosocial));
    int64_t composite = e->has_composite ? cf_event_score(e->composite) : -1;
    if (composite >= 0) {
        emit(self, c, CF_FAMILY_MONITOR, "composite", composite);
        emit(self, c, CF_FAMILY_MONITOR, "composite_surveys", 1);
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
        service(self, c, CF_FAMILY_REINT, rest, money_currency(e), money_cents(e));
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
    count_services(self, c, e);
    handle(self, c, e);
    cf_stage_t stage = cf_event_stage(e->type);
    if (stage != CF_STAGE_NONE)
        enter_stage(self, c, stage, e);
}

/* ---- funding and flows ----------------------------------------------------------------- */

void fold_apply_funding(cf_fold_t *self, const cf_event_t *e)
{
    char day[CF_EVENT_DAY_SIZE], donor[3 * CF_NAME_MAX + 1], project[3 * CF_NAME_MAX + 1];
    cf_event_day(e->occurred_at, day, sizeof day);
    cf_event_escape(e->donor, donor, sizeof donor);
    cf_event_escape(e->project_id, project, sizeof project);
    const char *fmt = "%s|%s|%s|%s|%u|%s";
    unsigned type = e->transaction_type;
    fold_addf(self, CF_FAMILY_FUNDING, 1, fmt, day, donor, project, e->currency, type,
              "transactions");
    fold_addf(self, CF_FAMILY_FUNDING, cf_event_cents(e->value), fmt, day, donor, project,
              e->currency, type, "value");
}

/* The route's window moves to day when it is later than the latest. */
static void route_count(cf_fold_t *self, fold_route_t *r, int64_t day, int64_t count)
{
    if (day > r->latest) {
        int64_t shift = day - r->latest;
        if (shift >= FOLD_WINDOW)
            memset(r->count, 0, sizeof r->count);
        else {
            memmove(r->count, r->count + shift, (size_t) (FOLD_WINDOW - shift) * sizeof *r->count);
            memset(r->count + FOLD_WINDOW - shift, 0, (size_t) shift * sizeof *r->count);
        }
        r->latest = day;
    }
    int64_t at = day - (r->latest - (FOLD_WINDOW - 1));
    if (at >= 0 && __builtin_add_overflow(r->count[at], count, &r->count[at]))
        fold_fail(self, "route %s: its day's count would overflow", r->name);
    r->flowed = true;
}

void fold_apply_flow(cf_fold_t *self, const cf_event_t *e)
{
    char base[FOLD_FIELD_MAX - 16], day[CF_EVENT_DAY_SIZE];
    cf_event_day(e->occurred_at, day, sizeof day);
    const char *route = e->route[0] ? e->route : "-";
    cf_fmt(base, sizeof base, "%s|%s|%s|%s|%s", day, route, e->from_country, e->to_country,
             e->country);
    int64_t count = (int64_t) e->count;
    fold_addf(self, CF_FAMILY_FLOWS, count, "%s|count", base);
    if (strcmp(route, "-")) {
        fold_route_t *r = fold_find_route(self, route);
        assert(r && "the flow's route was loaded");
        int64_t number = cf_event_day_number(e->occurred_at);
        fold_add_route_day(self, route, number, count);
        route_count(self, r, number, count);
    }
    if (e->has_uasc) {
        fold_addf(self, CF_FAMILY_FLOWS, (int64_t) e->uasc, "%s|uasc", base);
        fold_addf(self, CF_FAMILY_FLOWS, count, "%s|uasc_base", base);
    }
    if (e->has_females)
        fold_addf(self, CF_FAMILY_FLOWS, (int64_t) e->females, "%s|females", base);
    if (e->has_males)
        fold_addf(self, CF_FAMILY_FLOWS, (int64_t) e->males, "%s|males", base);
}

/*  alert.spike.<route> when its last 7 days exceed the previous 28 days'
    daily mean x 7 x ratio with at least min_count; once per spike (the
    route stays marked until the condition ends).                          */
void fold_settle_spike(cf_fold_t *self, fold_route_t *r)
{
    const fold_spike_rule_t *rule = NULL;
    for (size_t i = 0; i < self->rules.spikes_n && !rule; i++)
        if (!strcmp(self->rules.spikes[i].route, r->name))
            rule = &self->rules.spikes[i];
    for (size_t i = 0; i < self->rules.spikes_n && !rule; i++)
        if (!strcmp(self->rules.spikes[i].route, "*"))
            rule = &self->rules.spikes[i];
    if (!rule)
        return;
    int64_t last7 = 0, prev28 = 0;
    bool over = false;
    for (int d = 0; d < FOLD_WINDOW; d++)
        over |= __builtin_add_overflow(d >= FOLD_WINDOW - 7 ? last7 : prev28, r->count[d],
                                       d >= FOLD_WINDOW - 7 ? &last7 : &prev28);
    if (over) {
        fold_fail(self, "route %s: its window's count would overflow", r->name);
        return;
    }
    bool spiking = last7 >= rule->min_count
                && (double) last7 > (double) prev28 / 28 * 7 * rule->ratio;
    if (spiking && !r->marked) {
        r->marked = true;
        char topic[64];
        cf_fmt(topic, sizeof topic, "alert.spike.%s", r->name);
        fold_kv_t kv[] = {
            { "route", 's', r->name, 0, 0 }, { "last_7_days", 'i', NULL, last7, 0 },
            { "previous_28_days", 'i', NULL, prev28, 0 }, { "ratio", 'n', NULL, 0, rule->ratio },
            { "min_count", 'i', NULL, rule->min_count, 0 }, { "day", 'i', NULL, r->latest, 0 },
        };
        fold_note(self, topic, kv, sizeof kv / sizeof *kv);
    } else if (!spiking && r->marked) {
        r->marked = false;
    }
}
