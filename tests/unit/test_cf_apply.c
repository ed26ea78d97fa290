/*  Tests of cf_apply against a throw-away redis-server: one ack per frame in
    frame order (accepted, rejected with its reason, duplicate), the case and
    reject notifications, the pseudonym in place of the raw case_ref, that
    a run against a dead Redis acks nothing and can be run again, and the
    careful run: tries counted in Redis, dead letters (read back, and
    replayed with cf_dlq), and the reason given for each; an outage (the
    library gone for a worker that may not load it, which only the dead
    letters need, Redis gone in the middle of a commit) spends no tries, a
    refusal still does.                     */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "cf_apply.h"
#include "cf_apply_internal.h"
#include "caseflow/cf_pseudo.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_dlq.h"
#include "caseflow/cf_msg.h"
#include "cf_test_frames.h"
#include "cf_test_notes.h"
#include "cf_test_redis.h"
#include "cf_test_relay.h"

#define RAW_REF "BEL-2019-000123"
#define RAW_SHARD "34"      /* FNV-1a 64 of RAW_REF mod 64 (docs/protocol.md) */

typedef struct {
    cf_test_redis_t *redis;
    cf_pseudo_t *pseudo;
    cf_store_t *store;
    cf_apply_t *apply;
    char key_path[64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->key_path, sizeof f->key_path, "/tmp/cf_apply_test_%d.key", (int) getpid());
    FILE *file = fopen(f->key_path, "w");
    fputs("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", file);
    fclose(file);
    char err[256];
    f->pseudo = cf_pseudo_new(f->key_path, err, sizeof err);
    f->redis = cf_test_redis_start();
    if (!f->pseudo || !f->redis)
        return -1;
    f->store = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), CF_SOURCE_DIR "/lua");
    if (cf_store_connect(f->store) < 0)
        return -1;
    f->apply = cf_apply_new(f->pseudo, f->store);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cf_apply_destroy(&f->apply);
    cf_store_destroy(&f->store);
    cf_pseudo_destroy(&f->pseudo);
    cf_test_redis_stop(&f->redis);
    unlink(f->key_path);
    free(f);
    return 0;
}

static void pack_registration(msgpack_sbuffer *sbuf, const char *event_id)
{
    cf_test_pack_registration(sbuf, event_id, RAW_REF);
}

static redisReply *command(fixture_t *f, const char *format, const char *arg)
{
    redisContext *c = redisConnect("127.0.0.1", cf_test_redis_port(f->redis));
    redisReply *reply = redisCommand(c, format, arg);
    redisFree(c);
    assert_non_null(reply);
    return reply;
}

static int body_contains(const char *body, size_t len, const char *text)
{
    return memmem(body, len, text, strlen(text)) != NULL;
}

