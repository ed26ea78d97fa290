/*  Tests of cf_bench_gen: every event decodes and validates, every type but
    case.referred appears, the programmes are skewed, each case starts with its
    registration and its case_seq grows, the same seed gives the same
    bytes, and two namespaces share no event_id and no case_ref.            */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cf_bench_gen.h"

#define EVENTS 20000

static void decode(const cf_bench_gen_t *gen, size_t i, cf_event_t *event)
{
    size_t size;
    const void *data = cf_bench_gen_data(gen, i, &size);
    char reason[CF_REASON_MAX];
    if (cf_event_decode(event, data, size, reason, sizeof reason) < 0)
        fail_msg("event %zu: %s", i, reason);
}

static void test_valid_and_plausible(void **state)
{
    (void) state;
    cf_bench_gen_t *gen = cf_bench_gen_new(1, 1);
    cf_bench_gen_fill(gen, EVENTS / 2);
    cf_bench_gen_fill(gen, EVENTS / 2);
    assert_int_equal(cf_bench_gen_size(gen), EVENTS);
    size_t cases = cf_bench_gen_cases(gen), types[CF_EV_TYPE_COUNT] = { 0 }, big = 0;
    assert_true(cases > EVENTS / 10 && cases < EVENTS / 3);     /* several events per case */
    uint64_t *last_seq = calloc(cases, sizeof *last_seq);
    cf_event_t *event = malloc(sizeof *event);
    for (size_t i = 0; i < EVENTS; i++) {
        decode(gen, i, event);
        assert_int_equal(event->type, cf_bench_gen_type(gen, i));
        assert_string_equal(event->event_id, cf_bench_gen_event_id(gen, i));
        types[event->type]++;
        uint32_t of = cf_bench_gen_case_of(gen, i);
        assert_int_equal(of == CF_BENCH_NO_CASE, !cf_event_is_case_event(event->type));
        if (of == CF_BENCH_NO_CASE)
            continue;
        assert_true(of < cases);
        assert_true(event->has_case_seq);
        assert_int_equal(event->case_seq, last_seq[of] + 1);        /* in order, none lost */
        assert_int_equal(event->case_seq == 1, event->type == CF_EV_CASE_REGISTERED);
        last_seq[of] = event->case_seq;
        if (event->type == CF_EV_CASE_REGISTERED)
            big += strcmp(event->programme, "CH-AVR") == 0 || strcmp(event->programme, "EU-IOM-JI") == 0;
    }
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++)     /* referrals are not in the bench's mix */
        assert_true(types[t] > 0 || t == CF_EV_CASE_REFERRED);
    assert_true(big * 2 > cases);                               /* skewed: two of six programmes */
    assert_true(types[CF_EV_CASE_REGISTERED] == cases);
    free(event);
    free(last_seq);
    cf_bench_gen_destroy(&gen);
    assert_null(gen);
    cf_bench_gen_destroy(&gen);
}

static void test_deterministic(void **state)
{
    (void) state;
    cf_bench_gen_t *a = cf_bench_gen_new(7, 3), *b = cf_bench_gen_new(7, 3), *c = cf_bench_gen_new(8, 3);
    cf_bench_gen_fill(a, 3000);
    cf_bench_gen_fill(b, 1000);
    cf_bench_gen_fill(b, 2000);
    cf_bench_gen_fill(c, 3000);
    size_t differ = 0;
    for (size_t i = 0; i < 3000; i++) {
        size_t sa, sb, sc;
        const void *da = cf_bench_gen_data(a, i, &sa), *db = cf_bench_gen_data(b, i, &sb);
        const void *dc = cf_bench_gen_data(c, i, &sc);
        assert_int_equal(sa, sb);
        assert_memory_equal(da, db, sa);
        differ += sa != sc || memcmp(da, dc, sa) != 0;
    }
    assert_true(differ > 2900);                                 /* another seed, another mix */
    cf_bench_gen_destroy(&a);
    cf_bench_gen_destroy(&b);
    cf_bench_gen_destroy(&c);
}

static void test_namespaces_apart(void **state)
{
    (void) state;
    cf_bench_gen_t *a = cf_bench_gen_new(1, 1), *b = cf_bench_gen_new(1, 2);
    cf_bench_gen_fill(a, 500);
    cf_bench_gen_fill(b, 500);
    cf_event_t *x = malloc(sizeof *x), *y = malloc(sizeof *y);
    for (size_t i = 0; i < 500; i++) {
        decode(a, i, x);
        for (size_t j = 0; j < 500; j++) {
            decode(b, j, y);
            assert_string_not_equal(x->event_id, y->event_id);
            if (x->case_ref[0] && y->case_ref[0])
                assert_string_not_equal(x->case_ref, y->case_ref);
        }
    }
    free(x);
    free(y);
    cf_bench_gen_destroy(&a);
    cf_bench_gen_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_and_plausible),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_namespaces_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
