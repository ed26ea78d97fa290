/*  cf_commit against a real redis-server: the check round's commands and
    what the builder makes of their replies (a key of another type, a
    counter that is not an integer or would overflow refuse the commit
    before anything is sent; counters are exact at any size), the writes as
    built, sent between MULTI and EXEC by the test as the store sends them,
    and the WATCH of the counters: a counter changed between the checks and
    EXEC has EXEC write nothing.                                            */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "cf_commit.h"
#include "cf_commit_cache.h"
#include "cf_test_notes.h"
#include "cf_test_redis.h"
#include "caseflow/cf_vocab.h"

typedef struct {
    cf_test_redis_t *redis;
    redisContext *c;
    cf_commit_t *commit;
    size_t sent;                /* commands emitted */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->redis = cf_test_redis_start();
    assert_non_null(f->redis);
    f->c = redisConnect("127.0.0.1", cf_test_redis_port(f->redis));
    assert_true(f->c && !f->c->err);
    f->commit = cf_commit_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cf_commit_destroy(&f->commit);
    assert_null(f->commit);
    cf_commit_destroy(&f->commit);      /* again: nothing */
    redisFree(f->c);
    cf_test_redis_stop(&f->redis);
    free(f);
    return 0;
}

static redisReply *cmd(fixture_t *f, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    redisReply *reply = redisvCommand(f->c, format, ap);
    va_end(ap);
    assert_non_null(reply);
    return reply;
}

static long long integer(fixture_t *f, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    redisReply *reply = redisvCommand(f->c, format, ap);
    va_end(ap);
    assert_non_null(reply);
    long long v = reply->type == REDIS_REPLY_INTEGER ? reply->integer
                : reply->type == REDIS_REPLY_STRING ? strtoll(reply->str, NULL, 10) : -1;
    freeReplyObject(reply);
    return v;
}

static void emit(void *arg, size_t argc, const char **argv, const size_t *argvlen)
{
    fixture_t *f = arg;
    assert_int_equal(redisAppendCommandArgv(f->c, (int) argc, argv, argvlen), REDIS_OK);
    f->sent++;
}


/* The check round, as the store sends it, with shard 1's cache (NULL:
   none): 0, or -1 with why. */
static int run_checks_cached(fixture_t *f, const cf_commit_cache_t *cache, char *why,
                             size_t size)
{
    size_t n = cf_commit_checks(f->commit, cache, 1, emit, f);
    int rc = 0;
    if (cf_commit_refusal(f->commit)) {
        snprintf(why, size, "%s", cf_commit_refusal(f->commit));
        rc = -1;
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = NULL;
        assert_int_equal(redisGetReply(f->c, (void **) &reply), REDIS_OK);
        if (rc == 0 && cf_commit_check(f->commit, reply, why, size) < 0)
            rc = -1;
        freeReplyObject(reply);
    }
    return rc;
}

static int run_checks(fixture_t *f, char *why, size_t size)
{
    return run_checks_cached(f, NULL, why, size);
}

/* MULTI, the writes, EXEC: EXEC's reply (the caller frees it). */
static redisReply *run_writes(fixture_t *f)
{
    assert_int_equal(redisAppendCommand(f->c, "MULTI"), REDIS_OK);
    size_t n = cf_commit_emit_writes(f->commit, emit, f);
    assert_int_equal(redisAppendCommand(f->c, "EXEC"), REDIS_OK);
    for (size_t i = 0; i <= n; i++) {
        redisReply *reply = NULL;
        assert_int_equal(redisGetReply(f->c, (void **) &reply), REDIS_OK);
        if (reply->type == REDIS_REPLY_ERROR)
            fail_msg("queued %zu: %s", i, reply->str);
        freeReplyObject(reply);
    }
    redisReply *exec = NULL;
    assert_int_equal(redisGetReply(f->c, (void **) &exec), REDIS_OK);
    return exec;
}

/* Checks then writes, both passing: EXEC's element count. */
static size_t commit_all(fixture_t *f)
{
    char why[300];
    if (run_checks(f, why, sizeof why) < 0)
        fail_msg("checks: %s", why);
    redisReply *exec = run_writes(f);
    assert_int_equal(exec->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < exec->elements; i++)
        assert_int_not_equal(exec->element[i]->type, REDIS_REPLY_ERROR);
    size_t n = exec->elements;
    freeReplyObject(exec);
    return n;
}