static void test_acks_and_notifications(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer good;
    msgpack_sbuffer_init(&good);
    pack_registration(&good, "ev-1");
    const void *frames[] = { good.data, "\xc1garbage", good.data };
    size_t sizes[] = { good.size, 8, good.size };
    assert_int_equal(cf_apply_run(f->apply, frames, sizes, 3), 0);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_ACCEPTED), 1);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_REJECTED), 1);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_DUPLICATE), 1);   /* same id in one job */

    const msgpack_sbuffer *body = cf_apply_acks(f->apply);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t acks[3];
    assert_int_equal(cf_msg_unpack_acks(&result, body->data, body->size, acks, 3), 3);
    assert_int_equal(acks[0].status, CF_ACK_ACCEPTED);
    assert_int_equal(acks[0].event_id_len, 4);
    assert_memory_equal(acks[0].event_id, "ev-1", 4);
    assert_int_equal(acks[1].status, CF_ACK_REJECTED);
    assert_true(acks[1].reason_len > 6 && memcmp(acks[1].reason, "event:", 6) == 0);
    assert_int_equal(acks[2].status, CF_ACK_DUPLICATE);
    msgpack_unpacked_destroy(&result);

    /* One reject to publish from the job; case.CH-AVR.registered, carrying
       the pseudonym, went to the shard's outbox with the counters. */
    assert_int_equal(cf_apply_notifications(f->apply), 1);
    const char *topic, *note;
    size_t topic_len, note_len;
    cf_apply_notification(f->apply, 0, &topic, &topic_len, &note, &note_len);
    assert_true(topic_len == 6 && memcmp(topic, "reject", 6) == 0);
    assert_false(body_contains(note, note_len, RAW_REF));
    redisReply *outbox = command(f, "XRANGE %s - +", "cf:{s" RAW_SHARD "}:outbox");
    assert_int_equal(outbox->elements, 1);
    const redisReply *fields = outbox->element[0]->element[1];
    assert_int_equal(cf_test_notes_count(fields), 1);
    cf_outbox_note_t got = cf_test_notes_get(fields, 0);
    assert_string_equal(got.topic, "case.CH-AVR.registered");
    assert_true(body_contains(got.body, got.body_len, "1a75ba782c69c616effad62ef0c836e5"));
    assert_false(body_contains(got.body, got.body_len, RAW_REF));
    freeReplyObject(outbox);

    /* Sent again: duplicate, and no second case notification. */
    assert_int_equal(cf_apply_run(f->apply, frames, sizes, 1), 0);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_DUPLICATE), 1);
    assert_int_equal(cf_apply_notifications(f->apply), 0);
    redisReply *len = command(f, "XLEN %s", "cf:{s" RAW_SHARD "}:outbox");
    assert_int_equal(len->integer, 1);
    freeReplyObject(len);
    msgpack_sbuffer_destroy(&good);
}

/* A job's events of one case share its pseudonym, worked out once
   (apply_pseudonymise); another case has its own; no raw ref is left in
   any event, valid or not. */
static void test_pseudonyms_of_a_job(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer a1, b, a2;
    msgpack_sbuffer_init(&a1), msgpack_sbuffer_init(&b), msgpack_sbuffer_init(&a2);
    cf_test_pack_registration(&a1, "ev-a1", RAW_REF);
    cf_test_pack_registration(&b, "ev-b", "LON-2019-000007");
    cf_test_pack_registration(&a2, "ev-a2", RAW_REF);
    const void *frames[] = { a1.data, "\xc1garbage", b.data, a2.data };
    size_t sizes[] = { a1.size, 8, b.size, a2.size };
    assert_int_equal(cf_apply_decode(f->apply, frames, sizes, 4), 3);
    char want_a[33], want_b[33];
    cf_pseudo_apply(f->pseudo, RAW_REF, strlen(RAW_REF), want_a);
    cf_pseudo_apply(f->pseudo, "LON-2019-000007", 15, want_b);
    assert_string_equal(f->apply->valid[0].case_id, want_a);
    assert_string_equal(f->apply->valid[1].case_id, want_b);
    assert_string_equal(f->apply->valid[2].case_id, want_a);
    static const char zeros[sizeof f->apply->valid[0].case_ref];
    for (int v = 0; v < 4; v++)     /* the three valid, and where the garbage was decoded */
        assert_memory_equal(f->apply->valid[v].case_ref, zeros, sizeof zeros);
    msgpack_sbuffer_destroy(&a1), msgpack_sbuffer_destroy(&b), msgpack_sbuffer_destroy(&a2);

    /* a full job: 500 cases, each twice, so that refs share the table's
       probe runs and only the ref's own pseudonym may be copied */
    enum { CASES = 500 };
    static msgpack_sbuffer packed[2 * CASES];
    const void *many[2 * CASES];
    size_t many_sizes[2 * CASES];
    for (int i = 0; i < 2 * CASES; i++) {
        char ref[32], id[32];
        snprintf(ref, sizeof ref, "REF-%04d", i % CASES);
        snprintf(id, sizeof id, "ev-many-%d", i);
        msgpack_sbuffer_init(&packed[i]);
        cf_test_pack_registration(&packed[i], id, ref);
        many[i] = packed[i].data, many_sizes[i] = packed[i].size;
    }
    assert_int_equal(cf_apply_decode(f->apply, many, many_sizes, 2 * CASES), 2 * CASES);
    for (int i = 0; i < 2 * CASES; i++) {
        char ref[32], want[33];
        snprintf(ref, sizeof ref, "REF-%04d", i % CASES);
        cf_pseudo_apply(f->pseudo, ref, strlen(ref), want);
        assert_string_equal(f->apply->valid[i].case_id, want);
        msgpack_sbuffer_destroy(&packed[i]);
    }
}

