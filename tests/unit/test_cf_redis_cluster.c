/*  Tests of cf_redis_cluster against a throw-away single redis-server (the
    cluster itself is integration.redis_cluster's): the mode found in INFO
    cluster; a pipelined batch answered in order, error replies among them
    given as replies; no CLUSTER command sent to a single server; the
    caseflow-worker ACL user of deploy/redis-users.acl authenticates on
    each connection, and a wrong password is EAUTH; cluster mode asked of a
    single server is EMAP with Redis's reason; a single server is the
    master of every key (cf_redis_cluster_key_master); a connection cut mid-batch is
    ECONN (the batch dropped) and the next command reconnects; a server gone
    is ECONN naming it; a command's RESP bytes are hiredis's.               */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_redis_cluster.h"
#include "cf_test_redis.h"

static int setup(void **state)
{
    cf_test_redis_t *redis = cf_test_redis_start();
    if (!redis || cf_test_redis_acl_user(redis, "caseflow-worker") < 0)
        return -1;
    *state = redis;
    return 0;
}

static int teardown(void **state)
{
    cf_test_redis_t *redis = *state;
    cf_test_redis_stop(&redis);
    return 0;
}

static cf_redis_cluster_t *worker_context(void **state, const char *password, cf_redis_mode_t mode)
{
    cf_redis_auth_t *auth = cf_redis_auth_new("caseflow-worker", password);
    cf_redis_cluster_t *ctx = cf_redis_cluster_new("127.0.0.1", cf_test_redis_port(*state), auth,
                                                   mode, 2000);
    cf_redis_auth_destroy(&auth);
    return ctx;
}

static void test_single_server_pipeline(void **state)
{
    cf_redis_cluster_t *ctx = worker_context(state, "pw", CF_REDIS_MODE_AUTO);
    assert_int_equal(cf_redis_cluster_connect(ctx), 0);
    assert_false(cf_redis_cluster_is_cluster(ctx));
    char key[64];
    for (int shard = 0; shard < 64; shard++) {
        snprintf(key, sizeof key, "cf:{s%d}:probe", shard);
        assert_int_equal(cf_redis_cluster_append(ctx, key, "SET %s v%d", key, shard), 0);
    }
    for (int shard = 0; shard < 64; shard++) {
        snprintf(key, sizeof key, "cf:{s%d}:probe", shard);
        const char *argv[] = { "GET", key };
        assert_int_equal(cf_redis_cluster_append_argv(ctx, 1, 2, argv, NULL), 0);
    }
    assert_int_equal(cf_redis_cluster_append(ctx, "cf:{s3}:probe", "HGET %s f", "cf:{s3}:probe"),
                     0);
    redisReply *reply;
    for (int i = 0; i < 64; i++) {
        assert_int_equal(cf_redis_cluster_get_reply(ctx, &reply), 0);
        assert_int_equal(reply->type, REDIS_REPLY_STATUS);
        freeReplyObject(reply);
    }
    for (int shard = 0; shard < 64; shard++) {
        char want[16];
        snprintf(want, sizeof want, "v%d", shard);
        assert_int_equal(cf_redis_cluster_get_reply(ctx, &reply), 0);
        assert_int_equal(reply->type, REDIS_REPLY_STRING);
        assert_string_equal(reply->str, want);
        freeReplyObject(reply);
    }
    assert_int_equal(cf_redis_cluster_get_reply(ctx, &reply), 0);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);       /* WRONGTYPE: a reply */
    assert_non_null(strstr(reply->str, "WRONGTYPE"));
    freeReplyObject(reply);
    assert_int_equal(cf_redis_cluster_errcode(ctx), CF_REDIS_CLUSTER_OK);
    /* a single server never hears CLUSTER (the worker's user may not even send it) */
    reply = cf_redis_cluster_command(ctx, NULL, "INFO commandstats");
    assert_non_null(reply);
    assert_null(strstr(reply->str, "cmdstat_cluster"));
    assert_null(strstr(reply->str, "cmdstat_asking"));
    freeReplyObject(reply);
    cf_redis_cluster_stats_t stats;
    cf_redis_cluster_stats(ctx, &stats);
    assert_true(stats.moved == 0 && stats.ask == 0 && stats.refreshes == 0);
    cf_redis_cluster_destroy(&ctx);
    assert_null(ctx);
    cf_redis_cluster_destroy(&ctx);
}

