/*  cf_bench_cpu: CPU seconds per process over a phase; see cf_bench_cpu.h.
    /proc/<pid>/stat of a process (not of one of its tasks) sums all its
    threads, so a worker's or the broker's ZeroMQ I/O threads count too.
    Its resolution is a clock tick (10 ms at USER_HZ 100): a few percent of
    a daemon's CPU over a phase of seconds.                                 */
#include "cf_bench_cpu.h"

#include <assert.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void cf_bench_cpu_add(cf_bench_cpu_t *cpu, const char *name, pid_t pid)
{
    assert(cpu && name);
    if (cpu->count == CF_BENCH_CPU_PROCS)
        return;
    cf_bench_cpu_proc_t *p = &cpu->procs[cpu->count++];
    *p = (cf_bench_cpu_proc_t) { .pid = pid, .cpu_s = -1 };
    snprintf(p->name, sizeof p->name, "%s", name);
}

void cf_bench_cpu_set_unknown(cf_bench_cpu_t *cpu, const char *why)
{
    assert(cpu && why);
    cpu->count = 0;
    snprintf(cpu->unknown, sizeof cpu->unknown, "%s", why);
}

int cf_bench_cpu_parse_stat(const char *text, unsigned long long *ticks)
{
    assert(text && ticks);
    /* "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
       majflt cmajflt utime stime ...": comm may hold ") ", so the last ')' */
    const char *end = strrchr(text, ')');
    unsigned long long user, sys;
    if (!end || sscanf(end + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                       &user, &sys) != 2)
        return -1;
    *ticks = user + sys;
    return 0;
}

double cf_bench_cpu_of(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    unsigned long long ticks;
    long hz = sysconf(_SC_CLK_TCK);
    if (n == 0 || hz <= 0 || cf_bench_cpu_parse_stat(text, &ticks) < 0)
        return -1;
    return (double) ticks / (double) hz;
}

double cf_bench_cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
         + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

double cf_bench_cpu_per_event(double seconds, size_t events)
{
    return seconds >= 0 && events > 0 ? seconds * 1e6 / (double) events : NAN;
}

double cf_bench_cpu_total(const cf_bench_cpu_t *cpu, double redis_s)
{
    assert(cpu);
    double total = cpu->self_s + redis_s;
    bool known = cpu->unknown[0] == '\0' && redis_s >= 0;
    for (size_t i = 0; i < cpu->count; i++) {
        known &= cpu->procs[i].cpu_s >= 0;
        total += cpu->procs[i].cpu_s;
    }
    return known ? total : -1;
}

bool cf_bench_cpu_is_broker(const cf_bench_cpu_proc_t *p)
{
    assert(p);
    return strcmp(p->name, "broker") == 0 || strncmp(p->name, "broker-", 7) == 0;
}

double cf_bench_cpu_brokers(const cf_bench_cpu_t *cpu)
{
    assert(cpu);
    double sum = 0;
    size_t brokers = 0;
    for (size_t i = 0; i < cpu->count; i++) {
        if (!cf_bench_cpu_is_broker(&cpu->procs[i]))
            continue;
        if (cpu->procs[i].cpu_s < 0)
            return -1;
        sum += cpu->procs[i].cpu_s;
        brokers++;
    }
    return brokers ? sum : -1;
}

const char *cf_bench_cpu_busiest(const cf_bench_cpu_t *cpu, double redis_s)
{
    assert(cpu);
    const char *name = "producer";
    double most = cpu->self_s;
    if (redis_s > most)
        name = "redis", most = redis_s;
    for (size_t i = 0; i < cpu->count; i++)
        if (cpu->procs[i].cpu_s > most)
            name = cpu->procs[i].name, most = cpu->procs[i].cpu_s;
    return name;
}

void cf_bench_cpu_start(cf_bench_cpu_t *cpu)
{
    assert(cpu);
    for (size_t i = 0; i < cpu->count; i++)
        cpu->procs[i].start_s = cf_bench_cpu_of(cpu->procs[i].pid);
    cpu->self_start_s = cf_bench_cpu_self();
}

void cf_bench_cpu_stop(cf_bench_cpu_t *cpu)
{
    assert(cpu);
    cpu->self_s = cf_bench_cpu_self() - cpu->self_start_s;
    for (size_t i = 0; i < cpu->count; i++) {
        cf_bench_cpu_proc_t *p = &cpu->procs[i];
        double now = cf_bench_cpu_of(p->pid);
        p->cpu_s = p->start_s >= 0 && now >= p->start_s ? now - p->start_s : -1;
    }
    cpu->measured = true;
}