static size_t key(fixture_t *f, const char *name)
{
    return cf_commit_key(f->commit, name, strlen(name));
}

/* Builds a commit that writes one of everything. */
static void build_everything(fixture_t *f)
{
    cf_commit_reset(f->commit);
    size_t state = key(f, "cf:{s1}:case:x"), counters = key(f, "cf:{s1}:stage");
    size_t markers = key(f, "cf:{s1}:eid:3"), due = key(f, "cf:{s1}:due");
    size_t outbox = key(f, "cf:{s1}:outbox");
    assert_int_equal(key(f, "cf:{s1}:stage"), counters);
    cf_commit_type(f->commit, state, "string");
    cf_commit_type(f->commit, due, "zset");
    cf_commit_type(f->commit, outbox, "stream");
    cf_commit_set(f->commit, state, "S1", 2, 0);
    cf_commit_incr(f->commit, counters, "a", 1, 5);
    cf_commit_incr(f->commit, counters, "b", 1, -2);
    cf_commit_hset(f->commit, markers, "d1", 2, "42", 2);
    cf_commit_zadd(f->commit, due, 1234, "x|detained", 10);
    cf_commit_xadd(f->commit, outbox, "t.one", 5, "b1", 2);
    cf_commit_xadd(f->commit, outbox, "t.two", 5, "b2", 2);
}

static void test_writes_what_it_was_given(void **state)
{
    fixture_t *f = *state;
    build_everything(f);
    assert_true(cf_commit_writes(f->commit));
    assert_int_equal(cf_commit_notes(f->commit), 2);
    /* SET, HSET (marker), HSET (counters), ZADD, XADD (both notifications) */
    assert_int_equal(commit_all(f), 5);
    redisReply *v = cmd(f, "GET cf:{s1}:case:x");
    assert_string_equal(v->str, "S1");
    freeReplyObject(v);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 5);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage b"), -2);
    assert_int_equal(integer(f, "HGET cf:{s1}:eid:3 d1"), 42);
    assert_int_equal(integer(f, "ZSCORE cf:{s1}:due x|detained"), 1234);
    redisReply *notes = cmd(f, "XRANGE cf:{s1}:outbox - +");
    assert_int_equal(notes->elements, 1);           /* one entry, in the order added */
    const redisReply *fields = notes->element[0]->element[1];
    assert_int_equal(fields->elements, 2);          /* one field holds both */
    assert_string_equal(fields->element[0]->str, CF_OUTBOX_NOTES_LZ4_FIELD);     /* compressed */
    assert_int_equal(cf_test_notes_count(fields), 2);
    cf_outbox_note_t one = cf_test_notes_get(fields, 0), two = cf_test_notes_get(fields, 1);
    assert_memory_equal(one.topic, "t.one", 5);
    assert_memory_equal(one.body, "b1", 2);
    assert_memory_equal(two.topic, "t.two", 5);
    assert_memory_equal(two.body, "b2", 2);
    freeReplyObject(notes);
    char what[64];
    cf_commit_describe(f->commit, 0, what, sizeof what);
    assert_string_equal(what, "SET cf:{s1}:case:x");
    cf_commit_describe(f->commit, 4, what, sizeof what);
    assert_string_equal(what, "XADD cf:{s1}:outbox");

    /* the same again adds to the counters read */
    build_everything(f);
    commit_all(f);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 10);
    assert_int_equal(integer(f, "XLEN cf:{s1}:outbox"), 2);
}

/* More notifications than an entry holds: as many entries as it takes,
   every one in the order added. */
