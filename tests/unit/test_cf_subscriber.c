/*  Tests of cf_subscriber against a PUB socket of the test's own on
    loopback: the prefix filter, the missed count per (publisher, topic), a
    republished outbox id dropped as a repeat, a body that is not a map,
    recv's timeouts, a snapshot endpoint nobody answers, and two brokers'
    endpoints whose copies of each outbox id come out once.                  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include "caseflow/cf_subscriber.h"
#include "cf_test_ports.h"

/* Publishes [topic, {publisher, seq, id}] (id NULL: none). */
static void publish(void *pub, const char *topic, const char *publisher, uint64_t seq,
                    const char *id)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, id ? 3 : 2);
    msgpack_pack_str_with_body(&pk, "publisher", 9);
    msgpack_pack_str_with_body(&pk, publisher, strlen(publisher));
    msgpack_pack_str_with_body(&pk, "seq", 3);
    msgpack_pack_uint64(&pk, seq);
    if (id) {
        msgpack_pack_str_with_body(&pk, "id", 2);
        msgpack_pack_str_with_body(&pk, id, strlen(id));
    }
    zmq_send(pub, topic, strlen(topic), ZMQ_SNDMORE);
    zmq_send(pub, sbuf.data, sbuf.size, 0);
    msgpack_sbuffer_destroy(&sbuf);
}

/* The next notification's (seq, missed), or (0, 0) after 2 s of none. */
static void expect_next(cf_subscriber_t *sub, const char *topic, uint64_t seq, uint64_t missed)
{
    cf_notification_t n;
    assert_int_equal(cf_subscriber_recv(sub, 2000, &n), 1);
    assert_false(n.malformed);
    assert_int_equal(n.topic_len, strlen(topic));
    assert_memory_equal(n.topic, topic, n.topic_len);
    assert_int_equal(n.seq, seq);
    assert_int_equal(n.missed, missed);
}

static void test_gaps_repeats_and_prefixes(void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    char endpoint[64];
    cf_test_bind_loopback(pub, endpoint, sizeof endpoint);
    cf_subscriber_t *sub = cf_subscriber_new(endpoint);
    cf_subscriber_add_prefix(sub, "case.");
    cf_subscriber_add_prefix(sub, "reject");
    assert_null(cf_subscriber_socket(sub));
    assert_int_equal(cf_subscriber_connect(sub), 0);
    assert_non_null(cf_subscriber_socket(sub));
    cf_notification_t n;
    assert_int_equal(cf_subscriber_recv(sub, 0, &n), 0);       /* nothing yet, no wait */
    struct timespec settle = { 0, 300 * 1000000L };
    nanosleep(&settle, NULL);

    publish(pub, "case.A.registered", "b1", 1, "s0-10-0");
    publish(pub, "stats", "b1", 1, NULL);                       /* not subscribed */
    publish(pub, "case.A.registered", "b1", 4, "s0-10-1");     /* 2 and 3 missed */
    publish(pub, "reject", "b1", 1, NULL);                      /* its own pair */
    publish(pub, "case.A.registered", "b2", 1, "s0-10-1");     /* republished: a repeat */
    publish(pub, "case.A.registered", "b2", 2, "s0-11-0");     /* a new publisher: no gap */
    zmq_send(pub, "case.bad", 8, ZMQ_SNDMORE);
    zmq_send(pub, "\xc1", 1, 0);                                /* not msgpack */
    expect_next(sub, "case.A.registered", 1, 0);
    expect_next(sub, "case.A.registered", 4, 2);
    expect_next(sub, "reject", 1, 0);
    expect_next(sub, "case.A.registered", 2, 0);
    assert_int_equal(cf_subscriber_recv(sub, 2000, &n), 1);
    assert_true(n.malformed);
    assert_int_equal(n.body_size, 1);
    assert_int_equal(cf_subscriber_recv(sub, 100, &n), 0);     /* nothing more */

    cf_subscriber_stats_t stats;
    cf_subscriber_stats(sub, &stats);
    assert_int_equal(stats.received, 5);
    assert_int_equal(stats.missed, 2);
    assert_int_equal(stats.repeats, 1);
    assert_int_equal(stats.malformed, 1);
    assert_int_equal(cf_subscriber_refused(sub), 0);
    assert_string_equal(cf_subscriber_error(sub), "");
    cf_subscriber_destroy(&sub);
    assert_null(sub);
    cf_subscriber_destroy(&sub);
    zmq_close(pub);
    zmq_ctx_term(ctx);
}

