/*  Tests of the notifications the apply and fire scripts write to the
    shards' outboxes (docs/notifications.md): case.* with persons, the
    vulnerable alerts (registration, screening, risk) once per case and flag,
    the predeparture alert, route spikes once per spike, and overdue alerts
    fired by time alone, once, and never again for that case and limit.
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
#include "caseflow/cf_rules.h"
#include "caseflow/cf_store.h"
#include "cf_test_store.h"


static int setup(void **state)
{
    if (cf_test_store_setup(state) < 0)
        return -1;
    fixture_t *f = *state;
    cf_rules_t *rules = cf_rules_new();
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(rules, &packed);
    cf_store_set_rules(f->store, packed.data, packed.size);
    msgpack_sbuffer_destroy(&packed);
    cf_rules_destroy(&rules);
    return 0;
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
    assert_int_equal(cf_store_fire_due(f->store, T0 + 34 * DAY, &fired), 0);
    assert_int_equal(fired, 0);
    assert_int_equal(cf_store_fire_due(f->store, T0 + 35 * DAY, &fired), 0);
    assert_int_equal(fired, 1);                    /* detained 30 days */
    assert_int_equal(cf_store_fire_due(f->store, T0 + 61 * DAY, &fired), 0);
    assert_int_equal(fired, 2);                    /* both registered 60 days, not departed */
    assert_int_equal(cf_store_fire_due(f->store, T0 + 400 * DAY, &fired), 0);
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
    assert_int_equal(cf_store_fire_due(f->store, T0 + 900 * DAY, &fired), 0);
    assert_int_equal(fired, 0);
    /* a departure ends the registered limit before it fires */
    cf_event_t late[2];
    cf_test_register(&late[0], "o-5", "00000003000000000000000000000000", "CH-AVR", "f", "\3");
    cf_test_stage(&late[1], "o-6", "00000003000000000000000000000000", CF_EV_CASE_DEPARTED);
    at(&late[1], T0 + DAY);
    assert_string_equal(cf_test_apply(f, late, 2), "aa");
    assert_int_equal(cf_store_fire_due(f->store, T0 + 900 * DAY, &fired), 0);
    assert_int_equal(fired, 0);
    assert_int_equal(cf_test_integer(f, "ZCARD cf:{s" CASE_B_SHARD "}:due"), 0);
}

static void test_clock(void **state)
{
    fixture_t *f = *state;
    int64_t ms;
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

/* lua/publish_batch.lua (the broker's outbox reader calls it per batch): a
   mark reached is announced once, the totals and cursors saved with it. */
static int64_t publish_call(fixture_t *f, const char *rules_ini, int64_t cases, int64_t persons,
                            const msgpack_sbuffer *state)
{
    char path[] = "/tmp/cf_rules_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0 && write(fd, rules_ini, strlen(rules_ini)) == (ssize_t) strlen(rules_ini));
    close(fd);
    cf_rules_t *rules = cf_rules_new();
    assert_int_equal(cf_rules_load(rules, path), 0);
    unlink(path);
    msgpack_sbuffer packed, cursors, returns;
    msgpack_sbuffer_init(&packed), msgpack_sbuffer_init(&cursors), msgpack_sbuffer_init(&returns);
    cf_rules_pack(rules, &packed);
    cf_rules_destroy(&rules);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &cursors, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "s0", 2);
    msgpack_pack_str_with_body(&pk, "7-0", 3);
    msgpack_packer_init(&pk, &returns, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "CH-AVR", 6);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int64(&pk, cases);
    msgpack_pack_int64(&pk, persons);
    char *script, err[256];
    size_t len;
    assert_int_equal(cf_store_script_single(f->script_dir, "publish_batch.lua", &script, &len,
                                            err, sizeof err), 0);
    const char *argv[] = { "EVAL", script, "7", "cf:{pub}:cursor", "cf:{pub}:returns",
                           "cf:{pub}:marks", "cf:{pub}:outbox", "cf:{pub}:figures",
                           "cf:{pub}:open", "cf:{pub}:last", cursors.data, returns.data,
                           packed.data, state ? state->data : "\x80" };
    size_t argvlen[] = { 4, len, 1, 15, 16, 14, 15, 16, 13, 13, cursors.size, returns.size,
                         packed.size, state ? state->size : 1 };
    redisReply *reply = redisCommandArgv(f->raw, 14, argv, argvlen);
    assert_non_null(reply);
    if (reply->type != REDIS_REPLY_INTEGER)
        fail_msg("publish_batch.lua: %s", reply->str);
    int64_t announced = reply->integer;
    freeReplyObject(reply);
    free(script);
    msgpack_sbuffer_destroy(&packed), msgpack_sbuffer_destroy(&cursors);
    msgpack_sbuffer_destroy(&returns);
    return announced;
}

static int64_t milestones_call(fixture_t *f, const char *rules_ini, int64_t cases, int64_t persons)
{
    return publish_call(f, rules_ini, cases, persons, NULL);
}

static void pack_alert(msgpack_packer *pk, const char *op, const char *field, const char *body)
{
    msgpack_pack_array(pk, body ? 3 : 2);
    msgpack_pack_str_with_body(pk, op, 1);
    msgpack_pack_str_with_body(pk, field, strlen(field));
    if (body)
        msgpack_pack_str_with_body(pk, body, strlen(body));
}

/* The open overdue alerts of the snapshot state: within one batch the last
   word on an alert wins, whatever came before it. */
static void test_open_alerts_last_word(void **state)
{
    fixture_t *f = *state;
    cf_test_integer(f, "HSET cf:{pub}:open d|w old e|v kept");
    msgpack_sbuffer batch;
    msgpack_sbuffer_init(&batch);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &batch, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "alerts", 6);
    msgpack_pack_array(&pk, 6);
    pack_alert(&pk, "o", "a|x", "b1");
    pack_alert(&pk, "c", "a|x", NULL);
    pack_alert(&pk, "c", "b|y", NULL);
    pack_alert(&pk, "o", "b|y", "b2");
    pack_alert(&pk, "o", "c|z", "b3");
    pack_alert(&pk, "c", "d|w", NULL);
    assert_int_equal(publish_call(f, "[milestones]\n", 0, 0, &batch), 0);
    assert_string_equal(cf_test_hgetall(f, "cf:{pub}:open"), "b|y=b2 c|z=b3 e|v=kept ");
    msgpack_sbuffer_destroy(&batch);
}

static void test_milestones_once(void **state)
{
    fixture_t *f = *state;
    const char *ini = "[milestones]\nCH-AVR = 100, 200, 250p\n";
    assert_int_equal(milestones_call(f, ini, 99, 240), 0);
    assert_int_equal(milestones_call(f, ini, 1, 5), 1);        /* 100 cases */
    assert_int_equal(milestones_call(f, ini, 150, 10), 2);     /* 200 cases, 250 persons */
    assert_int_equal(milestones_call(f, ini, 1000, 1000), 0);  /* each mark once */
    assert_int_equal(cf_test_integer(f, "XLEN cf:{pub}:outbox"), 3);
    assert_string_equal(cf_test_hgetall(f, "cf:{pub}:returns"),
                        "CH-AVR|cases=1250 CH-AVR|persons=1255 ");
    assert_string_equal(cf_test_hgetall(f, "cf:{pub}:cursor"), "s0=7-0 ");
    assert_int_equal(cf_test_integer(f, "HLEN cf:{pub}:last"), 1);     /* CH-AVR's last */
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
        cmocka_unit_test_setup_teardown(test_clock, setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_milestones_once, setup, cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_open_alerts_last_word, setup, cf_test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