static void test_dead_redis_acks_nothing(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer good;
    msgpack_sbuffer_init(&good);
    pack_registration(&good, "ev-2");
    const void *frames[] = { good.data };
    size_t sizes[] = { good.size };
    cf_test_redis_stop(&f->redis);
    assert_int_equal(cf_apply_run(f->apply, frames, sizes, 1), -1);
    assert_true(strlen(cf_apply_error(f->apply)) > 0);
    msgpack_sbuffer_destroy(&good);
}

/* ---- the careful run and dead letters ----------------------------------- */

#define OTHER_REF   "LON-2019-000007"   /* not in RAW_REF's shard: 45 */

static void run_command(fixture_t *f, const char *format, const char *arg)
{
    freeReplyObject(command(f, format, arg));
}

static void unpack_acks(fixture_t *f, msgpack_unpacked *result, cf_ack_t *acks, size_t n)
{
    const msgpack_sbuffer *body = cf_apply_acks(f->apply);
    msgpack_unpacked_init(result);
    assert_int_equal(cf_msg_unpack_acks(result, body->data, body->size, acks, n), (int) n);
}

/* Several jobs' frames run at once (the worker's run, cf_worker_jobs.c),
   each answered apart: cf_apply_select gives the acks, counts and
   notifications of its frames alone. */
static void test_select_frames(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a), msgpack_sbuffer_init(&b);
    cf_test_pack_registration(&a, "ev-s1", RAW_REF);
    cf_test_pack_registration(&b, "ev-s2", "LON-2019-000007");
    /* job 1: ev-s1; job 2: garbage, ev-s1 again; job 3: ev-s2 */
    const void *frames[] = { a.data, "\xc1garbage", a.data, b.data };
    size_t sizes[] = { a.size, 8, a.size, b.size };
    assert_int_equal(cf_apply_run(f->apply, frames, sizes, 4), 0);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_ACCEPTED), 2);     /* all selected */
    assert_int_equal(cf_apply_notifications(f->apply), 1);

    msgpack_unpacked result;
    cf_ack_t acks[2];
    cf_apply_select(f->apply, 1, 2);
    unpack_acks(f, &result, acks, 2);
    assert_int_equal(acks[0].status, CF_ACK_REJECTED);
    assert_int_equal(acks[1].status, CF_ACK_DUPLICATE);
    assert_memory_equal(acks[1].event_id, "ev-s1", 5);
    msgpack_unpacked_destroy(&result);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_REJECTED), 1);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_DUPLICATE), 1);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_ACCEPTED), 0);
    assert_int_equal(cf_apply_notifications(f->apply), 1);              /* the reject's */
    const char *topic, *note;
    size_t topic_len, note_len;
    cf_apply_notification(f->apply, 0, &topic, &topic_len, &note, &note_len);
    assert_true(topic_len == 6 && memcmp(topic, "reject", 6) == 0);

    cf_apply_select(f->apply, 3, 1);
    unpack_acks(f, &result, acks, 1);
    assert_int_equal(acks[0].status, CF_ACK_ACCEPTED);
    assert_memory_equal(acks[0].event_id, "ev-s2", 5);
    msgpack_unpacked_destroy(&result);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_ACCEPTED), 1);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_REJECTED), 0);
    assert_int_equal(cf_apply_notifications(f->apply), 0);

    cf_apply_select(f->apply, 0, 1);
    unpack_acks(f, &result, acks, 1);
    assert_int_equal(acks[0].status, CF_ACK_ACCEPTED);
    assert_memory_equal(acks[0].event_id, "ev-s1", 5);
    msgpack_unpacked_destroy(&result);
    assert_int_equal(cf_apply_notifications(f->apply), 0);
    msgpack_sbuffer_destroy(&a), msgpack_sbuffer_destroy(&b);
}

