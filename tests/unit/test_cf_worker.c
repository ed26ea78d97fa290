/*  Tests of cf_worker against a throw-away redis-server and a fake broker
    (a ROUTER in the test): a round of overdue alerts is fired a shard at a
    time, with the jobs that come meanwhile answered between its steps
    rather than after it (a round of many alerts used to hold every job of
    the worker up for as long as it took: the ~100 ms stalls of the open
    loop, docs/performance.md), and the round still fires every shard. A
    worker given two brokers (two ROUTERs) registers with each, answers each
    job to the broker it came from, and reconnects to a broker that falls
    silent while it keeps the other's connection.                           */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_keys.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_worker.h"
#include "cf_test_frames.h"
#include "cf_test_ports.h"
#include "cf_test_redis.h"

#define SHARDS      1024        /* the most: a round of them all takes a while */
#define DUE_EACH    100         /* members per shard, all due: one step each */
#define WAIT_MS     20000       /* the most a test waits for anything */

typedef struct {
    cf_test_redis_t *redis;
    redisContext *raw;
    char key_path[64], endpoint[64];
    void *ctx, *router;
    cf_multipart_t *parts;
    cf_worker_t *worker;
    cf_metrics_t *metrics;          /* the worker's series */
    pthread_t thread;
    volatile sig_atomic_t stop;
    bool running;
} fixture_t;

static void *worker_thread(void *arg)
{
    fixture_t *f = arg;
    cf_worker_run(f->worker, &f->stop);
    return NULL;
}

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec) { ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

/* Every shard's due set holds DUE_EACH members due long ago, of no case
   (each one is only removed when fired: the cheapest step there is). */
static void fill_due(fixture_t *f)
{
    for (unsigned s = 0; s < SHARDS; s++) {
        char key[CF_KEYS_MAX];
        cf_keys_fixed(key, sizeof key, s, CF_KEYS_DUE);
        for (int i = 0; i < DUE_EACH; i++)
            redisAppendCommand(f->raw, "ZADD %s 1 gone-%d", key, i);
    }
    for (unsigned n = 0; n < SHARDS * DUE_EACH; n++) {
        redisReply *reply = NULL;
        assert_int_equal(redisGetReply(f->raw, (void **) &reply), REDIS_OK);
        freeReplyObject(reply);
    }
}

static long long raw_integer(fixture_t *f, const char *fmt, unsigned shard)
{
    char key[CF_KEYS_MAX];
    cf_keys_fixed(key, sizeof key, shard, CF_KEYS_DUE);
    redisReply *reply = redisCommand(f->raw, fmt, key);
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
    long long n = reply->integer;
    freeReplyObject(reply);
    return n;
}

static bool due_left(fixture_t *f, unsigned shard)
{
    return raw_integer(f, "EXISTS %s", shard) > 0;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->key_path, sizeof f->key_path, "/tmp/cf_worker_test_%d.key", (int) getpid());
    FILE *file = fopen(f->key_path, "w");
    fputs("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", file);
    fclose(file);
    f->redis = cf_test_redis_start();
    if (!f->redis)
        return -1;
    f->raw = redisConnect("127.0.0.1", cf_test_redis_port(f->redis));
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof linger);
    snprintf(f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", cf_test_free_port());
    if (!f->raw || f->raw->err || zmq_bind(f->router, f->endpoint) < 0)
        return -1;
    f->parts = cf_multipart_new(CF_MSG_MAX_DONE_PARTS);
    f->metrics = cf_metrics_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    f->stop = 1;
    if (f->running)
        pthread_join(f->thread, NULL);
    cf_worker_destroy(&f->worker);
    cf_metrics_destroy(&f->metrics);
    cf_multipart_destroy(&f->parts);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    if (f->raw)
        redisFree(f->raw);
    cf_test_redis_stop(&f->redis);
    unlink(f->key_path);
    free(f);
    return 0;
}

