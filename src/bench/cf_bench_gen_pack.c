/*  cf_bench_gen_pack: the random draws and the packing of one event, which
    both the set (cf_bench_gen.c: funding and flows) and the cases
    (cf_bench_gen_case.c) write their events with; see
    cf_bench_gen_internal.h. The random generator is splitmix64: small, fast
    and the same everywhere. Each event's body is packed first into a
    scratch buffer, counting its fields, so that the map header can be
    written in front of it.                                                  */
#include "cf_bench_gen_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pack.h"

#include <stdio.h>
#include <string.h>

uint64_t cf_bench_gen_next(cf_bench_gen_t *self)
{
    uint64_t z = (self->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* 0 .. n-1 */
unsigned cf_bench_gen_below(cf_bench_gen_t *self, unsigned n)
{
    return (unsigned) (cf_bench_gen_next(self) % n);
}

bool cf_bench_gen_chance(cf_bench_gen_t *self, unsigned percent)
{
    return cf_bench_gen_below(self, 100) < percent;
}

const char *cf_bench_gen_pick(cf_bench_gen_t *self, const gen_choice_t *table, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n && table[i].value; i++)
        total += table[i].weight;
    unsigned x = cf_bench_gen_below(self, total);
    for (size_t i = 0;; i++) {
        if (x < table[i].weight)
            return table[i].value;
        x -= table[i].weight;
    }
}

/* ---- packing ------------------------------------------------------------ */

void cf_bench_gen_key(cf_bench_gen_t *self, const char *key)
{
    cf_pack_str(&self->pk, key);
    self->fields++;
}

void cf_bench_gen_text(msgpack_packer *pk, const char *value)
{
    cf_pack_str(pk, value);
}

void cf_bench_gen_str(cf_bench_gen_t *self, const char *key, const char *value)
{
    cf_bench_gen_key(self, key);
    cf_bench_gen_text(&self->pk, value);
}

void cf_bench_gen_int(cf_bench_gen_t *self, const char *key, int64_t value)
{
    cf_bench_gen_key(self, key);
    msgpack_pack_int64(&self->pk, value);
}

void cf_bench_gen_real(cf_bench_gen_t *self, const char *key, double value)
{
    cf_bench_gen_key(self, key);
    msgpack_pack_double(&self->pk, value);
}

/* Starts an event: its envelope. The event_id is UUID-shaped (36 bytes, as
   most intake systems send), its first group the namespace. */
void cf_bench_gen_begin(cf_bench_gen_t *self, cf_event_type_t type, int64_t at, uint32_t case_of)
{
    self->events = cf_grow(self->events, &self->capacity, self->count + 1, sizeof *self->events);
    uint64_t r = cf_bench_gen_next(self);
    char id[48];
    snprintf(id, sizeof id, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned) (self->ns * 100003u),
             (unsigned) (r & 0xffff), (unsigned) (r >> 16 & 0xfff), (unsigned) (r >> 28 & 0xfff),
             (unsigned long long) self->count);
    gen_event_t *e = &self->events[self->count];
    e->id_at = self->arena.size;
    msgpack_sbuffer_write(&self->arena, id, strlen(id) + 1);
    e->type = (uint8_t) type;
    e->case_of = case_of;
    msgpack_sbuffer_clear(&self->body);
    self->fields = 0;
    cf_bench_gen_str(self, "event_id", id);
    cf_bench_gen_str(self, "event_type", cf_event_type_name(type));
    cf_bench_gen_int(self, "schema_version", 1);
    cf_bench_gen_int(self, "occurred_at", at);
    if (cf_bench_gen_chance(self, 70))
        cf_bench_gen_str(self, "source_system", "MiMOSA");
}

void cf_bench_gen_end(cf_bench_gen_t *self)
{
    gen_event_t *e = &self->events[self->count++];
    e->at = self->arena.size;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->arena, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, self->fields);
    msgpack_sbuffer_write(&self->arena, self->body.data, self->body.size);
    e->size = self->arena.size - e->at;
}
