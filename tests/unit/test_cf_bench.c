/*  Tests of cf_bench that need no stack: the report's JSON has the
    per-process CPU figures (per event, in cores over the closed loop and
    its drain, the total, the busiest, null and a reason for what is
    unknown; and the open loop's apart) computed from the CPU seconds, and
    the text report's lines,
    and the ceiling, run against a throw-away redis-server, serves each
    batch as a request of its own, so that its dedupe markers hold a
    request id as the worker's do (the memory per event id it weighs is
    then the live one), and weighs each of its cases with its deadlines,
    leaving other phases' deadlines and alerts alone.                       */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cf_bench_internal.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_loop.h"
#include "cf_bench_stack.h"
#include "cf_test_files.h"
#include "cf_test_redis.h"

static double number(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static json_t *report(cf_bench_t *bench)
{
    char *text = cf_bench_json(bench);
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(o);
    return o;
}

/* The closed loop's processes: a broker and two workers, with this
   process (the producer), measured. */
static cf_bench_cpu_t *three_processes(cf_bench_t *bench)
{
    cf_bench_cpu_t *cpu = cf_bench_processes(bench);
    cf_bench_cpu_add(cpu, "broker", 11);
    cf_bench_cpu_add(cpu, "worker-1", 12);
    cf_bench_cpu_add(cpu, "worker-2", 13);
    cpu->self_s = 0.3, cpu->procs[0].cpu_s = 0.2, cpu->procs[1].cpu_s = 0.4, cpu->procs[2].cpu_s = 0.6;
    cpu->measured = true;
    return cpu;
}

/* The text report (free it). */
static char *printed(const cf_bench_t *bench)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    cf_bench_print(bench, out);
    fclose(out);
    return text;
}

static void test_json_cpu(void **state)
{
    (void) state;
    cf_bench_config_t config = { .intake = "tcp://127.0.0.1:1", .redis_host = "127.0.0.1",
                                 .producers = 1, .batch = 200, .window = 8 };
    cf_bench_t *bench = cf_bench_new(&config);
    json_t *o = report(bench);          /* before any phase: unknown, with a reason */
    assert_true(json_is_null(json_object_get(json_object_get(o, "cpu_us_per_event"), "producer")));
    assert_true(json_is_null(json_object_get(o, "cpu_busiest")));
    assert_true(json_is_string(json_object_get(o, "cpu_unknown")));
    json_decref(o);

    cf_bench_result_t *r = &bench->result;
    /* Redis over the loop and its drain; cores over both (3 s + 1 s) */
    r->events = 100000, r->seconds = 3.0, r->drain_seconds = 1.0;
    r->redis_cpu_s = 3.0, r->redis_cpu_drained_s = 3.5;
    cf_bench_cpu_t *cpu = three_processes(bench);
    o = report(bench);
    json_t *us = json_object_get(o, "cpu_us_per_event"), *cores = json_object_get(o, "cpu_cores");
    assert_true(fabs(number(us, "producer") - 3.0) < 1e-9);
    assert_true(fabs(number(us, "broker") - 2.0) < 1e-9);
    assert_true(fabs(number(us, "redis") - 35.0) < 1e-9);
    assert_true(fabs(number(us, "total") - 50.0) < 1e-9);
    json_t *workers = json_object_get(us, "workers");
    assert_int_equal(json_array_size(workers), 2);
    assert_true(fabs(json_number_value(json_array_get(workers, 1)) - 6.0) < 1e-9);
    assert_true(fabs(number(cores, "redis") - 0.875) < 1e-9);
    assert_true(fabs(number(cores, "total") - 1.25) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(o, "cpu_busiest")), "redis");
    assert_true(json_is_null(json_object_get(o, "cpu_unknown")));
    assert_true(fabs(number(o, "drain_seconds") - 1.0) < 1e-9);
    json_decref(o);
    char *text = printed(bench);
    assert_non_null(strstr(text, "CPU per event (closed loop and 1.00 s of drain): producer 3.0 us "
                                 "(0.07 cores), broker 2.0 us (0.05), worker-1 4.0 us (0.10), "
                                 "worker-2 6.0 us (0.15), redis 35.0 us (0.88); total 50.0 us; "
                                 "busiest redis\n"));
    free(text);

    cpu->procs[2].cpu_s = -1;           /* a worker gone: its figure and the total null */
    o = report(bench);
    us = json_object_get(o, "cpu_us_per_event");
    assert_true(json_is_null(json_array_get(json_object_get(us, "workers"), 1)));
    assert_true(json_is_null(json_object_get(us, "total")));
    json_decref(o);

    cf_bench_cpu_set_unknown(cpu, "no stack directory");
    o = report(bench);                  /* a running stack without pids */
    us = json_object_get(o, "cpu_us_per_event");
    assert_true(fabs(number(us, "producer") - 3.0) < 1e-9);
    assert_true(json_is_null(json_object_get(us, "broker")));
    assert_true(json_is_null(json_object_get(us, "workers")));
    assert_true(json_is_null(json_object_get(us, "total")));
    assert_true(fabs(number(us, "redis") - 35.0) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(o, "cpu_unknown")), "no stack directory");
    json_decref(o);
    cf_bench_destroy(&bench);
}

