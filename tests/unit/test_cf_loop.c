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

static void test_timer_feeds_socket_until_handler_stops(void **unused)
{
    (void) unused;
    void *ctx = zmq_ctx_new();
    void *reader = zmq_socket(ctx, ZMQ_PAIR), *writer = zmq_socket(ctx, ZMQ_PAIR);
    assert_int_equal(zmq_bind(reader, "inproc://loop-test"), 0);
    assert_int_equal(zmq_connect(writer, "inproc://loop-test"), 0);
    loop_state_t state = { 0, 0, writer };
    cf_loop_t *loop = cf_loop_new();
    assert_int_equal(cf_loop_add_socket(loop, reader, on_readable, &state), 0);
    int timer = cf_loop_add_timer(loop, 10, on_tick, &state);
    assert_true(timer > 0);
    int64_t start = cf_clock_ms();
    assert_int_equal(cf_loop_run(loop), 0);
    assert_int_equal(state.reads, 3);
    assert_true(state.ticks >= 3);
    assert_true(cf_clock_ms() - start >= 20);       /* three ticks, 10 ms apart */
    cf_loop_remove_timer(loop, timer);
    cf_loop_remove_socket(loop, reader);
    cf_loop_destroy(&loop);
    assert_null(loop);
    zmq_close(reader);
    zmq_close(writer);
    zmq_ctx_term(ctx);
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
    void *ctx = zmq_ctx_new();
    void *reader = zmq_socket(ctx, ZMQ_PAIR), *writer = zmq_socket(ctx, ZMQ_PAIR);
    assert_int_equal(zmq_bind(reader, "inproc://loop-once"), 0);
    assert_int_equal(zmq_connect(writer, "inproc://loop-once"), 0);
    loop_state_t state = { 0, 0, writer };
    cf_loop_t *loop = cf_loop_new();
    assert_int_equal(cf_loop_add_socket(loop, reader, on_readable, &state), 0);
    int64_t start = cf_clock_ms();
    assert_int_equal(cf_loop_run_once(loop, 30), 0);            /* nothing: waits 30 ms */
    assert_true(cf_clock_ms() - start >= 29 && state.reads == 0);
    assert_int_equal(zmq_send(writer, "x", 1, 0), 1);
    start = cf_clock_ms();
    while (state.reads == 0 && cf_clock_ms() - start < 1000)
        assert_int_equal(cf_loop_run_once(loop, 1000), 0);
    assert_int_equal(state.reads, 1);
    assert_true(cf_clock_ms() - start < 1000);                  /* not the whole timeout */
    cf_loop_add_timer(loop, 20, on_tick, &state);               /* the tick sends one more */
    start = cf_clock_ms();
    assert_int_equal(cf_loop_run_once(loop, 5000), 0);          /* woken by the timer */
    assert_true(cf_clock_ms() - start < 1000);
    assert_int_equal(state.ticks, 1);
    int rc = 0;
    while (rc == 0 && cf_clock_ms() - start < 2000)
        rc = cf_loop_run_once(loop, 100);
    assert_int_equal(rc, 1);                                    /* the third read ends it */
    assert_int_equal(state.reads, 3);
    cf_loop_destroy(&loop);
    zmq_close(reader);
    zmq_close(writer);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_feeds_socket_until_handler_stops),
        cmocka_unit_test(test_stop_flag),
        cmocka_unit_test(test_run_once) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
