/*  Tests of cf_store (its read, fold and commit) against a throw-away
    redis-server: exact counters after registrations and stage moves,
    duplicates (resent and within one batch) that change nothing, the same
    aggregates whatever the order of a case's events, one notification per
    case and stage, no raw case_ref anywhere in Redis, the script's input
    checks before any write, a missing or outdated function library (an
    admin's connection loads its own, a worker's user names the fix),
    reconnection, a dead Redis, and a Redis still loading its data (an
    outage, not a refusal). Events are built by hand, not decoded.          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "cf_test_redis.h"
#include "cf_test_store.h"

#define setup cf_test_store_setup
#define teardown cf_test_store_teardown

static void test_registration(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev;
    cf_test_register(&ev, "r-1", CASE_A, "CH-AVR", "fmm", "\3\3\1");
    ev.vulnerabilities = 1u << CF_VULN_VOT | 1u << CF_VULN_HEALTH;
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");
    assert_string_equal(cf_test_family(f, "stage"),
        "CH-AVR|registered|ever|cases=1 CH-AVR|registered|ever|persons=3 "
        "CH-AVR|registered|now|cases=1 CH-AVR|registered|now|persons=3 ");
    assert_string_equal(cf_test_family(f, "demo"),
                        "CH-AVR|f|18-59=1 CH-AVR|m|18-59=1 CH-AVR|m|5-11=1 ");
    assert_string_equal(cf_test_family(f, "vuln"), "CH-AVR|health=1 CH-AVR|vot=1 ");
    assert_string_equal(cf_test_family(f, "returns"), "");
    assert_string_equal(cf_test_family(f, "quality"), "");
    assert_string_equal(cf_test_topics(f), "case.CH-AVR.registered ");
    assert_string_equal(f->notes[0].case_id, CASE_A);
    assert_string_equal(f->notes[0].programme, "CH-AVR");
    assert_string_equal(f->notes[0].stage, "registered");
    assert_string_equal(f->notes[0].event_id, "r-1");
    assert_int_equal(f->notes[0].occurred_at, T0);

    /* The case and eid keys sit in the case's shard, and the counters there. */
    char key[96];
    unsigned shard = cf_store_shard_of(f->store, &ev);
    assert_int_equal(shard, cf_shard_pick(cf_shard_hash(CASE_A, strlen(CASE_A)), 64));
    assert_int_equal(shard, atoi(CASE_A_SHARD));
    cf_test_stage(&ev, "r-2", CASE_B, CF_EV_CASE_SCREENED);
    assert_int_equal(cf_store_shard_of(f->store, &ev), atoi(CASE_B_SHARD));
    assert_string_equal(cf_test_case_state(f, shard, CASE_A),
        "applied=1 bits=1 host=CHE n=3 org=SRB prog=CH-AVR route=central_mediterranean "
        "rt=1709251200000 "
        "v|health=1 v|vot=1 ");
    /* written in this generation of --eid-ttl (30 days by default) */
    cf_test_register(&ev, "r-1", CASE_A, "CH-AVR", "fmm", "\3\3\1");   /* its marker */
    assert_int_equal(cf_test_marker(f, &ev), cf_test_generation(f, 30 * 86400));
    snprintf(key, sizeof key, "cf:{s%u}:stage", shard);
    assert_int_equal(cf_test_integer(f, "HLEN %s", key), 2);    /* registered|now, |ever: each
                                                                   a row of cases,persons */
    assert_int_equal(cf_test_integer(f, "DBSIZE"), 8);      /* eid, case, stage, demo, vuln, outbox,
                                                               cf:shards, and the owner record an
                                                               unfenced commit stamps */
}

static void test_stage_moves(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[4];
    char key[CF_KEYS_MAX];
    cf_test_register(&ev[0], "s-0", CASE_A, "UK-VARRP", "fm", "\3\0");
    ev[0].route[0] = '\0';
    cf_test_stage(&ev[1], "s-1", CASE_A, CF_EV_CASE_SCREENED);
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");
    cf_test_stage(&ev[2], "s-2", CASE_A, CF_EV_CASE_DEPARTED);
    cf_test_stage(&ev[3], "s-3", CASE_A, CF_EV_CASE_ARRIVED);
    assert_string_equal(cf_test_apply(f, ev + 2, 2), "aa");
    assert_string_equal(cf_test_family_nonzero(f, "stage"),
        "UK-VARRP|arrived|ever|cases=1 UK-VARRP|arrived|ever|persons=2 "
        "UK-VARRP|arrived|now|cases=1 UK-VARRP|arrived|now|persons=2 "
        "UK-VARRP|departed|ever|cases=1 UK-VARRP|departed|ever|persons=2 "
        "UK-VARRP|registered|ever|cases=1 UK-VARRP|registered|ever|persons=2 "
        "UK-VARRP|screened|ever|cases=1 UK-VARRP|screened|ever|persons=2 ");
    /* A gauge that went up and down within one batch is not even written;
       across batches its row stays, at 0 (which a reader takes as absent). */
    assert_int_equal(cf_test_has(f, "stage", "UK-VARRP|registered|now|cases"), 0);
    assert_int_equal(cf_test_has(f, "stage", "UK-VARRP|departed|now|cases"), 0);
    assert_int_equal(cf_test_has(f, "stage", "UK-VARRP|screened|now|cases"), 0);
    snprintf(key, sizeof key, "cf:{s%s}:stage", CASE_A_SHARD);
    assert_string_equal(cf_test_hgetall(f, key),
                        "UK-VARRP|arrived|ever=1,2 UK-VARRP|arrived|now=1,2 "
                        "UK-VARRP|departed|ever=1,2 UK-VARRP|registered|ever=1,2 "
                        "UK-VARRP|screened|ever=1,2 UK-VARRP|screened|now=0,0 ");
    const char *returns = cf_test_family(f, "returns");
    assert_string_equal(returns,
        "day:2024-03-01|host|CHE|UK-VARRP|cases=1 day:2024-03-01|host|CHE|UK-VARRP|persons=2 "
        "day:2024-03-01|origin|SRB|UK-VARRP|cases=1 day:2024-03-01|origin|SRB|UK-VARRP|persons=2 "
        "day:2024-03-01|programme|UK-VARRP|UK-VARRP|cases=1 "
        "day:2024-03-01|programme|UK-VARRP|UK-VARRP|persons=2 "
        "day:2024-03-01|route|-|UK-VARRP|cases=1 day:2024-03-01|route|-|UK-VARRP|persons=2 ");
    assert_string_equal(cf_test_topics(f), "case.UK-VARRP.registered case.UK-VARRP.screened "
                        "case.UK-VARRP.departed case.UK-VARRP.arrived ");
    assert_string_equal(f->notes[3].event_id, "s-3");
    assert_string_equal(cf_test_family(f, "quality"), "");
}

