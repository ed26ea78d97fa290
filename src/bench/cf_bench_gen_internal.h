/*  cf_bench_gen internals shared by cf_bench_gen.c (the set, funding and
    flows), cf_bench_gen_case.c (the programmes and the events of a case)
    and cf_bench_gen_pack.c (the random generator and the packing both
    write their events with). Not part of the public API.                   */
#ifndef CF_BENCH_GEN_INTERNAL_H
#define CF_BENCH_GEN_INTERNAL_H

#include "cf_bench_gen.h"

#include <stdbool.h>
#include <msgpack.h>

#define GEN_OPEN_CASES  32              /* cases whose events interleave */
#define GEN_PLAN_MAX    24
#define GEN_DAY_MS      86400000LL
#define GEN_HOUR_MS     3600000LL
#define GEN_EPOCH_MS    1546300800000LL /* 2019-01-01T00:00:00Z */

typedef struct { const char *value; unsigned weight; } gen_choice_t;

typedef struct {
    const char *code, *office, *ptype, *host, *currency, *mode, *route;
    unsigned weight;
    bool detains;                       /* Libya: many registered in detention */
    gen_choice_t origins[8];
} gen_programme_t;

typedef struct {
    uint32_t number;                    /* case number, 0, 1, ... */
    const gen_programme_t *p;
    const char *origin;
    int64_t t;                          /* occurred_at of the last event */
    uint8_t plan[GEN_PLAN_MAX], count, next;
} gen_case_t;

typedef struct {
    size_t at, size, id_at;
    uint32_t case_of;
    uint8_t type;
} gen_event_t;

struct _cf_bench_gen_t {
    uint64_t state;
    unsigned ns;
    gen_case_t open[GEN_OPEN_CASES];
    uint32_t cases;
    gen_event_t *events;
    size_t count, capacity;
    msgpack_sbuffer arena, body;        /* events and ids back to back; one body */
    msgpack_packer pk;                  /* writes into body */
    unsigned fields;                    /* in body */
};

/*  The next random number (splitmix64); one below n; true percent in 100.  */
uint64_t cf_bench_gen_next(cf_bench_gen_t *self);
unsigned cf_bench_gen_below(cf_bench_gen_t *self, unsigned n);
bool cf_bench_gen_chance(cf_bench_gen_t *self, unsigned percent);

/*  A value of table (n entries at most, ended early by a NULL value), drawn
    by weight.                                                               */
const char *cf_bench_gen_pick(cf_bench_gen_t *self, const gen_choice_t *table, size_t n);

/*  Packing one event: begin writes its envelope, the field functions add a
    key and its value to the body (counting the fields), end writes the map
    into the set.                                                            */
void cf_bench_gen_begin(cf_bench_gen_t *self, cf_event_type_t type, int64_t at, uint32_t case_of);
void cf_bench_gen_key(cf_bench_gen_t *self, const char *key);
void cf_bench_gen_text(msgpack_packer *pk, const char *value);
void cf_bench_gen_str(cf_bench_gen_t *self, const char *key, const char *value);
void cf_bench_gen_int(cf_bench_gen_t *self, const char *key, int64_t value);
void cf_bench_gen_real(cf_bench_gen_t *self, const char *key, double value);
void cf_bench_gen_end(cf_bench_gen_t *self);

/*  A new case in slot c: its programme, origin, start and plan.            */
void cf_bench_gen_case_begin(cf_bench_gen_t *self, gen_case_t *c);

/*  Writes the next event of case c.                                         */
void cf_bench_gen_case_event(cf_bench_gen_t *self, gen_case_t *c);

#endif
