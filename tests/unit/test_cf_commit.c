/*  cf_commit and lua/commit.lua, against a real redis-server with the
    function library loaded: the guards refuse a commit whole (CFSTALE, a
    wrong type, a counter that would overflow) before its first write, the
    writes land as built, long lists are split, notifications keep their
    order, and a commit for another markers' generation is refused (CFGEN). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_store.h"
#include "cf_commit.h"
#include "cf_test_redis.h"

typedef struct {
    cf_test_redis_t *redis;
    redisContext *c;
    cf_commit_t *commit;
    char version[CF_STORE_VERSION_LEN + 1];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->redis = cf_test_redis_start();
    assert_non_null(f->redis);
    f->c = redisConnect("127.0.0.1", cf_test_redis_port(f->redis));
    assert_true(f->c && !f->c->err);
    char *body, err[600];
    size_t len;
    assert_int_equal(cf_store_script_library(CF_SOURCE_DIR "/lua", &body, &len, f->version, err,
                                             sizeof err), 0);
    assert_int_equal(cf_store_library_load(f->c, body, len, f->version, err, sizeof err), 0);
    free(body);
    f->commit = cf_commit_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cf_commit_destroy(&f->commit);
    assert_null(f->commit);
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

/* Sends the commit; returns the reply (caller frees). */
static redisReply *send_commit(fixture_t *f, const char *generation)
{
    const char **argv;
    const size_t *argvlen;
    size_t argc;
    cf_commit_argv(f->commit, CF_STORE_FN_COMMIT, f->version, generation, 100, &argv, &argvlen,
                   &argc);
    redisReply *reply = redisCommandArgv(f->c, (int) argc, argv, argvlen);
    assert_non_null(reply);
    return reply;
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
    size_t markers = key(f, "cf:{s1}:eid:7:3"), due = key(f, "cf:{s1}:due");
    size_t outbox = key(f, "cf:{s1}:outbox");
    assert_int_equal(key(f, "cf:{s1}:stage"), counters);
    cf_commit_guard_value(f->commit, state, NULL, 0);
    cf_commit_guard_absent(f->commit, markers, "d1", 2);
    cf_commit_guard_type(f->commit, counters, "hash");
    cf_commit_guard_type(f->commit, due, "zset");
    cf_commit_guard_type(f->commit, outbox, "stream");
    cf_commit_set(f->commit, state, "S1", 2, 0);
    cf_commit_incr(f->commit, counters, "a", 1, 5);
    cf_commit_incr(f->commit, counters, "b", 1, -2);
    cf_commit_hset(f->commit, markers, "d1", 2, "42", 2);
    cf_commit_expireat(f->commit, markers, 4000000000LL);
    cf_commit_expireat(f->commit, markers, 4000000100LL);
    cf_commit_zadd(f->commit, due, 1234, "x|detained", 10);
    cf_commit_xadd(f->commit, outbox, "t.one", 5, "b1", 2);
    cf_commit_xadd(f->commit, outbox, "t.two", 5, "b2", 2);
}

static void test_writes_what_it_was_given(void **state)
{
    fixture_t *f = *state;
    build_everything(f);
    assert_true(cf_commit_writes(f->commit));
    redisReply *reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    assert_int_equal(reply->integer, 2);
    freeReplyObject(reply);
    redisReply *v = cmd(f, "GET cf:{s1}:case:x");
    assert_string_equal(v->str, "S1");
    freeReplyObject(v);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 5);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage b"), -2);
    assert_int_equal(integer(f, "HGET cf:{s1}:eid:7:3 d1"), 42);
    assert_int_equal(integer(f, "EXPIRETIME cf:{s1}:eid:7:3"), 4000000100LL);
    assert_int_equal(integer(f, "ZSCORE cf:{s1}:due x|detained"), 1234);
    redisReply *notes = cmd(f, "XRANGE cf:{s1}:outbox - +");
    assert_int_equal(notes->elements, 2);
    assert_string_equal(notes->element[0]->element[1]->element[1]->str, "t.one");
    assert_string_equal(notes->element[1]->element[1]->element[1]->str, "t.two");
    freeReplyObject(notes);
}

/* The same commit again: its guards see the first one's writes, and the
   second changes nothing. */
