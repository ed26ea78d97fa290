/*  Tests of cf_bench_stats: nearest-rank quantiles with weights,
    mean and max, and reading numbers and command calls out of INFO text
    as redis-server 7 writes it.                                            */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "cf_bench_stats.h"

static void test_quantiles(void **state)
{
    (void) state;
    cf_bench_stats_t *s = cf_bench_stats_new();
    assert_int_equal(cf_bench_stats_quantile(s, 0.5), 0);
    assert_true(cf_bench_stats_mean(s) == 0);
    for (uint64_t v = 1000; v >= 1; v--)            /* 1..1000, added out of order */
        cf_bench_stats_add(s, v, 1);
    assert_int_equal(cf_bench_stats_count(s), 1000);
    assert_int_equal(cf_bench_stats_quantile(s, 0.5), 500);
    assert_int_equal(cf_bench_stats_quantile(s, 0.99), 990);
    assert_int_equal(cf_bench_stats_quantile(s, 0.999), 999);
    assert_int_equal(cf_bench_stats_quantile(s, 1.0), 1000);
    assert_int_equal(cf_bench_stats_quantile(s, 0.0001), 1);
    assert_int_equal(cf_bench_stats_max(s), 1000);
    assert_true(cf_bench_stats_mean(s) == 500.5);
    cf_bench_stats_add(s, 5, 0);                    /* no weight, no sample */
    assert_int_equal(cf_bench_stats_count(s), 1000);
    cf_bench_stats_destroy(&s);
    assert_null(s);
    cf_bench_stats_destroy(&s);
}

static void test_weights(void **state)
{
    (void) state;
    cf_bench_stats_t *a = cf_bench_stats_new();
    cf_bench_stats_add(a, 10, 98);                  /* a request of 98 events at 10 us */
    cf_bench_stats_add(a, 20, 1);
    cf_bench_stats_add(a, 5000, 1);                 /* one slow request of one event */
    assert_int_equal(cf_bench_stats_count(a), 100);
    assert_int_equal(cf_bench_stats_quantile(a, 0.5), 10);
    assert_int_equal(cf_bench_stats_quantile(a, 0.98), 10);
    assert_int_equal(cf_bench_stats_quantile(a, 0.99), 20);
    assert_int_equal(cf_bench_stats_quantile(a, 0.999), 5000);
    assert_true(cf_bench_stats_mean(a) == (980.0 + 20 + 5000) / 100);
    cf_bench_stats_add(a, 1, 1);                    /* sorted again after an add */
    assert_int_equal(cf_bench_stats_quantile(a, 0.001), 1);
    cf_bench_stats_destroy(&a);
}

static const char s_info[] =
    "# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:0.500000\r\n"
    "used_cpu_sys_children:0.000000\r\nbad:12x\r\n"
    "# Commandstats\r\n"
    "cmdstat_evalsha:calls=40,usec=100,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_hincrby:calls=4901,usec=10,usec_per_call=0.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_info:calls=3,usec=1,usec_per_call=0.33,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_weird\r\n";

static void test_info(void **state)
{
    (void) state;
    double v = -1;
    assert_int_equal(cf_bench_info_number(s_info, "used_cpu_sys", &v), 0);
    assert_true(v == 1.25);
    assert_int_equal(cf_bench_info_number(s_info, "used_cpu_user", &v), 0);
    assert_true(v == 0.5);
    assert_int_equal(cf_bench_info_number(s_info, "used_cpu", &v), -1);    /* a prefix only */
    assert_int_equal(cf_bench_info_number(s_info, "bad", &v), -1);
    assert_int_equal(cf_bench_info_number(s_info, "missing", &v), -1);
    assert_int_equal(cf_bench_info_number("", "x", &v), -1);
    cf_bench_command_t table[8];
    assert_int_equal(cf_bench_info_commands(s_info, table, 8), 3);
    assert_string_equal(table[0].name, "evalsha");
    assert_int_equal(cf_bench_command_calls(table, 3, "evalsha"), 40);
    assert_int_equal(cf_bench_command_calls(table, 3, "hincrby"), 4901);
    assert_int_equal(cf_bench_command_calls(table, 3, "info"), 3);
    assert_int_equal(cf_bench_command_calls(table, 3, "set"), 0);
    assert_int_equal(table[0].usec, 100);
    assert_int_equal(table[1].usec, 10);
    assert_ptr_equal(cf_bench_command_find(table, 3, "hincrby"), &table[1]);
    assert_null(cf_bench_command_find(table, 3, "set"));
    assert_int_equal(cf_bench_info_commands(s_info, table, 1), 1);          /* at most max */
}

