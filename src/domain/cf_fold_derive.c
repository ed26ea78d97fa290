/*  cf_fold_derive: the aggregates that are a function of a case's state
    (returns, durations and their histogram, detention, risk) and its
    overdue deadlines. They are kept order-independent by taking a case's
    contribution off before its first change in a batch (fold_touch) and
    adding it back, as it is then, at the end (docs/storage.md, "Semantics").
    A deadline runs while the case is registered, open and still in that
    state; a limit that fired never runs again for the case.               */
#include "cf_fold_internal.h"

#include <stdio.h>
#include <string.h>

/* The histogram bucket [lo, hi) of a length in whole hours: one hour wide
   below 32 h, then 16 buckets per power of two. */
static void bucket(int64_t h, int64_t *lo, int64_t *hi)
{
    if (h < 32) {
        *lo = h, *hi = h + 1;
        return;
    }
    int k = 63 - __builtin_clzll((unsigned long long) h);
    int64_t w = (int64_t) 1 << (k - 4);
    *lo = h / w * w;
    *hi = *lo + w;
}

static const struct {
    const char *name;
    int from, to;
} s_intervals[] = {
    { "registered-departed", FOLD_RT, FOLD_DT }, { "departed-arrived", FOLD_DT, FOLD_AT },
    { "arrived-reintegrating", FOLD_AT, FOLD_IT },
};

/* Whole seconds from a to b, 0 when b is not later. */
static int64_t seconds_between(int64_t a, int64_t b)
{
    return b > a ? (b - a) / 1000 : 0;
}

static void derive_durations(cf_fold_t *self, const fold_case_t *c, int sign)
{
    for (size_t i = 0; i < sizeof s_intervals / sizeof *s_intervals; i++) {
        unsigned need = 1u << s_intervals[i].from | 1u << s_intervals[i].to;
        if ((c->has_time & need) != need)
            continue;
        int64_t seconds = seconds_between(c->time[s_intervals[i].from], c->time[s_intervals[i].to]);
        int64_t lo, hi;
        bucket(seconds / 3600, &lo, &hi);
        const char *p = c->prog, *iv = s_intervals[i].name;
        fold_addf(self, CF_FAMILY_DUR, sign, "%s|%s|count", p, iv);
        fold_addf(self, CF_FAMILY_DUR, sign * seconds, "%s|%s|seconds", p, iv);
        fold_addf(self, CF_FAMILY_DUR, sign, "%s|%s|bucket|%lld|%lld", p, iv, (long long) lo,
                  (long long) hi);
    }
}

/*  Per country: the i-th detention pairs with the i-th release (both
    sorted); more detentions than releases: detained now.                  */
static void derive_detention(cf_fold_t *self, const fold_case_t *c, int sign)
{
    for (size_t i = 0; i < c->times_n && c->times[i].kind == FOLD_DETAINED;) {
        const char *country = c->times[i].country;
        size_t d, nd, r, nr;
        fold_case_times(c, FOLD_DETAINED, country, &d, &nd);
        fold_case_times(c, FOLD_RELEASED, country, &r, &nr);
        size_t episodes = nd < nr ? nd : nr;
        int64_t seconds = 0;
        for (size_t j = 0; j < episodes; j++)
            seconds += seconds_between(c->times[d + j].t, c->times[r + j].t);
        fold_addf(self, CF_FAMILY_DETENTION, sign, "%s|%s|cases", c->prog, country);
        if (nd > nr)
            fold_addf(self, CF_FAMILY_DETENTION, sign, "%s|%s|now", c->prog, country);
        fold_addf(self, CF_FAMILY_DETENTION, sign * (int64_t) episodes, "%s|%s|episodes", c->prog,
                  country);
        fold_addf(self, CF_FAMILY_DETENTION, sign * seconds, "%s|%s|seconds", c->prog, country);
        i = d + nd;
    }
}

