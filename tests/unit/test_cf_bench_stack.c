/*  Tests of cf_bench_stack without the caseflow daemons: the peak RSS of a
    live process and of none, the default scripts directory, a start
    whose broker cannot run: the error names the broker's log, the Redis it
    started is stopped, and the directory is kept for the log; and, with
    stand-in daemons that log their arguments, that the broker is given
    the stack's Redis and its credentials (it publishes the outboxes from
    there) and that the stack names its broker and workers for the CPU
    figures; and that its Redis rewrites its AOF on its own only when asked
    (aof_rewrite: redis.conf leaves Redis's default).                       */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cf_bench_stack.h"

static void test_peak_rss(void **state)
{
    (void) state;
    assert_true(cf_bench_peak_rss_kb(getpid()) > 0);
    assert_int_equal(cf_bench_peak_rss_kb(0), -1);
    assert_string_equal(cf_bench_scripts("/x"), "/x");
    assert_non_null(strstr(cf_bench_scripts(NULL), "lua"));
}

/* The stack's redis.conf, whole (a few lines). */
static const char *conf_text(const cf_bench_stack_t *stack)
{
    static char text[1024];
    char path[256];
    snprintf(path, sizeof path, "%s/redis.conf", cf_bench_stack_dir(stack));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void test_broker_missing(void **state)
{
    (void) state;
    char tmp[] = "/tmp/test_cf_bench_stack.XXXXXX";
    assert_non_null(mkdtemp(tmp));
    setenv("TMPDIR", tmp, 1);
    cf_bench_stack_t *stack = cf_bench_stack_new();
    cf_bench_stack_config_t config = { "/nonexistent", cf_bench_scripts(NULL), 1, true, true,
                                       0, false };
    assert_int_equal(cf_bench_stack_start(stack, &config), -1);
    const char *error = cf_bench_stack_error(stack);
    /* the broker or a worker (neither binary exists): whichever exits first */
    assert_non_null(strstr(error, "stopped (see "));
    assert_non_null(strstr(error, tmp));
    char log[256];
    snprintf(log, sizeof log, "%s/broker.log", cf_bench_stack_dir(stack));
    assert_null(strstr(conf_text(stack), "auto-aof-rewrite"));     /* Redis's own rewrites */
    cf_bench_stack_destroy(&stack);
    assert_null(stack);
    struct stat st;
    assert_int_equal(stat(log, &st), 0);            /* kept: it says why */
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", tmp);
    assert_int_equal(system(command), 0);
    cf_bench_stack_destroy(&stack);
}

static void write_script(const char *dir, const char *name, const char *body)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
}

static void test_broker_arguments(void **state)
{
    (void) state;
    char tmp[] = "/tmp/test_cf_bench_stack.XXXXXX", bin[64];
    assert_non_null(mkdtemp(tmp));
    snprintf(bin, sizeof bin, "%s/bin", tmp);
    assert_int_equal(mkdir(bin, 0700), 0);
    /* a broker that logs its arguments and waits; a worker that fails at once */
    write_script(bin, "caseflow-broker", "echo \"args: $*\"; exec sleep 30");
    write_script(bin, "caseflow-worker", "echo \"args: $*\"; sleep 0.3; exit 3");
    setenv("TMPDIR", tmp, 1);
    cf_bench_stack_t *stack = cf_bench_stack_new();
    /* with a replica: it replicates before the daemons start, which are told to wait for it */
    cf_bench_stack_config_t config = { bin, cf_bench_scripts(NULL), 2, false, false, 7, true };
    assert_int_equal(cf_bench_stack_start(stack, &config), -1);
    /* both workers stop at about the same time: either may be seen first */
    const char *error = cf_bench_stack_error(stack);
    assert_true(strstr(error, "worker 1 stopped") || strstr(error, "worker 2 stopped"));
    cf_bench_cpu_t cpu = { .count = 0 };
    cf_bench_stack_processes(stack, &cpu);
    assert_int_equal(cpu.count, 3);                 /* the broker and both workers started */
    assert_string_equal(cpu.procs[0].name, "broker");
    assert_true(cpu.procs[0].pid > 0);
    assert_string_equal(cpu.procs[2].name, "worker-2");
    char log[256], line[1024] = "", want[128];
    snprintf(log, sizeof log, "%s/worker-1.log", cf_bench_stack_dir(stack));
    FILE *w = fopen(log, "r");
    assert_non_null(w);
    assert_non_null(fgets(line, sizeof line, w));
    fclose(w);
    assert_non_null(strstr(line, "--shards 7 --ack-replicas 1"));
    /* no rewrite of the AOF but those asked for (none: aof_rewrite false) */
    assert_non_null(strstr(conf_text(stack), "\nauto-aof-rewrite-percentage 0\n"));
    snprintf(log, sizeof log, "%s/broker.log", cf_bench_stack_dir(stack));
    snprintf(want, sizeof want, "--redis 127.0.0.1:%d --redis-user default --redis-password-file %s/redis.password",
             cf_bench_stack_redis_port(stack), cf_bench_stack_dir(stack));
    cf_bench_stack_destroy(&stack);                 /* stops them; keeps the directory */
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, "--shards 7"));     /* the stack's shard count */
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", tmp);
    assert_int_equal(system(command), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peak_rss),
        cmocka_unit_test(test_broker_missing),
        cmocka_unit_test(test_broker_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