static void test_notifications_fill_entries(void **state)
{
    fixture_t *f = *state;
    cf_commit_reset(f->commit);
    size_t outbox = key(f, "cf:{s2}:outbox");
    cf_commit_type(f->commit, outbox, "stream");
    size_t n = 2 * CF_OUTBOX_NOTES_MAX + 3;
    for (size_t i = 0; i < n; i++) {
        char body[16];
        int len = snprintf(body, sizeof body, "%zu", i);
        cf_commit_xadd(f->commit, outbox, "t.n", 3, body, (size_t) len);
    }
    assert_int_equal(commit_all(f), 3);
    redisReply *entries = cmd(f, "XRANGE cf:{s2}:outbox - +");
    assert_int_equal(entries->elements, 3);
    size_t seen = 0;
    for (size_t e = 0; e < entries->elements; e++) {
        const redisReply *fields = entries->element[e]->element[1];
        size_t count = cf_test_notes_count(fields);
        assert_int_equal(count, e < 2 ? CF_OUTBOX_NOTES_MAX : 3);
        for (size_t k = 0; k < count; k++, seen++) {
            char want[16];
            int len = snprintf(want, sizeof want, "%zu", seen);
            cf_outbox_note_t note = cf_test_notes_get(fields, k);
            assert_int_equal(note.body_len, (size_t) len);
            assert_memory_equal(note.body, want, (size_t) len);
        }
    }
    assert_int_equal(seen, n);
    freeReplyObject(entries);
}

/* A counter changed by another client after the checks read it: EXEC
   answers nil and writes nothing; checked again, the commit adds to the
   new value. */
static void test_a_counter_changed_in_between(void **state)
{
    fixture_t *f = *state;
    redisContext *other = redisConnect("127.0.0.1", cf_test_redis_port(f->redis));
    assert_true(other && !other->err);
    build_everything(f);
    char why[300];
    assert_int_equal(run_checks(f, why, sizeof why), 0);
    freeReplyObject(redisCommand(other, "HINCRBY cf:{s1}:stage a 100"));
    redisReply *exec = run_writes(f);
    assert_int_equal(exec->type, REDIS_REPLY_NIL);
    freeReplyObject(exec);
    assert_int_equal(integer(f, "EXISTS cf:{s1}:case:x"), 0);
    assert_int_equal(integer(f, "EXISTS cf:{s1}:outbox"), 0);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 100);
    build_everything(f);
    commit_all(f);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 105);
    redisFree(other);
}

static void expect_refused(fixture_t *f, const char *want)
{
    char why[300];
    assert_int_equal(run_checks(f, why, sizeof why), -1);
    if (!strstr(why, want))
        fail_msg("got '%s', want '%s'", why, want);
}

/* With an owner's cache: no WATCH, an HMGET of only the fields it does not
   know (none for a hash it knows whole), no TYPE of a key it checked; the
   values it gives count as Redis's would, checks included; after the
   writes it holds the new values. */
static void test_checks_with_a_cache(void **state)
{
    fixture_t *f = *state;
    freeReplyObject(cmd(f, "HSET cf:{s1}:stage a 999 b 5"));   /* "a": the cache's 10 wins */
    cf_commit_cache_t *cache = cf_commit_cache_new(4, 100);
    cf_commit_cache_begin(cache, 1, 9);
    cf_commit_cache_put_value(cache, 1, "cf:{s1}:stage", 13, "a", 1, 10);
    cf_commit_cache_put_value(cache, 1, "cf:{s1}:demo", 12, "x", 1, 1);
    cf_commit_cache_put_type(cache, 1, "cf:{s1}:outbox", 14, "stream");
    cf_commit_reset(f->commit);
    size_t stage = key(f, "cf:{s1}:stage"), demo = key(f, "cf:{s1}:demo");
    size_t outbox = key(f, "cf:{s1}:outbox");
    cf_commit_type(f->commit, outbox, "stream");
    cf_commit_incr(f->commit, stage, "a", 1, 1);
    cf_commit_incr(f->commit, stage, "b", 1, 2);
    cf_commit_incr(f->commit, stage, "a", 1, 3);
    cf_commit_incr(f->commit, demo, "x", 1, 4);
    cf_commit_xadd(f->commit, outbox, "t", 1, "b", 1);
    /* stage's HMGET of b and its HLEN: no WATCH, no TYPE, nothing of demo */
    assert_int_equal(cf_commit_checks(f->commit, cache, 1, emit, f), 2);
    assert_null(cf_commit_refusal(f->commit));
    redisReply *reply = NULL;
    assert_int_equal(redisGetReply(f->c, (void **) &reply), REDIS_OK);
    assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
    assert_int_equal(reply->elements, 1);
    assert_string_equal(reply->element[0]->str, "5");
    char why[300];
    assert_int_equal(cf_commit_check(f->commit, reply, why, sizeof why), 0);
    freeReplyObject(reply);
    assert_int_equal(redisGetReply(f->c, (void **) &reply), REDIS_OK);
    assert_int_equal(reply->integer, 2);
    assert_int_equal(cf_commit_check(f->commit, reply, why, sizeof why), 0);
    freeReplyObject(reply);
    redisReply *exec = run_writes(f);
    freeReplyObject(exec);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 14);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage b"), 7);
    assert_int_equal(integer(f, "HGET cf:{s1}:demo x"), 5);
    cf_commit_remember(f->commit, cache, 1);
    int64_t v = 0;
    assert_true(cf_commit_cache_value(cache, 1, "cf:{s1}:stage", 13, "b", 1, &v));
    assert_int_equal(v, 7);
    assert_true(cf_commit_cache_value(cache, 1, "cf:{s1}:stage", 13, "a", 1, &v));
    assert_int_equal(v, 14);
    /* two fields: small enough to be read whole at its next check */
    assert_int_equal(cf_commit_cache_hash(cache, 1, "cf:{s1}:stage", 13), CF_COMMIT_HASH_SMALL);

    /* a value it knows that would overflow: refused before any round trip */
    cf_commit_cache_put_value(cache, 1, "cf:{s1}:demo", 12, "x", 1, INT64_MAX);
    cf_commit_reset(f->commit);
    cf_commit_incr(f->commit, key(f, "cf:{s1}:demo"), "x", 1, 1);
    assert_int_equal(cf_commit_checks(f->commit, cache, 1, emit, f), 0);
    assert_string_equal(cf_commit_refusal(f->commit), "counter would overflow: cf:{s1}:demo x "
                        "(9223372036854775807 + 1)");
    /* the same check without the cache reads Redis's 5 */
    assert_int_equal(run_checks_cached(f, NULL, why, sizeof why), 0);
    assert_null(cf_commit_refusal(f->commit));
    cf_commit_cache_destroy(&cache);
}