/* ---- a stack of scripts/up ---------------------------------------------- */

/* The pid in <dir>/<name>.pid when that process runs program; else 0 with why. */
static pid_t cpu_pid_file(const char *dir, const char *name, const char *program, char *why,
                          size_t size)
{
    char path[PATH_MAX], cmd[PATH_MAX] = "";
    snprintf(path, sizeof path, "%s/%s.pid", dir, name);
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
        if (f)
            fclose(f);
        snprintf(why, size, "%.200s: no pid", path);
        return 0;
    }
    fclose(f);
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    f = fopen(path, "r");
    size_t n = f ? fread(cmd, 1, sizeof cmd - 1, f) : 0;   /* argv[0] ends at its NUL */
    if (f)
        fclose(f);
    cmd[n] = '\0';
    if (n == 0 || strcmp(basename(cmd), program) != 0) {
        snprintf(why, size, "%.160s/%s.pid: process %d is not a running %s", dir, name, pid, program);
        return 0;
    }
    return (pid_t) pid;
}

/* -1 when <dir>/env names another CASEFLOW_INTAKE than intake (no file: 0). */
static int cpu_check_env(const char *dir, const char *intake, char *why, size_t size)
{
    char path[PATH_MAX], line[1024];
    snprintf(path, sizeof path, "%s/env", dir);
    FILE *f = fopen(path, "r");
    int rc = 0;
    while (f && fgets(line, sizeof line, f)) {
        static const char key[] = "export CASEFLOW_INTAKE=";
        if (strncmp(line, key, sizeof key - 1) != 0)
            continue;
        char *value = line + sizeof key - 1;
        value[strcspn(value, "\r\n")] = '\0';
        size_t len = strlen(value);
        if (len >= 2 && value[0] == '\'' && value[len - 1] == '\'') {
            value[len - 1] = '\0';
            value++;
        }
        if (strcmp(value, intake) != 0) {
            snprintf(why, size, "%.100s is the stack of %.60s, not of %.60s", dir, value,
                     intake);
            rc = -1;
        }
    }
    if (f)
        fclose(f);
    return rc;
}

int cf_bench_cpu_from_dir(cf_bench_cpu_t *cpu, const char *dir, const char *intake)
{
    assert(cpu && dir && intake);
    char why[sizeof cpu->unknown] = "";
    cf_bench_cpu_t found = { .count = 0 };
    pid_t pid = 0;
    if (cpu_check_env(dir, intake, why, sizeof why) == 0
        && (pid = cpu_pid_file(dir, "broker", "caseflow-broker", why, sizeof why)) > 0) {
        cf_bench_cpu_add(&found, "broker", pid);
        for (unsigned b = 2; pid > 0; b++) {        /* scripts/up --brokers N: broker-2... */
            char name[24], path[PATH_MAX];
            snprintf(name, sizeof name, "broker-%u", b);
            snprintf(path, sizeof path, "%s/%s.pid", dir, name);
            if (access(path, F_OK) != 0)
                break;
            if ((pid = cpu_pid_file(dir, name, "caseflow-broker", why, sizeof why)) > 0)
                cf_bench_cpu_add(&found, name, pid);
        }
        size_t brokers = found.count;
        for (unsigned i = 1; pid > 0 && i < CF_BENCH_CPU_PROCS; i++) {
            char name[24], path[PATH_MAX];
            snprintf(name, sizeof name, "worker-%u", i);
            snprintf(path, sizeof path, "%s/%s.pid", dir, name);
            if (access(path, F_OK) != 0)
                break;
            if ((pid = cpu_pid_file(dir, name, "caseflow-worker", why, sizeof why)) == 0)
                break;
            cf_bench_cpu_add(&found, name, pid);
        }
        if (pid > 0 && found.count == brokers) {
            snprintf(why, sizeof why, "%.200s: no worker-1.pid", dir);
            pid = 0;
        }
    }
    if (pid == 0) {
        cf_bench_cpu_set_unknown(cpu, why);
        return -1;
    }
    for (size_t i = 0; i < found.count; i++)
        cf_bench_cpu_add(cpu, found.procs[i].name, found.procs[i].pid);
    return 0;
}