static void test_a_guard_refuses_the_whole_commit(void **state)
{
    fixture_t *f = *state;
    build_everything(f);
    freeReplyObject(send_commit(f, NULL));
    build_everything(f);
    redisReply *reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    assert_memory_equal(reply->str, "CFSTALE ", 8);
    freeReplyObject(reply);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 5);
    assert_int_equal(integer(f, "XLEN cf:{s1}:outbox"), 2);

    /* a marker alone fails its guard too */
    cf_commit_reset(f->commit);
    size_t k = key(f, "cf:{s1}:eid:7:3");
    cf_commit_guard_absent(f->commit, k, "zz", 2);
    cf_commit_guard_absent(f->commit, k, "d1", 2);
    cf_commit_incr(f->commit, key(f, "cf:{s1}:stage"), "a", 1, 1);
    reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    assert_memory_equal(reply->str, "CFSTALE ", 8);
    freeReplyObject(reply);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 5);

    /* a field guard with the value Redis holds passes */
    cf_commit_reset(f->commit);
    k = key(f, "cf:{s1}:eid:7:3");
    cf_commit_guard_field(f->commit, k, "d1", 2, "42", 2);
    cf_commit_incr(f->commit, key(f, "cf:{s1}:stage"), "a", 1, 1);
    reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    freeReplyObject(reply);
    assert_int_equal(integer(f, "HGET cf:{s1}:stage a"), 6);
}

static void test_overflow_and_wrong_type_write_nothing(void **state)
{
    fixture_t *f = *state;
    freeReplyObject(cmd(f, "HSET cf:{s2}:funding big 9223372036854775000"));
    cf_commit_reset(f->commit);
    size_t funding = key(f, "cf:{s2}:funding"), outbox = key(f, "cf:{s2}:outbox");
    cf_commit_set(f->commit, key(f, "cf:{s2}:case:y"), "S", 1, 0);
    cf_commit_incr(f->commit, funding, "small", 5, 1);
    cf_commit_incr(f->commit, funding, "big", 3, 1000);
    cf_commit_xadd(f->commit, outbox, "t", 1, "b", 1);
    redisReply *reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(reply->str, "counter would overflow: cf:{s2}:funding big"));
    freeReplyObject(reply);
    assert_int_equal(integer(f, "EXISTS cf:{s2}:case:y"), 0);
    assert_int_equal(integer(f, "HEXISTS cf:{s2}:funding small"), 0);
    assert_int_equal(integer(f, "EXISTS cf:{s2}:outbox"), 0);

    freeReplyObject(cmd(f, "SET cf:{s2}:due oops"));
    cf_commit_reset(f->commit);
    size_t due = key(f, "cf:{s2}:due");
    cf_commit_guard_type(f->commit, due, "zset");
    cf_commit_guard_type(f->commit, due, "zset");     /* once per key */
    cf_commit_zadd(f->commit, due, 1, "m", 1);
    cf_commit_set(f->commit, key(f, "cf:{s2}:case:y"), "S", 1, 0);
    reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(reply->str, "cf:{s2}:due holds a string, not a zset"));
    freeReplyObject(reply);
    assert_int_equal(integer(f, "EXISTS cf:{s2}:case:y"), 0);

    /* a counter key of another type is named with its type */
    cf_commit_reset(f->commit);
    cf_commit_incr(f->commit, key(f, "cf:{s2}:due"), "a", 1, 1);
    cf_commit_set(f->commit, key(f, "cf:{s2}:case:y"), "S", 1, 0);
    reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(reply->str, "WRONGTYPE commit: cf:{s2}:due holds a string, not a hash"));
    freeReplyObject(reply);
    assert_int_equal(integer(f, "EXISTS cf:{s2}:case:y"), 0);

    /* a state guard on a key of another type says so, not CFSTALE */
    cf_commit_reset(f->commit);
    cf_commit_guard_value(f->commit, key(f, "cf:{s2}:funding"), NULL, 0);
    cf_commit_set(f->commit, key(f, "cf:{s2}:case:y"), "S", 1, 0);
    reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    assert_memory_equal(reply->str, "WRONGTYPE", 9);
    freeReplyObject(reply);
}

/* Past 2^53 a double is not exact: those counters are added with HINCRBY,
   the others set; a field that holds no integer refuses the call. */
static void test_counters_exact_at_any_size(void **state)
{
    fixture_t *f = *state;
    freeReplyObject(cmd(f, "HSET cf:{s2}:funding big 1152921504606846976 small 7"));
    cf_commit_reset(f->commit);
    size_t funding = key(f, "cf:{s2}:funding");
    cf_commit_incr(f->commit, funding, "big", 3, 5);
    cf_commit_incr(f->commit, funding, "small", 5, 9007199254740000LL);
    cf_commit_incr(f->commit, funding, "new", 3, -3);
    freeReplyObject(send_commit(f, NULL));
    redisReply *v = cmd(f, "HMGET cf:{s2}:funding big small new");
    assert_string_equal(v->element[0]->str, "1152921504606846981");
    assert_string_equal(v->element[1]->str, "9007199254740007");
    assert_string_equal(v->element[2]->str, "-3");
    freeReplyObject(v);

    freeReplyObject(cmd(f, "HSET cf:{s2}:funding text abc"));
    cf_commit_reset(f->commit);
    funding = key(f, "cf:{s2}:funding");
    cf_commit_incr(f->commit, funding, "new", 3, 1);
    cf_commit_incr(f->commit, funding, "text", 4, 1);
    redisReply *reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(reply->str, "counter is not an integer: cf:{s2}:funding text"));
    freeReplyObject(reply);
    assert_int_equal(integer(f, "HGET cf:{s2}:funding new"), -3);
}

