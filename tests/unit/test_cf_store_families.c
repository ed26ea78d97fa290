/*  Tests of the counter families of the apply script beyond stages
    (docs/storage.md): durations and their histogram buckets, the earliest
    departure/arrival winning whatever the order, detention episodes,
    services and monitoring kept until the registration, risk, funding with
    escaped names, flows with optional measures, and the final counters of
    every family the same for many random orders and batch splits of one
    event set. Against a throw-away redis-server; events built by hand.     */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_store.h"
#include "cf_test_store.h"


static const char *const s_families[] = { "stage", "returns", "vuln", "demo", "dur", "detention",
                                          "reint", "monitor", "services", "funding", "flows" };
#define FAMILY_COUNT (sizeof s_families / sizeof *s_families)

#define at cf_test_at

static void test_durations(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[5];
    cf_test_register(&ev[0], "u-0", CASE_A, "CH-AVR", "fm", "\3\3");
    at(&ev[0], T0);
    cf_test_stage(&ev[1], "u-1", CASE_A, CF_EV_CASE_DEPARTED);
    at(&ev[1], T0 + 60 * DAY);
    cf_test_stage(&ev[2], "u-2", CASE_A, CF_EV_CASE_ARRIVED);
    at(&ev[2], T0 + 60 * DAY + 5 * HOUR + 59 * 60000);
    cf_test_stage(&ev[3], "u-3", CASE_A, CF_EV_CASE_REINTEGRATION);
    at(&ev[3], T0 + 100 * DAY);
    assert_string_equal(cf_test_apply(f, ev, 4), "aaaa");
    /* 60 d = 1440 h: 2^10 <= h < 2^11, width 64; 39 d 18 h 1 m = 954 h: width 32 */
    assert_string_equal(cf_test_family(f, "dur"),
        "CH-AVR|arrived-reintegrating|bucket|928|960=1 CH-AVR|arrived-reintegrating|count=1 "
        "CH-AVR|arrived-reintegrating|seconds=3434460 "
        "CH-AVR|departed-arrived|bucket|5|6=1 CH-AVR|departed-arrived|count=1 "
        "CH-AVR|departed-arrived|seconds=21540 "
        "CH-AVR|registered-departed|bucket|1408|1472=1 CH-AVR|registered-departed|count=1 "
        "CH-AVR|registered-departed|seconds=5184000 ");
    /* an earlier departure, received late, moves both intervals it ends and starts */
    cf_test_stage(&ev[4], "u-4", CASE_A, CF_EV_CASE_DEPARTED);
    at(&ev[4], T0 + 59 * DAY);
    assert_string_equal(cf_test_apply(f, ev + 4, 1), "a");
    assert_int_equal(cf_test_get(f, "dur", "CH-AVR|registered-departed|seconds"), 59 * 86400);
    assert_int_equal(cf_test_get(f, "dur", "CH-AVR|registered-departed|count"), 1);
    assert_int_equal(cf_test_get(f, "dur", "CH-AVR|registered-departed|bucket|1408|1472"), 1);
    assert_int_equal(cf_test_get(f, "dur", "CH-AVR|departed-arrived|seconds"), 86400 + 21540);
    assert_string_equal(cf_test_family_nonzero(f, "services"),
                        "CH-AVR|departure|charter|-|events=2 ");
}

static void test_earliest_arrival_dates_the_return(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_register(&ev[0], "e-0", CASE_B, "EU-IOM-JI", "m", "\3");
    cf_test_stage(&ev[1], "e-1", CASE_B, CF_EV_CASE_ARRIVED);
    at(&ev[1], T0 + 40 * DAY);                  /* 2024-04-10 */
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");
    assert_int_equal(cf_test_get(f, "returns", "day:2024-04-10|origin|SRB|EU-IOM-JI|cases"), 1);
    cf_test_stage(&ev[2], "e-2", CASE_B, CF_EV_CASE_ARRIVED);
    at(&ev[2], T0 + 2 * DAY);                   /* 2024-03-03 */
    assert_string_equal(cf_test_apply(f, ev + 2, 1), "a");
    assert_string_equal(cf_test_family_nonzero(f, "returns"),
        "day:2024-03-03|host|CHE|EU-IOM-JI|cases=1 day:2024-03-03|host|CHE|EU-IOM-JI|persons=1 "
        "day:2024-03-03|origin|SRB|EU-IOM-JI|cases=1 day:2024-03-03|origin|SRB|EU-IOM-JI|persons=1 "
        "day:2024-03-03|programme|EU-IOM-JI|EU-IOM-JI|cases=1 "
        "day:2024-03-03|programme|EU-IOM-JI|EU-IOM-JI|persons=1 "
        "day:2024-03-03|route|central_mediterranean|EU-IOM-JI|cases=1 "
        "day:2024-03-03|route|central_mediterranean|EU-IOM-JI|persons=1 ");
    assert_int_equal(cf_test_get(f, "stage", "EU-IOM-JI|arrived|ever|cases"), 1);
}

