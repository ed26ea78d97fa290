/*  cf_bench_gen_case: the programmes of the mix and the events of one case;
    see cf_bench_gen.h. Programmes and origins are weighted tables, modelled
    on those of scripts/gen-events (the seeds' programmes) with two more
    (DE-REAG, NE-VHR) so that the tail of the mix is long.                  */
#include "cf_bench_gen_internal.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const gen_programme_t s_programmes[] = {
    { "CH-AVR", "BEL", "avrr", "CHE", "CHF", "commercial", "western_balkans", 30, false,
      { { "SRB", 80 }, { "MKD", 8 }, { "BIH", 7 }, { "MNE", 5 } } },
    { "EU-IOM-JI", "TIP", "vhr", "LBY", "EUR", "charter", "central_mediterranean", 28, true,
      { { "MLI", 30 }, { "GIN", 25 }, { "GMB", 20 }, { "SEN", 15 }, { "NGA", 6 }, { "NER", 4 } } },
    { "UK-VARRP", "LON", "avrr", "GBR", "GBP", "commercial", NULL, 14, false,
      { { "PAK", 20 }, { "IND", 15 }, { "ALB", 15 }, { "NGA", 12 }, { "CHN", 10 }, { "IRQ", 10 },
        { "VNM", 8 }, { "BRA", 10 } } },
    { "DE-REAG", "BER", "avrr", "DEU", "EUR", "commercial", NULL, 12, false,
      { { "ALB", 30 }, { "GEO", 25 }, { "MKD", 20 }, { "SRB", 15 }, { "IRQ", 10 } } },
    { "KS-RRP", "PRN", "idp_return", "SRB", "EUR", "land", NULL, 10, false,
      { { "XKX", 1 } } },
    { "NE-VHR", "NIM", "vhr", "NER", "EUR", "land", "central_mediterranean", 6, true,
      { { "MLI", 35 }, { "GIN", 25 }, { "NGA", 20 }, { "CMR", 10 }, { "SEN", 10 } } },
};
#define GEN_PROGRAMMES (sizeof s_programmes / sizeof *s_programmes)

static const char *const s_assistance[] = { "counselling", "documents", "accommodation",
                                            "medical", "cash", "transport" };
static const char *const s_vulns[] = { "health", "single_parent", "elderly", "uasc", "vot" };

/* ---- cases -------------------------------------------------------------- */

static void gen_plan_add(gen_case_t *c, cf_event_type_t type)
{
    assert(c->count < GEN_PLAN_MAX);
    c->plan[c->count++] = (uint8_t) type;
}

void cf_bench_gen_case_begin(cf_bench_gen_t *self, gen_case_t *c)
{
    gen_choice_t mix[GEN_PROGRAMMES];
    for (size_t i = 0; i < GEN_PROGRAMMES; i++)
        mix[i] = (gen_choice_t) { s_programmes[i].code, s_programmes[i].weight };
    const char *code = cf_bench_gen_pick(self, mix, GEN_PROGRAMMES);
    *c = (gen_case_t) { .number = CF_BENCH_NO_CASE };     /* numbered at its first event */
    for (size_t i = 0; i < GEN_PROGRAMMES; i++)
        if (s_programmes[i].code == code)
            c->p = &s_programmes[i];
    c->origin = cf_bench_gen_pick(self, c->p->origins, 8);
    c->t = GEN_EPOCH_MS + (int64_t) cf_bench_gen_below(self, 300) * GEN_DAY_MS
         + (int64_t) (7 + cf_bench_gen_below(self, 10)) * GEN_HOUR_MS;
    bool detained = c->p->detains && cf_bench_gen_chance(self, 60);
    gen_plan_add(c, CF_EV_CASE_REGISTERED);
    if (detained)
        gen_plan_add(c, CF_EV_CASE_DETAINED);
    unsigned stop = cf_bench_gen_below(self, 100);   /* 70 % return, the rest stop early */
    if (cf_bench_gen_chance(self, 85))
        gen_plan_add(c, CF_EV_CASE_SCREENED);
    if (stop >= 80) {
        gen_plan_add(c, CF_EV_CASE_CLOSED);
        return;
    }
    for (unsigned i = cf_bench_gen_chance(self, 25) ? 2 : 1; i > 0; i--)
        gen_plan_add(c, CF_EV_CASE_ASSISTED);
    if (stop >= 70) {
        if (cf_bench_gen_chance(self, 40))
            gen_plan_add(c, CF_EV_CASE_CLOSED);
        return;
    }
    if (detained)
        gen_plan_add(c, CF_EV_CASE_RELEASED);
    gen_plan_add(c, CF_EV_CASE_DEPARTED);
    gen_plan_add(c, CF_EV_CASE_ARRIVED);
    if (stop >= 55)
        return;
    for (unsigned i = cf_bench_gen_chance(self, 30) ? 2 : 1; i > 0; i--)
        gen_plan_add(c, CF_EV_CASE_REINTEGRATION);
    if (cf_bench_gen_chance(self, 8))
        gen_plan_add(c, CF_EV_CASE_REUNIFIED);
    if (stop >= 35)
        return;
    gen_plan_add(c, CF_EV_CASE_MONITORED);
    if (stop < 25)
        gen_plan_add(c, CF_EV_CASE_CLOSED);
}

