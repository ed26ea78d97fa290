/*  Tests of cf_redis_pipe on recorded replies: a batch spread over three
    nodes, answered node by node in the opposite order, with a MOVED, an ASK,
    a TRYAGAIN and an ordinary error among the replies, comes back in the
    order it was queued after a second round that sends only the redirected
    commands (ASKING before the one that was asked); a single server's pipe
    keeps a redirection-like error as the reply it is; a slot without node
    stops the plan.                                                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_alloc.h"
#include "cf_redis_pipe.h"
#include "cf_test_resp.h"

/* three masters of 5461 slots each, as redis-cli --cluster create splits them */
static int route_thirds(void *arg, int slot)
{
    int *unowned = arg;
    if (unowned && slot == *unowned)
        return -1;
    return slot < 0 ? 0 : slot / 5461;
}

static void queue(cf_redis_pipe_t *pipe, int slot, int i)
{
    char text[16];
    snprintf(text, sizeof text, "cmd%d", i);
    cf_redis_pipe_add(pipe, slot, cf_strdup(text), strlen(text));
}

static void deliver(cf_redis_pipe_t *pipe, long i, const char *resp,
                    cf_redis_redirect_kind_t want, cf_redis_redirect_t *r)
{
    assert_int_equal(cf_redis_pipe_deliver(pipe, i, cf_test_resp(resp), true, r), want);
}

static void expect_integer(redisReply *reply, long long value)
{
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    assert_int_equal(reply->integer, value);
    freeReplyObject(reply);
}

static void test_order_across_nodes(void **state)
{
    (void) state;
    cf_redis_pipe_t *pipe = cf_redis_pipe_new();
    const int slots[] = { 0, 6000, 12000, 100, 7000, 13000, -1, 200, 14000 };
    for (int i = 0; i < 9; i++)
        queue(pipe, slots[i], i);
    assert_int_equal(cf_redis_pipe_size(pipe), 9);
    assert_int_equal(cf_redis_pipe_plan(pipe, route_thirds, NULL, NULL), 9);
    /* written and read in queue order; each to its node */
    long i = -1;
    for (int k = 0; k < 9; k++) {
        i = cf_redis_pipe_following(pipe, i);
        assert_int_equal(i, k);
        assert_int_equal(cf_redis_pipe_node(pipe, i), slots[k] < 0 ? 0 : slots[k] / 5461);
        size_t len;
        char text[16];
        snprintf(text, sizeof text, "cmd%d", k);
        assert_memory_equal(cf_redis_pipe_command(pipe, i, &len), text, strlen(text));
        assert_int_equal(len, strlen(text));
        assert_false(cf_redis_pipe_asking(pipe, i));
    }
    assert_int_equal(cf_redis_pipe_following(pipe, i), -1);
    /* node 2 answers first, then node 1, then node 0 */
    cf_redis_redirect_t r;
    deliver(pipe, 2, ":2\r\n", CF_REDIS_REDIRECT_NONE, &r);
    deliver(pipe, 5, "-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
            CF_REDIS_REDIRECT_TRYAGAIN, &r);
    cf_redis_pipe_resend(pipe, 5, 2, false);
    deliver(pipe, 8, ":8\r\n", CF_REDIS_REDIRECT_NONE, &r);
    deliver(pipe, 1, ":1\r\n", CF_REDIS_REDIRECT_NONE, &r);
    deliver(pipe, 4, "-MOVED 7000 127.0.0.1:7001\r\n", CF_REDIS_REDIRECT_MOVED, &r);
    assert_int_equal(r.slot, 7000);
    assert_int_equal(r.port, 7001);
    cf_redis_pipe_resend(pipe, 4, 3, false);
    deliver(pipe, 0, ":0\r\n", CF_REDIS_REDIRECT_NONE, &r);
    deliver(pipe, 3, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            CF_REDIS_REDIRECT_NONE, &r);
    deliver(pipe, 6, ":6\r\n", CF_REDIS_REDIRECT_NONE, &r);
    deliver(pipe, 7, "-ASK 200 127.0.0.1:7002\r\n", CF_REDIS_REDIRECT_ASK, &r);
    assert_string_equal(r.host, "127.0.0.1");
    cf_redis_pipe_resend(pipe, 7, 4, true);
    assert_false(cf_redis_pipe_answered(pipe));
    /* what arrived in order may be taken; the rest waits */
    expect_integer(cf_redis_pipe_next(pipe), 0);
    expect_integer(cf_redis_pipe_next(pipe), 1);
    expect_integer(cf_redis_pipe_next(pipe), 2);
    redisReply *wrongtype = cf_redis_pipe_next(pipe);
    assert_int_equal(wrongtype->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(wrongtype->str, "WRONGTYPE"));
    freeReplyObject(wrongtype);
    assert_null(cf_redis_pipe_next(pipe));
    assert_int_equal(cf_redis_pipe_size(pipe), 5);
    /* the second round: the three redirected commands only, where they were sent */
    assert_int_equal(cf_redis_pipe_plan(pipe, route_thirds, NULL, NULL), 3);
    assert_int_equal(cf_redis_pipe_following(pipe, -1), 4);
    assert_int_equal(cf_redis_pipe_node(pipe, 4), 3);
    assert_false(cf_redis_pipe_asking(pipe, 4));
    assert_int_equal(cf_redis_pipe_following(pipe, 4), 5);
    assert_int_equal(cf_redis_pipe_node(pipe, 5), 2);
    assert_int_equal(cf_redis_pipe_following(pipe, 5), 7);
    assert_int_equal(cf_redis_pipe_node(pipe, 7), 4);
    assert_true(cf_redis_pipe_asking(pipe, 7));
    assert_int_equal(cf_redis_pipe_following(pipe, 7), -1);
    deliver(pipe, 7, ":7\r\n", CF_REDIS_REDIRECT_NONE, &r);
    deliver(pipe, 5, ":5\r\n", CF_REDIS_REDIRECT_NONE, &r);
    deliver(pipe, 4, ":4\r\n", CF_REDIS_REDIRECT_NONE, &r);
    assert_true(cf_redis_pipe_answered(pipe));
    for (int k = 4; k < 9; k++)
        expect_integer(cf_redis_pipe_next(pipe), k);
    assert_null(cf_redis_pipe_next(pipe));
    assert_int_equal(cf_redis_pipe_size(pipe), 0);
    /* the pipe is ready for the next batch */
    queue(pipe, 1, 0);
    assert_int_equal(cf_redis_pipe_plan(pipe, route_thirds, NULL, NULL), 1);
    assert_int_equal(cf_redis_pipe_following(pipe, -1), 0);
    cf_redis_pipe_destroy(&pipe);
    assert_null(pipe);
    cf_redis_pipe_destroy(&pipe);
}