/* The same job run carefully again (as a second worker holding it would):
   the event gives up again, but the stream keeps one entry, the ack names
   the same one, and quality dead_letter stays 1. */
static void expect_set_aside_once(fixture_t *f, const void *const *frames, const size_t *sizes,
                                  const char *first_reason, size_t first_len)
{
    char first[CF_REASON_MAX];
    snprintf(first, sizeof first, "%.*s", (int) first_len, first_reason);
    assert_int_equal(cf_apply_run_careful(f->apply, frames, sizes, 2), 0);
    msgpack_unpacked result;
    cf_ack_t acks[2];
    unpack_acks(f, &result, acks, 2);
    assert_int_equal(acks[0].status, CF_ACK_REJECTED);
    assert_int_equal(acks[0].reason_len, strlen(first));
    assert_memory_equal(acks[0].reason, first, acks[0].reason_len);
    msgpack_unpacked_destroy(&result);
    redisReply *entries = command(f, "XLEN %s", CF_KEYS_DLQ_STREAM);
    assert_int_equal(entries->integer, 1);
    freeReplyObject(entries);
    redisReply *counted = command(f, "HGET cf:{s0}:quality %s", "dead_letter");
    assert_string_equal(counted->str, "1");
    freeReplyObject(counted);
}

/* The last outcome cf_dlq_replay handed back, and how many there were. */
typedef struct {
    size_t count;
    char event_id[64], outcome[32], error[256];
} replayed_t;

static void on_replayed(void *arg, const cf_dlq_outcome_t *outcome)
{
    replayed_t *r = arg;
    r->count++;
    snprintf(r->event_id, sizeof r->event_id, "%s", outcome->event_id);
    snprintf(r->outcome, sizeof r->outcome, "%s", outcome->outcome);
    snprintf(r->error, sizeof r->error, "%s", outcome->error);
}

static int count_letter(void *arg, const cf_dead_letter_t *letter)
{
    (void) letter;
    ++*(size_t *) arg;
    return 0;
}

/* Redis refuses every call on shard 0 (a family key of the wrong type): its
   event is tried three times, then dead-lettered with the error, without
   the raw case_ref; the other shard's event is applied. Run again, it is
   not set aside twice. Once the key is fixed, a replay applies the dead
   letter and empties the stream. */