static void test_resent_is_duplicate(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[2];
    cf_test_register(&ev[0], "d-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "d-1", CASE_A, CF_EV_CASE_DEPARTED);
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");
    char *before = strdup(cf_test_dump(f, 0));
    cf_test_notes_clear(f);
    assert_string_equal(cf_test_apply(f, ev, 2), "dd");
    assert_string_equal(cf_test_dump(f, 0), before);
    assert_string_equal(cf_test_family(f, "quality"), "duplicate=2 ");
    assert_int_equal(f->note_count, 0);
    free(before);
}

/* A stage entered before the registration is announced when the case
   registers, with the event that entered it and the time it was entered,
   not the registration's; the case keeps nothing of it afterwards. */
static void test_late_registration_keeps_stage_times(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_stage(&ev[0], "late-dep", CASE_A, CF_EV_CASE_DEPARTED);
    cf_test_at(&ev[0], T0 + 2 * DAY);
    cf_test_stage(&ev[1], "late-arr", CASE_A, CF_EV_CASE_ARRIVED);
    cf_test_at(&ev[1], T0 + 3 * DAY);
    cf_test_register(&ev[2], "late-reg", CASE_A, "CH-AVR", "f", "\3");
    cf_test_at(&ev[2], T0 + DAY);
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");   /* one batch ... */
    assert_string_equal(cf_test_apply(f, &ev[2], 1), "a"); /* ... the registration later */
    const char *want[][2] = { { "case.CH-AVR.registered", "late-reg" },
                              { "case.CH-AVR.departed", "late-dep" },
                              { "case.CH-AVR.arrived", "late-arr" } };
    const int64_t at[] = { T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY };
    size_t seen = 0;
    for (size_t i = 0; i < f->note_count; i++)
        for (size_t j = 0; j < 3; j++)
            if (strcmp(f->notes[i].topic, want[j][0]) == 0) {
                assert_string_equal(f->notes[i].event_id, want[j][1]);
                assert_int_equal(f->notes[i].occurred_at, at[j]);
                seen++;
            }
    assert_int_equal(seen, 3);
    const char *state_now = cf_test_case_state(f, cf_store_shard_of(f->store, &ev[2]), CASE_A);
    assert_non_null(strstr(state_now, "prog=CH-AVR"));
    assert_null(strstr(state_now, "st|"));
    assert_null(strstr(state_now, "se|"));
}

static void test_duplicate_within_batch(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[4];
    cf_test_register(&ev[0], "w-0", CASE_A, "CH-AVR", "m", "\3");
    ev[1] = ev[0];
    cf_test_stage(&ev[2], "w-2", CASE_B, CF_EV_CASE_CLOSED);
    ev[3] = ev[2];
    assert_string_equal(cf_test_apply(f, ev, 4), "adad");
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|ever|cases"), 1);
    assert_string_equal(cf_test_family(f, "quality"), "before_registration=1 duplicate=2 ");
    assert_string_equal(cf_test_topics(f), "case.CH-AVR.registered ");
}

/* Runs the events of one case in the given order on a fresh database and
   returns every aggregate but quality, with the notifications' topics. */
static char *run_order(fixture_t *f, const int *order)
{
    cf_event_t all[4];
    cf_test_register(&all[0], "o-reg", CASE_A, "CH-AVR", "fmm", "\3\3\0");
    cf_test_stage(&all[1], "o-scr", CASE_A, CF_EV_CASE_SCREENED);
    all[1].vulnerabilities = 1u << CF_VULN_UASC;
    cf_test_stage(&all[2], "o-dep", CASE_A, CF_EV_CASE_DEPARTED);
    cf_test_stage(&all[3], "o-arr", CASE_A, CF_EV_CASE_ARRIVED);
    cf_test_integer(f, "FLUSHALL");
    cf_test_notes_clear(f);
    /* the new outbox entries may get ids below the old ones' (same ms) */
    if (f->cursor)
        memset(f->cursor, 0, CF_SHARD_MAX * sizeof *f->cursor);
    for (int i = 0; i < 4; i++)
        assert_string_equal(cf_test_apply(f, &all[order[i]], 1), "a");
    char *text = NULL;
    assert_true(asprintf(&text, "%s\n%s\n%s\n%s\n%s", cf_test_family_nonzero(f, "stage"),
                         cf_test_family_nonzero(f, "returns"), cf_test_family_nonzero(f, "vuln"),
                         cf_test_family_nonzero(f, "demo"), cf_test_sorted_topics(f)) > 0);
    return text;
}

static void test_order_does_not_matter(void **state)
{
    fixture_t *f = *state;
    char *in_order = run_order(f, (const int[]) { 0, 1, 2, 3 });
    assert_string_equal(cf_test_family(f, "quality"), "");
    char *late = run_order(f, (const int[]) { 2, 3, 0, 1 });
    assert_string_equal(late, in_order);
    /* The departure and arrival waited for the registration; the screening
       after the departure counted (ever) but did not move the case back. */
    assert_string_equal(cf_test_family(f, "quality"), "before_registration=2 out_of_order=1 ");
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|arrived|now|cases"), 1);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|screened|now|cases"), 0);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|screened|ever|persons"), 3);
    assert_string_equal(f->notes[0].stage, "registered");      /* then in stage order */
    assert_string_equal(f->notes[2].stage, "arrived");
    assert_string_equal(f->notes[2].event_id, "o-arr");       /* the event that entered it */
    char *reversed = run_order(f, (const int[]) { 3, 2, 1, 0 });
    assert_string_equal(reversed, in_order);
    assert_string_equal(cf_test_family(f, "quality"), "before_registration=3 ");
    free(in_order);
    free(late);
    free(reversed);
}

