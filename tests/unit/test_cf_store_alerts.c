/*  Tests of the notifications the apply and fire scripts write to the
    shards' outboxes (docs/notifications.md): case.* with persons, the
    vulnerable alerts (registration, screening, risk) once per case and flag,
    the predeparture alert, route spikes once per spike, and overdue alerts
    fired by time alone, once, and never again for that case and limit, in
    steps of several shards, by the shard's owner (or another worker after
    a grace).
    Against a throw-away redis-server, with the default rules.              */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_store.h"
#include "cf_test_store.h"


static int setup(void **state)
{
    if (cf_test_store_setup(state) < 0)
        return -1;
    fixture_t *f = *state;
    cf_test_default_rules(f->store);
    /* the clock the apply path fires due deadlines by: the events happen at
       T0 and after, so that their deadlines wait for the timer, which each
       test drives with a clock of its own (cf_store_fire_due) */
    return cf_store_set_clock(f->store, T0);
}

/* Another worker's store on the fixture's Redis. */
static cf_store_t *worker_store(fixture_t *f)
{
    cf_store_t *store = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), f->script_dir);
    cf_store_set_shards(store, CF_SHARD_DEFAULT, true);
    cf_test_default_rules(store);
    return store;
}

#define at cf_test_at

static void test_vulnerable_once_per_flag(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[4];
    cf_test_stage(&ev[0], "v-0", CASE_A, CF_EV_CASE_SCREENED);     /* before registration */
    ev[0].vulnerabilities = 1u << CF_VULN_UASC | 1u << CF_VULN_ELDERLY;
    assert_string_equal(cf_test_apply(f, ev, 1), "a");
    assert_string_equal(cf_test_topics(f), "");
    cf_test_register(&ev[1], "v-1", CASE_A, "EU-IOM-JI", "m", "\2");
    ev[1].vulnerabilities = 1u << CF_VULN_VOT;
    cf_test_stage(&ev[2], "v-2", CASE_A, CF_EV_CASE_SCREENED);
    ev[2].vulnerabilities = 1u << CF_VULN_VOT | 1u << CF_VULN_HEALTH;     /* vot again */
    strcpy(ev[2].risk, "high");
    cf_test_stage(&ev[3], "v-3", CASE_A, CF_EV_CASE_SCREENED);
    strcpy(ev[3].risk, "high");                                        /* high again */
    assert_string_equal(cf_test_apply(f, ev + 1, 3), "aaa");
    assert_string_equal(cf_test_sorted_topics(f),
        "alert.vulnerable.health alert.vulnerable.risk_high alert.vulnerable.uasc "
        "alert.vulnerable.vot case.EU-IOM-JI.registered case.EU-IOM-JI.screened ");
    for (size_t i = 0; i < f->note_count; i++) {
        assert_string_equal(f->notes[i].case_id, CASE_A);
        assert_int_equal(f->notes[i].has_raw, 0);
    }
}

/* A departure with a medical screening in the 72 hours before it is fine;
   one without (too long after it, or before it) alerts, once per departure. */