static void test_careful_dead_letters_what_redis_refuses(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    pack_registration(&a, "ev-a");
    cf_test_pack_registration(&b, "ev-b", OTHER_REF);
    const void *frames[] = { a.data, b.data };
    size_t sizes[] = { a.size, b.size };
    run_command(f, "SET cf:{s" RAW_SHARD "}:stage %s", "oops");
    assert_int_equal(cf_apply_run(f->apply, frames, sizes, 2), -1);
    assert_int_equal(cf_apply_error_code(f->apply), CF_STORE_ERR_REDIS);
    assert_int_equal(cf_apply_run_careful(f->apply, frames, sizes, 2), 0);
    msgpack_unpacked result;
    cf_ack_t acks[2];
    unpack_acks(f, &result, acks, 2);
    assert_int_equal(acks[0].status, CF_ACK_REJECTED);
    static const char want[] = "dead_letter: after 3 tries: shard " RAW_SHARD ": WRONGTYPE";
    if (acks[0].reason_len < sizeof want || memcmp(acks[0].reason, want, sizeof want - 1))
        fail_msg("reason: %.*s", (int) acks[0].reason_len, acks[0].reason);
    assert_non_null(memmem(acks[0].reason, acks[0].reason_len, "(caseflow-ctl dlq replay ", 25));
    /* the other shard had committed in the failed whole-job run */
    assert_int_equal(acks[1].status, CF_ACK_DUPLICATE);
    msgpack_unpacked_destroy(&result);

    redisReply *entries = command(f, "XRANGE %s - +", CF_KEYS_DLQ_STREAM);
    assert_int_equal(entries->elements, 1);
    const redisReply *fields = entries->element[0]->element[1];
    int payload_ok = 0;
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (!strcmp(fields->element[i]->str, "payload"))
            payload_ok = body_contains(fields->element[i + 1]->str, fields->element[i + 1]->len,
                                       "1a75ba782c69c616effad62ef0c836e5")
                      && !body_contains(fields->element[i + 1]->str, fields->element[i + 1]->len,
                                        RAW_REF);
    assert_true(payload_ok);
    freeReplyObject(entries);
    freeReplyObject(command(f, "EXISTS cf:{dlq}:try:%s", "ev-a"));
    expect_set_aside_once(f, frames, sizes, acks[0].reason, acks[0].reason_len);

    char err[256];
    replayed_t r = { 0 };
    assert_int_equal(cf_dlq_replay(f->store, NULL, on_replayed, &r, err, sizeof err), 0);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.outcome, "failed");                     /* not fixed yet */
    run_command(f, "DEL cf:{s" RAW_SHARD "}:stage%s", "");
    r = (replayed_t) { 0 };
    assert_int_equal(cf_dlq_replay(f->store, NULL, on_replayed, &r, err, sizeof err), 0);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.event_id, "ev-a");
    assert_string_equal(r.outcome, "accepted");
    assert_string_equal(r.error, "");
    /* in the shard of the raw case_ref (the letter keeps its hash), not of
       the pseudonym its payload holds */
    redisReply *kept = command(f, "EXISTS cf:{s" RAW_SHARD "}:case:%s",
                                "1a75ba782c69c616effad62ef0c836e5");
    assert_int_equal(kept->integer, 1);
    freeReplyObject(kept);
    size_t left = 0;
    assert_int_equal(cf_store_dlq_read(f->store, "-", "+", count_letter, &left), 0);
    assert_int_equal(left, 0);
    r = (replayed_t) { 0 };
    assert_int_equal(cf_dlq_replay(f->store, "1-1", on_replayed, &r, err, sizeof err), -1);
    assert_int_equal(r.count, 0);
    assert_non_null(strstr(err, "no dead letter with id '1-1'"));
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

/* An event whose earlier tries left no error were tries of workers that
   died holding it: on the try after the limit it is set aside as such. */
static void test_careful_after_lost_workers(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer a;
    msgpack_sbuffer_init(&a);
    pack_registration(&a, "ev-c");
    const void *frames[] = { a.data };
    size_t sizes[] = { a.size };
    run_command(f, "HSET cf:{dlq}:try:%s n 3", "ev-c");
    assert_int_equal(cf_apply_run_careful(f->apply, frames, sizes, 1), 0);
    msgpack_unpacked result;
    cf_ack_t acks[1];
    unpack_acks(f, &result, acks, 1);
    assert_int_equal(acks[0].status, CF_ACK_REJECTED);
    assert_non_null(memmem(acks[0].reason, acks[0].reason_len,
                           "after 3 tries: workers were lost while holding it", 49));
    msgpack_unpacked_destroy(&result);
    redisReply *reply = command(f, "EXISTS cf:{dlq}:try:%s", "ev-c");
    assert_int_equal(reply->integer, 0);
    freeReplyObject(reply);
    /* a clean careful run leaves no try counter */
    msgpack_sbuffer_clear(&a);
    cf_test_pack_registration(&a, "ev-d", OTHER_REF);
    frames[0] = a.data;
    sizes[0] = a.size;
    assert_int_equal(cf_apply_run_careful(f->apply, frames, sizes, 1), 0);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_ACCEPTED), 1);
    reply = command(f, "EXISTS cf:{dlq}:try:%s", "ev-d");
    assert_int_equal(reply->integer, 0);
    freeReplyObject(reply);
    msgpack_sbuffer_destroy(&a);
}