/* The open loop's CPU apart from the closed loop's: per event of the open
   loop, in cores over its own seconds, the busiest; null when it did not
   run; its own line in the text report. */
static void test_json_open_cpu(void **state)
{
    (void) state;
    cf_bench_config_t config = { .intake = "tcp://127.0.0.1:1", .redis_host = "127.0.0.1",
                                 .producers = 1, .batch = 200, .window = 8, .rate = 0 };
    cf_bench_t *bench = cf_bench_new(&config);
    json_t *o = report(bench);          /* no open loop: null */
    assert_true(json_is_null(json_object_get(o, "open_cpu_us_per_event")));
    assert_true(json_is_null(json_object_get(o, "open_cpu_cores")));
    assert_true(json_is_null(json_object_get(o, "open_cpu_busiest")));
    json_decref(o);
    cf_bench_destroy(&bench);

    config.rate = 20000, config.open_batch = 20;
    bench = cf_bench_new(&config);
    cf_bench_result_t *r = &bench->result;
    r->events = 100000, r->seconds = 1.0, r->redis_cpu_drained_s = 0.5;
    cf_bench_cpu_t *cpu = three_processes(bench);
    /* 40 000 events over 2 s: the workers busiest, then Redis */
    r->open_events = 40000, r->open_cpu_wall_s = 2.0;
    r->open_redis_cpu_s = 0.8, r->open_redis_replicas_cpu_s = 0;
    r->open_cpu = *cpu;
    cpu = &r->open_cpu;
    cpu->self_s = 0.04, cpu->procs[0].cpu_s = 0.2, cpu->procs[1].cpu_s = 0.9, cpu->procs[2].cpu_s = 0.5;
    o = report(bench);
    json_t *us = json_object_get(o, "open_cpu_us_per_event");
    json_t *cores = json_object_get(o, "open_cpu_cores");
    assert_true(fabs(number(us, "producer") - 1.0) < 1e-9);
    assert_true(fabs(number(us, "broker") - 5.0) < 1e-9);
    assert_true(fabs(json_number_value(json_array_get(json_object_get(us, "workers"), 0)) - 22.5)
                < 1e-9);
    assert_true(fabs(number(us, "redis") - 20.0) < 1e-9);
    assert_true(fabs(number(us, "total") - 61.0) < 1e-9);
    assert_true(fabs(number(cores, "redis") - 0.4) < 1e-9);
    assert_true(fabs(number(cores, "total") - 1.22) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(o, "open_cpu_busiest")), "worker-1");
    /* the closed loop's figures are its own */
    assert_true(fabs(number(json_object_get(o, "cpu_us_per_event"), "redis") - 5.0) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(o, "cpu_busiest")), "worker-2");
    json_decref(o);
    char *text = printed(bench);
    assert_non_null(strstr(text, "CPU per event (open loop, 2.00 s): producer 1.0 us (0.02 cores), "
                                 "broker 5.0 us (0.10), worker-1 22.5 us (0.45), worker-2 12.5 us "
                                 "(0.25), redis 20.0 us (0.40); total 61.0 us; busiest worker-1\n"));
    free(text);
    cf_bench_destroy(&bench);
}