/* The next message from the worker (cf_multipart_recv does not wait). */
static void recv_parts(fixture_t *f)
{
    zmq_pollitem_t item = { f->router, 0, ZMQ_POLLIN, 0 };
    assert_int_equal(zmq_poll(&item, 1, WAIT_MS), 1);      /* else: timed out */
    assert_int_equal(cf_multipart_recv(f->parts, f->router), 0);
}

/* Starts the worker on brokers (endpoints, comma-separated), and takes its
   READY at the fixture's broker: the worker's identity into id. */
static size_t start_worker_on(fixture_t *f, const char *brokers, int liveness_ms,
                              unsigned credit, char *id, size_t size)
{
    cf_worker_config_t config = { .broker_endpoint = brokers, .redis_host = "127.0.0.1",
                                  .redis_port = cf_test_redis_port(f->redis),
                                  .key_file = f->key_path, .script_dir = CF_SOURCE_DIR "/lua",
                                  .shards = SHARDS, .heartbeat_ms = liveness_ms / 4,
                                  .liveness_ms = liveness_ms, .credit = credit,
                                  .metrics = f->metrics };
    char err[256];
    f->worker = cf_worker_new(&config, err, sizeof err);
    if (!f->worker)
        fail_msg("%s", err);
    assert_int_equal(pthread_create(&f->thread, NULL, worker_thread, f), 0);
    f->running = true;
    recv_parts(f);
    assert_int_equal(cf_msg_worker_command(f->parts), CF_MSG_READY);
    size_t len = cf_multipart_len(f->parts, 0);
    assert_true(len <= size);
    memcpy(id, cf_multipart_data(f->parts, 0), len);
    return len;
}

static size_t start_worker(fixture_t *f, char *id, size_t size)
{
    return start_worker_on(f, f->endpoint, 0, 0, id, size);
}

/* Sends job job_id of one event, the frame data (its request job_id). */
static void send_frame(fixture_t *f, const char *id, size_t id_len, uint64_t job_id,
                       const void *data, size_t size)
{
    zmq_msg_t event;
    zmq_msg_init_size(&event, size);
    memcpy(zmq_msg_data(&event), data, size);
    uint64_t request = job_id;
    assert_int_equal(cf_msg_send_job(f->router, 0, id, id_len, false, job_id, &request, NULL, 0,
                                     &event, 1), 0);
    zmq_msg_close(&event);
}

/* Sends job job_id (one event that does not decode: acked rejected). */
static void send_job(fixture_t *f, const char *id, size_t id_len, uint64_t job_id)
{
    send_frame(f, id, id_len, job_id, "bad", 3);
}

/* Waits for the DONE of job_id, past heartbeats. */
static void wait_done(fixture_t *f, uint64_t job_id)
{
    for (;;) {
        recv_parts(f);
        uint64_t done = 0;
        if (cf_msg_worker_command(f->parts) == CF_MSG_DONE
            && cf_msg_parse_done(f->parts, &done) == 0 && done == job_id)
            return;
    }
}

static void test_jobs_run_between_alert_steps(void **state)
{
    fixture_t *f = *state;
    fill_due(f);
    char id[256];
    size_t id_len = start_worker(f, id, sizeof id);
    /* the round has begun once shard 0's alerts are gone */
    int waited = 0;
    for (; due_left(f, 0) && waited < WAIT_MS; waited++)
        sleep_ms(1);
    assert_false(due_left(f, 0));
    send_job(f, id, id_len, 7);
    wait_done(f, 7);
    /* answered in the middle of the round, not after its last shard */
    assert_true(due_left(f, SHARDS - 1));
    /* and the round goes on to fire every shard's */
    for (waited = 0; due_left(f, SHARDS - 1) && waited < WAIT_MS; waited += 10)
        sleep_ms(10);
    for (unsigned s = 0; s < SHARDS; s++)
        assert_int_equal(raw_integer(f, "ZCARD %s", s), 0);
}

/* The next message at router within ms: its command, the sender into id
   (*id_len), the DONE's job into *job; -1 when none came. */