/* A cluster master's INFO server replication cpu commandstats, trimmed. */
static const char s_master[] =
    "# Server\r\nredis_version:7.0.15\r\ntcp_port:7001\r\n"
    "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n"
    "slave0:ip=127.0.0.1,port=7004,state=online,offset=4242,lag=0\r\n"
    "slave1:ip=10.0.0.2,port=7005,state=wait_bgsave,offset=0,lag=1\r\n"
    "slave2:nonsense\r\nmaster_repl_offset:4242\r\n"
    "# CPU\r\nused_cpu_sys:0.50\r\nused_cpu_user:0.25\r\n"
    "# Commandstats\r\n"
    "cmdstat_hset:calls=10,usec=20,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_info:calls=7,usec=70,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_exec:calls=5,usec=50,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n";

/* The figures of several masters as one: commands summed by name, INFO's
   own calls left out, the replicas a master lists, its role and port. */
static void test_nodes(void **state)
{
    (void) state;
    cf_bench_command_t sum[4], node[8];
    size_t n = cf_bench_info_commands(s_master, node, 8), count = 0;
    assert_int_equal(n, 3);
    assert_int_equal(cf_bench_commands_calls(node, n), 15);
    count = cf_bench_commands_add(sum, count, 4, node, n);
    assert_int_equal(count, 3);
    count = cf_bench_commands_add(sum, count, 4, node, n);     /* a second master */
    assert_int_equal(count, 3);
    assert_int_equal(cf_bench_command_calls(sum, count, "hset"), 20);
    assert_int_equal(cf_bench_command_find(sum, count, "exec")->usec, 100);
    cf_bench_command_t other = { .name = "xadd", .calls = 3, .usec = 9 };
    count = cf_bench_commands_add(sum, count, 4, &other, 1);
    assert_int_equal(count, 4);
    cf_bench_command_t more = { .name = "zadd", .calls = 1 };
    assert_int_equal(cf_bench_commands_add(sum, count, 4, &more, 1), 4);  /* full: dropped */
    assert_int_equal(cf_bench_commands_calls(sum, count), 2 * 15 + 3);

    char text[16];
    assert_int_equal(cf_bench_info_text(s_master, "role", text, sizeof text), 0);
    assert_string_equal(text, "master");
    assert_int_equal(cf_bench_info_text(s_master, "tcp_port", text, sizeof text), 0);
    assert_string_equal(text, "7001");
    assert_int_equal(cf_bench_info_text(s_master, "redis_version", text, 4), -1);  /* too long */
    assert_int_equal(cf_bench_info_text(s_master, "missing", text, sizeof text), -1);

    cf_bench_addr_t replicas[4];
    assert_int_equal(cf_bench_info_replicas(s_master, replicas, 4), 2);
    assert_string_equal(replicas[0].host, "127.0.0.1");
    assert_int_equal(replicas[0].port, 7004);
    assert_string_equal(replicas[1].host, "10.0.0.2");
    assert_int_equal(replicas[1].port, 7005);
    assert_int_equal(cf_bench_info_replicas(s_master, replicas, 1), 1);
    assert_int_equal(cf_bench_info_replicas(s_info, replicas, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