/* a key's master on a single server: the server itself */
static void test_single_server_key_master(void **state)
{
    cf_redis_cluster_t *ctx = worker_context(state, "pw", CF_REDIS_MODE_AUTO);
    const char *host = NULL;
    int at = 0;
    assert_int_equal(cf_redis_cluster_key_master(ctx, "cf:{pub}:cursor", &host, &at), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(at, cf_test_redis_port(*state));
    cf_redis_cluster_destroy(&ctx);
    /* refused credentials: no address, the error said */
    ctx = worker_context(state, "wrong", CF_REDIS_MODE_AUTO);
    assert_int_equal(cf_redis_cluster_key_master(ctx, "cf:shards", &host, &at), -1);
    assert_int_equal(cf_redis_cluster_errcode(ctx), CF_REDIS_CLUSTER_EAUTH);
    cf_redis_cluster_destroy(&ctx);
}

static void test_refusals(void **state)
{
    cf_redis_cluster_t *ctx = worker_context(state, "wrong", CF_REDIS_MODE_AUTO);
    assert_int_equal(cf_redis_cluster_connect(ctx), -1);
    assert_int_equal(cf_redis_cluster_errcode(ctx), CF_REDIS_CLUSTER_EAUTH);
    assert_non_null(strstr(cf_redis_cluster_error(ctx), "WRONGPASS"));
    assert_non_null(strstr(cf_redis_cluster_error(ctx), "caseflow-worker"));
    /* the first command connects, and fails the same way */
    assert_null(cf_redis_cluster_command(ctx, "cf:{s1}:x", "GET cf:{s1}:x"));
    assert_int_equal(cf_redis_cluster_errcode(ctx), CF_REDIS_CLUSTER_EAUTH);
    cf_redis_cluster_destroy(&ctx);

    ctx = worker_context(state, "pw", CF_REDIS_MODE_CLUSTER);
    assert_int_equal(cf_redis_cluster_connect(ctx), -1);
    assert_int_equal(cf_redis_cluster_errcode(ctx), CF_REDIS_CLUSTER_EMAP);
    /* the worker's user may not send CLUSTER SLOTS yet: either reason is named */
    const char *why = cf_redis_cluster_error(ctx);
    if (!strstr(why, "cluster support disabled") && !strstr(why, "NOPERM"))
        fail_msg("cluster mode on a single server: '%s'", why);
    cf_redis_cluster_destroy(&ctx);
}

static void test_broken_connection_and_gone(void **state)
{
    (void) state;
    /* a server of its own: this test stops it */
    cf_test_redis_t *redis = cf_test_redis_start();
    assert_non_null(redis);
    int port = cf_test_redis_port(redis);
    cf_redis_cluster_t *ctx = cf_redis_cluster_new("127.0.0.1", port, NULL, CF_REDIS_MODE_AUTO,
                                                   2000);
    redisReply *reply = cf_redis_cluster_command(ctx, "cf:{s1}:a", "SET cf:{s1}:a 1");
    assert_non_null(reply);
    freeReplyObject(reply);
    /* the connection is cut under it: that batch fails, the next reconnects */
    redisContext *admin = redisConnect("127.0.0.1", port);
    freeReplyObject(redisCommand(admin, "CLIENT KILL TYPE normal SKIPME yes"));
    assert_int_equal(cf_redis_cluster_append(ctx, "cf:{s1}:a", "GET cf:{s1}:a"), 0);
    assert_int_equal(cf_redis_cluster_append(ctx, "cf:{s2}:a", "GET cf:{s2}:a"), 0);
    assert_int_equal(cf_redis_cluster_get_reply(ctx, &reply), -1);
    assert_null(reply);
    assert_int_equal(cf_redis_cluster_errcode(ctx), CF_REDIS_CLUSTER_ECONN);
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%d", port);
    assert_non_null(strstr(cf_redis_cluster_error(ctx), where));
    reply = cf_redis_cluster_command(ctx, "cf:{s1}:a", "GET cf:{s1}:a");
    assert_non_null(reply);
    assert_string_equal(reply->str, "1");
    freeReplyObject(reply);
    assert_int_equal(cf_redis_cluster_errcode(ctx), CF_REDIS_CLUSTER_OK);
    redisFree(admin);
    /* the server gone: ECONN, naming it */
    cf_test_redis_stop(&redis);
    assert_null(cf_redis_cluster_command(ctx, NULL, "PING"));
    assert_int_equal(cf_redis_cluster_errcode(ctx), CF_REDIS_CLUSTER_ECONN);
    assert_non_null(strstr(cf_redis_cluster_error(ctx), where));
    cf_redis_cluster_destroy(&ctx);
}

/* What a caller that routes by slot and runs transactions uses: on one
   server, every slot is node 0, the only master is "any slot", a command
   appended by slot reaches it, the raw connection is usable between
   batches, and a redirection is recognised (a cluster's error replies,
   built by hand: a single server never sends one). */
static void test_slots_masters_and_redirections(void **state)
{
    cf_redis_cluster_t *ctx = worker_context(state, "pw", CF_REDIS_MODE_AUTO);
    cf_redis_cluster_set_follow(ctx, false);
    assert_int_equal(cf_redis_cluster_slot_node(ctx, 5), 0);
    assert_int_equal(cf_redis_cluster_slot_node(ctx, -1), 0);
    int slots[4] = { 7, 7, 7, 7 };
    assert_int_equal(cf_redis_cluster_master_slots(ctx, slots, 4), 1);
    assert_int_equal(slots[0], -1);
    const char *multi[] = { "MULTI" }, *set[] = { "SET", "cf:{s1}:k", "1" }, *exec[] = { "EXEC" };
    assert_int_equal(cf_redis_cluster_append_slot(ctx, 12, 1, multi, NULL), 0);
    assert_int_equal(cf_redis_cluster_append_slot(ctx, 12, 3, set, NULL), 0);
    assert_int_equal(cf_redis_cluster_append_slot(ctx, 12, 1, exec, NULL), 0);
    redisReply *reply;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cf_redis_cluster_get_reply(ctx, &reply), 0);
        if (i == 2) {
            assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
            assert_int_equal(reply->elements, 1);
        }
        freeReplyObject(reply);
    }
    redisContext *raw = cf_redis_cluster_context(ctx, 3);
    assert_non_null(raw);
    reply = redisCommand(raw, "GET cf:{s1}:k");
    assert_non_null(reply);
    assert_string_equal(reply->str, "1");
    freeReplyObject(reply);
    cf_redis_cluster_reset(ctx);                 /* closed; the next use connects again */
    /* a batch written before its first reply is read (as a caller with
       several contexts does): the same replies, in order */
    const char *get[] = { "GET", "cf:{s1}:k" }, *ping[] = { "PING" };
    assert_int_equal(cf_redis_cluster_append_argv(ctx, 1, 2, get, NULL), 0);
    assert_int_equal(cf_redis_cluster_append_slot(ctx, -1, 1, ping, NULL), 0);
    assert_int_equal(cf_redis_cluster_flush(ctx), 0);
    assert_int_equal(cf_redis_cluster_flush(ctx), 0);       /* written once */
    assert_int_equal(cf_redis_cluster_get_reply(ctx, &reply), 0);
    assert_string_equal(reply->str, "1");
    freeReplyObject(reply);
    assert_int_equal(cf_redis_cluster_get_reply(ctx, &reply), 0);
    assert_string_equal(reply->str, "PONG");
    freeReplyObject(reply);
    cf_redis_cluster_reset(ctx);
    reply = cf_redis_cluster_command(ctx, "cf:{s1}:k", "GET %s", "cf:{s1}:k");
    assert_non_null(reply);
    assert_string_equal(reply->str, "1");
    freeReplyObject(reply);
    char moved[] = "MOVED 3999 127.0.0.1:6381", ask[] = "ASK 3999 127.0.0.1:6381",
         down[] = "CLUSTERDOWN The cluster is down", other[] = "WRONGTYPE Operation against";
    redisReply fake = { .type = REDIS_REPLY_ERROR };
    fake.str = moved, fake.len = strlen(moved);
    assert_true(cf_redis_cluster_redirected(&fake));
    fake.str = ask, fake.len = strlen(ask);
    assert_true(cf_redis_cluster_redirected(&fake));
    fake.str = down, fake.len = strlen(down);
    assert_true(cf_redis_cluster_redirected(&fake));
    fake.str = other, fake.len = strlen(other);
    assert_false(cf_redis_cluster_redirected(&fake));
    fake.type = REDIS_REPLY_STRING, fake.str = moved, fake.len = strlen(moved);
    assert_false(cf_redis_cluster_redirected(&fake));   /* a value, not an error */
    assert_false(cf_redis_cluster_redirected(NULL));
    cf_redis_cluster_destroy(&ctx);
}