/* A dump without its case state lines (a new copy). */
static char *without_cases(const char *dump)
{
    char *out = calloc(1, strlen(dump) + 1), *o = out;
    for (const char *line = dump; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) + 1 : strlen(line);
        const char *key_end = memchr(line, ' ', len);
        if (!key_end || !memmem(line, (size_t) (key_end - line), ":case:", 6)) {
            memcpy(o, line, len);
            o += len;
        }
        line += len;
    }
    return out;
}

static void test_registration_rules(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[5];
    cf_test_stage(&ev[0], "v-0", CASE_B, CF_EV_CASE_SCREENED);
    ev[0].vulnerabilities = 1u << CF_VULN_VOT;
    cf_test_stage(&ev[1], "v-1", CASE_B, CF_EV_CASE_DETAINED);
    assert_string_equal(cf_test_apply(f, ev, 2), "aa");
    assert_string_equal(cf_test_family(f, "vuln"), "");
    assert_int_equal(f->note_count, 0);
    cf_test_register(&ev[2], "v-2", CASE_B, "LY-VHR", "u", "\4");
    ev[2].vulnerabilities = 1u << CF_VULN_VOT | 1u << CF_VULN_ELDERLY;
    cf_test_stage(&ev[3], "v-3", CASE_B, CF_EV_CASE_SCREENED);
    ev[3].vulnerabilities = 1u << CF_VULN_ELDERLY | 1u << CF_VULN_DISABILITY;
    assert_string_equal(cf_test_apply(f, ev + 2, 2), "aa");
    assert_string_equal(cf_test_family(f, "vuln"),
                        "LY-VHR|disability=1 LY-VHR|elderly=1 LY-VHR|vot=1 ");
    assert_string_equal(cf_test_topics(f), "case.LY-VHR.registered case.LY-VHR.screened ");
    char *before = without_cases(cf_test_dump(f, 0));
    char *kept = strdup(cf_test_case_state(f, cf_store_shard_of(f->store, &ev[2]), CASE_B));
    cf_test_register(&ev[4], "v-4", CASE_B, "OTHER", "ff", "\0\0");
    ev[1] = ev[4];
    strcpy(ev[1].event_id, "v-6");
    assert_string_equal(cf_test_apply(f, ev + 1, 1), "a");
    assert_string_equal(cf_test_apply(f, ev + 4, 1), "a");
    char *after = without_cases(cf_test_dump(f, 0));
    assert_string_equal(after, before);
    /* the case changes only by the count of events applied */
    assert_non_null(strstr(kept, "applied=4 "));
    memcpy(strstr(kept, "applied=4 "), "applied=6 ", 10);
    assert_string_equal(cf_test_case_state(f, cf_store_shard_of(f->store, &ev[2]), CASE_B), kept);
    assert_string_equal(cf_test_family(f, "quality"),
                        "before_registration=2 repeat_registration=2 ");
    free(before);
    free(after);
    free(kept);
}

