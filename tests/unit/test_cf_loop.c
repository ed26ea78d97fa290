/*  Tests of cf_loop: socket handlers, repeating timers, stopping by handler
    and by flag, and one pass at a time (cf_loop_run_once).                   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <zmq.h>
#include "caseflow/cf_loop.h"

typedef struct { int reads, ticks; void *writer; } loop_state_t;

static int on_readable(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    loop_state_t *state = arg;
    char buf[16];
    while (zmq_recv(socket, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        state->reads++;
    return state->reads >= 3 ? -1 : 0;
}

static int on_tick(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    loop_state_t *state = arg;
    state->ticks++;
    return zmq_send(state->writer, "x", 1, 0) < 0 ? -1 : 0;   /* one message per tick */
}

/* A PAIR of sockets over inproc: the loop reads one, the test (or a
   timer) writes the other. */
typedef struct { void *ctx, *reader, *writer; loop_state_t state; } loop_pair_t;

/* The pair, and a loop that reads its reader with on_readable. */
static cf_loop_t *pair_open(loop_pair_t *pair, const char *endpoint)
{
    pair->ctx = zmq_ctx_new();
    pair->reader = zmq_socket(pair->ctx, ZMQ_PAIR);
    pair->writer = zmq_socket(pair->ctx, ZMQ_PAIR);
    assert_int_equal(zmq_bind(pair->reader, endpoint), 0);
    assert_int_equal(zmq_connect(pair->writer, endpoint), 0);
    pair->state = (loop_state_t) { 0, 0, pair->writer };
    cf_loop_t *loop = cf_loop_new();
    assert_int_equal(cf_loop_add_socket(loop, pair->reader, on_readable, &pair->state), 0);
    return loop;
}

static void pair_close(loop_pair_t *pair)
{
    zmq_close(pair->reader);
    zmq_close(pair->writer);
    zmq_ctx_term(pair->ctx);
}

static void test_timer_feeds_socket_until_handler_stops(void **unused)
{
    (void) unused;
    loop_pair_t pair;
    cf_loop_t *loop = pair_open(&pair, "inproc://loop-test");
    loop_state_t *state = &pair.state;
    int timer = cf_loop_add_timer(loop, 10, on_tick, state);
    assert_true(timer > 0);
    int64_t start = cf_clock_ms();
    assert_int_equal(cf_loop_run(loop), 0);
    assert_int_equal(state->reads, 3);
    assert_true(state->ticks >= 3);
    assert_true(cf_clock_ms() - start >= 20);       /* three ticks, 10 ms apart */
    cf_loop_remove_timer(loop, timer);
    cf_loop_remove_socket(loop, pair.reader);
    cf_loop_destroy(&loop);
    assert_null(loop);
    pair_close(&pair);
}

static int set_flag(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    *(volatile sig_atomic_t *) arg = 1;
    return 0;
}

static void test_stop_flag(void **unused)
{
    (void) unused;
    volatile sig_atomic_t stop = 0;
    cf_loop_t *loop = cf_loop_new();
    cf_loop_set_stop_flag(loop, &stop);
    cf_loop_add_timer(loop, 5, set_flag, (void *) &stop);
    assert_int_equal(cf_loop_run(loop), 0);
    assert_int_equal(stop, 1);
    cf_loop_destroy(&loop);
}

/* One pass waits no longer than asked, or than the nearest timer; it takes
   what is readable and fires what is due, and says when a handler ended. */
static void test_run_once(void **unused)
{
    (void) unused;
    loop_pair_t pair;
    cf_loop_t *loop = pair_open(&pair, "inproc://loop-once");
    loop_state_t *state = &pair.state;
    int64_t start = cf_clock_ms();
    assert_int_equal(cf_loop_run_once(loop, 30000), 0);            /* nothing: waits 30 ms */
    assert_true(cf_clock_ms() - start >= 29 && state->reads == 0);
    assert_int_equal(zmq_send(pair.writer, "x", 1, 0), 1);
    start = cf_clock_ms();
    while (state->reads == 0 && cf_clock_ms() - start < 1000)
        assert_int_equal(cf_loop_run_once(loop, 1000000), 0);
    assert_int_equal(state->reads, 1);
    assert_true(cf_clock_ms() - start < 1000);                  /* not the whole timeout */
    cf_loop_add_timer(loop, 20, on_tick, state);               /* the tick sends one more */
    start = cf_clock_ms();
    assert_int_equal(cf_loop_run_once(loop, 5000000), 0);          /* woken by the timer */
    assert_true(cf_clock_ms() - start < 1000);
    assert_int_equal(state->ticks, 1);
    int rc = 0;
    while (rc == 0 && cf_clock_ms() - start < 2000)
        rc = cf_loop_run_once(loop, 100000);
    assert_int_equal(rc, 1);                                    /* the third read ends it */
    assert_int_equal(state->reads, 3);
    cf_loop_destroy(&loop);
    pair_close(&pair);
}

/* A wait counts in microseconds: a pass asked for less than a millisecond
   waits that long, not none (a poll(2) in milliseconds would round 700 µs
   down to 0), and a message that comes meanwhile ends it. */
static void test_run_once_waits_microseconds(void **unused)
{
    (void) unused;
    loop_pair_t pair;
    cf_loop_t *loop = pair_open(&pair, "inproc://loop-us");
    loop_state_t *state = &pair.state;
    for (int i = 0; i < 5; i++) {
        int64_t start = cf_clock_us();
        assert_int_equal(cf_loop_run_once(loop, 700), 0);
        assert_true(cf_clock_us() - start >= 700);
    }
    assert_int_equal(state->reads, 0);
    assert_int_equal(zmq_send(pair.writer, "x", 1, 0), 1);
    int64_t start = cf_clock_us();
    while (state->reads == 0 && cf_clock_us() - start < 1000000)
        assert_int_equal(cf_loop_run_once(loop, 900), 0);
    assert_int_equal(state->reads, 1);
    cf_loop_destroy(&loop);
    pair_close(&pair);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_feeds_socket_until_handler_stops),
        cmocka_unit_test(test_stop_flag),
        cmocka_unit_test(test_run_once),
        cmocka_unit_test(test_run_once_waits_microseconds) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