/* A key whose type the cache vouches for: cf_commit_type spares its TYPE,
   cf_commit_type_checked sends it all the same (the caller did not confirm
   it), and a key of another type refuses the commit, named. */
static void test_type_checked_despite_the_cache(void **state)
{
    fixture_t *f = *state;
    cf_commit_cache_t *cache = cf_commit_cache_new(4, 100);
    cf_commit_cache_begin(cache, 1, 9);
    cf_commit_cache_put_type(cache, 1, "cf:{s1}:outbox", 14, "stream");
    cf_commit_cache_put_type(cache, 1, "cf:{s1}:due", 11, "zset");
    freeReplyObject(cmd(f, "SET cf:{s1}:due not-a-zset"));
    cf_commit_reset(f->commit);
    size_t outbox = key(f, "cf:{s1}:outbox"), due = key(f, "cf:{s1}:due");
    cf_commit_type(f->commit, outbox, "stream");
    cf_commit_type(f->commit, due, "zset");
    cf_commit_xadd(f->commit, outbox, "t", 1, "b", 1);
    cf_commit_zadd(f->commit, due, 5, "m", 1);
    assert_int_equal(cf_commit_checks(f->commit, cache, 1, emit, f), 0);    /* trusted */

    cf_commit_reset(f->commit);
    outbox = key(f, "cf:{s1}:outbox"), due = key(f, "cf:{s1}:due");
    cf_commit_type(f->commit, outbox, "stream");
    cf_commit_type_checked(f->commit, due, "zset");
    cf_commit_xadd(f->commit, outbox, "t", 1, "b", 1);
    cf_commit_zadd(f->commit, due, 5, "m", 1);
    char why[300];
    size_t sent = f->sent;
    assert_int_equal(run_checks_cached(f, cache, why, sizeof why), -1);
    assert_int_equal(f->sent - sent, 1);        /* the due's TYPE alone */
    assert_string_equal(why, "WRONGTYPE commit: cf:{s1}:due holds a string, not a zset");
    cf_commit_cache_destroy(&cache);
}

static const char *text(fixture_t *f, const char *key, const char *field);

/* One commit of shard 1 with the cache: incr delta on each field of
   key; how many checks it sent. */
