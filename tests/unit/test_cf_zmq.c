/*  Tests of cf_zmq: a context ended and its pointer NULLed, and an end
    that a signal interrupts is taken up again until the linger of its
    socket has run out.                                                     */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <zmq.h>
#include "caseflow/cf_zmq.h"
#include "cf_test_ports.h"

#define LINGER_MS   400         /* the pending message's socket */
#define SIGNAL_MS   50          /* the signal comes well before that */

static volatile sig_atomic_t s_alarms;

static void on_alarm(int sig)
{
    (void) sig;
    s_alarms++;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static void test_null_and_empty(void **state)
{
    (void) state;
    assert_int_equal(cf_zmq_ctx_term(NULL), 0);
    void *ctx = NULL;
    assert_int_equal(cf_zmq_ctx_term(&ctx), 0);
    ctx = zmq_ctx_new();
    assert_non_null(ctx);
    assert_int_equal(cf_zmq_ctx_term(&ctx), 0);
    assert_null(ctx);
}

/* A DEALER's message to a port where no one listens stays queued through
   its linger; a SIGALRM without SA_RESTART comes in the middle of the
   context's end, which libzmq answers EINTR: cf_zmq_ctx_term ends it all
   the same, once the linger is over. */
static void test_interrupted_end_is_taken_up(void **state)
{
    (void) state;
    struct sigaction action, old;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;                    /* no SA_RESTART: the wait sees EINTR */
    assert_int_equal(sigaction(SIGALRM, &action, &old), 0);

    void *ctx = zmq_ctx_new(), *socket = zmq_socket(ctx, ZMQ_DEALER);
    assert_non_null(socket);
    int linger = LINGER_MS;
    assert_int_equal(zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger), 0);
    char endpoint[64];
    cf_test_free_endpoint(endpoint, sizeof endpoint);
    assert_int_equal(zmq_connect(socket, endpoint), 0);
    assert_int_equal(zmq_send(socket, "pending", 7, ZMQ_DONTWAIT), 7);
    assert_int_equal(zmq_close(socket), 0);

    s_alarms = 0;
    struct itimerval timer = { { 0, 0 }, { 0, SIGNAL_MS * 1000 } };
    assert_int_equal(setitimer(ITIMER_REAL, &timer, NULL), 0);
    double started = now_ms();
    assert_int_equal(cf_zmq_ctx_term(&ctx), 0);
    double took = now_ms() - started;
    assert_null(ctx);
    assert_int_equal(s_alarms, 1);          /* the signal came during the end */
    /* ended by the linger, not by the signal: an end given up at EINTR
       returns at about SIGNAL_MS */
    assert_true(took >= LINGER_MS - 50);

    assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_and_empty),
        cmocka_unit_test(test_interrupted_end_is_taken_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
