/*  Tests of cf_publisher: the body gains topic, publisher, seq (per topic)
    and time in front of the worker's keys; non-map bodies are refused; what
    a subscriber that does not read loses is counted, and the others still
    get everything.                                                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <string.h>
#include <zmq.h>
#include "cf_publisher.h"

static void msg_from(zmq_msg_t *msg, const void *data, size_t size)
{
    zmq_msg_init_size(msg, size);
    memcpy(zmq_msg_data(msg), data, size);
}

static void publish(cf_publisher_t *pub, const char *topic, const msgpack_sbuffer *body)
{
    zmq_msg_t t, b;
    msg_from(&t, topic, strlen(topic));
    msg_from(&b, body->data, body->size);
    assert_int_equal(cf_publisher_send(pub, &t, &b, NULL), 0);
    zmq_msg_close(&t);
    zmq_msg_close(&b);
}

static const msgpack_object *lookup(const msgpack_object *map, const char *key)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->via.str.size == strlen(key) && memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

/* A worker's body: {"stage": "departed"}. */
static void stage_body(msgpack_sbuffer *body)
{
    msgpack_sbuffer_init(body);
    msgpack_packer pk;
    msgpack_packer_init(&pk, body, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "stage", 5);
    msgpack_pack_str(&pk, 8);
    msgpack_pack_str_body(&pk, "departed", 8);
}

/* Receives one notification and returns its seq, checking the other keys. */
static uint64_t receive(void *sub, const char *topic, const char *publisher)
{
    char name[64], body[512];
    int n = zmq_recv(sub, name, sizeof name, 0);
    assert_int_equal(n, (int) strlen(topic));
    assert_memory_equal(name, topic, (size_t) n);
    int size = zmq_recv(sub, body, sizeof body, 0);
    assert_true(size > 0);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    assert_int_equal(msgpack_unpack_next(&result, body, (size_t) size, NULL), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *map = &result.data;
    assert_int_equal(map->type, MSGPACK_OBJECT_MAP);
    assert_int_equal(map->via.map.size, 5);
    assert_int_equal(lookup(map, "topic")->via.str.size, strlen(topic));
    assert_memory_equal(lookup(map, "publisher")->via.str.ptr, publisher, 16);
    assert_true(lookup(map, "time")->via.u64 > 1700000000000ULL);
    assert_int_equal(lookup(map, "stage")->via.str.size, 8);    /* the worker's own key */
    uint64_t seq = lookup(map, "seq")->via.u64;
    msgpack_unpacked_destroy(&result);
    return seq;
}

static void test_sequenced_bodies(void **unused)
{
    (void) unused;
    void *ctx = zmq_ctx_new();
    char err[128];
    cf_publisher_t *pub = cf_publisher_new(ctx, "inproc://pub-test", err, sizeof err);
    assert_non_null(pub);
    assert_int_equal(strlen(cf_publisher_id(pub)), 16);
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    zmq_connect(sub, "inproc://pub-test");
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "case.", 5);
    zmq_pollitem_t item = { cf_publisher_socket(pub), 0, ZMQ_POLLIN, 0 };
    assert_int_equal(zmq_poll(&item, 1, 2000), 1);      /* the subscription arrived */
    cf_publisher_drain(pub);

    msgpack_sbuffer body;
    stage_body(&body);
    publish(pub, "case.A.departed", &body);
    publish(pub, "case.B.departed", &body);
    publish(pub, "reject", &body);                      /* not subscribed */
    publish(pub, "case.A.departed", &body);

    zmq_msg_t t, b;
    msg_from(&t, "case.A.departed", 15);
    msg_from(&b, "\x93\x01\x02\x03", 4);                /* an array, not a map */
    assert_int_equal(cf_publisher_send(pub, &t, &b, NULL), -1);
    zmq_msg_close(&t);
    zmq_msg_close(&b);

    const char *id = cf_publisher_id(pub);
    assert_int_equal(receive(sub, "case.A.departed", id), 1);
    assert_int_equal(receive(sub, "case.B.departed", id), 1);
    assert_int_equal(receive(sub, "case.A.departed", id), 2);
    assert_int_equal(cf_publisher_sent(pub), 4);
    msgpack_sbuffer_destroy(&body);
    zmq_close(sub);
    cf_publisher_destroy(&pub);
    assert_null(pub);
    zmq_ctx_term(ctx);
}