static int recv_at(fixture_t *f, void *router, int ms, char *id, size_t *id_len, uint64_t *job)
{
    zmq_pollitem_t item = { router, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, ms) != 1 || cf_multipart_recv(f->parts, router) < 0)
        return -1;
    *id_len = cf_multipart_len(f->parts, 0);
    memcpy(id, cf_multipart_data(f->parts, 0), *id_len);
    int command = cf_msg_worker_command(f->parts);
    if (command == CF_MSG_DONE)
        cf_msg_parse_done(f->parts, job);
    return command;
}

/* Waits at router for the DONE of job_id, past heartbeats; the sender's
   identity must be id. */
static void wait_done_at(fixture_t *f, void *router, const char *id, size_t id_len,
                         uint64_t job_id)
{
    char from[256];
    size_t from_len;
    uint64_t done = 0;
    int command;
    while ((command = recv_at(f, router, WAIT_MS, from, &from_len, &done)) >= 0)
        if (command == CF_MSG_DONE && done == job_id) {
            assert_memory_equal(from, id, id_len);
            return;
        }
    fail_msg("no DONE for job %llu", (unsigned long long) job_id);
}

static void test_two_brokers(void **state)
{
    fixture_t *f = *state;
    void *other = zmq_socket(f->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(other, ZMQ_LINGER, &linger, sizeof linger);
    char endpoint[64], brokers[160], id[256], id2[256], from[256];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", cf_test_free_port());
    assert_int_equal(zmq_bind(other, endpoint), 0);
    snprintf(brokers, sizeof brokers, "%s, %s", f->endpoint, endpoint);
    size_t id_len = start_worker_on(f, brokers, 1500, 0, id, sizeof id), id2_len = 0, from_len;
    uint64_t job = 0;
    assert_int_equal(recv_at(f, other, WAIT_MS, id2, &id2_len, &job), CF_MSG_READY);
    /* each job is answered to the broker it came from */
    zmq_msg_t event;
    zmq_msg_init_size(&event, 3);
    memcpy(zmq_msg_data(&event), "bad", 3);
    uint64_t request = 21;
    assert_int_equal(cf_msg_send_job(other, 0, id2, id2_len, false, 21, &request, NULL, 0,
                                     &event, 1), 0);
    wait_done_at(f, other, id2, id2_len, 21);
    send_job(f, id, id_len, 22);
    wait_done(f, 22);
    /* the first broker falls silent; the second heartbeats: the worker
       registers again with the first only, and still answers the second
       on the same connection */
    bool again = false;
    for (int waited = 0; !again && waited < WAIT_MS; waited += 100) {
        cf_msg_send_heartbeat(other, 0, id2, id2_len);
        int command;
        while ((command = recv_at(f, other, 0, from, &from_len, &job)) >= 0)
            assert_int_not_equal(command, CF_MSG_READY);
        command = recv_at(f, f->router, 100, from, &from_len, &job);
        again = command == CF_MSG_READY;
    }
    assert_true(again);
    assert_false(from_len == id_len && memcmp(from, id, id_len) == 0);  /* a new identity */
    request = 23;
    assert_int_equal(cf_msg_send_job(other, 0, id2, id2_len, false, 23, &request, NULL, 0,
                                     &event, 1), 0);
    wait_done_at(f, other, id2, id2_len, 23);
    zmq_msg_close(&event);
    f->stop = 1;
    pthread_join(f->thread, NULL);
    f->running = false;
    zmq_close(other);
}

/* Sends job job_id: one case.registered, event_id "ev-<job_id>", of a case
   of its own. */
static void send_registration(fixture_t *f, const char *id, size_t id_len, uint64_t job_id)
{
    char event_id[32], ref[32];
    snprintf(event_id, sizeof event_id, "ev-%llu", (unsigned long long) job_id);
    snprintf(ref, sizeof ref, "REF-%llu", (unsigned long long) job_id);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    cf_test_pack_registration(&sbuf, event_id, ref);
    send_frame(f, id, id_len, job_id, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
}

/* The DONE just received (wait_done) holds one ack: status, of job_id's
   event. */
static void expect_ack(fixture_t *f, uint64_t job_id, cf_ack_status_t status)
{
    char event_id[32];
    int len = snprintf(event_id, sizeof event_id, "ev-%llu", (unsigned long long) job_id);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t acks[2];
    assert_int_equal(cf_msg_unpack_acks(&result, cf_multipart_data(f->parts, 4),
                                        cf_multipart_len(f->parts, 4), acks, 2), 1);
    assert_int_equal(acks[0].status, status);
    assert_int_equal(acks[0].event_id_len, (size_t) len);
    assert_memory_equal(acks[0].event_id, event_id, (size_t) len);
    msgpack_unpacked_destroy(&result);
}

/* The transactions Redis has run (INFO commandstats, EXEC's calls). */
static long long exec_calls(fixture_t *f)
{
    redisReply *reply = redisCommand(f->raw, "INFO commandstats");
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_STRING);
    const char *at = strstr(reply->str, "cmdstat_exec:calls=");
    long long calls = at ? atoll(at + strlen("cmdstat_exec:calls=")) : 0;
    freeReplyObject(reply);
    return calls;
}

static void test_jobs_run_together(void **state)
{
    fixture_t *f = *state;
    char id[256];
    size_t id_len = start_worker_on(f, f->endpoint, 0, 4, id, sizeof id);
    send_registration(f, id, id_len, 1);
    wait_done(f, 1);
    expect_ack(f, 1, CF_ACK_ACCEPTED);
    long long before = exec_calls(f);
    /* Redis held still: the worker's first job waits on it, and the next
       ones come meanwhile */
    freeReplyObject(redisCommand(f->raw, "CLIENT PAUSE 300 ALL"));
    for (uint64_t job = 2; job <= 5; job++)
        send_registration(f, id, id_len, job);
    for (uint64_t job = 2; job <= 5; job++) {
        wait_done(f, job);
        expect_ack(f, job, CF_ACK_ACCEPTED);
    }
    /* one commit for the first job at most, one for the three that came
       while it waited (four, one per job, when each runs alone) */
    long long commits = exec_calls(f) - before;
    assert_true(commits >= 1 && commits <= 2);
}

/* A run of jobs Redis refuses (a key of another type on the shard of one
   job's event): each job is then run alone, so that only that job's event
   is tried event by event and set aside; the others are acked accepted. */
/* The value of the worker's series (its name and labels, as rendered),
   once it is `want` or 2 s passed: the worker counts a job answered just
   after its DONE is sent, which the test may see first. */
static long long series_value(fixture_t *f, const char *series, long long want)
{
    long long value = -1;
    for (int waited = 0; value != want && waited <= 2000; waited += 10) {
        size_t len;
        char *text = cf_metrics_render(f->metrics, &len);
        const char *at = strstr(text, series);
        value = at ? atoll(at + strlen(series)) : -1;
        free(text);
        if (value != want)
            sleep_ms(10);
    }
    return value;
}

static void test_refused_run_split(void **state)
{
    fixture_t *f = *state;
    char id[256], key[CF_KEYS_MAX];
    size_t id_len = start_worker_on(f, f->endpoint, 0, 4, id, sizeof id);
    send_registration(f, id, id_len, 1);
    wait_done(f, 1);
    unsigned bad = cf_shard_pick(cf_shard_hash("REF-3", 5), SHARDS);
    cf_keys_fixed(key, sizeof key, bad, CF_FAMILY_STAGE);
    freeReplyObject(redisCommand(f->raw, "SET %s wrong", key));
    freeReplyObject(redisCommand(f->raw, "CLIENT PAUSE 300 ALL"));
    for (uint64_t job = 2; job <= 4; job++)
        send_registration(f, id, id_len, job);
    for (uint64_t job = 2; job <= 4; job++) {
        wait_done(f, job);
        expect_ack(f, job, job == 3 ? CF_ACK_REJECTED : CF_ACK_ACCEPTED);
    }
    /* only job 3 went event by event */
    assert_int_equal(series_value(f, "caseflow_worker_jobs_total{run=\"careful\"} ", 1), 1);
    assert_int_equal(series_value(f, "caseflow_worker_jobs_total{run=\"batch\"} ", 3), 3);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jobs_run_between_alert_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_brokers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_run_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_run_split, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