static size_t commit_cached(fixture_t *f, cf_commit_cache_t *cache, const char *name,
                            const char *const *fields, int64_t delta)
{
    cf_commit_reset(f->commit);
    size_t k = key(f, name);
    for (size_t i = 0; fields[i]; i++)
        cf_commit_incr(f->commit, k, fields[i], strlen(fields[i]), delta);
    char why[300];
    f->sent = 0;
    if (run_checks_cached(f, cache, why, sizeof why) < 0)
        fail_msg("checks: %s", why);
    size_t sent = f->sent;
    redisReply *exec = run_writes(f);
    assert_int_equal(exec->type, REDIS_REPLY_ARRAY);
    freeReplyObject(exec);
    cf_commit_remember(f->commit, cache, 1);
    return sent;
}

/* A hash the owner found empty, or read whole, has all its fields in the
   cache: a field it does not know is absent, and its commit reads nothing.
   A small hash is read whole (HGETALL) at its next check; a large one, or
   one with a value that is not a counter's, never is. */
static void test_a_hash_known_whole(void **state)
{
    fixture_t *f = *state;
    cf_commit_cache_t *cache = cf_commit_cache_new(4, 1000);
    cf_commit_cache_begin(cache, 1, 9);
    const char *a[] = { "a", NULL }, *b[] = { "b", NULL }, *x[] = { "x", NULL };
    const char *w[] = { "w", NULL }, *y[] = { "y", NULL };
    /* empty: its HMGET and HLEN, then nothing */
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:stage", a, 1), 2);
    assert_int_equal(cf_commit_cache_hash(cache, 1, "cf:{s1}:stage", 13), CF_COMMIT_HASH_ALL);
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:stage", b, 2), 0);
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:stage", a, 3), 0);
    assert_string_equal(text(f, "cf:{s1}:stage", "a"), "4");
    assert_string_equal(text(f, "cf:{s1}:stage", "b"), "2");

    /* small: HMGET and HLEN, then HGETALL once, then nothing */
    freeReplyObject(cmd(f, "HSET cf:{s1}:demo x 1 y 10 z 7"));
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:demo", x, 1), 2);
    assert_int_equal(cf_commit_cache_hash(cache, 1, "cf:{s1}:demo", 12), CF_COMMIT_HASH_SMALL);
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:demo", w, 5), 1);
    assert_int_equal(cf_commit_cache_hash(cache, 1, "cf:{s1}:demo", 12), CF_COMMIT_HASH_ALL);
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:demo", y, 1), 0);     /* loaded */
    assert_string_equal(text(f, "cf:{s1}:demo", "y"), "11");
    assert_string_equal(text(f, "cf:{s1}:demo", "w"), "5");
    assert_string_equal(text(f, "cf:{s1}:demo", "x"), "2");
    int64_t v = 0;
    assert_true(cf_commit_cache_value(cache, 1, "cf:{s1}:demo", 12, "z", 1, &v));
    assert_int_equal(v, 7);

    /* a value that is not a counter's: read, never taken for all */
    freeReplyObject(cmd(f, "HSET cf:{s1}:vuln x 1 note abc"));
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:vuln", x, 1), 2);
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:vuln", w, 1), 1);
    assert_int_equal(cf_commit_cache_hash(cache, 1, "cf:{s1}:vuln", 12), CF_COMMIT_HASH_LARGE);
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:vuln", y, 1), 1);     /* HMGET alone */
    assert_string_equal(text(f, "cf:{s1}:vuln", "note"), "abc");

    /* large: HMGET alone after its first HLEN */
    for (int i = 0; i <= CF_COMMIT_HASH_READ_MOST; i++)
        freeReplyObject(cmd(f, "HSET cf:{s1}:dur f%d 1", i));
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:dur", x, 1), 2);
    assert_int_equal(cf_commit_cache_hash(cache, 1, "cf:{s1}:dur", 11), CF_COMMIT_HASH_LARGE);
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:dur", y, 1), 1);

    /* a field the cache keeps with another width is not taken for absent */
    cf_commit_cache_put_values(cache, 1, "cf:{s1}:stage", 13, "q", 1, (int64_t[]) { 1, 2 }, 2);
    freeReplyObject(cmd(f, "HSET cf:{s1}:stage q 1,2"));
    cf_commit_reset(f->commit);
    cf_commit_incr(f->commit, key(f, "cf:{s1}:stage"), "q", 1, 1);
    char why[300];
    assert_int_equal(run_checks_cached(f, cache, why, sizeof why), -1);
    assert_non_null(strstr(why, "counter is not an integer: cf:{s1}:stage q"));

    /* a small hash replaced by a value of another type: refused */
    freeReplyObject(cmd(f, "HSET cf:{s1}:funding k 1"));
    assert_int_equal(commit_cached(f, cache, "cf:{s1}:funding", x, 1), 2);
    freeReplyObject(cmd(f, "DEL cf:{s1}:funding"));
    freeReplyObject(cmd(f, "SET cf:{s1}:funding text"));
    cf_commit_reset(f->commit);
    cf_commit_incr(f->commit, key(f, "cf:{s1}:funding"), "w", 1, 1);
    assert_int_equal(run_checks_cached(f, cache, why, sizeof why), -1);
    assert_non_null(strstr(why, "WRONGTYPE"));
    cf_commit_cache_destroy(&cache);
}

