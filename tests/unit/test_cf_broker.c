/*  Tests of cf_broker over real ZeroMQ sockets on loopback: envelope errors,
    busy when the queue is full or a producer holds its share of it (per
    producer: another one still gets in), dispatch by credit, ACK forwarding, fan-out
    with per-topic sequence numbers, redelivery when a worker falls silent,
    and that a late DONE from the lost worker is not forwarded twice; a
    worker's notification other than a reject is not published. The
    broker runs in a thread; the test plays producer, workers and subscriber. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "caseflow/cf_broker.h"
#include "caseflow/cf_msg.h"
#include "cf_test_ports.h"

#define TIMEOUT_MS 3000

typedef struct {
    cf_broker_t *broker;
    volatile sig_atomic_t stop;
    volatile int finished;          /* cf_broker_run returned */
    pthread_t thread;
    void *ctx;
    char intake[64], workers[64], publish[64];
    void *sockets[8];               /* closed by teardown, even after a failure */
    int socket_count;
} fixture_t;

static size_t s_producer_bytes;     /* the fixture's producer_bytes (0: the default) */

typedef struct {
    zmq_msg_t parts[16];
    int count;
} message_t;

static void *run_broker(void *arg)
{
    fixture_t *f = arg;
    cf_broker_run(f->broker, &f->stop);
    f->finished = 1;
    return NULL;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    cf_test_free_endpoint(f->intake, sizeof f->intake);
    cf_test_free_endpoint(f->workers, sizeof f->workers);
    cf_test_free_endpoint(f->publish, sizeof f->publish);
    /* Redis on port 1: nothing there, the outbox reader just retries */
    cf_broker_config_t config = { f->intake, f->workers, f->publish, 5, 100, 400, "127.0.0.1", 1,
                                  0, CF_SOURCE_DIR "/lua", NULL, NULL, .plain = true,
                                  .queue_bytes = 100, .producer_bytes = s_producer_bytes,
                                  .redo_events = 2 };
    /* at most 100 bytes queued: a larger PUSH is busy; a REDO of at most 2 events */
    char err[256];
    f->broker = cf_broker_new(&config, err, sizeof err);
    if (!f->broker)
        return -1;
    pthread_create(&f->thread, NULL, run_broker, f);
    f->ctx = zmq_ctx_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    f->stop = 1;
    pthread_join(f->thread, NULL);
    for (int i = 0; i < f->socket_count; i++)
        zmq_close(f->sockets[i]);
    cf_broker_destroy(&f->broker);
    zmq_ctx_term(f->ctx);
    free(f);
    return 0;
}

static void *open_socket(fixture_t *f, int type, const char *endpoint)
{
    void *socket = zmq_socket(f->ctx, type);
    int linger = 0, timeout = TIMEOUT_MS;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    assert_int_equal(zmq_connect(socket, endpoint), 0);
    f->sockets[f->socket_count++] = socket;
    return socket;
}

/* Sends the NULL-terminated list of string frames; "#" + 8 bytes sends a job id. */
static void send_strings(void *socket, ...)
{
    va_list args;
    va_start(args, socket);
    const char *frame = va_arg(args, const char *);
    while (frame) {
        const char *next = va_arg(args, const char *);
        zmq_send(socket, frame, strlen(frame), next ? ZMQ_SNDMORE : 0);
        frame = next;
    }
    va_end(args);
}

/* Receives a whole message; count is 0 after a timeout. */
static void receive(void *socket, message_t *m)
{
    m->count = 0;
    int more = 1;
    while (more && m->count < 16) {
        zmq_msg_init(&m->parts[m->count]);
        if (zmq_msg_recv(&m->parts[m->count], socket, 0) < 0) {
            zmq_msg_close(&m->parts[m->count]);
            return;
        }
        more = zmq_msg_more(&m->parts[m->count++]);
    }
}

static void release(message_t *m);
static int part_is(message_t *m, int i, const char *text);

/* m is an ACK of one event with status and reason. */
static void expect_one_ack(message_t *m, cf_ack_status_t status, const char *reason)
{
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t ack;
    assert_int_equal(cf_msg_unpack_acks(&result, zmq_msg_data(&m->parts[3]),
                                        zmq_msg_size(&m->parts[3]), &ack, 1), 1);
    assert_int_equal(ack.status, status);
    assert_true(ack.reason_len == strlen(reason)
                && memcmp(ack.reason, reason, ack.reason_len) == 0);
    msgpack_unpacked_destroy(&result);
}