/* The value of the last marker of the first HSET of dedupe markers in
   MONITOR's lines (its last argument), into out. */
static int monitor_marker(redisContext *c, char out[64])
{
    redisReply *r;
    while (redisGetReply(c, (void **) &r) == REDIS_OK) {
        const char *set = r->type == REDIS_REPLY_STATUS ? strstr(r->str, "\"HSET\" \"cf:{s") : NULL;
        const char *end = set && strstr(set, ":eid:") ? strrchr(set, '"') : NULL;
        const char *start = end;
        while (start && start > set && start[-1] != '"')
            start--;
        int found = start && end - start < 64;
        if (found)
            snprintf(out, 64, "%.*s", (int) (end - start), start);
        freeReplyObject(r);
        if (found)
            return 0;
    }
    return -1;
}

static void test_ceiling_requests(void **state)
{
    (void) state;
    cf_test_redis_t *redis = cf_test_redis_start();
    assert_non_null(redis);
    const char *key = cf_test_file_write("00112233445566778899aabbccddeeff"
                                         "00112233445566778899aabbccddeeff");
    cf_bench_config_t config = { .intake = "tcp://127.0.0.1:1", .redis_host = "127.0.0.1",
        .redis_port = cf_test_redis_port(redis), .key_file = key,
        .script_dir = cf_bench_scripts(NULL), .events = 60, .producers = 1, .batch = 20,
        .window = 1, .ceiling_threads = 1, .seed = 7 };
    redisContext *monitor = redisConnect("127.0.0.1", config.redis_port);
    assert_true(monitor && !monitor->err);
    redisReply *ok = redisCommand(monitor, "MONITOR");
    assert_non_null(ok);
    freeReplyObject(ok);
    redisContext *raw = redisConnect("127.0.0.1", config.redis_port);
    assert_true(raw && !raw->err);
    /* another phase's deadline and open alert: not the ceiling's to weigh */
    static const char *const others[] = {
        "ZADD cf:{s0}:due 1 ffffffffffffffffffffffffffffffff|detained",
        "HSET cf:{pub}:open ffffffffffffffffffffffffffffffff|detained body" };
    for (size_t i = 0; i < 2; i++) {
        redisReply *reply = redisCommand(raw, others[i]);
        assert_true(reply && reply->type == REDIS_REPLY_INTEGER);
        freeReplyObject(reply);
    }
    /* an operator's clock before the events: their deadlines are not due as
       they are applied, so that they wait in the deadline set to be weighed */
    redisReply *clock = redisCommand(raw, "SET cf:clock 1");
    assert_true(clock && clock->type == REDIS_REPLY_STATUS);
    freeReplyObject(clock);
    cf_bench_t *bench = cf_bench_new(&config);
    assert_int_equal(cf_bench_ceiling(bench), 0);
    const cf_bench_result_t *r = cf_bench_result(bench);
    assert_int_equal(r->ceiling_events, 60);
    assert_int_equal(r->event_ids, 60);         /* each marker found and weighed */
    /* no worker fires them here: the open cases' deadlines are all there,
       weighed with their cases, and only the other phase's are left */
    assert_true(r->open_cases > 0 && r->open_deadlines > 0);
    assert_int_equal(r->open_alerts, 0);
    static const char *const left[] = { "ZCARD cf:{s0}:due", "HLEN cf:{pub}:open", "DBSIZE" };
    long long want[] = { 1, 1, -1 };
    for (size_t i = 0; i < 3; i++) {
        redisReply *reply = redisCommand(raw, left[i]);
        assert_true(reply && reply->type == REDIS_REPLY_INTEGER);
        if (want[i] >= 0)
            assert_int_equal(reply->integer, want[i]);
        freeReplyObject(reply);
    }
    redisReply *cases = redisCommand(raw, "KEYS cf:*:case:*");
    assert_true(cases && cases->type == REDIS_REPLY_ARRAY);
    assert_int_equal(cases->elements, 0);       /* every case weighed */
    freeReplyObject(cases);
    redisFree(raw);
    char marker[64] = "";
    struct timeval tv = { 5, 0 };
    redisSetTimeout(monitor, tv);
    assert_int_equal(monitor_marker(monitor, marker), 0);
    /* a request's tag (1..2^31-1), as the worker's markers hold; not the 0
       of a marker set without a request */
    long long generation, tag;
    assert_int_equal(cf_keys_eid_value_parse(marker, strlen(marker), &generation, &tag), 0);
    assert_true(generation > 0 && tag >= 1 && tag <= 0x7fffffff);
    cf_bench_destroy(&bench);
    redisFree(monitor);
    cf_test_file_remove();
    cf_test_redis_stop(&redis);
}

