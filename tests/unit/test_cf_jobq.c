/*  Tests of cf_jobq: FIFO order, requeue at the front, event accounting, and
    the head's arrival time (the queue's age).                              */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "cf_jobq.h"

static cf_job_t *job_with(uint64_t id, size_t events)
{
    cf_job_t *job = cf_job_new(id, events);
    for (size_t i = 0; i < events; i++) {
        zmq_msg_close(&job->events[i]);
        zmq_msg_init_size(&job->events[i], 8);
        memset(zmq_msg_data(&job->events[i]), 'x', 8);
    }
    return job;
}

static void test_fifo_and_counts(void **state)
{
    (void) state;
    cf_jobq_t *queue = cf_jobq_new();
    assert_null(cf_jobq_pop(queue));
    cf_jobq_push(queue, job_with(1, 3));
    cf_jobq_push(queue, job_with(2, 5));
    assert_int_equal(cf_jobq_jobs(queue), 2);
    assert_int_equal(cf_jobq_events(queue), 8);
    assert_int_equal(cf_jobq_bytes(queue), 8 * 8);  /* 8-byte events */
    cf_job_t *job = cf_jobq_pop(queue);
    assert_int_equal(job->id, 1);
    assert_int_equal(cf_jobq_events(queue), 5);
    assert_int_equal(cf_jobq_bytes(queue), 5 * 8);
    cf_jobq_push_front(queue, job);                 /* a redelivered job goes first */
    assert_int_equal(cf_jobq_events(queue), 8);
    assert_int_equal(cf_jobq_bytes(queue), 8 * 8);
    job = cf_jobq_pop(queue);
    assert_int_equal(job->id, 1);
    cf_job_destroy(&job);
    assert_null(job);
    job = cf_jobq_pop(queue);
    assert_int_equal(job->id, 2);
    assert_null(cf_jobq_pop(queue));
    assert_int_equal(cf_jobq_jobs(queue), 0);
    cf_jobq_push_front(queue, job);                 /* front of an empty queue */
    cf_jobq_push(queue, job_with(3, 1));
    assert_int_equal(cf_jobq_pop(queue)->id, 2);
    cf_job_destroy(&job);
    cf_jobq_destroy(&queue);                        /* frees job 3 */
    assert_null(queue);
    cf_jobq_destroy(&queue);                        /* NULL is fine */
}

/* The queue's age is its head's: when the next job to go came in. */
static void test_head_received(void **state)
{
    (void) state;
    cf_jobq_t *queue = cf_jobq_new();
    assert_int_equal(cf_jobq_head_received(queue), -1);
    cf_job_t *first = job_with(1, 1), *second = job_with(2, 1);
    first->received_at = 1000, second->received_at = 2000;
    cf_jobq_push(queue, first);
    cf_jobq_push(queue, second);
    assert_int_equal(cf_jobq_head_received(queue), 1000);
    cf_job_t *job = cf_jobq_pop(queue);
    assert_int_equal(cf_jobq_head_received(queue), 2000);
    cf_jobq_push_front(queue, job);                 /* redelivered: the head again */
    assert_int_equal(cf_jobq_head_received(queue), 1000);
    cf_job_t *fresh = job_with(3, 1);
    assert_true(fresh->received_at > 0);            /* made now (cf_clock_ms) */
    cf_job_destroy(&fresh);
    cf_jobq_destroy(&queue);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_fifo_and_counts),
                                        cmocka_unit_test(test_head_received) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