static void test_no_raw_case_ref(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[CF_STAGE_COUNT + 2];
    const cf_event_type_t types[] = { CF_EV_CASE_REGISTERED, CF_EV_CASE_SCREENED,
        CF_EV_CASE_ASSISTED, CF_EV_CASE_DEPARTED, CF_EV_CASE_ARRIVED, CF_EV_CASE_REINTEGRATION,
        CF_EV_CASE_CLOSED, CF_EV_CASE_MONITORED, CF_EV_CASE_REUNIFIED };
    for (int i = 0; i < CF_STAGE_COUNT + 2; i++) {
        char id[16];
        snprintf(id, sizeof id, "p-%d", i);
        cf_test_stage(&ev[i], id, CASE_A, types[i]);
    }
    cf_test_register(&ev[0], "p-0", CASE_A, "CH-AVR", "x", "\2");
    assert_string_equal(cf_test_apply(f, ev, CF_STAGE_COUNT + 2), "aaaaaaaaa");
    assert_int_equal(f->note_count, CF_STAGE_COUNT);
    const char *all = cf_test_dump(f, 0);
    assert_non_null(strstr(all, CASE_A));
    assert_null(strstr(all, RAW_REF));
    for (size_t i = 0; i < f->note_count; i++)
        assert_int_equal(f->notes[i].has_raw, 0);
}

static void test_many_cases_many_shards(void **state)
{
    fixture_t *f = *state;
    enum { CASES = 300 };
    cf_event_t *ev = calloc(2 * CASES + 1, sizeof *ev);
    for (int i = 0; i < CASES; i++) {
        char id[32], case_id[40];
        snprintf(case_id, sizeof case_id, "%08x%024d", (unsigned) i * 2654435761u, i);
        snprintf(id, sizeof id, "m-r-%d", i);
        cf_test_register(&ev[2 * i], id, case_id, i % 2 ? "CH-AVR" : "EU-IOM-JI", "fm", "\3\3");
        snprintf(id, sizeof id, "m-d-%d", i);
        cf_test_stage(&ev[2 * i + 1], id, case_id, CF_EV_CASE_DEPARTED);
    }
    cf_test_stage(&ev[2 * CASES], "m-flow", CASE_A, CF_EV_FLOW_OBSERVED);
    assert_int_equal(strspn(cf_test_apply(f, ev, 2 * CASES + 1), "a"), 2 * CASES + 1);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|departed|now|cases"), CASES / 2);
    assert_int_equal(cf_test_get(f, "stage", "EU-IOM-JI|departed|ever|persons"), CASES);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|registered|now|cases"), 0);
    assert_int_equal(f->note_count, 2 * CASES);
    /* eids, cases, a stage, demo, dur and services hash and an outbox in
       every shard that has a case, the flow's hash and cf:shards */
    int64_t eid_keys, markers = cf_test_markers(f, &eid_keys);
    assert_int_equal(markers, 2 * CASES + 1);
    bool used[CF_SHARD_MAX] = { false };
    int64_t shards = 0;
    for (int i = 0; i < CASES; i++) {
        unsigned s = cf_store_shard_of(f->store, &ev[2 * i]);
        shards += !used[s];
        used[s] = true;
    }
    assert_true(shards > 32);           /* 300 cases over 64 shards */
    assert_int_equal(cf_test_integer(f, "DBSIZE") - (int64_t) cf_test_count_keys(f, ":owner"),
                     eid_keys + CASES + 5 * shards + 2);   /* unfenced commits stamp owner records */
    assert_true(cf_test_marker(f, &ev[2 * CASES]) >= 0);
    free(ev);
}

/* Loads this build's library as another version would have (the same body,
   another version string): what a worker of another release finds. */
static void load_other_version(fixture_t *f)
{
    char *body, version[CF_STORE_VERSION_LEN + 1], err[256];
    size_t len;
    assert_int_equal(cf_store_script_library(f->script_dir, &body, &len, version, err,
                                             sizeof err), 0);
    assert_int_equal(cf_store_library_load(f->raw, body, len, "0123456789abcdef0123456789abcdef",
                                           err, sizeof err), 0);
    free(body);
}

/* The library flushed or replaced by another version: an admin connection
   (the fixture's has no ACL) loads its own again and goes on; a broken
   connection is reopened. */