/* Reads what sub holds, without waiting: how many, and the gaps in their
   seq (one topic) since *last, the last seq read before. */
static void read_all(void *sub, uint64_t *last, size_t *got, uint64_t *missed)
{
    *got = 0;
    *missed = 0;
    char name[64], body[512];
    while (zmq_recv(sub, name, sizeof name, ZMQ_DONTWAIT) >= 0) {
        int size = zmq_recv(sub, body, sizeof body, 0);
        assert_true(size > 0);
        msgpack_unpacked result;
        msgpack_unpacked_init(&result);
        assert_int_equal(msgpack_unpack_next(&result, body, (size_t) size, NULL),
                         MSGPACK_UNPACK_SUCCESS);
        uint64_t seq = lookup(&result.data, "seq")->via.u64;
        msgpack_unpacked_destroy(&result);
        assert_true(seq > *last);
        *missed += seq - *last - 1;
        *last = seq;
        (*got)++;
    }
}

/* XPUB passes on a subscription once: each subscriber has its own prefix. */
static void *subscriber(void *ctx, int hwm, const char *prefix)
{
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_connect(sub, "inproc://pub-slow");
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    return sub;
}

/* Issue 15, item 7: a subscriber that does not read lost notifications at
   its high-water mark and nothing counted them. */
static void test_slow_subscriber_counted(void **unused)
{
    (void) unused;
    void *ctx = zmq_ctx_new();
    char err[128];
    cf_publisher_t *pub = cf_publisher_new(ctx, "inproc://pub-slow", err, sizeof err);
    assert_non_null(pub);
    void *slow = subscriber(ctx, 1, "case."), *fast = subscriber(ctx, 0, "case.A");    /* 0: no limit */
    for (int seen = 0; seen < 2;) {         /* both subscriptions arrived */
        zmq_pollitem_t item = { cf_publisher_socket(pub), 0, ZMQ_POLLIN, 0 };
        assert_int_equal(zmq_poll(&item, 1, 2000), 1);
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        while (zmq_msg_recv(&msg, cf_publisher_socket(pub), ZMQ_DONTWAIT) >= 0)
            seen++;
        zmq_msg_close(&msg);
    }
    msgpack_sbuffer body;
    stage_body(&body);
    /* Twice: 25 000 notifications, which the fast subscriber reads as they
       come and the slow one only after: it keeps what its queue holds (10 001
       at most) and loses the rest, and the broker sees that it overflowed,
       once each time. */
    size_t got;
    uint64_t missed, fast_last = 0, slow_last = 0;
    for (int round = 1; round <= 2; round++) {
        for (int i = 0; i < 25000; i++) {
            publish(pub, "case.A.departed", &body);
            if (i % 1000 == 999) {
                read_all(fast, &fast_last, &got, &missed);
                assert_int_equal(got, 1000);                /* the others lose nothing */
                assert_int_equal(missed, 0);
            }
        }
        assert_int_equal(cf_publisher_sent(pub), 25000 * round);
        assert_int_equal(cf_publisher_dropped(pub), round);
        read_all(slow, &slow_last, &got, &missed);
        assert_true(got > 0 && got <= 10001);               /* at most its queue */
        assert_int_equal(missed, round == 1 ? 0 : 14999);   /* the gap shows what was lost */
    }
    msgpack_sbuffer_destroy(&body);
    zmq_close(slow);
    zmq_close(fast);
    cf_publisher_destroy(&pub);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_sequenced_bodies),
                                        cmocka_unit_test(test_slow_subscriber_counted) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