/* More fields than one operation holds: split, all written. */
static void test_long_lists_are_split(void **state)
{
    fixture_t *f = *state;
    cf_commit_reset(f->commit);
    size_t k = key(f, "cf:{s3}:flows"), m = key(f, "cf:{s3}:eid:1:1");
    char field[16];
    for (int i = 0; i < 3 * CF_COMMIT_CHUNK + 7; i++) {
        int len = snprintf(field, sizeof field, "f%d", i);
        cf_commit_incr(f->commit, k, field, (size_t) len, i + 1);
        cf_commit_guard_absent(f->commit, m, field, (size_t) len);
        cf_commit_hset(f->commit, m, field, (size_t) len, "1", 1);
    }
    redisReply *reply = send_commit(f, NULL);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    freeReplyObject(reply);
    assert_int_equal(integer(f, "HLEN cf:{s3}:flows"), 3 * CF_COMMIT_CHUNK + 7);
    assert_int_equal(integer(f, "HGET cf:{s3}:flows f0"), 1);
    assert_int_equal(integer(f, "HGET cf:{s3}:flows f%d", 3 * CF_COMMIT_CHUNK + 6),
                     3 * CF_COMMIT_CHUNK + 7);
    assert_int_equal(integer(f, "HLEN cf:{s3}:eid:1:1"), 3 * CF_COMMIT_CHUNK + 7);
}

/* A state with a TTL, and a SET without one that drops it. */
static void test_ttl_of_a_state(void **state)
{
    fixture_t *f = *state;
    cf_commit_reset(f->commit);
    cf_commit_set(f->commit, key(f, "cf:{s4}:case:z"), "closed", 6, 500);
    freeReplyObject(send_commit(f, NULL));
    long long ttl = integer(f, "TTL cf:{s4}:case:z");
    assert_true(ttl > 400 && ttl <= 500);
    cf_commit_reset(f->commit);
    cf_commit_set(f->commit, key(f, "cf:{s4}:case:z"), "open", 4, 0);
    freeReplyObject(send_commit(f, NULL));
    assert_int_equal(integer(f, "TTL cf:{s4}:case:z"), -1);
}

/* Markers named for another generation than Redis's clock gives: CFGEN
   with the right one, and nothing written. */
static void test_generation(void **state)
{
    fixture_t *f = *state;
    cf_commit_reset(f->commit);
    cf_commit_hset(f->commit, key(f, "cf:{s5}:eid:1:1"), "d", 1, "1", 1);
    redisReply *reply = send_commit(f, "1");
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    long long generation = -1;
    assert_int_equal(sscanf(reply->str, "CFGEN %lld", &generation), 1);
    freeReplyObject(reply);
    assert_int_equal(integer(f, "EXISTS cf:{s5}:eid:1:1"), 0);
    char now[24];
    snprintf(now, sizeof now, "%lld", generation);
    reply = send_commit(f, now);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    freeReplyObject(reply);
    assert_int_equal(integer(f, "EXISTS cf:{s5}:eid:1:1"), 1);
}

/* Only guards: nothing to write, and the store sends nothing. */
static void test_nothing_to_write(void **state)
{
    fixture_t *f = *state;
    cf_commit_reset(f->commit);
    cf_commit_guard_value(f->commit, key(f, "cf:{s6}:case:q"), NULL, 0);
    assert_false(cf_commit_writes(f->commit));
}

/* Input no builder makes: refused with a reason, nothing written. */
static void test_malformed_input(void **state)
{
    fixture_t *f = *state;
    static const struct { const char *ops, *want; } bad[] = {
        { "\xc1", "ARGV[3] is not a msgpack array" },
        { "\x91\x92\xa1i\x05", "operation 1 names no key" },    /* [["i", 5]]: KEYS has 1 */
        { "\x91\x01", "operation 1 names no key" },               /* [1] */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        redisReply *reply = cmd(f, "FCALL " CF_STORE_FN_COMMIT " 1 cf:{s7}:x %s %b 100 %b",
                                f->version, "", (size_t) 0, bad[i].ops, strlen(bad[i].ops));
        assert_int_equal(reply->type, REDIS_REPLY_ERROR);
        if (!strstr(reply->str, bad[i].want))
            fail_msg("case %zu: got '%s', want '%s'", i, reply->str, bad[i].want);
        freeReplyObject(reply);
    }
    assert_int_equal(integer(f, "DBSIZE"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_what_it_was_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_guard_refuses_the_whole_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_and_wrong_type_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_exact_at_any_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lists_are_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl_of_a_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_to_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