static void test_detention(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[5];
    /* released before detained in the batch; a second detention still open */
    cf_test_stage(&ev[0], "t-0", CASE_B, CF_EV_CASE_RELEASED);
    at(&ev[0], T0 + 10 * DAY);
    cf_test_stage(&ev[1], "t-1", CASE_B, CF_EV_CASE_DETAINED);
    at(&ev[1], T0 + 40 * DAY);
    cf_test_stage(&ev[2], "t-2", CASE_B, CF_EV_CASE_DETAINED);
    at(&ev[2], T0);
    assert_string_equal(cf_test_apply(f, ev, 3), "aaa");
    assert_string_equal(cf_test_family(f, "detention"), "");     /* not registered yet */
    cf_test_register(&ev[3], "t-3", CASE_B, "EU-IOM-JI", "m", "\3");
    assert_string_equal(cf_test_apply(f, ev + 3, 1), "a");
    assert_string_equal(cf_test_family(f, "detention"),
        "EU-IOM-JI|LBY|cases=1 EU-IOM-JI|LBY|episodes=1 EU-IOM-JI|LBY|now=1 "
        "EU-IOM-JI|LBY|seconds=864000 ");
    cf_test_stage(&ev[4], "t-4", CASE_B, CF_EV_CASE_RELEASED);
    at(&ev[4], T0 + 45 * DAY);
    assert_string_equal(cf_test_apply(f, ev + 4, 1), "a");
    assert_string_equal(cf_test_family(f, "detention"),
        "EU-IOM-JI|LBY|cases=1 EU-IOM-JI|LBY|episodes=2 "
        "EU-IOM-JI|LBY|seconds=1296000 ");                   /* now: 0, as absent */
}

static void test_services_wait_for_registration(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[7];
    cf_test_stage(&ev[0], "w-0", CASE_A, CF_EV_CASE_ASSISTED);
    strcpy(ev[0].assistance, "cash");
    ev[0].has_value = true;
    ev[0].value = 150.25;
    strcpy(ev[0].currency, "CHF");
    cf_test_stage(&ev[1], "w-1", CASE_A, CF_EV_CASE_MONITORED);
    ev[1].economic = 0.5, ev[1].social = 0.25, ev[1].psychosocial = 1;
    cf_test_stage(&ev[2], "w-2", CASE_A, CF_EV_CASE_REINTEGRATION);
    cf_test_stage(&ev[3], "w-3", CASE_A, CF_EV_CASE_SCREENED);
    strcpy(ev[3].risk, "high");
    cf_test_stage(&ev[4], "w-6", CASE_A, CF_EV_CASE_REFERRED);
    strcpy(ev[4].service, "mental_health");
    assert_string_equal(cf_test_apply(f, ev, 5), "aaaaa");
    for (size_t i = 0; i < FAMILY_COUNT; i++)
        assert_string_equal(cf_test_family(f, s_families[i]), "");
    cf_test_register(&ev[5], "w-4", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[6], "w-5", CASE_A, CF_EV_CASE_SCREENED);
    strcpy(ev[6].risk, "low");
    assert_string_equal(cf_test_apply(f, ev + 5, 2), "aa");
    assert_string_equal(cf_test_family(f, "services"),
        "CH-AVR|assistance|cash|CHF|events=1 CH-AVR|assistance|cash|CHF|value=15025 "
        "CH-AVR|referral|mental_health:ngo|-|events=1 "
        "CH-AVR|screening|medical:cleared|-|events=2 ");
    /* the referral moved no stage: the case is where its reintegration put it */
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|reintegrating|now|cases"), 1);
    assert_string_equal(cf_test_family(f, "monitor"),
        "CH-AVR|SRB|economic=5000 CH-AVR|SRB|psychosocial=10000 CH-AVR|SRB|social=2500 "
        "CH-AVR|SRB|surveys=1 ");
    assert_string_equal(cf_test_family(f, "reint"), "CH-AVR|economic|cash|-|services=1 ");
    assert_string_equal(cf_test_family(f, "vuln"), "CH-AVR|risk:high=1 ");
    /* the pending counters are gone from the case once counted */
    assert_null(strstr(cf_test_case_state(f, cf_store_shard_of(f->store, &ev[5]), CASE_A), "q|"));
}

