/*  cf_fold_services: a case's per-event counters, the services its type's
    row names (cf_event_types.c), reintegration and monitoring: counted at
    once when the case is registered, else kept on the case as waiting
    counters and counted by its registration (docs/storage.md,
    "Semantics"). Every accepted event counts, also one for a stage below
    the current one.                                                        */
#include "cf_fold_internal.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <string.h>

/*  Adds d to a per-event counter of a case: at once when it is registered
    (<prog>|[<origin>|]<rest>), else kept on the case until then.          */
void fold_emit(cf_fold_t *self, fold_case_t *c, int family, const char *rest, int64_t d)
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

void fold_flush_pending(cf_fold_t *self, fold_case_t *c)
{
    size_t n = c->pending_n;
    c->pending_n = 0;           /* fold_emit counts now: nothing kept */
    for (size_t i = 0; i < n; i++)
        fold_emit(self, c, c->pending[i].family, c->pending[i].rest, c->pending[i].value);
}

/* A service counted once per event, with its value in cents if any. */
void fold_service(cf_fold_t *self, fold_case_t *c, int family, const char *rest,
                  const char *currency, int64_t cents)
{
    char field[FOLD_REST_MAX];
    int len = cf_fmt(field, sizeof field, "%s|%s|%s", rest, currency,
                       family == CF_FAMILY_REINT ? "services" : "events");
    assert(len > 0 && (size_t) len < sizeof field);
    (void) len;
    fold_emit(self, c, family, field, 1);
    if (strcmp(currency, "-")) {
        cf_fmt(field, sizeof field, "%s|%s|value", rest, currency);
        fold_emit(self, c, family, field, cents);
    }
}

const char *fold_money_currency(const cf_event_t *e)
{
    return e->has_value ? e->currency : "-";
}

int64_t fold_money_cents(const cf_event_t *e)
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
void fold_count_services(cf_fold_t *self, fold_case_t *c, const cf_event_t *e)
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
            fold_service(self, c, CF_FAMILY_SERVICES, rest, fold_money_currency(e),
                         fold_money_cents(e));
        else
            fold_service(self, c, CF_FAMILY_SERVICES, rest, "-", 0);
    }
}
