/*  cf_fold_flows: what the events of no case do (docs/storage.md,
    "Semantics"): funding transactions and flows add to their counters at
    once; a flow with a route also moves the route's window of days, whose
    spike rule is settled at the end of a batch (alert.spike.<route>).      */
#include "cf_fold_internal.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <string.h>

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
