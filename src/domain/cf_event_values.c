/*  cf_event_values: the forms in which an event's values are counted
    (docs/storage.md, "Semantics"): money in cents and scores in
    ten-thousandths (summed exactly as integers), the UTC day as
    "day:YYYY-MM-DD" and as a day number, free strings escaped so that they
    can be a part of a '|'-joined field, risk levels and the persons by sex
    and age band. One definition for every consumer (the domain fold, the
    store's script input), so that both key and sum alike. Pure functions. */
#include "caseflow/cf_event.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t cf_event_day_number(int64_t ms)
{
    return ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
}

void cf_event_day(int64_t ms, char *buf, size_t size)
{
    assert(buf && size >= CF_EVENT_DAY_SIZE);
    time_t t = (time_t) (ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "day:%Y-%m-%d", &tm);
}

size_t cf_event_escape(const char *s, char *buf, size_t size)
{
    assert(s && buf && size > 0);
    char *p = buf;
    for (; *s && p + 3 < buf + size; s++) {
        if (*s == '%' || *s == '|')
            p += snprintf(p, 4, "%%%02X", (unsigned char) *s);
        else
            *p++ = *s;
    }
    *p = '\0';
    return (size_t) (p - buf);
}

int64_t cf_event_score(double x)
{
    return (int64_t) llround(x * 1e4);
}

int64_t cf_event_cents(double value)
{
    return (int64_t) llround(value * 100);
}

int cf_event_risk_level(const char *risk)
{
    assert(risk);
    for (int level = 1; level <= CF_RISK_LEVELS; level++)
        if (!strcmp(risk, cf_vocab_risk_name(level)))
            return level;
    return 0;
}

unsigned cf_event_demo(const cf_event_t *e, unsigned counts[CF_SEXES][CF_AGE_BANDS])
{
    assert(e && counts);
    memset(counts, 0, sizeof(unsigned) * CF_SEXES * CF_AGE_BANDS);
    unsigned cells = 0;
    for (unsigned i = 0; i < e->person_count; i++) {
        int sex = cf_vocab_sex_find(&e->persons[i].sex, 1);
        assert(sex >= 0 && e->persons[i].age_band < CF_AGE_BANDS);
        cells += counts[sex][e->persons[i].age_band]++ == 0;
    }
    return cells;
}