static void test_library_gone_and_reconnect(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev;
    cf_test_register(&ev, "n-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_integer(f, "FUNCTION DELETE " CF_STORE_LIBRARY);
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");
    load_other_version(f);
    cf_test_stage(&ev, "n-1", CASE_A, CF_EV_CASE_SCREENED);
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");
    cf_test_integer(f, "CLIENT KILL TYPE normal SKIPME yes");
    cf_test_stage(&ev, "n-2", CASE_A, CF_EV_CASE_DEPARTED);
    cf_ack_status_t status;
    assert_int_equal(cf_store_apply(f->store, &ev, 1, &status), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_IO);
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");       /* reconnected */
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|departed|now|persons"), 1);
}

/* A worker's Redis user (FCALL, no EVAL, FUNCTION LOAD or CONFIG: the
   rules of deploy/redis-users.acl): it runs the library the admin loaded, finds a
   missing or outdated one and names the fix instead of loading it (an
   outage of the functions, CF_STORE_ERR_IO, until the admin does; the
   apply path calls none and goes on), and reads the durability without
   CONFIG. */
static void test_library_least_privilege(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(cf_test_redis_acl_user(f->redis, "caseflow-worker"), 0);
    cf_redis_auth_t *auth = cf_redis_auth_new("caseflow-worker", "pw");
    cf_store_t *worker = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), f->script_dir);
    cf_store_set_auth(worker, auth);
    cf_redis_auth_destroy(&auth);
    cf_test_integer(f, "FUNCTION DELETE " CF_STORE_LIBRARY);
    assert_int_equal(cf_store_connect(worker), -1);
    assert_int_equal(cf_store_error_code(worker), CF_STORE_ERR_IO);
    assert_non_null(strstr(cf_store_error(worker), "no function library caseflow"));
    assert_non_null(strstr(cf_store_error(worker), "caseflow-ctl functions load"));
    assert_non_null(strstr(cf_store_error(worker), "NOPERM"));

    char version[CF_STORE_VERSION_LEN + 1];
    assert_int_equal(cf_store_load_library(f->store, version), 0);     /* the admin */
    assert_int_equal(strlen(version), CF_STORE_VERSION_LEN);
    assert_int_equal(cf_store_connect(worker), 0);
    cf_event_t ev;
    cf_ack_status_t status;
    cf_test_register(&ev, "p-0", CASE_A, "CH-AVR", "f", "\3");
    if (cf_store_apply(worker, &ev, 1, &status) < 0) fail_msg("%s", cf_store_error(worker));
    assert_int_equal(status, CF_ACK_ACCEPTED);
    const cf_store_rejection_t rejection = { "origin_country", "p-r" };
    assert_int_equal(cf_store_count_rejections(worker, &rejection, 1, NULL), 0);
    unsigned fired;
    assert_int_equal(cf_store_fire_due(worker, 0, 0, &fired), 0);
    cf_store_durability_t mode;
    char text[256];
    assert_int_equal(cf_store_durability(worker, &mode, text, sizeof text), 0);
    assert_int_equal(mode, CF_STORE_DURABLE_NONE);

    /* another release's library, under a running worker: the apply path
       calls no function and goes on; the functions wait for the admin */
    load_other_version(f);
    cf_test_stage(&ev, "p-1", CASE_A, CF_EV_CASE_SCREENED);
    assert_int_equal(cf_store_apply(worker, &ev, 1, &status), 0);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|screened|now|persons"), 1);
    assert_int_equal(cf_store_count_rejections(worker, &rejection, 1, NULL), -1);
    assert_int_equal(cf_store_error_code(worker), CF_STORE_ERR_IO);
    assert_non_null(strstr(cf_store_error(worker), "0123456789abcdef0123456789abcdef"));
    assert_non_null(strstr(cf_store_error(worker), "caseflow-ctl functions load"));
    assert_int_equal(cf_store_count_rejections(worker, &rejection, 1, NULL), -1);
    assert_non_null(strstr(cf_store_error(worker), "holds function library caseflow "
                           "0123456789abcdef0123456789abcdef"));
    assert_int_equal(cf_store_load_library(f->store, version), 0);
    const cf_store_rejection_t again = { "origin_country", "p-r2" };
    assert_int_equal(cf_store_count_rejections(worker, &again, 1, NULL), 0);
    cf_store_destroy(&worker);
}

static void test_rejections_and_reads(void **state)
{
    fixture_t *f = *state;
    const cf_store_rejection_t rejections[] = { { "origin_country", "e1" },
                                                { "persons.sex", "e2" },
                                                { "origin_country", "e3" }, { "a|b", "" } };
    bool counted[4];
    assert_int_equal(cf_store_count_rejections(f->store, rejections, 4, counted), 0);
    assert_true(counted[0] && counted[1] && counted[2] && counted[3]);
    assert_string_equal(cf_test_family(f, "quality"),
                        "rejected|a_b=1 rejected|origin_country=2 rejected|persons.sex=1 ");
    /* again: only the one without an event_id counts; e1 for another field does */
    assert_int_equal(cf_store_count_rejections(f->store, rejections, 4, counted), 0);
    assert_true(!counted[0] && !counted[1] && !counted[2] && counted[3]);
    const cf_store_rejection_t other = { "mode", "e1" };
    assert_int_equal(cf_store_count_rejections(f->store, &other, 1, NULL), 0);
    assert_string_equal(cf_test_family(f, "quality"), "rejected|a_b=2 rejected|mode=1 "
                        "rejected|origin_country=2 rejected|persons.sex=1 ");
    cf_counts_t *counts = (cf_counts_t *) 1;
    assert_int_equal(cf_store_read_family(f->store, "cases", &counts), -1);
    assert_null(counts);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_INPUT);
    cf_test_integer(f, "HSET cf:{s5}:quality duplicate nope");
    assert_int_equal(cf_store_read_family(f->store, "quality", &counts), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_PROTOCOL);
    /* a row's tuple expanded (cf_tuple); the old layout's scalar fields of
       the same row add to it (the upgrade); a tuple that does not parse is
       refused as a counter that is not an integer */
    cf_test_integer(f, "HSET cf:{s5}:stage P|arrived|now 2,5 P|arrived|now|cases 1");
    assert_int_equal(cf_test_get(f, "stage", "P|arrived|now|cases"), 3);
    assert_int_equal(cf_test_get(f, "stage", "P|arrived|now|persons"), 5);
    cf_test_integer(f, "HSET cf:{s5}:stage P|arrived|ever 1,x");
    assert_int_equal(cf_store_read_family(f->store, "stage", &counts), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_PROTOCOL);
}

static void test_bad_events_and_ttl(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev;
    cf_ack_status_t status;
    cf_test_stage(&ev, "b-0", "not-hex", CF_EV_CASE_SCREENED);
    assert_int_equal(cf_store_apply(f->store, &ev, 1, &status), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_INPUT);
    assert_int_equal(cf_store_apply(f->store, &ev, 0, &status), 0);
    cf_store_set_eid_ttl(f->store, 100);
    cf_test_stage(&ev, "b-1", CASE_A, CF_EV_FUNDING_TRANSACTION);
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");
    /* the marker holds its generation, of the --eid-ttl set */
    assert_int_equal(cf_test_marker(f, &ev), cf_test_generation(f, 100));
    assert_int_equal(cf_test_integer(f, "DBSIZE"), 4);         /* the bucket, the funding hash,
                                                                   cf:shards, the owner record */
}

