/*  cf_bench_gen: the deterministic event mix of caseflow-bench, as wire
    events (msgpack maps, docs/protocol.md section 1).

    Every one of the 13 event types appears. Programmes are skewed (CH-AVR
    and EU-IOM-JI make over half the cases), and so are the origin countries
    within each programme; a case is a household of 1..6 persons whose
    events come in a plausible order (registered, screened, assisted, maybe
    detained and released, departed, arrived, reintegration, monitored,
    closed; some stop early, some are closed early). About 32 cases are open
    at a time and their events interleave, as in an intake stream; funding
    transactions and flow observations are mixed in. Every event passes
    cf_event_decode.

    The same seed and namespace give the same bytes. Two namespaces never
    share an event_id or a case_ref, so one Redis can take several sets
    (the benchmark's phases) without duplicates. Pure: no I/O.              */
#ifndef CF_BENCH_GEN_H
#define CF_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>
#include "caseflow/cf_event.h"

#define CF_BENCH_NO_CASE    UINT32_MAX      /* case_of a funding or flow event */

typedef struct _cf_bench_gen_t cf_bench_gen_t;

/*  An empty set; namespace 0..9999 becomes part of every id.               */
cf_bench_gen_t *cf_bench_gen_new(uint64_t seed, unsigned ns);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_bench_gen_destroy(cf_bench_gen_t **self_p);

/*  Appends count events to the set (cases still open at the end are cut
    short: their events so far are a prefix of a plausible case).           */
void cf_bench_gen_fill(cf_bench_gen_t *self, size_t count);

size_t cf_bench_gen_size(const cf_bench_gen_t *self);

/*  Event index: its msgpack bytes (*size set), its event_id, its type, and
    the number of its case (0, 1, ... in order of registration) or
    CF_BENCH_NO_CASE. Pointers stay valid until the next fill.              */
const void *cf_bench_gen_data(const cf_bench_gen_t *self, size_t index, size_t *size);
const char *cf_bench_gen_event_id(const cf_bench_gen_t *self, size_t index);
cf_event_type_t cf_bench_gen_type(const cf_bench_gen_t *self, size_t index);
uint32_t cf_bench_gen_case_of(const cf_bench_gen_t *self, size_t index);

/*  Cases that have at least one event in the set.                           */
size_t cf_bench_gen_cases(const cf_bench_gen_t *self);

#endif