/* Two brokers: the subscriber is on both; each publishes a part of one
   stream, some entries both, in no common order. Every id comes out once,
   and the ids only the slower broker published are not taken for repeats. */
static void test_two_brokers(void **state)
{
    (void) state;
    void *ctx = zmq_ctx_new();
    void *pub1 = zmq_socket(ctx, ZMQ_PUB), *pub2 = zmq_socket(ctx, ZMQ_PUB);
    char endpoint1[64], endpoint2[64], list[140];
    cf_test_bind_loopback(pub1, endpoint1, sizeof endpoint1);
    cf_test_bind_loopback(pub2, endpoint2, sizeof endpoint2);
    snprintf(list, sizeof list, "%s,%s", endpoint1, endpoint2);
    cf_subscriber_t *sub = cf_subscriber_new(list);
    assert_int_equal(cf_subscriber_connect(sub), 0);
    assert_int_equal(cf_subscriber_socket_count(sub), 2);
    assert_ptr_equal(cf_subscriber_socket_at(sub, 0), cf_subscriber_socket(sub));
    struct timespec settle = { 0, 300 * 1000000L };
    nanosleep(&settle, NULL);

    char id[32];
    for (int i = 5; i < 15; i++) {          /* broker 2, ahead: entries 5..14 */
        snprintf(id, sizeof id, "s3-100-%d", i);
        publish(pub2, "case.A.registered", "b2", (uint64_t) i - 4, id);
    }
    nanosleep(&settle, NULL);
    for (int i = 0; i < 10; i++) {          /* broker 1, behind: entries 0..9 */
        snprintf(id, sizeof id, "s3-100-%d", i);
        publish(pub1, "case.A.registered", "b1", (uint64_t) i + 1, id);
    }
    cf_notification_t n;
    int count = 0;
    while (cf_subscriber_recv(sub, 500, &n) == 1)
        count++;
    assert_int_equal(count, 15);            /* 0..14, each once */
    cf_subscriber_stats_t stats;
    cf_subscriber_stats(sub, &stats);
    assert_int_equal(stats.received, 15);
    assert_int_equal(stats.repeats, 5);     /* 5..9 from broker 1 */
    assert_int_equal(stats.missed, 0);
    cf_subscriber_destroy(&sub);

    sub = cf_subscriber_new("tcp://127.0.0.1:1,tcp://127.0.0.1:1");
    assert_int_equal(cf_subscriber_connect(sub), -1);
    assert_int_equal(cf_subscriber_error_code(sub), CF_SUBSCRIBER_ERR_ENDPOINT);
    assert_non_null(strstr(cf_subscriber_error(sub), "twice"));
    cf_subscriber_destroy(&sub);
    zmq_close(pub1);
    zmq_close(pub2);
    zmq_ctx_term(ctx);
}

static void test_errors(void **state)
{
    (void) state;
    cf_subscriber_t *sub = cf_subscriber_new("nonsense");
    assert_int_equal(cf_subscriber_connect(sub), -1);
    assert_int_equal(cf_subscriber_error_code(sub), CF_SUBSCRIBER_ERR_ENDPOINT);
    assert_non_null(strstr(cf_subscriber_error(sub), "nonsense"));
    cf_subscriber_destroy(&sub);

    char endpoint[64], intake[64];
    cf_test_free_endpoint(endpoint, sizeof endpoint);
    cf_test_free_endpoint(intake, sizeof intake);
    sub = cf_subscriber_new(endpoint);
    const void *data = NULL;
    size_t size = 0;
    assert_int_equal(cf_subscriber_snapshot(sub, intake, 200, &data, &size), -1);
    assert_int_equal(cf_subscriber_error_code(sub), CF_SUBSCRIBER_ERR_SNAPSHOT);
    assert_non_null(strstr(cf_subscriber_error(sub), "no snapshot"));
    assert_null(data);
    cf_subscriber_destroy(&sub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gaps_repeats_and_prefixes),
        cmocka_unit_test(test_two_brokers),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