/* A case event is known by its case and event_id together: the same
   event_id in two cases of one shard (a producer's mistake, or two
   producers' id schemes) is two events, each applied once, in one batch
   or apart; its repeat in the same case is a duplicate. */
static void test_event_id_within_its_case(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev[3];
    cf_test_stage(&ev[0], "same-id", CASE_A, CF_EV_CASE_SCREENED);
    for (int n = 0;; n++) {     /* another case in CASE_A's shard */
        char case_id[40];
        snprintf(case_id, sizeof case_id, "%032x", n);
        cf_test_stage(&ev[1], "same-id", case_id, CF_EV_CASE_SCREENED);
        if (cf_store_shard_of(f->store, &ev[1]) == cf_store_shard_of(f->store, &ev[0]))
            break;
    }
    cf_test_stage(&ev[2], "same-id", CASE_A, CF_EV_CASE_SCREENED);
    assert_string_equal(cf_test_apply(f, ev, 3), "aad");
    assert_string_equal(cf_test_apply(f, ev, 2), "dd");
    unsigned shard = cf_store_shard_of(f->store, &ev[0]);
    assert_non_null(strstr(cf_test_case_state(f, shard, CASE_A), "applied=1 "));
    assert_non_null(strstr(cf_test_case_state(f, shard, ev[1].case_id), "applied=1 "));
}

/* ev's marker rewritten as if written in generation (its tag kept). */
static void marker_age(fixture_t *f, const cf_event_t *ev, long long generation)
{
    unsigned char digest[CF_KEYS_EID_DIGEST];
    char key[CF_KEYS_MAX];
    cf_keys_eid(key, sizeof key, cf_store_shard_of(f->store, ev), cf_store_eid_digest(ev, digest));
    redisReply *v = redisCommand(f->raw, "HGET %s %b", key, digest, sizeof digest);
    assert_true(v && v->type == REDIS_REPLY_STRING);
    long long was, tag;
    assert_int_equal(cf_keys_eid_value_parse(v->str, v->len, &was, &tag), 0);
    freeReplyObject(v);
    cf_test_integer(f, "HSET %s %b %lld", key, digest, sizeof digest,
                    cf_keys_eid_value(generation, tag));
}

/* A marker is found in its generation and the next (Redis's clock over
   --eid-ttl), and no longer after that; the store learns the generation
   from Redis, whatever its own clock says. One bucket key holds every
   generation, with no expiry: the apply path sends no EXPIREAT. */
static void test_marker_generations(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev;
    cf_store_set_eid_ttl(f->store, 100);
    cf_test_stage(&ev, "gen-1", CASE_A, CF_EV_FUNDING_TRANSACTION);
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");
    long long generation = cf_test_generation(f, 100);
    assert_int_equal(cf_test_marker(f, &ev), generation);
    /* the marker as if written one generation ago: still a duplicate */
    marker_age(f, &ev, generation - 1);
    assert_string_equal(cf_test_apply(f, &ev, 1), "d");
    /* two generations ago: forgotten, applied again, and marked anew */
    marker_age(f, &ev, generation - 2);
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");
    assert_int_equal(cf_test_marker(f, &ev), generation);
    /* the same for a case event, its marker in its case's bucket */
    cf_test_stage(&ev, "gen-2", CASE_A, CF_EV_CASE_SCREENED);
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");
    marker_age(f, &ev, generation - 1);
    assert_string_equal(cf_test_apply(f, &ev, 1), "d");
    marker_age(f, &ev, generation - 2);
    assert_string_equal(cf_test_apply(f, &ev, 1), "a");
    assert_int_equal(cf_test_calls(f, "expireat"), 0);
    redisReply *keys = redisCommand(f->raw, "KEYS cf:*:eid:*");
    assert_true(keys && keys->type == REDIS_REPLY_ARRAY && keys->elements == 2);
    for (size_t k = 0; k < keys->elements; k++)
        assert_int_equal(cf_test_integer(f, "TTL %s", keys->element[k]->str), -1);
    freeReplyObject(keys);
}

/* A marker that is not one (a value no store writes) fails its shard with
   a reason, and applies nothing. */
static void test_marker_not_one(void **state)
{
    fixture_t *f = *state;
    cf_event_t ev;
    cf_test_stage(&ev, "odd-1", CASE_A, CF_EV_FUNDING_TRANSACTION);
    unsigned char digest[CF_KEYS_EID_DIGEST];
    char key[CF_KEYS_MAX];
    cf_keys_eid(key, sizeof key, cf_store_shard_of(f->store, &ev), cf_store_eid_digest(&ev, digest));
    cf_test_integer(f, "HSET %s %b not-a-marker", key, digest, sizeof digest);
    cf_ack_status_t status;
    assert_int_equal(cf_store_apply(f->store, &ev, 1, &status), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_REDIS);
    assert_non_null(strstr(cf_store_error(f->store), "not-a-marker"));
    assert_int_equal(cf_test_get(f, "funding", "day:2024-03-01|EU|XM-DAC-1|EUR|2|transactions"), 0);
}