/* Receives the next message that is not a HEARTBEAT (a worker's view),
   sending heartbeats meanwhile as a live worker does. */
static void receive_work(void *socket, message_t *m)
{
    for (int waited = 0; waited < TIMEOUT_MS; waited += 50) {
        cf_msg_send_heartbeat(socket, 0, NULL, 0);
        zmq_pollitem_t item = { socket, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 50) < 1)
            continue;
        receive(socket, m);
        if (!part_is(m, 1, "HEARTBEAT"))
            return;
        release(m);
    }
    m->count = 0;
}

static void release(message_t *m)
{
    for (int i = 0; i < m->count; i++)
        zmq_msg_close(&m->parts[i]);
    m->count = 0;
}

static int part_is(message_t *m, int i, const char *text)
{
    return i < m->count && zmq_msg_size(&m->parts[i]) == strlen(text)
        && memcmp(zmq_msg_data(&m->parts[i]), text, strlen(text)) == 0;
}

static int part_starts(message_t *m, int i, const char *text)
{
    return i < m->count && zmq_msg_size(&m->parts[i]) >= strlen(text)
        && memcmp(zmq_msg_data(&m->parts[i]), text, strlen(text)) == 0;
}

static void send_ready(void *worker)
{
    cf_msg_ready_t ready = { .credit = 1, .pid = 42, .host = "test" };
    cf_msg_send_ready(worker, 0, &ready);
}

/* The one notification of a DONE: topic (arg), {"stage": "departed"}. */
static void done_notice(const void *arg, size_t index, const char **topic, size_t *topic_len,
                        const char **body, size_t *body_len)
{
    (void) index;
    static const char stage[] = "\x81\xa5stage\xa8" "departed";
    *topic = arg;
    *topic_len = strlen(arg);
    *body = stage;
    *body_len = sizeof stage - 1;
}

/* DONE for the job in m (a JOB message), every event acked status (busy:
   with reason), with one notification. */
static void send_done_as(void *worker, message_t *job, cf_ack_status_t status,
                         const char *reason, const char *topic)
{
    uint64_t job_id;
    assert_int_equal(zmq_msg_size(&job->parts[2]), sizeof job_id);
    memcpy(&job_id, zmq_msg_data(&job->parts[2]), sizeof job_id);
    size_t n = (size_t) job->count - CF_MSG_JOB_FIRST_EVENT;
    cf_ack_t acks[8];
    for (size_t i = 0; i < n; i++)
        acks[i] = (cf_ack_t) { status, "id", 2, reason, reason ? strlen(reason) : 0 };
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    cf_msg_pack_acks(&sbuf, acks, n);
    cf_msg_send_done(worker, 0, job_id, sbuf.data, sbuf.size, 1, done_notice, topic);
    msgpack_sbuffer_destroy(&sbuf);
}

static void send_done(void *worker, message_t *job, const char *topic)
{
    send_done_as(worker, job, CF_ACK_ACCEPTED, NULL, topic);
}

