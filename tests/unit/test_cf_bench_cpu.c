/*  Tests of cf_bench_cpu without the caseflow daemons: utime + stime out of
    /proc/<pid>/stat text (names with spaces and parentheses too), the CPU
    of this process and of none, the arithmetic of the report (per event,
    the total, the busiest process), and the pid files of a scripts/up
    directory: stand-in processes named caseflow-broker and caseflow-worker
    (sleep with that argv[0]) are found, and a directory of another intake,
    a pid of another program or a missing file are refused with a reason.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "cf_bench_cpu.h"
#include "cf_test_files.h"

static void test_parse_stat(void **state)
{
    (void) state;
    unsigned long long ticks = 0;
    assert_int_equal(cf_bench_cpu_parse_stat("4242 (caseflow-worke) S 1 4242 4242 0 -1 4194560 "
                                             "1529 0 0 0 731 112 0 0 20 0 3 0 8801 0 0", &ticks), 0);
    assert_int_equal(ticks, 843);
    /* a name may hold spaces and ") (": the last ')' ends it */
    assert_int_equal(cf_bench_cpu_parse_stat("7 (a) (b c) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0", &ticks), 0);
    assert_int_equal(ticks, 11);
    assert_int_equal(cf_bench_cpu_parse_stat("7 (short) R 1 7", &ticks), -1);
    assert_int_equal(cf_bench_cpu_parse_stat("no parenthesis at all", &ticks), -1);
    assert_int_equal(cf_bench_cpu_parse_stat("", &ticks), -1);
}

static void test_own_process(void **state)
{
    (void) state;
    assert_true(cf_bench_cpu_of(getpid()) >= 0);
    assert_true(cf_bench_cpu_of(0) < 0);
    assert_true(cf_bench_cpu_self() >= 0);
}

static void test_arithmetic(void **state)
{
    (void) state;
    assert_true(fabs(cf_bench_cpu_per_event(0.5, 100000) - 5.0) < 1e-9);
    assert_true(isnan(cf_bench_cpu_per_event(-1, 100000)));
    assert_true(isnan(cf_bench_cpu_per_event(1, 0)));
    cf_bench_cpu_t cpu = { .count = 0 };
    cf_bench_cpu_add(&cpu, "broker", 11);
    cf_bench_cpu_add(&cpu, "worker-1", 12);
    cf_bench_cpu_add(&cpu, "worker-2", 13);
    assert_int_equal(cpu.count, 3);
    assert_string_equal(cpu.procs[2].name, "worker-2");
    cpu.self_s = 0.25, cpu.procs[0].cpu_s = 0.25, cpu.procs[1].cpu_s = 1.0, cpu.procs[2].cpu_s = 0.5;
    assert_true(fabs(cf_bench_cpu_total(&cpu, 2.0) - 4.0) < 1e-9);
    assert_string_equal(cf_bench_cpu_busiest(&cpu, 2.0), "redis");
    assert_string_equal(cf_bench_cpu_busiest(&cpu, 0.1), "worker-1");
    cpu.self_s = 3;
    assert_string_equal(cf_bench_cpu_busiest(&cpu, 2.0), "producer");
    assert_true(cf_bench_cpu_total(&cpu, -1) < 0);      /* Redis unknown */
    assert_true(fabs(cf_bench_cpu_brokers(&cpu) - 0.25) < 1e-9);
    assert_true(cf_bench_cpu_is_broker(&cpu.procs[0]) && !cf_bench_cpu_is_broker(&cpu.procs[1]));
    cpu.procs[2].cpu_s = -1;                            /* a worker gone */
    assert_true(cf_bench_cpu_total(&cpu, 2.0) < 0);
    assert_string_equal(cf_bench_cpu_busiest(&cpu, 2.0), "producer");
    cf_bench_cpu_set_unknown(&cpu, "no pids");
    assert_int_equal(cpu.count, 0);
    assert_true(cf_bench_cpu_total(&cpu, 2.0) < 0);
    assert_true(cf_bench_cpu_brokers(&cpu) < 0);        /* none */
    /* several brokers (scripts/up --brokers N): one tier, unknown when one is */
    cf_bench_cpu_add(&cpu, "broker", 11);
    cf_bench_cpu_add(&cpu, "broker-2", 14);
    cf_bench_cpu_add(&cpu, "worker-1", 12);
    cpu.procs[0].cpu_s = 0.25, cpu.procs[1].cpu_s = 0.5, cpu.procs[2].cpu_s = 1.0;
    assert_true(cf_bench_cpu_is_broker(&cpu.procs[1]));
    assert_true(fabs(cf_bench_cpu_brokers(&cpu) - 0.75) < 1e-9);
    cpu.procs[1].cpu_s = -1;
    assert_true(cf_bench_cpu_brokers(&cpu) < 0);
    cf_bench_cpu_set_unknown(&cpu, "no pids");
    for (int i = 0; i < CF_BENCH_CPU_PROCS + 3; i++)    /* a full list ignores the rest */
        cf_bench_cpu_add(&cpu, "worker", 1);
    assert_int_equal(cpu.count, CF_BENCH_CPU_PROCS);
}