/* HGET key field as text ("" when absent). */
static const char *text(fixture_t *f, const char *key, const char *field)
{
    static char buf[200];
    redisReply *reply = cmd(f, "HGET %s %s", key, field);
    snprintf(buf, sizeof buf, "%s", reply->type == REDIS_REPLY_STRING ? reply->str : "");
    freeReplyObject(reply);
    return buf;
}

/* A family's hash: the measures of a row are one field, read once and
   written once with all of them (those not added to as they were; absent
   ones 0); its other fields stay scalars. A tuple that does not parse or
   a measure that would overflow refuses the commit, with the cache's
   values as with Redis's; the cache keeps the row whole. */
static void test_tuples(void **state)
{
    fixture_t *f = *state;
    freeReplyObject(cmd(f, "HSET cf:{s1}:detention P|LY 1,2,3,4"));
    cf_commit_reset(f->commit);
    size_t det = key(f, "cf:{s1}:detention"), dur = key(f, "cf:{s1}:dur");
    cf_commit_family(f->commit, det, CF_FAMILY_DETENTION);
    cf_commit_family(f->commit, dur, CF_FAMILY_DUR);
    cf_commit_incr(f->commit, det, "P|LY|seconds", 12, 10);
    cf_commit_incr(f->commit, det, "P|LY|now", 8, -1);
    cf_commit_incr(f->commit, det, "P|LY|seconds", 12, 5);
    cf_commit_incr(f->commit, det, "P|TN|cases", 10, 1);
    cf_commit_incr(f->commit, dur, "P|d|count", 9, 1);
    cf_commit_incr(f->commit, dur, "P|d|seconds", 11, 3600);
    cf_commit_incr(f->commit, dur, "P|d|bucket|1|2", 14, 1);
    char why[300];
    assert_int_equal(run_checks(f, why, sizeof why), 0);
    redisReply *exec = run_writes(f);
    assert_int_equal(exec->type, REDIS_REPLY_ARRAY);
    assert_int_equal(exec->elements, 2);                /* one HSET per hash */
    assert_int_equal(exec->element[0]->integer, 1);     /* P|TN new, P|LY written over */
    assert_int_equal(exec->element[1]->integer, 2);     /* P|d and its bucket */
    freeReplyObject(exec);
    assert_int_equal(integer(f, "HLEN cf:{s1}:detention"), 2);
    assert_string_equal(text(f, "cf:{s1}:detention", "P|LY"), "0,2,3,19");
    assert_string_equal(text(f, "cf:{s1}:detention", "P|TN"), "0,1,0,0");
    assert_string_equal(text(f, "cf:{s1}:dur", "P|d"), "1,3600");
    assert_string_equal(text(f, "cf:{s1}:dur", "P|d|bucket|1|2"), "1");

    /* the cache: filled whole by the commit, it spares the HMGET */
    cf_commit_cache_t *cache = cf_commit_cache_new(4, 100);
    cf_commit_cache_begin(cache, 1, 9);
    cf_commit_remember(f->commit, cache, 1);
    int64_t row[4];
    cf_commit_cache_ref_t ref;
    assert_true(cf_commit_cache_values_ref(cache, 1, "cf:{s1}:detention", 17, "P|LY", 4, row, 4,
                                           &ref));
    assert_true(row[0] == 0 && row[1] == 2 && row[2] == 3 && row[3] == 19);
    cf_commit_reset(f->commit);
    det = key(f, "cf:{s1}:detention");
    cf_commit_family(f->commit, det, CF_FAMILY_DETENTION);
    cf_commit_incr(f->commit, det, "P|LY|episodes", 13, 1);
    assert_int_equal(cf_commit_checks(f->commit, cache, 1, emit, f), 0);    /* nothing to read */
    assert_null(cf_commit_refusal(f->commit));
    freeReplyObject(run_writes(f));
    assert_string_equal(text(f, "cf:{s1}:detention", "P|LY"), "0,2,4,19");
    /* one measure that would overflow, known to the cache: refused, named */
    cf_commit_cache_put_values(cache, 1, "cf:{s1}:detention", 17, "P|LY", 4,
                               (int64_t[]) { 0, 2, INT64_MAX, 19 }, 4);
    assert_int_equal(cf_commit_checks(f->commit, cache, 1, emit, f), 0);
    assert_string_equal(cf_commit_refusal(f->commit), "counter would overflow: "
                        "cf:{s1}:detention P|LY|episodes (9223372036854775807 + 1)");
    cf_commit_cache_destroy(&cache);
    /* ... and read from Redis */
    freeReplyObject(cmd(f, "HSET cf:{s1}:detention P|LY 0,2,9223372036854775807,19"));
    expect_refused(f, "counter would overflow: cf:{s1}:detention P|LY|episodes "
                   "(9223372036854775807 + 1)");
    /* a tuple that does not parse, or of another width */
    static const char *const bad[] = { "0,2,x,19", "0,2,4", "0,2,4,19,1", "7" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        freeReplyObject(cmd(f, "HSET cf:{s1}:detention P|LY %s", bad[i]));
        expect_refused(f, "counter is not an integer: cf:{s1}:detention P|LY (not 4 integers "
                       "joined by ',')");
    }
}