static void test_funding_and_flows(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_stage(&ev[0], "g-0", CASE_A, CF_EV_FUNDING_TRANSACTION);
    strcpy(ev[0].donor, "US|INL 100%");
    ev[0].value = 650000;
    strcpy(ev[0].currency, "USD");
    cf_test_stage(&ev[1], "g-1", CASE_A, CF_EV_FLOW_OBSERVED);
    ev[1].count = 40, ev[1].has_uasc = true, ev[1].uasc = 3;
    strcpy(ev[1].route, "central_mediterranean");
    strcpy(ev[1].country, "ITA");
    cf_test_stage(&ev[2], "g-2", CASE_A, CF_EV_FLOW_OBSERVED);
    ev[2].count = 10, ev[2].has_females = ev[2].has_males = true, ev[2].females = 4,
    ev[2].males = 6;
    strcpy(ev[2].country, "ITA");
    assert_string_equal(cf_test_apply(f, ev, 3), "aaa");
    assert_string_equal(cf_test_family(f, "funding"),
        "day:2024-03-01|US%7CINL 100%25|XM-DAC-1|USD|2|transactions=1 "
        "day:2024-03-01|US%7CINL 100%25|XM-DAC-1|USD|2|value=65000000 ");
    assert_string_equal(cf_test_family(f, "flows"),
        "day:2024-03-01|-|LBY|ITA|ITA|count=10 day:2024-03-01|-|LBY|ITA|ITA|females=4 "
        "day:2024-03-01|-|LBY|ITA|ITA|males=6 "
        "day:2024-03-01|central_mediterranean|LBY|ITA|ITA|count=40 "
        "day:2024-03-01|central_mediterranean|LBY|ITA|ITA|uasc=3 "
        "day:2024-03-01|central_mediterranean|LBY|ITA|ITA|uasc_base=40 ");
}

/* A key of the wrong type, or a case state that is not one, fails the
   shard's call before its first write: no dedupe marker is left for events
   that did not count. */
static void test_wrong_type_writes_nothing(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    cf_ack_status_t status[2];
    cf_test_register(&ev[0], "x-0", CASE_B, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "x-1", CASE_B, CF_EV_CASE_SCREENED);
    cf_test_integer(f, "SET cf:{s" CASE_B_SHARD "}:services oops");
    assert_int_equal(cf_store_apply(f->store, ev, 2, status), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_REDIS);
    assert_non_null(strstr(cf_store_error(f->store), "cf:{s" CASE_B_SHARD "}:services holds a string"));
    assert_int_equal(cf_test_integer(f, "DBSIZE"), 2);     /* it and cf:shards */
    cf_test_integer(f, "DEL cf:{s" CASE_B_SHARD "}:services");
    cf_test_integer(f, "HSET cf:{s" CASE_B_SHARD "}:case:" CASE_B " bits 1");     /* a hash, not a state */
    assert_int_equal(cf_store_apply(f->store, ev, 2, status), -1);
    assert_non_null(strstr(cf_store_error(f->store), "WRONGTYPE"));
    assert_int_equal(cf_test_integer(f, "DBSIZE"), 2);     /* it and cf:shards */
    cf_test_integer(f, "DEL cf:{s" CASE_B_SHARD "}:case:" CASE_B);
    cf_test_integer(f, "SET cf:{s" CASE_B_SHARD "}:case:" CASE_B " oops");    /* a string, not a state */
    assert_int_equal(cf_store_apply(f->store, ev, 2, status), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_REDIS);
    assert_non_null(strstr(cf_store_error(f->store), "case " CASE_B ": "));
    assert_int_equal(cf_test_integer(f, "DBSIZE"), 2);     /* it and cf:shards */
    cf_test_integer(f, "DEL cf:{s" CASE_B_SHARD "}:case:" CASE_B);
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");
}

/* ---- order independence ---------------------------------------------------- */

/* Every family but quality, whose out-of-order counters depend on the order. */
static char *all_families(fixture_t *f)
{
    size_t size = 1;
    char *text = calloc(1, 1);
    for (size_t i = 0; i < FAMILY_COUNT; i++) {
        const char *part = cf_test_family_nonzero(f, s_families[i]);
        text = realloc(text, size += strlen(part) + strlen(s_families[i]) + 2);
        strcat(strcat(strcat(text, s_families[i]), ": "), part);
    }
    return text;
}

static void test_any_order_same_counters(void **state)
{
    fixture_t *f = *state;
    cf_event_t *ev = calloc(CF_TEST_ORDER_EVENTS, sizeof *ev);
    size_t n = cf_test_order_events(ev);
    assert_int_equal(strspn(cf_test_apply(f, ev, n), "a"), n);
    char *want = all_families(f);
    for (size_t i = 0; i < FAMILY_COUNT - 2; i++) {     /* all but funding and flows */
        char name[32];
        snprintf(name, sizeof name, "%s: ", s_families[i]);
        assert_non_null(strstr(want, name));
        assert_true(strstr(want, name)[strlen(name)] != '\0'
                    && strstr(want, name)[strlen(name)] != ' ');
    }
    unsigned seed = 20240301;
    for (int round = 0; round < 8; round++) {
        cf_test_integer(f, "FLUSHALL");
        cf_test_shuffle(ev, n, &seed);
        for (size_t done = 0; done < n;) {      /* random batch sizes, 1..40 */
            size_t take = 1 + (size_t) rand_r(&seed) % 40;
            take = take > n - done ? n - done : take;
            cf_test_apply(f, ev + done, take);
            done += take;
        }
        char *got = all_families(f);
        assert_string_equal(got, want);
        free(got);
    }
    free(want);
    free(ev);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_durations, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_earliest_arrival_dates_the_return,
                                        cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_detention, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_services_wait_for_registration,
                                        cf_test_store_setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_funding_and_flows, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type_writes_nothing, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_any_order_same_counters, cf_test_store_setup,
                                        cf_test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