/* A child that sleeps under the name argv0. */
static pid_t spawn_named(const char *argv0)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sleep", argv0, "30", (char *) NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    for (int i = 0; i < 200; i++) {     /* until exec has renamed it */
        char path[64], cmd[64] = "";
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(cmd, 1, sizeof cmd - 1, f);
            cmd[n] = '\0';
            fclose(f);
        }
        if (strcmp(cmd, argv0) == 0)
            break;
        usleep(5000);
    }
    return pid;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_pid(const char *dir, const char *name, pid_t pid)
{
    char text[32];
    snprintf(text, sizeof text, "%d\n", (int) pid);
    write_file(dir, name, text);
}

static void test_stack_dir(void **state)
{
    (void) state;
    char dir[] = "/tmp/test_cf_bench_cpu.XXXXXX";
    assert_non_null(mkdtemp(dir));
    pid_t broker = spawn_named("caseflow-broker"), w1 = spawn_named("caseflow-worker"),
          w2 = spawn_named("caseflow-worker");
    const char *intake = "tcp://127.0.0.1:5555";

    cf_bench_cpu_t cpu = { .count = 0 };
    assert_int_equal(cf_bench_cpu_from_dir(&cpu, dir, intake), -1);    /* empty */
    assert_non_null(strstr(cpu.unknown, "broker.pid: no pid"));

    write_pid(dir, "broker.pid", broker);
    cpu = (cf_bench_cpu_t) { .count = 0 };
    assert_int_equal(cf_bench_cpu_from_dir(&cpu, dir, intake), -1);    /* no worker */
    assert_non_null(strstr(cpu.unknown, "no worker-1.pid"));
    assert_int_equal(cpu.count, 0);

    write_pid(dir, "worker-1.pid", w1);
    write_pid(dir, "worker-2.pid", w2);
    write_file(dir, "env", "export CASEFLOW_INTAKE=tcp://127.0.0.1:5555\nexport CASEFLOW_PLAIN=1\n");
    cpu = (cf_bench_cpu_t) { .count = 0 };
    assert_int_equal(cf_bench_cpu_from_dir(&cpu, dir, intake), 0);
    assert_string_equal(cpu.unknown, "");
    assert_int_equal(cpu.count, 3);
    assert_string_equal(cpu.procs[0].name, "broker");
    assert_int_equal(cpu.procs[0].pid, broker);
    assert_string_equal(cpu.procs[2].name, "worker-2");
    assert_int_equal(cpu.procs[2].pid, w2);

    /* a second broker (scripts/up --brokers 2): found, before the workers */
    pid_t broker2 = spawn_named("caseflow-broker");
    write_pid(dir, "broker-2.pid", broker2);
    cpu = (cf_bench_cpu_t) { .count = 0 };
    assert_int_equal(cf_bench_cpu_from_dir(&cpu, dir, intake), 0);
    assert_int_equal(cpu.count, 4);
    assert_string_equal(cpu.procs[1].name, "broker-2");
    assert_int_equal(cpu.procs[1].pid, broker2);
    assert_string_equal(cpu.procs[3].name, "worker-2");
    write_pid(dir, "broker-2.pid", w1);         /* not a broker: refused */
    cpu = (cf_bench_cpu_t) { .count = 0 };
    assert_int_equal(cf_bench_cpu_from_dir(&cpu, dir, intake), -1);
    assert_non_null(strstr(cpu.unknown, "broker-2.pid: process"));
    assert_int_equal(cpu.count, 0);
    kill(broker2, SIGKILL);
    waitpid(broker2, NULL, 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/broker-2.pid", dir);
    assert_int_equal(unlink(path), 0);

    cpu = (cf_bench_cpu_t) { .count = 0 };
    assert_int_equal(cf_bench_cpu_from_dir(&cpu, dir, intake), 0);
    cf_bench_cpu_start(&cpu);
    kill(w2, SIGKILL);                  /* gone before the end: unknown */
    waitpid(w2, NULL, 0);
    cf_bench_cpu_stop(&cpu);
    assert_true(cpu.measured);
    assert_true(cpu.procs[0].cpu_s >= 0 && cpu.procs[1].cpu_s >= 0);
    assert_true(cpu.procs[2].cpu_s < 0);
    assert_true(cpu.self_s >= 0);

    /* the directory of another stack */
    cpu = (cf_bench_cpu_t) { .count = 0 };
    assert_int_equal(cf_bench_cpu_from_dir(&cpu, dir, "tcp://127.0.0.1:6666"), -1);
    assert_non_null(strstr(cpu.unknown, "is the stack of tcp://127.0.0.1:5555"));

    /* a pid that is not a caseflow-worker (this test, or one gone) */
    write_pid(dir, "worker-2.pid", getpid());
    cpu = (cf_bench_cpu_t) { .count = 0 };
    assert_int_equal(cf_bench_cpu_from_dir(&cpu, dir, intake), -1);
    assert_non_null(strstr(cpu.unknown, "is not a running caseflow-worker"));
    assert_int_equal(cpu.count, 0);

    kill(broker, SIGKILL);
    kill(w1, SIGKILL);
    waitpid(broker, NULL, 0);
    waitpid(w1, NULL, 0);
    assert_int_equal(cf_test_dir_remove(dir, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stat),
        cmocka_unit_test(test_own_process),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_stack_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