/* The careful run's tick (cf_apply_set_tick): counts its calls. */
static void count_tick(void *arg)
{
    (*(int *) arg)++;
}

/* A bundled job's requests (one per frame, cf_apply_set_requests) follow
   each valid event through the careful run, whatever frames before it were
   rejected: a retry of the request that applied an event is told accepted
   again, another request duplicate. */
static void test_careful_keeps_each_events_request(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    pack_registration(&a, "ev-r1");
    cf_test_pack_registration(&b, "ev-r2", OTHER_REF);
    const void *frames[] = { "\xc1", a.data, b.data };    /* 0xc1: never valid msgpack */
    size_t sizes[] = { 1, a.size, b.size };
    cf_apply_set_requests(f->apply, (uint64_t[]) { 1, 2, 3 }, 3);
    int ticks = 0;                      /* the worker's heartbeats go here */
    cf_apply_set_tick(f->apply, count_tick, &ticks);
    assert_int_equal(cf_apply_run_careful(f->apply, frames, sizes, 3), 0);
    assert_int_equal(ticks, 2);         /* before each valid event */
    cf_apply_set_tick(f->apply, NULL, NULL);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_REJECTED), 1);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_ACCEPTED), 2);
    cf_apply_set_requests(f->apply, (uint64_t[]) { 7, 2, 7 }, 3);
    assert_int_equal(cf_apply_run_careful(f->apply, frames, sizes, 3), 0);
    msgpack_unpacked result;
    cf_ack_t acks[3];
    unpack_acks(f, &result, acks, 3);
    assert_int_equal(acks[1].status, CF_ACK_ACCEPTED);     /* request 2 applied it */
    assert_int_equal(acks[2].status, CF_ACK_DUPLICATE);    /* request 3 did, not 7 */
    msgpack_unpacked_destroy(&result);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

/* ---- outages spend no tries ---------------------------------------------- */

/* A store and its apply as a worker's: its Redis user (deploy/
   redis-users.acl) may not load the library. */
typedef struct {
    cf_store_t *store;
    cf_apply_t *apply;
} worker_t;

static void worker_open(fixture_t *f, worker_t *w, int port, const char *user)
{
    w->store = cf_store_new("127.0.0.1", port, CF_SOURCE_DIR "/lua");
    if (user) {
        assert_int_equal(cf_test_redis_acl_user(f->redis, user), 0);
        cf_redis_auth_t *auth = cf_redis_auth_new(user, "pw");
        cf_store_set_auth(w->store, auth);
        cf_redis_auth_destroy(&auth);
    }
    assert_int_equal(cf_store_connect(w->store), 0);
    w->apply = cf_apply_new(f->pseudo, w->store);
}

static void worker_close(worker_t *w)
{
    cf_apply_destroy(&w->apply);
    cf_store_destroy(&w->store);
}

static long long integer_of(fixture_t *f, const char *format, const char *arg)
{
    redisReply *reply = command(f, format, arg);
    long long n = reply->type == REDIS_REPLY_INTEGER ? reply->integer
                : reply->type == REDIS_REPLY_STRING ? atoll(reply->str) : -1;
    freeReplyObject(reply);
    return n;
}

/* A job of up to 3 registrations, for the outage tests. */
typedef struct {
    msgpack_sbuffer events[3];
    const void *frames[3];
    size_t sizes[3];
    size_t count;
} job_t;