/* cf_redis_format_argv writes redisFormatCommandArgv's bytes: lengths of
   one and several digits, an empty argument, bytes with NUL and CRLF in
   them, and C strings when argvlen is NULL. */
static void test_format_argv(void **state)
{
    (void) state;
    static char big[123456];
    memset(big, 'x', sizeof big);
    const char *argv[] = { "HSET", "cf:{s1}:counts", "", "a\0b\r\n", big, "7" };
    const size_t argvlen[] = { 4, 14, 0, 5, sizeof big, 1 };
    for (int argc = 1; argc <= 6; argc++)
        for (int lens = 0; lens <= 1; lens++) {
            if (!lens && argc > 4)
                break;                          /* C strings: big has no NUL */
            char *want = NULL, *got = NULL;
            int want_len = redisFormatCommandArgv(&want, argc, argv, lens ? argvlen : NULL);
            int got_len = cf_redis_format_argv(&got, argc, argv, lens ? argvlen : NULL);
            assert_int_equal(got_len, want_len);
            assert_memory_equal(got, want, (size_t) want_len);
            free(want);
            free(got);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_server_pipeline),
        cmocka_unit_test(test_single_server_key_master),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_broken_connection_and_gone),
        cmocka_unit_test(test_slots_masters_and_redirections),
        cmocka_unit_test(test_format_argv),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
