/*  cf_bench_stack: the object, stopping the stack and removing its
    directory (at the end, or on SIGINT or SIGTERM: the guard), the logs'
    sanitizer reports, peak RSS; see cf_bench_stack.h. Starting is
    cf_bench_stack_start.c.                                                  */
#include "cf_bench_stack_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int cf_bench_stack_fail(cf_bench_stack_t *self, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, args);
    va_end(args);
    self->failed = true;
    return -1;
}

void cf_bench_stack_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* The lines of <dir>/<name>.log that hold one of the NULL-terminated needles. */
unsigned cf_bench_stack_log_count(const cf_bench_stack_t *self, const char *name,
                                const char *const *needles)
{
    char path[160], line[1024];
    snprintf(path, sizeof path, "%s/%s.log", self->dir, name);
    FILE *f = fopen(path, "r");
    unsigned n = 0;
    while (f && fgets(line, sizeof line, f))
        for (const char *const *needle = needles; *needle; needle++)
            if (strstr(line, *needle)) {
                n++;
                break;
            }
    if (f)
        fclose(f);
    return n;
}

cf_bench_stack_t *cf_bench_stack_new(void)
{
    cf_bench_stack_t *self = cf_calloc(1, sizeof *self);
    pthread_mutex_init(&self->lock, NULL);
    return self;
}

/* SIGTERM to each pid, then waits; SIGKILL for those still there after
   STACK_STOP_MS. Zeroes the pids. */
static void stack_stop(pid_t *pids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    for (long waited = 0;; waited += 20) {
        size_t left = 0;
        for (size_t i = 0; i < n; i++)
            if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == 0)
                left++;
            else
                pids[i] = 0;
        if (left == 0)
            return;
        if (waited >= STACK_STOP_MS)
            break;
        cf_bench_stack_sleep_ms(20);
    }
    for (size_t i = 0; i < n; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
            pids[i] = 0;
        }
}

static int stack_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    remove(path);
    return 0;
}

/* True when the log of name holds a sanitizer report. */
static bool stack_log_reports(const cf_bench_stack_t *self, const char *name)
{
    static const char *const reports[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                           "runtime error:", NULL };
    return cf_bench_stack_log_count(self, name, reports) > 0;
}

/* The daemons stopped, workers first. */
static void stack_stop_all(cf_bench_stack_t *self)
{
    pthread_mutex_lock(&self->lock);
    stack_stop(self->workers, self->worker_count);
    stack_stop(&self->broker, 1);
    stack_stop(&self->redis, 1);
    stack_stop(&self->replica, 1);
    pthread_mutex_unlock(&self->lock);
}

/* The directory removed, unless the start failed (its logs say why). */
static void stack_remove_dir(cf_bench_stack_t *self)
{
    if (self->dir[0] && !self->failed)
        nftw(self->dir, stack_remove, 16, FTW_DEPTH | FTW_PHYS);
}

/* The guard's thread: waits for a blocked SIGINT or SIGTERM, then stops
   and removes the stack and ends the process as the signal would have. */
static void *stack_guard(void *arg)
{
    cf_bench_stack_t *self = arg;
    int signum = SIGTERM;
    sigwait(&self->guarded_signals, &signum);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);  /* destroy's join waits for the end */
    static const char line[] = "\ncaseflow-bench: interrupted: its stack stopped and removed\n";
    ssize_t said = write(STDERR_FILENO, line, sizeof line - 1);
    (void) said;            /* nowhere else to say it */
    stack_stop_all(self);
    stack_remove_dir(self);
    _exit(128 + signum);
}

int cf_bench_stack_guard(cf_bench_stack_t *self)
{
    assert(self && !self->guarded);
    sigemptyset(&self->guarded_signals);
    sigaddset(&self->guarded_signals, SIGINT);
    sigaddset(&self->guarded_signals, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, &self->guarded_signals, NULL);
    if (rc == 0)
        rc = pthread_create(&self->guard, NULL, stack_guard, self);
    if (rc != 0)
        return cf_bench_stack_fail(self, "the signal guard: %s", strerror(rc));
    self->guarded = true;
    return 0;
}

int cf_bench_stack_stop(cf_bench_stack_t *self)
{
    assert(self);
    stack_stop_all(self);
    if (!self->dir[0])
        return 0;
    if (stack_log_reports(self, "broker"))
        return cf_bench_stack_fail(self, "sanitizer report in %s/broker.log", self->dir);
    for (unsigned i = 0; i < self->worker_count; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%u", i + 1);
        if (stack_log_reports(self, name))
            return cf_bench_stack_fail(self, "sanitizer report in %s/%s.log", self->dir, name);
    }
    return 0;
}

void cf_bench_stack_destroy(cf_bench_stack_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_bench_stack_t *self = *self_p;
    cf_bench_stack_stop(self);
    if (self->guarded) {        /* its sigwait is a cancellation point */
        pthread_cancel(self->guard);
        pthread_join(self->guard, NULL);
    }
    stack_remove_dir(self);
    pthread_mutex_destroy(&self->lock);
    cf_redis_auth_destroy(&self->auth);
    free(self);
    *self_p = NULL;
}

const char *cf_bench_stack_intake(const cf_bench_stack_t *self)
{
    assert(self);
    return self->intake;
}

int cf_bench_stack_redis_port(const cf_bench_stack_t *self)
{
    assert(self);
    return self->ports[0];
}

const cf_redis_auth_t *cf_bench_stack_redis_auth(const cf_bench_stack_t *self)
{
    assert(self);
    return self->auth;
}

const char *cf_bench_stack_key_file(const cf_bench_stack_t *self)
{
    assert(self);
    return self->key_file;
}

const char *cf_bench_stack_dir(const cf_bench_stack_t *self)
{
    assert(self);
    return self->dir;
}

void cf_bench_stack_processes(const cf_bench_stack_t *self, cf_bench_cpu_t *cpu)
{
    assert(self && cpu);
    cf_bench_cpu_add(cpu, "broker", self->broker);
    for (unsigned i = 0; i < self->worker_count; i++) {
        char name[24];
        snprintf(name, sizeof name, "worker-%u", i + 1);
        cf_bench_cpu_add(cpu, name, self->workers[i]);
    }
}

long cf_bench_peak_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

long cf_bench_stack_broker_peak_kb(const cf_bench_stack_t *self)
{
    assert(self);
    return cf_bench_peak_rss_kb(self->broker);
}

long cf_bench_stack_worker_peak_kb(const cf_bench_stack_t *self)
{
    assert(self);
    long peak = self->worker_count ? 0 : -1;
    for (unsigned i = 0; i < self->worker_count; i++) {
        long kb = cf_bench_peak_rss_kb(self->workers[i]);
        if (kb < 0)
            return -1;
        peak = kb > peak ? kb : peak;
    }
    return peak;
}

const char *cf_bench_stack_error(const cf_bench_stack_t *self)
{
    assert(self);
    return self->error;
}

const char *cf_bench_scripts(const char *dir)
{
    return dir ? dir : cf_store_default_scripts();
}