static void job_add(job_t *job, const char *event_id, const char *ref)
{
    assert_true(job->count < 3);
    msgpack_sbuffer *event = &job->events[job->count];
    msgpack_sbuffer_init(event);
    cf_test_pack_registration(event, event_id, ref);
    job->frames[job->count] = event->data;
    job->sizes[job->count++] = event->size;
}

static void job_destroy(job_t *job)
{
    for (size_t i = 0; i < job->count; i++)
        msgpack_sbuffer_destroy(&job->events[i]);
}

/* One careful run of job during an outage: it fails as one
   (CF_STORE_ERR_IO, the job is kept) and leaves event_id's tries at tries
   (-1: no counter). */
static void expect_outage(fixture_t *f, worker_t *w, const job_t *job, const char *event_id,
                          long long tries)
{
    assert_int_equal(cf_apply_run_careful(w->apply, job->frames, job->sizes, job->count), -1);
    assert_int_equal(cf_apply_error_code(w->apply), CF_STORE_ERR_IO);
    assert_int_equal(integer_of(f, "HGET cf:{dlq}:try:%s n", event_id), tries);
    assert_int_equal(integer_of(f, "XLEN %s", CF_KEYS_DLQ_STREAM), 0);
}

/* The library flushed (FUNCTION FLUSH) for a worker that may not load it:
   an outage until an admin loads it again. Five careful runs of job
   meanwhile leave event_id's tries at tries; then the admin loads it and
   the job's careful run goes through. */
static void library_outage(fixture_t *f, worker_t *w, const job_t *job, const char *event_id,
                           long long tries)
{
    run_command(f, "FUNCTION FLUSH%s", "");
    for (int round = 0; round < 5; round++)
        expect_outage(f, w, job, event_id, tries);
    assert_non_null(strstr(cf_apply_error(w->apply), "caseflow-ctl functions load"));
    char version[CF_STORE_VERSION_LEN + 1];
    assert_int_equal(cf_store_load_library(f->store, version), 0);    /* the admin */
    assert_int_equal(cf_apply_run_careful(w->apply, job->frames, job->sizes, job->count), 0);
}

/* Good events during the library's outage: the apply path calls no
   function (docs/storage.md, "The commit"), so they are applied at once,
   no try spent and nothing dead-lettered. */
static void test_careful_library_outage_spends_no_tries(void **state)
{
    fixture_t *f = *state;
    worker_t w;
    worker_open(f, &w, cf_test_redis_port(f->redis), "caseflow-worker");
    job_t job = { .count = 0 };
    job_add(&job, "ev-o1", RAW_REF);
    job_add(&job, "ev-o2", OTHER_REF);
    run_command(f, "FUNCTION FLUSH%s", "");
    assert_int_equal(cf_apply_run_careful(w.apply, job.frames, job.sizes, job.count), 0);
    assert_int_equal(cf_apply_count(w.apply, CF_ACK_ACCEPTED), 2);
    assert_int_equal(integer_of(f, "XLEN %s", CF_KEYS_DLQ_STREAM), 0);
    assert_int_equal(integer_of(f, "EXISTS cf:{dlq}:try:%s", "ev-o1"), 0);
    assert_int_equal(integer_of(f, "EXISTS cf:{dlq}:try:%s", "ev-o2"), 0);
    job_destroy(&job);
    worker_close(&w);
}

/* During the same outage, an event whose 3 tries were spent by lost workers
   (its dead letter cannot be written without the library: that try is
   given back too) and an event Redis refuses (its shard's stage hash is a
   string). Once the library is back, the first is set aside after 3
   tries, the second after exactly 3 tries of its own, and the good event
   is applied. */