static void test_overflow_and_wrong_type_are_refused(void **state)
{
    fixture_t *f = *state;
    freeReplyObject(cmd(f, "HSET cf:{s2}:funding big 9223372036854775000"));
    cf_commit_reset(f->commit);
    size_t funding = key(f, "cf:{s2}:funding");
    cf_commit_incr(f->commit, funding, "small", 5, 1);
    cf_commit_incr(f->commit, funding, "big", 3, 1000);
    expect_refused(f, "counter would overflow: cf:{s2}:funding big (9223372036854775000 + 1000)");
    assert_null(cf_commit_wrong_hash(f->commit));

    /* below the limit, by a negative delta too */
    cf_commit_reset(f->commit);
    cf_commit_incr(f->commit, key(f, "cf:{s2}:funding"), "low", 3, INT64_MIN);
    cf_commit_incr(f->commit, key(f, "cf:{s2}:funding"), "low", 3, -1);
    expect_refused(f, "counter would overflow: cf:{s2}:funding low");

    freeReplyObject(cmd(f, "SET cf:{s2}:due oops"));
    cf_commit_reset(f->commit);
    size_t due = key(f, "cf:{s2}:due");
    cf_commit_type(f->commit, due, "zset");
    cf_commit_type(f->commit, due, "zset");     /* once per key */
    cf_commit_zadd(f->commit, due, 1, "m", 1);
    expect_refused(f, "WRONGTYPE commit: cf:{s2}:due holds a string, not a zset");

    /* a counter key of another type: the builder names it for TYPE */
    cf_commit_reset(f->commit);
    cf_commit_incr(f->commit, key(f, "cf:{s2}:due"), "a", 1, 1);
    expect_refused(f, "WRONGTYPE commit: cf:{s2}:due");
    assert_string_equal(cf_commit_wrong_hash(f->commit), "cf:{s2}:due");
    char why[200];
    cf_commit_wrong_type(why, sizeof why, "k", "string", "hash");
    assert_string_equal(why, "WRONGTYPE commit: k holds a string, not a hash");

    /* a state key of another type */
    cf_commit_reset(f->commit);
    size_t k = key(f, "cf:{s2}:funding");
    cf_commit_type(f->commit, k, "string");
    cf_commit_set(f->commit, k, "S", 1, 0);
    expect_refused(f, "cf:{s2}:funding holds a hash, not a string");
}

/* Counters are 64-bit integers, exact at any size; a field added twice
   adds both; a field that holds no integer refuses the commit. */