/* The sweep deletes the markers of a generation before the one before, and
   only those; it walks every bucket of every shard, a step at a time, and
   starts again after the last. */
static void test_sweep(void **state)
{
    fixture_t *f = *state;
    cf_store_set_eid_ttl(f->store, 100);
    enum { N = 6 };
    cf_event_t ev[N];
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "sw-%d", i);
        cf_test_stage(&ev[i], id, i % 2 ? CASE_A : CASE_B, CF_EV_CASE_SCREENED);
    }
    ev[N - 1].type = CF_EV_FUNDING_TRANSACTION;
    assert_string_equal(cf_test_apply(f, ev, N), "aaaaaa");
    long long now = cf_test_generation(f, 100);
    marker_age(f, &ev[0], now - 2);             /* expired */
    marker_age(f, &ev[1], now - 5);             /* expired long ago */
    marker_age(f, &ev[2], now - 1);             /* still found */
    marker_age(f, &ev[N - 1], now - 2);         /* expired, without a case */
    int64_t keys;
    assert_int_equal(cf_test_markers(f, &keys), N);
    unsigned cursor = 0, removed, total = 0, steps = 0;
    do {
        assert_int_equal(cf_store_sweep_step(f->store, &cursor, &removed), 0);
        total += removed;
        steps++;
    } while (cursor != 0);
    assert_int_equal(steps, cf_store_shards(f->store) * CF_KEYS_EID_BUCKETS / 64);
    assert_int_equal(total, 3);
    assert_int_equal(cf_test_markers(f, &keys), N - 3);
    assert_int_equal(cf_test_marker(f, &ev[0]), -1);
    assert_int_equal(cf_test_marker(f, &ev[1]), -1);
    assert_int_equal(cf_test_marker(f, &ev[2]), now - 1);
    assert_int_equal(cf_test_marker(f, &ev[3]), now);
    assert_int_equal(cf_test_marker(f, &ev[N - 1]), -1);
    /* what is swept is forgotten: applied again */
    assert_string_equal(cf_test_apply(f, ev, N), "aaddda");
}

/* The TTL of the case hash of ev's case, in seconds (-1: none, -2: no key). */
static int64_t case_ttl(fixture_t *f, const cf_event_t *ev)
{
    return cf_test_integer(f, "TTL cf:{s%u}:case:%s", cf_store_shard_of(f->store, ev), ev->case_id);
}

static void test_closed_case_expires(void **state)
{
    fixture_t *f = *state;
    cf_store_set_case_ttl(f->store, 100);
    cf_event_t a, b;
    cf_test_register(&a, "x-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_register(&b, "x-1", CASE_B, "CH-AVR", "m", "\3");
    assert_string_equal(cf_test_apply(f, &a, 1), "a");
    assert_string_equal(cf_test_apply(f, &b, 1), "a");
    assert_int_equal(case_ttl(f, &a), -1);              /* open cases stay */
    cf_test_stage(&a, "x-2", CASE_A, CF_EV_CASE_CLOSED);
    assert_string_equal(cf_test_apply(f, &a, 1), "a");
    int64_t ttl = case_ttl(f, &a);
    assert_true(ttl > 90 && ttl <= 100);
    assert_int_equal(case_ttl(f, &b), -1);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|closed|ever|cases"), 1);
}

static void config_set(fixture_t *f, const char *name, const char *value)
{
    redisReply *reply = redisCommand(f->raw, "CONFIG SET %s %s", name, value);
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_STATUS);
    freeReplyObject(reply);
}

static void test_durability(void **state)
{
    fixture_t *f = *state;
    cf_store_durability_t mode;
    char text[256];
    assert_int_equal(cf_store_durability(f->store, &mode, text, sizeof text), 0);
    assert_int_equal(mode, CF_STORE_DURABLE_NONE);      /* the test server has no AOF */
    assert_non_null(strstr(text, "appendonly no"));
    /* the AOF is read now (INFO); appendfsync as the library's loader
       recorded it (CONFIG GET is the admin's), and unknown without it */
    config_set(f, "appendonly", "yes");
    config_set(f, "appendfsync", "everysec");
    char version[CF_STORE_VERSION_LEN + 1];
    assert_int_equal(cf_store_load_library(f->store, version), 0);
    assert_int_equal(cf_store_durability(f->store, &mode, text, sizeof text), 0);
    assert_int_equal(mode, CF_STORE_DURABLE_SECOND);
    assert_non_null(strstr(text, "appendfsync everysec"));
    config_set(f, "appendfsync", "always");
    assert_int_equal(cf_store_durability(f->store, &mode, text, sizeof text), 0);
    assert_int_equal(mode, CF_STORE_DURABLE_SECOND);       /* recorded: everysec */
    assert_int_equal(cf_store_load_library(f->store, version), 0);
    assert_int_equal(cf_store_durability(f->store, &mode, text, sizeof text), 0);
    assert_int_equal(mode, CF_STORE_DURABLE_STRICT);
    assert_non_null(strstr(text, "survives a crash of redis-server or of the machine"));
    cf_test_integer(f, "FUNCTION DELETE " CF_STORE_LIBRARY);
    assert_int_equal(cf_store_durability(f->store, &mode, text, sizeof text), 0);
    assert_int_equal(mode, CF_STORE_DURABLE_SECOND);
    assert_non_null(strstr(text, "appendfsync unknown"));
}