static void test_careful_refused_after_outage_still_dead_letters(void **state)
{
    fixture_t *f = *state;
    worker_t w;
    worker_open(f, &w, cf_test_redis_port(f->redis), "caseflow-worker");
    job_t job = { .count = 0 };
    job_add(&job, "ev-r0", "GVA-2019-000001");
    job_add(&job, "ev-r1", RAW_REF);
    job_add(&job, "ev-r2", OTHER_REF);
    run_command(f, "HSET cf:{dlq}:try:%s n 3", "ev-r0");
    run_command(f, "SET cf:{s" RAW_SHARD "}:stage %s", "oops");
    library_outage(f, &w, &job, "ev-r0", 3);
    msgpack_unpacked result;
    cf_ack_t acks[3];
    const msgpack_sbuffer *body = cf_apply_acks(w.apply);
    msgpack_unpacked_init(&result);
    assert_int_equal(cf_msg_unpack_acks(&result, body->data, body->size, acks, 3), 3);
    assert_int_equal(acks[0].status, CF_ACK_REJECTED);
    assert_non_null(memmem(acks[0].reason, acks[0].reason_len,
                           "after 3 tries: workers were lost while holding it", 49));
    assert_int_equal(acks[1].status, CF_ACK_REJECTED);
    static const char want[] = "dead_letter: after 3 tries: shard " RAW_SHARD ": WRONGTYPE";
    if (acks[1].reason_len < sizeof want || memcmp(acks[1].reason, want, sizeof want - 1))
        fail_msg("reason: %.*s", (int) acks[1].reason_len, acks[1].reason);
    assert_int_equal(acks[2].status, CF_ACK_ACCEPTED);
    msgpack_unpacked_destroy(&result);
    size_t letters = 0;
    assert_int_equal(cf_store_dlq_read(f->store, "-", "+", count_letter, &letters), 0);
    assert_int_equal(letters, 2);
    job_destroy(&job);
    worker_close(&w);
}

/* Redis gone in the middle of the command holding cut, four times, and
   unreachable when the worker would give the try back: the event's counter
   is left at tries each time (the try owed is given back at the next run,
   before it counts a new one) and, Redis back, the event is applied. */
static void expect_gone_at(fixture_t *f, const char *cut, const char *event_id, long long tries)
{
    job_t job = { .count = 0 };
    job_add(&job, event_id, RAW_REF);
    int port = 0;
    worker_t w = { NULL, NULL };
    for (int round = 0; round < 4; round++) {
        pid_t relay = cf_test_relay_start(&port, cf_test_redis_port(f->redis), cut, NULL, NULL);
        if (!w.store)
            worker_open(f, &w, port, NULL);
        expect_outage(f, &w, &job, event_id, tries);
        cf_test_relay_reap(relay);
    }
    pid_t relay = cf_test_relay_start(&port, cf_test_redis_port(f->redis), NULL, NULL, NULL);
    assert_int_equal(cf_apply_run_careful(w.apply, job.frames, job.sizes, job.count), 0);
    assert_int_equal(cf_apply_count(w.apply, CF_ACK_ACCEPTED), 1);
    assert_int_equal(integer_of(f, "EXISTS cf:{dlq}:try:%s", event_id), 0);
    assert_int_equal(integer_of(f, "XLEN %s", CF_KEYS_DLQ_STREAM), 0);
    worker_close(&w);
    kill(relay, SIGKILL);
    cf_test_relay_reap(relay);
    job_destroy(&job);
}

/* In the middle of the commit: the try was counted, and is owed back. */
static void test_careful_redis_gone_mid_commit(void **state)
{
    expect_gone_at(*state, "MULTI", "ev-g1", 1);
}

/* In the middle of counting the try: once Redis answered the increment it
   is owed back too; an increment never answered is taken as not counted
   (here it never reached Redis). */
static void test_careful_redis_gone_mid_try(void **state)
{
    expect_gone_at(*state, "HGETALL", "ev-g2", 1);
    expect_gone_at(*state, "HINCRBY", "ev-g3", -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acks_and_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pseudonyms_of_a_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_redis_acks_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_careful_dead_letters_what_redis_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_careful_after_lost_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_careful_keeps_each_events_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_careful_library_outage_spends_no_tries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_careful_refused_after_outage_still_dead_letters,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_careful_redis_gone_mid_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_careful_redis_gone_mid_try, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