static void gen_persons(cf_bench_gen_t *self)
{
    unsigned n = 1 + cf_bench_gen_below(self, 2) * cf_bench_gen_below(self, 6);  /* 1..6, over half alone */
    cf_bench_gen_key(self, "persons");
    msgpack_pack_array(&self->pk, n);
    for (unsigned i = 0; i < n; i++) {
        bool principal = i == 0;
        msgpack_pack_map(&self->pk, 3);
        cf_bench_gen_text(&self->pk, "sex");
        cf_bench_gen_text(&self->pk, cf_bench_gen_chance(self, principal ? 70 : 50) ? "m" : "f");
        cf_bench_gen_text(&self->pk, "age_band");
        cf_bench_gen_text(&self->pk, principal ? (cf_bench_gen_chance(self, 92) ? "18-59" : "60+")
                                      : cf_vocab_age_bands[cf_bench_gen_below(self, 4)]);
        cf_bench_gen_text(&self->pk, "role");
        cf_bench_gen_text(&self->pk, principal ? "principal" : "dependant");
    }
}

static void gen_money(cf_bench_gen_t *self, const gen_case_t *c, unsigned percent)
{
    if (cf_bench_gen_chance(self, percent)) {
        cf_bench_gen_real(self, "value", (double) (50 + cf_bench_gen_below(self, 3000)) / 2);
        cf_bench_gen_str(self, "currency", c->p->currency);
    }
}

/* The case's next event: its type-specific fields. */
void cf_bench_gen_case_event(cf_bench_gen_t *self, gen_case_t *c)
{
    if (c->next == 0)
        c->number = self->cases++;
    cf_event_type_t type = (cf_event_type_t) c->plan[c->next++];
    const gen_programme_t *p = c->p;
    c->t += type == CF_EV_CASE_REGISTERED ? 0
          : (int64_t) (1 + cf_bench_gen_below(self, 20)) * GEN_DAY_MS + cf_bench_gen_below(self, 8) * GEN_HOUR_MS;
    cf_bench_gen_begin(self, type, c->t, c->number);
    char ref[40];
    snprintf(ref, sizeof ref, "%s-%04u-%07u", p->office, self->ns, c->number);
    cf_bench_gen_str(self, "case_ref", ref);
    cf_bench_gen_int(self, "case_seq", c->next);
    switch (type) {
    case CF_EV_CASE_REGISTERED:
        cf_bench_gen_str(self, "programme", p->code);
        cf_bench_gen_str(self, "programme_type", p->ptype);
        cf_bench_gen_str(self, "host_country", p->host);
        cf_bench_gen_str(self, "origin_country", c->origin);
        if (p->route && cf_bench_gen_chance(self, 60))
            cf_bench_gen_str(self, "route", p->route);
        gen_persons(self);
        if (cf_bench_gen_chance(self, 15)) {
            cf_bench_gen_key(self, "vulnerabilities");
            msgpack_pack_array(&self->pk, 1);
            cf_bench_gen_text(&self->pk, s_vulns[cf_bench_gen_below(self, 5)]);
        }
        break;
    case CF_EV_CASE_SCREENED:
        cf_bench_gen_str(self, "screening", cf_bench_gen_chance(self, 60) ? "vulnerability" : "medical");
        cf_bench_gen_str(self, "outcome", cf_bench_gen_chance(self, 90) ? "cleared" : "referred");
        if (cf_bench_gen_chance(self, 50))
            cf_bench_gen_str(self, "risk", cf_bench_gen_chance(self, 80) ? "low" : cf_bench_gen_chance(self, 70) ? "medium" : "high");
        break;
    case CF_EV_CASE_ASSISTED: {
        unsigned k = cf_bench_gen_below(self, 6);
        cf_bench_gen_str(self, "assistance", s_assistance[k]);
        gen_money(self, c, k >= 4 ? 100 : 0);
        break;
    }
    case CF_EV_CASE_DETAINED:
    case CF_EV_CASE_RELEASED:
        cf_bench_gen_str(self, "country", p->host);
        break;
    case CF_EV_CASE_DEPARTED:
        cf_bench_gen_str(self, "departure_country", p->host);
        cf_bench_gen_str(self, "mode", p->mode);
        if (cf_bench_gen_chance(self, 15)) {
            cf_bench_gen_key(self, "escort");
            msgpack_pack_true(&self->pk);
        }
        break;
    case CF_EV_CASE_ARRIVED:
        cf_bench_gen_str(self, "arrival_country", c->origin);
        break;
    case CF_EV_CASE_REINTEGRATION:
        cf_bench_gen_str(self, "dimension", cf_bench_gen_chance(self, 70) ? "economic" : "social");
        cf_bench_gen_str(self, "modality", cf_bench_gen_chance(self, 60) ? "in_kind" : "cash");
        gen_money(self, c, 70);
        break;
    case CF_EV_CASE_MONITORED:
        cf_bench_gen_real(self, "economic", (double) cf_bench_gen_below(self, 101) / 100);
        cf_bench_gen_real(self, "social", (double) cf_bench_gen_below(self, 101) / 100);
        cf_bench_gen_real(self, "psychosocial", (double) cf_bench_gen_below(self, 101) / 100);
        if (cf_bench_gen_chance(self, 80))
            cf_bench_gen_real(self, "composite", (double) cf_bench_gen_below(self, 101) / 100);
        break;
    case CF_EV_CASE_REUNIFIED:
        cf_bench_gen_str(self, "country", c->origin);
        break;
    default:
        cf_bench_gen_str(self, "reason", c->next == c->count && c->count > 8 ? "completed"
                                : cf_bench_gen_chance(self, 60) ? "withdrawn" : "no_show");
        break;
    }
    cf_bench_gen_end(self);
}
