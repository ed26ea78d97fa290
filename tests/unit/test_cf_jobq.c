/*  Tests of cf_jobq: FIFO order, requeue at the front, event accounting.    */
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

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_fifo_and_counts) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