/* The slow log's commands over a phase, by name in lower case, counted,
   with the longest; its threshold in ms (0: every command is logged); -1
   and none when it is off, or when the bench's user may not read it. */
static void test_slowlog(void **state)
{
    (void) state;
    cf_test_redis_t *redis = cf_test_redis_start();
    assert_non_null(redis);
    cf_bench_config_t config = { .intake = "tcp://127.0.0.1:1", .redis_host = "127.0.0.1",
        .redis_port = cf_test_redis_port(redis), .events = 1, .producers = 1, .batch = 1,
        .window = 1, .seed = 7 };
    redisContext *raw = redisConnect("127.0.0.1", config.redis_port);
    assert_true(raw && !raw->err);
    static const char *const commands[] = { "CONFIG SET slowlog-log-slower-than 0",
                                            "SET a 1", "SET a 2", "HSET b x 1" };
    for (size_t i = 0; i < 4; i++)
        freeReplyObject(redisCommand(raw, commands[i]));
    cf_bench_t *bench = cf_bench_new(&config);
    int64_t now = cf_wall_ms() / 1000;
    cf_bench_latency_t slow[CF_BENCH_MAX_LATENCY];
    size_t count = 99;
    assert_true(cf_bench_slowlog(bench, now - 5, now + 5, slow, &count) == 0);
    unsigned sets = 0, hsets = 0;
    for (size_t i = 0; i < count; i++) {
        sets += strcmp(slow[i].name, "set") == 0 ? slow[i].count : 0;
        hsets += strcmp(slow[i].name, "hset") == 0 ? slow[i].count : 0;
        assert_true(slow[i].max_ms >= 0 && slow[i].max_ms < 1000);
    }
    assert_int_equal(sets, 2);
    assert_int_equal(hsets, 1);
    assert_int_equal(cf_bench_slowlog(bench, now - 100, now - 50, slow, &count), 0);
    assert_int_equal(count, 0);                 /* none in those seconds */
    /* a user that may read the setting but not the log: unknown, not empty */
    freeReplyObject(redisCommand(raw, "ACL SETUSER reader on >pw ~* +@all -slowlog"));
    cf_redis_auth_t *auth = cf_redis_auth_new("reader", "pw");
    cf_bench_config_t as_reader = config;
    as_reader.redis_auth = auth;
    cf_bench_t *reader = cf_bench_new(&as_reader);
    assert_true(cf_bench_slowlog(reader, now - 5, now + 5, slow, &count) < 0);
    assert_int_equal(count, 0);
    cf_bench_destroy(&reader);
    cf_redis_auth_destroy(&auth);
    freeReplyObject(redisCommand(raw, "CONFIG SET slowlog-log-slower-than -1"));
    assert_true(cf_bench_slowlog(bench, now - 5, now + 5, slow, &count) < 0);   /* off */
    assert_int_equal(count, 0);
    cf_bench_destroy(&bench);
    redisFree(raw);
    cf_test_redis_stop(&redis);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_cpu),
        cmocka_unit_test(test_json_open_cpu),
        cmocka_unit_test(test_ceiling_requests),
        cmocka_unit_test(test_slowlog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