static void test_counters_exact_at_any_size(void **state)
{
    fixture_t *f = *state;
    freeReplyObject(cmd(f, "HSET cf:{s2}:funding big 1152921504606846976 small 7"));
    cf_commit_reset(f->commit);
    size_t funding = key(f, "cf:{s2}:funding");
    cf_commit_incr(f->commit, funding, "big", 3, 5);
    cf_commit_incr(f->commit, funding, "small", 5, 9007199254740000LL);
    cf_commit_incr(f->commit, funding, "new", 3, -3);
    cf_commit_incr(f->commit, funding, "big", 3, 9223372036854775807LL - 1152921504606846981LL);
    commit_all(f);
    redisReply *v = cmd(f, "HMGET cf:{s2}:funding big small new");
    assert_string_equal(v->element[0]->str, "9223372036854775807");
    assert_string_equal(v->element[1]->str, "9007199254740007");
    assert_string_equal(v->element[2]->str, "-3");
    freeReplyObject(v);

    static const char *const bad[] = { "abc", "1.0", "", "-", " 1", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        freeReplyObject(cmd(f, "HSET cf:{s2}:funding text %s", bad[i]));
        cf_commit_reset(f->commit);
        funding = key(f, "cf:{s2}:funding");
        cf_commit_incr(f->commit, funding, "new", 3, 1);
        cf_commit_incr(f->commit, funding, "text", 4, 1);
        expect_refused(f, "counter is not an integer: cf:{s2}:funding text");
    }
    assert_int_equal(integer(f, "HGET cf:{s2}:funding new"), -3);
}

/* Many fields of one key: one HMGET, one HSET, all written. */
static void test_long_lists(void **state)
{
    fixture_t *f = *state;
    cf_commit_reset(f->commit);
    size_t k = key(f, "cf:{s3}:flows"), m = key(f, "cf:{s3}:eid:1");
    char field[16];
    enum { FIELDS = 1000 };
    for (int i = 0; i < FIELDS; i++) {
        int len = snprintf(field, sizeof field, "f%d", i);
        cf_commit_incr(f->commit, k, field, (size_t) len, i + 1);
        cf_commit_hset(f->commit, m, field, (size_t) len, "1", 1);
    }
    assert_int_equal(commit_all(f), 2);
    assert_int_equal(integer(f, "HLEN cf:{s3}:flows"), FIELDS);
    assert_int_equal(integer(f, "HGET cf:{s3}:flows f0"), 1);
    assert_int_equal(integer(f, "HGET cf:{s3}:flows f%d", FIELDS - 1), FIELDS);
    assert_int_equal(integer(f, "HLEN cf:{s3}:eid:1"), FIELDS);
}

/* A state with a TTL, and a SET without one that drops it; a ZREM. */
static void test_ttl_of_a_state(void **state)
{
    fixture_t *f = *state;
    cf_commit_reset(f->commit);
    cf_commit_set(f->commit, key(f, "cf:{s4}:case:z"), "closed", 6, 500);
    cf_commit_zadd(f->commit, key(f, "cf:{s4}:due"), 5, "m1", 2);
    cf_commit_zadd(f->commit, key(f, "cf:{s4}:due"), 6, "m2", 2);
    commit_all(f);
    long long ttl = integer(f, "TTL cf:{s4}:case:z");
    assert_true(ttl > 400 && ttl <= 500);
    cf_commit_reset(f->commit);
    cf_commit_set(f->commit, key(f, "cf:{s4}:case:z"), "open", 4, 0);
    cf_commit_zrem(f->commit, key(f, "cf:{s4}:due"), "m1", 2);
    commit_all(f);
    assert_int_equal(integer(f, "TTL cf:{s4}:case:z"), -1);
    assert_int_equal(integer(f, "ZCARD cf:{s4}:due"), 1);
}

/* Only a type check: nothing to write; no check at all: no round trip. */
static void test_nothing_to_write(void **state)
{
    fixture_t *f = *state;
    cf_commit_reset(f->commit);
    cf_commit_type(f->commit, key(f, "cf:{s6}:case:q"), "string");
    assert_false(cf_commit_writes(f->commit));
    cf_commit_reset(f->commit);
    cf_commit_set(f->commit, key(f, "cf:{s6}:case:q"), "S", 1, 0);
    assert_int_equal(cf_commit_checks(f->commit, NULL, 0, emit, f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_what_it_was_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notifications_fill_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_counter_changed_in_between, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checks_with_a_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_hash_known_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tuples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_and_wrong_type_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_exact_at_any_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl_of_a_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_to_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_checked_despite_the_cache, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
