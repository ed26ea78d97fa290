/*  Tests of acks that wait for replicas (cf_store_set_ack_replicas,
    docs/reliability.md "Durability modes") against a real master and a real
    replica: a call returns once the replica holds its writes; with the
    replica frozen it fails as an outage (CF_STORE_ERR_IO, Redis's count in
    the words), having written on the master; the call again after the
    replica thaws is accepted, counted once; more replicas than there are
    can never be met. Without the setting, no WAIT is sent.                 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_store.h"
#include "cf_test_redis.h"
#include "cf_test_store.h"

/* A replica of the fixture's Redis, replicating; NULL when it could not
   be made one within a few seconds. */
static cf_test_redis_t *replica_of(fixture_t *f, redisContext **conn)
{
    cf_test_redis_t *replica = cf_test_redis_start();
    assert_non_null(replica);
    redisReply *now = redisCommand(f->raw, "CONFIG SET repl-diskless-sync-delay 0");
    assert_true(now && now->type == REDIS_REPLY_STATUS);   /* the first sync at once, not in 5 s */
    freeReplyObject(now);
    *conn = redisConnect("127.0.0.1", cf_test_redis_port(replica));
    assert_true(*conn && !(*conn)->err);
    redisReply *reply = redisCommand(*conn, "REPLICAOF 127.0.0.1 %d", cf_test_redis_port(f->redis));
    assert_true(reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject(reply);
    for (int i = 0; i < 100; i++) {         /* the link up: 10 s at most */
        /* as the master sees it: a replica acknowledging (the replica's own
           "link up" comes before the master counts it in a WAIT) */
        reply = redisCommand(f->raw, "WAIT 1 100");
        bool up = reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
        freeReplyObject(reply);
        if (up)
            return replica;
        struct timespec step = { 0, 100 * 1000000L };
        nanosleep(&step, NULL);
    }
    fail_msg("the replica did not come up");
    return NULL;
}

static void test_acks_wait_for_the_replica(void **state)
{
    fixture_t *f = *state;
    redisContext *on_replica;
    cf_test_redis_t *replica = replica_of(f, &on_replica);
    cf_event_t ev[2];
    cf_ack_status_t status[2];
    cf_test_register(&ev[0], "rp-0", CASE_A, "CH-AVR", "f", "\3");
    cf_test_stage(&ev[1], "rp-1", CASE_A, CF_EV_CASE_SCREENED);
    long long before = cf_test_calls(f, "wait");            /* replica_of's own */

    /* without the setting: no WAIT */
    cf_store_set_request(f->store, "job-0", 5);
    assert_int_equal(cf_store_apply(f->store, &ev[0], 1, status), 0);
    assert_int_equal(cf_test_calls(f, "wait") - before, 0);

    cf_store_set_ack_replicas(f->store, 1, 5000);  /* what must succeed has time, on a busy machine */
    cf_store_set_request(f->store, "job-1", 5);
    assert_int_equal(cf_store_apply(f->store, &ev[1], 1, status), 0);
    assert_int_equal(status[0], CF_ACK_ACCEPTED);
    assert_int_equal(cf_test_calls(f, "wait") - before, 1);
    redisReply *held = redisCommand(on_replica, "EXISTS cf:{s%u}:stage",
                                    cf_store_shard_of(f->store, &ev[1]));
    assert_true(held && held->type == REDIS_REPLY_INTEGER && held->integer == 1);
    freeReplyObject(held);

    /* the replica frozen: the call writes on the master, and fails as an outage */
    cf_event_t later;
    cf_test_stage(&later, "rp-2", CASE_A, CF_EV_CASE_ASSISTED);
    pid_t pid = cf_test_redis_pid(replica);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    cf_store_set_ack_replicas(f->store, 1, 300);
    cf_store_set_request(f->store, "job-2", 5);
    assert_int_equal(cf_store_apply(f->store, &later, 1, status), -1);
    assert_int_equal(cf_store_error_code(f->store), CF_STORE_ERR_IO);
    assert_non_null(strstr(cf_store_error(f->store),
                           "WAIT: 0 of 1 replicas acknowledged the batch's writes within 300 ms"));
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|assisted|ever|cases"), 1);
    assert_int_equal(kill(pid, SIGCONT), 0);
    cf_store_set_ack_replicas(f->store, 1, 5000);
    /* the job again: found applied by itself, accepted, counted once */
    cf_store_set_request(f->store, "job-2", 5);
    assert_int_equal(cf_store_apply(f->store, &later, 1, status), 0);
    assert_int_equal(status[0], CF_ACK_ACCEPTED);
    assert_int_equal(cf_test_get(f, "stage", "CH-AVR|assisted|ever|cases"), 1);

    /* two replicas asked, one there: never met */
    cf_store_set_ack_replicas(f->store, 2, 100);
    cf_store_set_request(f->store, "job-2", 5);
    assert_int_equal(cf_store_apply(f->store, &later, 1, status), -1);
    assert_non_null(strstr(cf_store_error(f->store), "WAIT: 1 of 2 replicas"));
    redisFree(on_replica);
    cf_test_redis_stop(&replica);
}

/* A connection opened since (the last one timed out) that finds its whole
   batch applied writes nothing of its own; its WAIT must still cover what
   the earlier connection wrote: it claims an owner record first. */
static void test_a_new_connection_writes_before_it_waits(void **state)
{
    fixture_t *f = *state;
    redisContext *on_replica;
    cf_test_redis_t *replica = replica_of(f, &on_replica);
    cf_event_t ev;
    cf_ack_status_t status;
    cf_test_register(&ev, "rn-0", CASE_A, "CH-AVR", "f", "\3");
    cf_store_set_ack_replicas(f->store, 1, 5000);
    cf_store_set_request(f->store, "job-n", 5);
    assert_int_equal(cf_store_apply(f->store, &ev, 1, &status), 0);
    cf_store_t *again = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), f->script_dir);
    cf_store_set_ack_replicas(again, 1, 5000);
    cf_store_set_request(again, "job-n", 5);
    unsigned s = cf_store_shard_of(again, &ev);
    int64_t claims = cf_test_integer(f, "HINCRBY cf:{s%u}:owner claims 0", s);
    assert_int_equal(cf_store_apply(again, &ev, 1, &status), 0);
    assert_int_equal(status, CF_ACK_ACCEPTED);
    assert_int_equal(cf_test_integer(f, "HINCRBY cf:{s%u}:owner claims 0", s), claims + 1);
    cf_store_destroy(&again);
    redisFree(on_replica);
    cf_test_redis_stop(&replica);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acks_wait_for_the_replica, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_a_new_connection_writes_before_it_waits,
                                        cf_test_store_setup, cf_test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