/* The ACK m answers every one of n events accepted. */
static void expect_accepted(message_t *m, size_t n)
{
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t acks[8];
    assert_int_equal(cf_msg_unpack_acks(&result, zmq_msg_data(&m->parts[3]),
                                        zmq_msg_size(&m->parts[3]), acks, 8), (int) n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(acks[i].status, CF_ACK_ACCEPTED);
    msgpack_unpacked_destroy(&result);
}

/* The producer's next message is the ACK of request, all n events accepted. */
static void receive_accepted(void *producer, const char *request, size_t n)
{
    message_t m;
    receive(producer, &m);
    assert_true(part_is(&m, 1, "ACK") && part_is(&m, 2, request));
    expect_accepted(&m, n);
    release(&m);
}

static void test_envelope_errors(void **state)
{
    fixture_t *f = *state;
    void *producer = open_socket(f, ZMQ_DEALER, f->intake);
    message_t m;
    send_strings(producer, "XX01", "PUSH", "r1", "event", NULL);
    receive(producer, &m);
    assert_true(part_is(&m, 1, "ERROR") && part_starts(&m, 3, "signature:"));
    release(&m);
    send_strings(producer, "CF01", "FETCH", "r1", "event", NULL);
    receive(producer, &m);
    assert_true(part_is(&m, 1, "ERROR") && part_starts(&m, 3, "command:"));
    release(&m);
    send_strings(producer, "CF01", "PUSH", "r1", NULL);
    receive(producer, &m);
    assert_true(part_is(&m, 1, "ERROR") && part_is(&m, 2, "r1") && part_starts(&m, 3, "events:"));
    release(&m);
    char big[201];          /* over the fixture's 100 bytes of queue: busy, naming the bound */
    memset(big, 'x', 200);
    big[200] = '\0';
    send_strings(producer, "CF01", "PUSH", "r5", big, NULL);
    receive(producer, &m);
    assert_true(part_is(&m, 1, "ACK") && part_is(&m, 2, "r5"));
    expect_one_ack(&m, CF_ACK_BUSY, "queue: broker queue is full (100 bytes)");
    release(&m);
}

/* A share of 60 bytes per producer, no worker: what is pushed stays held. */
static int setup_share(void **state)
{
    s_producer_bytes = 60;
    int rc = setup(state);
    s_producer_bytes = 0;
    return rc;
}

/* Nothing comes back within 300 ms: the request was queued (busy or ERROR
   are answered at once). */
static void expect_no_reply(void *socket)
{
    zmq_pollitem_t item = { socket, 0, ZMQ_POLLIN, 0 };
    assert_int_equal(zmq_poll(&item, 1, 300), 0);
}

/* One event of size bytes pushed by producer as request rid: its ACK. */
static void push_event(void *producer, const char *rid, size_t size, message_t *m)
{
    char event[64];
    assert_true(size < sizeof event);
    memset(event, 'x', size);
    event[size] = '\0';
    send_strings(producer, "CF01", "PUSH", rid, event, NULL);
    receive(producer, m);
    assert_true(part_is(m, 1, "ACK") && part_is(m, 2, rid));
}

static void test_producer_share(void **state)
{
    fixture_t *f = *state;
    void *first = open_socket(f, ZMQ_DEALER, f->intake);
    void *second = open_socket(f, ZMQ_DEALER, f->intake);
    message_t m;
    /* queued: the ACK comes only from a worker, so none comes back */
    send_strings(first, "CF01", "PUSH", "a1", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                 NULL);
    expect_no_reply(first);
    /* 50 + 20 would pass the queue's 100 bytes, not the first producer's 60 */
    push_event(first, "a2", 20, &m);
    expect_one_ack(&m, CF_ACK_BUSY, "queue: this producer's share is full (60 bytes), "
                   "send again later");
    release(&m);
    /* another producer (plain: another connection) has a share of its own */
    send_strings(second, "CF01", "PUSH", "b1", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL);
    expect_no_reply(second);
}

static void test_dispatch_ack_publish_and_redelivery(void **state)
{
    fixture_t *f = *state;
    void *producer = open_socket(f, ZMQ_DEALER, f->intake);
    void *subscriber = open_socket(f, ZMQ_SUB, f->publish);
    zmq_setsockopt(subscriber, ZMQ_SUBSCRIBE, "", 0);
    message_t m, job;

    /* No worker yet: 3 events wait; 3 more would pass the limit of 5. */
    send_strings(producer, "CF01", "PUSH", "r2", "e1", "e2", "e3", NULL);
    send_strings(producer, "CF01", "PUSH", "r3", "e4", "e5", "e6", NULL);
    receive(producer, &m);
    assert_true(part_is(&m, 1, "ACK") && part_is(&m, 2, "r3"));
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t acks[3];
    assert_int_equal(cf_msg_unpack_acks(&result, zmq_msg_data(&m.parts[3]),
                                          zmq_msg_size(&m.parts[3]), acks, 3), 3);
    assert_int_equal(acks[2].status, CF_ACK_BUSY);
    assert_true(acks[2].reason_len > 0 && memcmp(acks[2].reason, "queue:", 6) == 0);
    msgpack_unpacked_destroy(&result);
    release(&m);

    /* A worker joins and gets the waiting job, events as the producer sent them. */
    void *worker = open_socket(f, ZMQ_DEALER, f->workers);
    send_ready(worker);
    receive_work(worker, &job);
    assert_int_equal(job.count, CF_MSG_JOB_FIRST_EVENT + 3);
    assert_true(part_is(&job, 1, "JOB") && part_is(&job, CF_MSG_JOB_FIRST_EVENT, "e1")
                && part_is(&job, CF_MSG_JOB_FIRST_EVENT + 2, "e3"));
    usleep(200 * 1000);                 /* let the subscription reach the broker */
    send_done(worker, &job, "reject");
    release(&job);
    receive_accepted(producer, "r2", 3);
    receive(subscriber, &m);
    assert_true(part_is(&m, 0, "reject"));
    release(&m);

    /* The worker takes a job, then falls silent: a second worker gets it. */
    send_strings(producer, "CF01", "PUSH", "r4", "e7", NULL);
    do {                                /* skip heartbeats, and send none from now on */
        release(&job);
        receive(worker, &job);
    } while (part_is(&job, 1, "HEARTBEAT"));
    assert_true(part_is(&job, 1, "JOB") && part_is(&job, CF_MSG_JOB_FIRST_EVENT, "e7"));
    void *second = open_socket(f, ZMQ_DEALER, f->workers);
    send_ready(second);
    message_t again;
    receive_work(second, &again);            /* after the 400 ms liveness */
    assert_true(part_is(&again, 1, "REDO")
                && part_is(&again, CF_MSG_JOB_FIRST_EVENT, "e7"));     /* event by event */
    send_done_as(worker, &job, CF_ACK_DUPLICATE, NULL, "case.P.arrived");  /* lost: ignored */
    send_done(second, &again, "case.P.arrived");
    receive(producer, &m);
    assert_true(part_is(&m, 2, "r4"));
    expect_accepted(&m, 1);
    release(&m);
    receive(producer, &m);
    assert_int_equal(m.count, 0);       /* exactly one ACK per request */
    receive(subscriber, &m);
    assert_int_equal(m.count, 0);       /* a worker publishes no case.*: only the outboxes do */
    release(&job);
    release(&again);
}

/* Heartbeats from worker for ms milliseconds, as a live worker does. */
static void keep_alive(void *worker, int ms)
{
    for (int waited = 0; waited < ms; waited += 50) {
        cf_msg_send_heartbeat(worker, 0, NULL, 0);
        usleep(50 * 1000);
    }
}

static void test_graceful_stop(void **state)
{
    fixture_t *f = *state;
    void *producer = open_socket(f, ZMQ_DEALER, f->intake);
    void *worker = open_socket(f, ZMQ_DEALER, f->workers);
    message_t m, job;
    send_ready(worker);
    send_strings(producer, "CF01", "PUSH", "r1", "e1", NULL);
    receive_work(worker, &job);
    assert_true(part_is(&job, 1, "JOB"));
    f->stop = 1;                        /* as SIGTERM does */
    keep_alive(worker, 600);            /* the loop looks at the flag twice a second */
    assert_false(f->finished);          /* it waits for the job the worker holds */

    send_strings(producer, "CF01", "PUSH", "r2", "e2", NULL);
    receive(producer, &m);
    assert_true(part_is(&m, 2, "r2"));
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t acks[1];
    assert_int_equal(cf_msg_unpack_acks(&result, zmq_msg_data(&m.parts[3]),
                                          zmq_msg_size(&m.parts[3]), acks, 1), 1);
    assert_int_equal(acks[0].status, CF_ACK_BUSY);
    assert_memory_equal(acks[0].reason, "broker: shutting down", 21);
    msgpack_unpacked_destroy(&result);
    release(&m);

    keep_alive(worker, 200);
    send_done(worker, &job, "case.P.departed");
    release(&job);
    receive(producer, &m);
    assert_true(part_is(&m, 2, "r1"));
    expect_accepted(&m, 1);
    release(&m);
    for (int waited = 0; !f->finished && waited < 2000; waited += 20)
        usleep(20 * 1000);
    assert_true(f->finished);           /* nothing left: it stopped by itself */
}

/* A part whose commit a fence refused comes back acked busy "fenced:": the
   broker routes it again (to the shard's owner, here the same worker) and
   the producer never sees that busy; the request is answered once. */
static void test_fenced_part_routed_again(void **state)
{
    fixture_t *f = *state;
    void *producer = open_socket(f, ZMQ_DEALER, f->intake);
    void *worker = open_socket(f, ZMQ_DEALER, f->workers);
    message_t m, job;
    send_ready(worker);
    send_strings(producer, "CF01", "PUSH", "f1", "e1", "e2", NULL);
    receive_work(worker, &job);
    assert_true(part_is(&job, 1, "JOB"));
    send_done_as(worker, &job, CF_ACK_BUSY, CF_MSG_FENCED_REASON, "reject");
    release(&job);
    receive_work(worker, &job);
    assert_true(part_is(&job, 1, "JOB") && part_is(&job, CF_MSG_JOB_FIRST_EVENT, "e1")
                && part_is(&job, CF_MSG_JOB_FIRST_EVENT + 1, "e2"));
    uint64_t first, second;
    memcpy(&first, zmq_msg_data(&job.parts[3]), sizeof first);   /* the request's id */
    send_done(worker, &job, "reject");
    release(&job);
    receive_accepted(producer, "f1", 2);
    send_strings(producer, "CF01", "PUSH", "f2", "e3", NULL);
    receive_work(worker, &job);
    assert_true(part_is(&job, 1, "JOB"));
    memcpy(&second, zmq_msg_data(&job.parts[3]), sizeof second);
    assert_true(first != second);       /* another request, another tag */
    send_done(worker, &job, "reject");
    release(&job);
    receive(producer, &m);
    assert_true(part_is(&m, 2, "f2"));  /* the next reply is f2's: f1 had exactly one ACK */
    release(&m);
}

/* Parts waiting for a worker's credit go out bundled in one job (docs/
   protocol.md, JOB): each event with its own request's id (8 bytes per
   event), and each request is answered once, with its own acks. */
static void test_parts_bundled(void **state)
{
    fixture_t *f = *state;
    void *producer = open_socket(f, ZMQ_DEALER, f->intake);
    void *worker = open_socket(f, ZMQ_DEALER, f->workers);
    message_t m, job;
    send_ready(worker);                 /* credit 1 */
    send_strings(producer, "CF01", "PUSH", "b1", "e1", NULL);
    receive_work(worker, &job);
    assert_true(part_is(&job, 1, "JOB") && zmq_msg_size(&job.parts[3]) == 8);
    send_strings(producer, "CF01", "PUSH", "b2", "e2", "e3", NULL);
    send_strings(producer, "CF01", "PUSH", "b3", "e4", NULL);
    keep_alive(worker, 300);            /* both wait in the worker's backlog */
    send_done(worker, &job, "reject");
    release(&job);
    receive(producer, &m);
    assert_true(part_is(&m, 2, "b1"));
    release(&m);
    receive_work(worker, &job);
    assert_true(part_is(&job, 1, "JOB") && job.count == CF_MSG_JOB_FIRST_EVENT + 3
                && part_is(&job, CF_MSG_JOB_FIRST_EVENT, "e2")
                && part_is(&job, CF_MSG_JOB_FIRST_EVENT + 2, "e4"));
    uint64_t ids[3];
    assert_int_equal(zmq_msg_size(&job.parts[3]), sizeof ids);
    memcpy(ids, zmq_msg_data(&job.parts[3]), sizeof ids);
    assert_true(ids[0] == ids[1] && ids[1] != ids[2]);
    send_done(worker, &job, "reject");
    release(&job);
    receive_accepted(producer, "b2", 2);
    receive_accepted(producer, "b3", 1);
}

/* The job of a lost worker goes out again as REDO parts of at most
   redo_events (2 here), however large the job was: a REDO runs event by
   event and must end within the liveness. Its request is answered once,
   whole, when its last part is done. */
static void test_redo_in_parts(void **state)
{
    fixture_t *f = *state;
    void *producer = open_socket(f, ZMQ_DEALER, f->intake);
    void *worker = open_socket(f, ZMQ_DEALER, f->workers);
    message_t job, again;
    send_ready(worker);
    send_strings(producer, "CF01", "PUSH", "q1", "e1", "e2", "e3", NULL);
    receive_work(worker, &job);         /* then silent: the broker loses it */
    assert_true(part_is(&job, 1, "JOB") && job.count == CF_MSG_JOB_FIRST_EVENT + 3);
    void *second = open_socket(f, ZMQ_DEALER, f->workers);
    send_ready(second);
    receive_work(second, &again);       /* after the 400 ms liveness */
    assert_true(part_is(&again, 1, "REDO") && again.count == CF_MSG_JOB_FIRST_EVENT + 2
                && part_is(&again, CF_MSG_JOB_FIRST_EVENT, "e1")
                && part_is(&again, CF_MSG_JOB_FIRST_EVENT + 1, "e2"));
    send_done(second, &again, "reject");
    release(&again);
    receive_work(second, &again);
    assert_true(part_is(&again, 1, "REDO") && again.count == CF_MSG_JOB_FIRST_EVENT + 1
                && part_is(&again, CF_MSG_JOB_FIRST_EVENT, "e3"));
    send_done(second, &again, "reject");
    release(&again);
    receive_accepted(producer, "q1", 3);
    release(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_envelope_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producer_share, setup_share, teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_ack_publish_and_redelivery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graceful_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fenced_part_routed_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parts_bundled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redo_in_parts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