static void test_predeparture(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_register(&ev[0], "p-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "p-1", CASE_A, CF_EV_CASE_SCREENED);      /* medical */
    at(&ev[1], T0 + 12 * DAY);
    cf_test_stage(&ev[2], "p-2", CASE_A, CF_EV_CASE_DEPARTED);      /* 2 days later */
    at(&ev[2], T0 + 14 * DAY);
    assert_string_equal(cf_test_apply(f, ev, 3), "aaa");
    assert_null(strstr(cf_test_topics(f), "alert.predeparture"));
    assert_non_null(strstr(cf_test_topics(f), "case.CH-AVR.departed"));
    const int64_t late[] = { 20 * DAY, 5 * DAY };                   /* 8 days after; before it */
    for (int i = 0; i < 2; i++) {
        cf_test_notes_clear(f);
        char id[8];
        snprintf(id, sizeof id, "p-%d", 3 + i);
        cf_test_stage(&ev[2], id, CASE_A, CF_EV_CASE_DEPARTED);
        at(&ev[2], T0 + late[i]);
        assert_string_equal(cf_test_apply(f, ev + 2, 1), "a");
        assert_string_equal(cf_test_topics(f), "alert.predeparture ");
        assert_string_equal(f->notes[0].event_id, id);
        assert_string_equal(cf_test_apply(f, ev + 2, 1), "d");      /* resent: nothing */
        assert_int_equal(f->note_count, 1);
    }
}

static void test_spike_once_per_spike(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[40];
    size_t n = 0;
    char id[16];
    for (int d = 0; d < 35; d++) {                 /* 2 a day: 28 days 56, last 7 days 14 */
        snprintf(id, sizeof id, "f-%d", d);
        cf_test_flow(&ev[n++], id, d, 2);
    }
    assert_int_equal(strspn(cf_test_apply(f, ev, n), "a"), n);
    assert_string_equal(cf_test_topics(f), "");
    cf_test_flow(&ev[0], "f-x", 34, 10);                   /* last 7 days 24 > 14 x 1.5 = 21, >= 10 */
    assert_string_equal(cf_test_apply(f, ev, 1), "a");
    assert_string_equal(cf_test_topics(f), "alert.spike.western_balkans ");
    cf_test_notes_clear(f);
    cf_test_flow(&ev[0], "f-y", 34, 5);                    /* still a spike: no second alert */
    assert_string_equal(cf_test_apply(f, ev, 1), "a");
    assert_string_equal(cf_test_topics(f), "");
}

static void test_overdue_by_time_alone(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_register(&ev[0], "o-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "o-1", CASE_B, CF_EV_CASE_DETAINED);
    cf_test_register(&ev[2], "o-2", CASE_B, "EU-IOM-JI", "m", "\3");
    at(&ev[1], T0 + 5 * DAY);
    assert_string_equal(cf_test_apply(f, ev, 3), "aaa");
    unsigned fired;
    assert_int_equal(cf_store_fire_due(f->store, T0 + 34 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 0);
    assert_int_equal(cf_store_fire_due(f->store, T0 + 35 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 1);                    /* detained 30 days */
    assert_int_equal(cf_store_fire_due(f->store, T0 + 61 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 2);                    /* both registered 60 days, not departed */
    assert_int_equal(cf_store_fire_due(f->store, T0 + 400 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 0);                    /* once each */
    cf_test_notes_clear(f);
    cf_test_apply(f, ev, 0 + 1);                   /* read the outboxes (a duplicate) */
    assert_string_equal(cf_test_sorted_topics(f), "alert.overdue.detained "
                        "alert.overdue.registered alert.overdue.registered ");
    /* a limit that fired never fires again for that case */
    cf_test_stage(&ev[1], "o-3", CASE_B, CF_EV_CASE_RELEASED);
    cf_test_stage(&ev[2], "o-4", CASE_B, CF_EV_CASE_DETAINED);
    at(&ev[2], T0 + 401 * DAY);
    assert_string_equal(cf_test_apply(f, ev + 1, 2), "aa");
    assert_int_equal(cf_store_fire_due(f->store, T0 + 900 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 0);
    /* a departure ends the registered limit before it fires */
    cf_event_t late[2];
    cf_test_register(&late[0], "o-5", "00000003000000000000000000000000", "CH-AVR", "f", "\3");
    cf_test_stage(&late[1], "o-6", "00000003000000000000000000000000", CF_EV_CASE_DEPARTED);
    at(&late[1], T0 + DAY);
    assert_string_equal(cf_test_apply(f, late, 2), "aa");
    assert_int_equal(cf_store_fire_due(f->store, T0 + 900 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 0);
    assert_int_equal(cf_test_integer(f, "ZCARD cf:{s" CASE_B_SHARD "}:due"), 0);
}

/* The apply path fires a deadline already due by the timer's clock in the
   batch's own commit (cf_fold_set_clock): an operator's clock (cf:clock),
   else the wall clock; nothing of it waits in the deadline set. */
static void test_overdue_fired_as_applied(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_register(&ev[0], "oa-0", CASE_A, "CH-AVR", "f", "\3");
    assert_string_equal(cf_test_apply(f, ev, 1), "a");      /* the clock at T0: to the set */
    assert_int_equal(cf_test_integer(f, "ZCARD cf:{s" CASE_A_SHARD "}:due"), 1);
    assert_int_equal(cf_store_set_clock(f->store, T0 + 61 * DAY), 0);
    cf_test_notes_clear(f);
    cf_test_stage(&ev[0], "oa-1", CASE_A, CF_EV_CASE_SCREENED);     /* touches the case */
    cf_test_register(&ev[1], "oa-2", CASE_B, "EU-IOM-JI", "m", "\3");
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");
    assert_string_equal(cf_test_sorted_topics(f), "alert.overdue.registered "
                        "alert.overdue.registered case.CH-AVR.screened "
                        "case.EU-IOM-JI.registered ");
    assert_int_equal(cf_store_alerts_fired(f->store), 2);   /* the worker's metric's */
    assert_int_equal(cf_test_integer(f, "ZCARD cf:{s" CASE_A_SHARD "}:due"), 0);
    assert_int_equal(cf_test_integer(f, "ZCARD cf:{s" CASE_B_SHARD "}:due"), 0);
    unsigned fired;
    assert_int_equal(cf_store_fire_due(f->store, T0 + 900 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 0);                    /* once each */
    assert_non_null(strstr(cf_test_case_state(f, (unsigned) atoi(CASE_B_SHARD), CASE_B),
                           "o|registered_departed=1 "));
    /* no operator's clock: the wall clock, years past T0 */
    assert_int_equal(cf_store_set_clock(f->store, -1), 0);
    cf_test_notes_clear(f);
    cf_test_register(&ev[2], "oa-3", "00000003000000000000000000000000", "CH-AVR", "f", "\3");
    assert_string_equal(cf_test_apply(f, ev + 2, 1), "a");
    assert_string_equal(cf_test_sorted_topics(f), "alert.overdue.registered "
                        "case.CH-AVR.registered ");
    assert_int_equal(cf_store_alerts_fired(f->store), 3);
    assert_int_equal(cf_test_count_keys(f, ":due"), 0);      /* no deadline set left */
    /* a clock Redis will not give is an outage (the worker keeps the job and
       retries, setting no event aside), with Redis's reason; nothing is
       written until it is readable again */
    cf_test_integer(f, "HSET cf:clock x 1");
    cf_test_stage(&ev[2], "oa-4", "00000003000000000000000000000000", CF_EV_CASE_SCREENED);
    cf_ack_status_t status;
    assert_int_equal(cf_store_apply(f->store, ev + 2, 1, &status), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_IO);
    assert_non_null(strstr(cf_store_error(f->store), "GET cf:clock: WRONGTYPE"));
    assert_int_equal(cf_test_marker(f, &ev[2]), -1);
    cf_test_integer(f, "DEL cf:clock");
    assert_string_equal(cf_test_apply(f, ev + 2, 1), "a");
    assert_int_equal(cf_store_alerts_fired(f->store), 3);   /* fired once */
}

/* A step fires the alerts of the 16 shards it looks at and says where the
   next one looks: the worker answers its jobs between steps. */
static void test_overdue_step_by_step(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    cf_test_register(&ev[0], "s-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_register(&ev[1], "s-1", CASE_B, "EU-IOM-JI", "m", "\3");
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");
    unsigned shard = 0, fired;
    const unsigned expect[][2] = {  /* shard after the step, fired */
        { 16, 1 },                  /* CASE_A's, in shard 13 */
        { 32, 0 },                  /* 16 shards looked at, none due */
        { 48, 1 },                  /* CASE_B's, in shard 47 */
        { 64, 0 }, { 64, 0 },       /* the round is over: nothing more */
    };
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        assert_int_equal(cf_store_fire_due_step(f->store, T0 + 61 * DAY, 0, &shard, &fired), 0);
        assert_int_equal(shard, expect[i][0]);
        assert_int_equal(fired, expect[i][1]);
    }
    assert_int_equal(cf_store_fire_due(f->store, T0 + 61 * DAY, 0, &fired), 0);
    assert_int_equal(fired, 0);     /* once each */
}

static unsigned fire(cf_store_t *store, int64_t now, int64_t seen);

/* Many alerts due: a step fires shards until it holds 256 alerts or more
   (the rest of the 16 it looked at wait for the next step), so a job waits
   for a bounded step; the round fires each alert once, in fewer steps
   than shards. */
static void test_overdue_step_bounded(void **state)
{
    fixture_t *f = *state;
    enum { CASES = 1200, BATCH = 200 };
    static cf_event_t ev[BATCH];
    char ids[BATCH][16], cases[BATCH][33];
    for (int c = 0; c < CASES; c += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            snprintf(ids[i], sizeof ids[i], "b-%d", c + i);
            snprintf(cases[i], sizeof cases[i], "%032x", 0x5eed0000 + c + i);
            cf_test_register(&ev[i], ids[i], cases[i], "CH-AVR", "f", "\1");
        }
        cf_test_apply(f, ev, BATCH);
    }
    unsigned shard = 0, fired, total = 0, steps = 0;
    assert_int_equal(cf_store_fire_due_step(f->store, T0 + 61 * DAY, 0, &shard, &fired), 0);
    assert_in_range(shard, 1, 15);                  /* stopped short of the 16 */
    assert_in_range(fired, 256, 256 + 99);
    for (total = fired, steps = 1; shard < CF_SHARD_DEFAULT; steps++, total += fired)
        assert_int_equal(cf_store_fire_due_step(f->store, T0 + 61 * DAY, 0, &shard, &fired), 0);
    assert_int_equal(total, CASES);                 /* each case's, once */
    assert_true(steps < CF_SHARD_DEFAULT);
    assert_int_equal(fire(f->store, T0 + 61 * DAY, 0), 0);
}

static unsigned fire(cf_store_t *store, int64_t now, int64_t seen)
{
    unsigned fired;
    if (cf_store_fire_due(store, now, seen, &fired) < 0)
        fail_msg("%s", cf_store_error(store));
    return fired;
}

/* A shard's owner (the last fence its jobs set) fires its alerts at once;
   a worker that holds another shard's fence fires them only once it has
   seen the same one due for the grace (the owner is gone, or never got a
   job), then at once while the owner leaves them; one that never held a
   fence fires at once. An owner whose owner record moved on is one no
   more. Each alert fires once. */
static void test_overdue_fired_by_owner(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[4];
    cf_test_register(&ev[0], "w-0", CASE_A, "CH-AVR", "f", "\3");             /* shard 13 */
    cf_test_stage(&ev[1], "w-1", CASE_A, CF_EV_CASE_DETAINED);
    at(&ev[1], T0 + 5 * DAY);
    cf_test_register(&ev[2], "w-2", CASE_B, "EU-IOM-JI", "m", "\3");          /* shard 47 */
    cf_test_stage(&ev[3], "w-3", CASE_B, CF_EV_CASE_DETAINED);
    at(&ev[3], T0 + 70 * DAY);
    assert_string_equal(cf_test_apply(f, ev, 4), "aaaa");
    cf_test_notes_clear(f);
    cf_test_integer(f, "HSET cf:{s" CASE_A_SHARD "}:owner epoch 4");
    cf_test_integer(f, "HSET cf:{s" CASE_B_SHARD "}:owner epoch 4");
    cf_store_t *owner = worker_store(f), *other = f->store, *lone = worker_store(f);
    cf_store_set_fence(owner, (unsigned) atoi(CASE_A_SHARD), 4);   /* as a worker's job did */
    cf_store_set_fence(owner, (unsigned) atoi(CASE_B_SHARD), 4);
    cf_store_clear_fences(owner);
    cf_store_set_fence(other, 0, 1);
    cf_store_clear_fences(other);

    const int64_t t = 1000;         /* the monotonic clock */
    assert_int_equal(fire(other, T0 + 36 * DAY, t), 0);    /* detained 30 days: the owner's */
    assert_int_equal(fire(other, T0 + 36 * DAY, t + CF_STORE_DUE_GRACE_MS - 1), 0);
    assert_int_equal(fire(lone, T0 + 36 * DAY, 0), 1);     /* no fence yet: anyone's */

    cf_test_integer(f, "HSET cf:{s" CASE_B_SHARD "}:owner epoch 5");    /* moved on */
    assert_int_equal(fire(owner, T0 + 61 * DAY, 0), 1);    /* CASE_A's registered, not CASE_B's */
    assert_int_equal(fire(owner, T0 + 61 * DAY, 0), 0);
    assert_int_equal(fire(other, T0 + 61 * DAY, 2 * t), 0);
    assert_int_equal(fire(other, T0 + 61 * DAY, 2 * t + CF_STORE_DUE_GRACE_MS), 1);
    /* in the owner's stead now: the next one the owner leaves alone for a
       look fires at the look after it */
    assert_int_equal(fire(other, T0 + 101 * DAY, 2 * t + CF_STORE_DUE_GRACE_MS + 1), 0);
    assert_int_equal(fire(other, T0 + 101 * DAY, 2 * t + CF_STORE_DUE_GRACE_MS + 2), 1);
    assert_int_equal(fire(owner, T0 + 900 * DAY, 0) + fire(lone, T0 + 900 * DAY, 0)
                     + fire(other, T0 + 900 * DAY, 3 * t + CF_STORE_DUE_GRACE_MS), 0);
    assert_string_equal(cf_test_apply(f, ev, 1), "d");     /* reads the outboxes */
    assert_string_equal(cf_test_sorted_topics(f), "alert.overdue.detained "
                        "alert.overdue.detained alert.overdue.registered "
                        "alert.overdue.registered ");
    cf_store_destroy(&owner);
    cf_store_destroy(&lone);
}

static void test_clock(void **state)
{
    fixture_t *f = *state;
    int64_t ms;
    assert_int_equal(cf_store_clock(f->store, &ms), 0);
    assert_int_equal(ms, T0);                   /* setup's */
    assert_int_equal(cf_store_set_clock(f->store, -1), 0);
    assert_int_equal(cf_store_clock(f->store, &ms), 0);
    assert_int_equal(ms, -1);
    assert_int_equal(cf_store_set_clock(f->store, T0), 0);
    assert_int_equal(cf_store_clock(f->store, &ms), 0);
    assert_int_equal(ms, T0);
    assert_int_equal(cf_store_set_clock(f->store, -1), 0);
    assert_int_equal(cf_store_clock(f->store, &ms), 0);
    assert_int_equal(ms, -1);
    /* a user that may not read it hears Redis's refusal, not "unexpected reply" */
    cf_test_integer(f, "ACL SETUSER clockless on >pw resetkeys ~cf:{* ~cf:shards +@all");
    cf_redis_auth_t *auth = cf_redis_auth_new("clockless", "pw");
    cf_store_t *store = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), NULL);
    cf_store_set_auth(store, auth);
    cf_redis_auth_destroy(&auth);
    assert_int_equal(cf_store_clock(store, &ms), -1);
    assert_int_equal(cf_store_error_code(store), CF_STORE_ERR_REDIS);
    assert_non_null(strstr(cf_store_error(store), "GET cf:clock: NOPERM"));
    cf_store_destroy(&store);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vulnerable_once_per_flag, setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_predeparture, setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_spike_once_per_spike, setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_overdue_by_time_alone, setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_overdue_fired_as_applied, setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_overdue_step_bounded, setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_overdue_step_by_step, setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_overdue_fired_by_owner, setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_clock, setup, cf_test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
