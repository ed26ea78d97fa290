/*  cf_bench_gen: the benchmark's event mix; see cf_bench_gen.h. Each case
    gets a plan (its event types, in order) when it begins
    (cf_bench_gen_case.c); a step picks one of the open cases at random and
    writes its next event, so cases interleave the way an intake stream
    delivers them. Funding transactions and flow observations are written
    here; the random draws and the packing that every event is written with
    are in cf_bench_gen_pack.c.                                              */
#include "cf_bench_gen_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- funding and flows -------------------------------------------------- */

static void gen_funding(cf_bench_gen_t *self)
{
    static const char *const donors[] = { "European Union", "IOM Development Fund",
                                          "US Department of State - INL" };
    static const uint8_t types[] = { 1, 2, 3, 4, 11 };
    unsigned d = cf_bench_gen_below(self, 3);
    cf_bench_gen_begin(self, CF_EV_FUNDING_TRANSACTION, GEN_EPOCH_MS + cf_bench_gen_below(self, 365) * GEN_DAY_MS,
              CF_BENCH_NO_CASE);
    char project[40];
    snprintf(project, sizeof project, "XM-DAC-47066-P%u", d * 10 + cf_bench_gen_below(self, 4));
    cf_bench_gen_str(self, "project_id", project);
    cf_bench_gen_str(self, "donor", donors[d]);
    cf_bench_gen_int(self, "transaction_type", types[cf_bench_gen_below(self, 5)]);
    cf_bench_gen_real(self, "value", (double) (1000 + cf_bench_gen_below(self, 100000)));
    cf_bench_gen_str(self, "currency", d == 0 ? "EUR" : "USD");
    cf_bench_gen_end(self);
}

static void gen_flow(cf_bench_gen_t *self)
{
    static const char *const from[] = { "LBY", "LBY", "LBY", "TUN", "DZA" };
    bool med = cf_bench_gen_chance(self, 70);
    unsigned count = 5 + cf_bench_gen_below(self, 400);
    cf_bench_gen_begin(self, CF_EV_FLOW_OBSERVED, GEN_EPOCH_MS + cf_bench_gen_below(self, 180) * GEN_DAY_MS,
              CF_BENCH_NO_CASE);
    cf_bench_gen_str(self, "point", med ? "Lampedusa" : "Presevo");
    cf_bench_gen_str(self, "country", med ? "ITA" : "SRB");
    cf_bench_gen_str(self, "from_country", med ? from[cf_bench_gen_below(self, 5)] : "MKD");
    cf_bench_gen_str(self, "to_country", med ? "ITA" : "SRB");
    cf_bench_gen_int(self, "count", count);
    if (cf_bench_gen_chance(self, 80)) {
        cf_bench_gen_str(self, "route", med ? "central_mediterranean" : "western_balkans");
        cf_bench_gen_int(self, "uasc", count / 10);
    }
    cf_bench_gen_end(self);
}

/* ---- the set ------------------------------------------------------------ */

cf_bench_gen_t *cf_bench_gen_new(uint64_t seed, unsigned ns)
{
    assert(ns <= 9999);
    cf_bench_gen_t *self = cf_calloc(1, sizeof *self);
    self->state = seed * 0x2545f4914f6cdd1dULL + ns;
    self->ns = ns;
    msgpack_sbuffer_init(&self->arena);
    msgpack_sbuffer_init(&self->body);
    msgpack_packer_init(&self->pk, &self->body, msgpack_sbuffer_write);
    for (unsigned i = 0; i < GEN_OPEN_CASES; i++)
        cf_bench_gen_case_begin(self, &self->open[i]);
    return self;
}

void cf_bench_gen_destroy(cf_bench_gen_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_bench_gen_t *self = *self_p;
    msgpack_sbuffer_destroy(&self->arena);
    msgpack_sbuffer_destroy(&self->body);
    free(self->events);
    free(self);
    *self_p = NULL;
}

void cf_bench_gen_fill(cf_bench_gen_t *self, size_t count)
{
    assert(self);
    for (size_t target = self->count + count; self->count < target;) {
        unsigned r = cf_bench_gen_below(self, 1000);
        if (r < 8)
            gen_funding(self);
        else if (r < 28)
            gen_flow(self);
        else {
            gen_case_t *c = &self->open[cf_bench_gen_below(self, GEN_OPEN_CASES)];
            cf_bench_gen_case_event(self, c);
            if (c->next == c->count)
                cf_bench_gen_case_begin(self, c);
        }
    }
}

size_t cf_bench_gen_size(const cf_bench_gen_t *self)
{
    assert(self);
    return self->count;
}

const void *cf_bench_gen_data(const cf_bench_gen_t *self, size_t index, size_t *size)
{
    assert(self && index < self->count && size);
    *size = self->events[index].size;
    return self->arena.data + self->events[index].at;
}

const char *cf_bench_gen_event_id(const cf_bench_gen_t *self, size_t index)
{
    assert(self && index < self->count);
    return self->arena.data + self->events[index].id_at;
}

cf_event_type_t cf_bench_gen_type(const cf_bench_gen_t *self, size_t index)
{
    assert(self && index < self->count);
    return (cf_event_type_t) self->events[index].type;
}

uint32_t cf_bench_gen_case_of(const cf_bench_gen_t *self, size_t index)
{
    assert(self && index < self->count);
    return self->events[index].case_of;
}

size_t cf_bench_gen_cases(const cf_bench_gen_t *self)
{
    assert(self);
    return self->cases;
}