static void test_redis_down(void **state)
{
    fixture_t *f = *state;
    int port = cf_test_redis_port(f->redis);
    cf_test_redis_stop(&f->redis);
    cf_event_t ev;
    cf_test_register(&ev, "x-0", CASE_A, "CH-AVR", "f", "\3");
    cf_ack_status_t status;
    assert_int_equal(cf_store_apply(f->store, &ev, 1, &status), -1);
    assert_true(strlen(cf_store_error(f->store)) > 0);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_IO);
    cf_store_t *other = cf_store_new("127.0.0.1", port, CF_SOURCE_DIR "/lua");
    assert_int_equal(cf_store_connect(other), -1);
    assert_int_equal(cf_store_error_code(other), CF_STORE_ERR_IO);
    cf_store_destroy(&other);
    other = cf_store_new("127.0.0.1", port, "/nonexistent");
    assert_int_equal(cf_store_connect(other), -1);
    assert_int_equal(cf_store_error_code(other), CF_STORE_ERR_SCRIPT);
    assert_non_null(strstr(cf_store_error(other), "/nonexistent/count_rejection.lua"));
    cf_store_destroy(&other);
    assert_null(other);
}

/* A server that answers every read as a restarted Redis does while it
   reads its append-only file. */
static void *loading_server(void *arg)
{
    int listener = *(int *) arg, peer = accept(listener, NULL, NULL);
    static const char reply[] = "-LOADING Redis is loading the dataset in memory\r\n";
    char buf[4096];
    while (peer >= 0 && read(peer, buf, sizeof buf) > 0)
        if (write(peer, reply, sizeof reply - 1) < 0)
            break;
    if (peer >= 0)
        close(peer);
    return NULL;
}

static void test_redis_loading(void **state)
{
    (void) state;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    assert_int_equal(bind(listener, (struct sockaddr *) &addr, sizeof addr), 0);
    assert_int_equal(listen(listener, 1), 0);
    getsockname(listener, (struct sockaddr *) &addr, &len);
    pthread_t thread;
    pthread_create(&thread, NULL, loading_server, &listener);
    cf_store_t *store = cf_store_new("127.0.0.1", ntohs(addr.sin_port), CF_SOURCE_DIR "/lua");
    assert_int_equal(cf_store_connect(store), -1);
    assert_non_null(strstr(cf_store_error(store), "LOADING"));
    assert_int_equal(cf_store_error_code(store), CF_STORE_ERR_IO);
    cf_store_destroy(&store);
    pthread_join(thread, NULL);
    close(listener);
}

/* A store whose shard count is not the one Redis records refuses to go on
   (an outage, CF_STORE_ERR_IO, naming both); the first worker's store to
   connect records its own; a tool's store (here under caseflow-ctl's ACL
   user, which may not write the record) compares only. */
static cf_store_t *shards_store(fixture_t *f, const char *user, unsigned shards, bool record)
{
    cf_store_t *store = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), NULL);
    if (user) {
        cf_redis_auth_t *auth = cf_redis_auth_new(user, "pw");
        cf_store_set_auth(store, auth);
        cf_redis_auth_destroy(&auth);
    }
    cf_store_set_shards(store, shards, record);
    return store;
}

static void assert_recorded(fixture_t *f, const char *want)
{
    redisReply *r = redisCommand(f->raw, "GET cf:shards");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, want);
    freeReplyObject(r);
}

static void test_shards_agree(void **state)
{
    fixture_t *f = *state;
    assert_recorded(f, "64");                   /* the fixture's store's, at connect */
    cf_counts_t *counts = NULL;
    cf_store_t *other = shards_store(f, NULL, 8, true);
    assert_int_equal(cf_store_read_family(other, "stage", &counts), -1);
    assert_int_equal(cf_store_error_code(other), CF_STORE_ERR_IO);
    assert_non_null(strstr(cf_store_error(other), "set to 8 shards, but this Redis holds data "
                                                  "split into 64"));
    cf_store_destroy(&other);
    assert_int_equal(cf_test_redis_acl_user(f->redis, "caseflow-ctl"), 0);
    cf_store_t *reader = shards_store(f, "caseflow-ctl", 8, false);
    assert_int_equal(cf_store_read_family(reader, "stage", &counts), -1);
    assert_non_null(strstr(cf_store_error(reader), "set to 8 shards"));
    cf_test_integer(f, "DEL cf:shards");
    assert_int_equal(cf_store_read_family(reader, "stage", &counts), 0);     /* none recorded */
    cf_counts_destroy(&counts);
    assert_int_equal(cf_test_integer(f, "EXISTS cf:shards"), 0);           /* nor records */
    cf_store_destroy(&reader);
    other = shards_store(f, NULL, 8, true);
    assert_int_equal(cf_store_read_family(other, "stage", &counts), 0);      /* records 8 */
    cf_counts_destroy(&counts);
    cf_store_destroy(&other);
    assert_recorded(f, "8");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);       /* as the daemons do: a killed connection is an error */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resent_is_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_registration_keeps_stage_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_within_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_does_not_matter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_raw_case_ref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_cases_many_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_library_gone_and_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_library_least_privilege, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejections_and_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marker_not_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_id_within_its_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_events_and_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marker_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_case_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shards_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_down, setup, teardown),
        cmocka_unit_test(test_redis_loading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