static void test_single_server_keeps_errors(void **state)
{
    (void) state;
    cf_redis_pipe_t *pipe = cf_redis_pipe_new();
    queue(pipe, 5, 0);
    assert_int_equal(cf_redis_pipe_plan(pipe, route_thirds, NULL, NULL), 1);
    cf_redis_redirect_t r;
    assert_int_equal(cf_redis_pipe_deliver(pipe, 0, cf_test_resp("-MOVED 5 h:1\r\n"), false, &r),
                     CF_REDIS_REDIRECT_NONE);
    redisReply *reply = cf_redis_pipe_next(pipe);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    freeReplyObject(reply);
    cf_redis_pipe_destroy(&pipe);
}

static void test_unowned_slot_and_unroute(void **state)
{
    (void) state;
    cf_redis_pipe_t *pipe = cf_redis_pipe_new();
    queue(pipe, 10, 0);
    queue(pipe, 11000, 1);
    queue(pipe, 6000, 2);
    int unowned = 11000, slot = 0;
    assert_int_equal(cf_redis_pipe_plan(pipe, route_thirds, &unowned, &slot), -1);
    assert_int_equal(slot, 11000);
    /* after a new map: routed again from scratch */
    cf_redis_pipe_unroute(pipe);
    assert_int_equal(cf_redis_pipe_node(pipe, 0), -1);
    assert_int_equal(cf_redis_pipe_plan(pipe, route_thirds, NULL, NULL), 3);
    assert_int_equal(cf_redis_pipe_node(pipe, 1), 2);
    /* dropped after a broken connection: replies not taken are freed too */
    cf_redis_redirect_t r;
    deliver(pipe, 0, "+OK\r\n", CF_REDIS_REDIRECT_NONE, &r);
    cf_redis_pipe_clear(pipe);
    assert_int_equal(cf_redis_pipe_size(pipe), 0);
    assert_true(cf_redis_pipe_answered(pipe));
    cf_redis_pipe_destroy(&pipe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_across_nodes),
        cmocka_unit_test(test_single_server_keeps_errors),
        cmocka_unit_test(test_unowned_slot_and_unroute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