void fold_derive(cf_fold_t *self, const fold_case_t *c, int sign)
{
    if (!c->registered)
        return;                 /* nothing until registered */
    if (c->has_time & (1u << FOLD_AT)) {
        char day[CF_EVENT_DAY_SIZE];
        cf_event_day(c->time[FOLD_AT], day, sizeof day);
        const char *const dims[][2] = { { "origin", c->org }, { "host", c->host },
                                        { "programme", c->prog }, { "route", c->route } };
        for (size_t i = 0; i < 4; i++) {
            fold_addf(self, CF_FAMILY_RETURNS, sign, "%s|%s|%s|%s|cases", day, dims[i][0],
                      dims[i][1], c->prog);
            fold_addf(self, CF_FAMILY_RETURNS, sign * (int64_t) c->n, "%s|%s|%s|%s|persons", day,
                      dims[i][0], dims[i][1], c->prog);
        }
    }
    if (c->risk > 0)
        fold_addf(self, CF_FAMILY_VULN, sign, "%s|risk:%s", c->prog, cf_vocab_risk_name(c->risk));
    derive_durations(self, c, sign);
    derive_detention(self, c, sign);
}

void fold_touch(cf_fold_t *self, fold_case_t *c)
{
    if (c->touched)
        return;
    c->touched = true;
    fold_derive(self, c, -1);
}

/* The start of the earliest open detention (detentions beyond their releases). */
static bool open_detention_since(const fold_case_t *c, int64_t *since)
{
    bool found = false;
    for (size_t i = 0; i < c->times_n && c->times[i].kind == FOLD_DETAINED;) {
        size_t d, nd, r, nr;
        fold_case_times(c, FOLD_DETAINED, c->times[i].country, &d, &nd);
        fold_case_times(c, FOLD_RELEASED, c->times[i].country, &r, &nr);
        if (nd > nr && (!found || c->times[d + nr].t < *since)) {
            *since = c->times[d + nr].t;
            found = true;
        }
        i = d + nd;
    }
    return found;
}

/* When limit falls due now (false: it does not run). */
static bool due_of(const cf_fold_t *self, const fold_case_t *c, int limit, int64_t *due)
{
    const fold_rules_t *rules = &self->rules;
    if (!c->registered || (c->bits & (1u << CF_STAGE_CLOSED)) || !rules->has_overdue[limit])
        return false;
    int64_t from;
    bool runs = false;
    unsigned t = c->has_time;
    switch (limit) {
    case CF_LIMIT_REGISTERED_DEPARTED:
        runs = (t & 1u << FOLD_RT) && !(t & 1u << FOLD_DT);
        from = c->time[FOLD_RT];
        break;
    case CF_LIMIT_ARRIVED_REINTEGRATING:
        runs = (t & 1u << FOLD_AT) && !(t & 1u << FOLD_IT);
        from = c->time[FOLD_AT];
        break;
    case CF_LIMIT_DETAINED:
        runs = !(t & 1u << FOLD_DT) && open_detention_since(c, &from);
        break;
    default: return false;
    }
    return runs && !__builtin_add_overflow(from, rules->overdue_ms[limit], due);
}

/* The deadline set in line with the case: u (due_set) is what the set holds.
   A deadline already due by the batch's clock (cf_fold_set_clock) fires
   here, in the batch's own commit, instead of waiting in the set for the
   timer: events applied long after they happened (a backlog, a replay)
   would otherwise cost a ZADD now and the timer's reads, a second state
   write and a ZREM a moment later. */
static void sync_due(cf_fold_t *self, fold_case_t *c)
{
    for (int limit = 0; limit < CF_LIMIT_COUNT; limit++) {
        unsigned bit = 1u << limit;
        int64_t due;
        bool want = !(c->fired & bit) && due_of(self, c, limit, &due);
        if (want && self->clock_ms >= 0 && due <= self->clock_ms) {
            if (c->due_set & bit) {
                c->due_set &= (uint8_t) ~bit;
                fold_deadline(self, c, limit, -1);
            }
            fold_fire(self, c, limit, due, self->clock_ms);
        } else if (want && (!(c->due_set & bit) || c->due[limit] != due)) {
            c->due_set |= (uint8_t) bit;
            c->due[limit] = due;
            fold_deadline(self, c, limit, due);
        } else if (!want && (c->due_set & bit)) {
            c->due_set &= (uint8_t) ~bit;
            fold_deadline(self, c, limit, -1);
        }
    }
}

void fold_settle_case(cf_fold_t *self, fold_case_t *c)
{
    if (c->touched)
        fold_derive(self, c, 1);
    sync_due(self, c);
}
