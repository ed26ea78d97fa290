/*  cf_bench_stack: start and stop the benchmark's own stack; see
    cf_bench_stack.h. Ports come from binding port 0 (the kernel's choice,
    held until all are chosen, so no two are the same). A child that cannot
    exec writes why into its log and exits 127, which the waits notice.     */
#include "caseflow/cf_bench_stack.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>

#define STACK_PORTS     4               /* redis, intake, workers, publish */
#define STACK_STOP_MS   5000

struct _cf_bench_stack_t {
    char dir[64], key_file[96], intake[64];
    int ports[STACK_PORTS];
    pid_t redis, broker, workers[CF_BENCH_MAX_WORKERS];
    unsigned worker_count;
    bool failed;
    char error[512];
};

static int stack_fail(cf_bench_stack_t *self, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, args);
    va_end(args);
    self->failed = true;
    return -1;
}

static void stack_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

cf_bench_stack_t *cf_bench_stack_new(void)
{
    cf_bench_stack_t *self = calloc(1, sizeof *self);
    if (!self)
        abort();
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
        stack_sleep_ms(20);
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
    char path[160], line[1024];
    snprintf(path, sizeof path, "%s/%s.log", self->dir, name);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, "ERROR: AddressSanitizer") || strstr(line, "ERROR: LeakSanitizer")
             || strstr(line, "runtime error:");
    if (f)
        fclose(f);
    return found;
}

int cf_bench_stack_stop(cf_bench_stack_t *self)
{
    assert(self);
    stack_stop(self->workers, self->worker_count);
    stack_stop(&self->broker, 1);
    stack_stop(&self->redis, 1);
    if (!self->dir[0])
        return 0;
    if (stack_log_reports(self, "broker"))
        return stack_fail(self, "sanitizer report in %s/broker.log", self->dir);
    for (unsigned i = 0; i < self->worker_count; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%u", i + 1);
        if (stack_log_reports(self, name))
            return stack_fail(self, "sanitizer report in %s/%s.log", self->dir, name);
    }
    return 0;
}

void cf_bench_stack_destroy(cf_bench_stack_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_bench_stack_t *self = *self_p;
    cf_bench_stack_stop(self);
    if (self->dir[0] && !self->failed)
        nftw(self->dir, stack_remove, 16, FTW_DEPTH | FTW_PHYS);
    free(self);
    *self_p = NULL;
}

/* ---- starting ----------------------------------------------------------- */

static int stack_free_ports(cf_bench_stack_t *self)
{
    int fds[STACK_PORTS], rc = 0;
    for (int i = 0; i < STACK_PORTS; i++) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof addr;
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *) &addr, sizeof addr) < 0
            || getsockname(fds[i], (struct sockaddr *) &addr, &len) < 0)
            rc = stack_fail(self, "no free port: %s", strerror(errno));
        self->ports[i] = ntohs(addr.sin_port);
    }
    for (int i = 0; i < STACK_PORTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

/* Starts argv with stdout and stderr in <dir>/<name>.log; its pid, or -1. */
static pid_t stack_spawn(cf_bench_stack_t *self, const char *name, char *const argv[])
{
    char log[160];
    snprintf(log, sizeof log, "%s/%s.log", self->dir, name);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return stack_fail(self, "%s: %s", log, strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* nothing outlives the benchmark */
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    if (pid < 0)
        return stack_fail(self, "fork: %s", strerror(errno));
    return pid;
}

static bool stack_alive(pid_t pid)
{
    return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

static int stack_wait_redis(cf_bench_stack_t *self)
{
    for (int tries = 0; tries < 250; tries++) {
        struct timeval tv = { 0, 200000 };
        redisContext *c = redisConnectWithTimeout("127.0.0.1", self->ports[0], tv);
        redisReply *r = c && !c->err ? redisCommand(c, "PING") : NULL;
        bool pong = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        redisFree(c);
        if (pong)
            return 0;
        if (!stack_alive(self->redis)) {
            self->redis = 0;
            break;
        }
        stack_sleep_ms(20);
    }
    return stack_fail(self, "redis-server did not start (see %s/redis.log)", self->dir);
}

/* The number of "worker joined" lines in the broker's log. */
static unsigned stack_joined(const cf_bench_stack_t *self)
{
    char path[160], line[1024];
    snprintf(path, sizeof path, "%s/broker.log", self->dir);
    FILE *f = fopen(path, "r");
    unsigned n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, "msg=\"worker joined\"") != NULL;
    if (f)
        fclose(f);
    return n;
}

static int stack_wait_workers(cf_bench_stack_t *self)
{
    for (int tries = 0; tries < 1500; tries++) {
        if (stack_joined(self) >= self->worker_count)
            return 0;
        if (!stack_alive(self->broker))
            return stack_fail(self, "the broker stopped (see %s/broker.log)", self->dir);
        for (unsigned i = 0; i < self->worker_count; i++)
            if (!stack_alive(self->workers[i]))
                return stack_fail(self, "worker %u stopped (see %s/worker-%u.log)", i + 1,
                                  self->dir, i + 1);
        stack_sleep_ms(20);
    }
    return stack_fail(self, "the workers did not join within 30 s (see %s)", self->dir);
}

/* 32 random bytes written as 64 hex digits: raw bytes would end in a
   newline one time in 256, which cf_pseudo drops, leaving 31 bytes that
   the workers refuse. */
static int stack_write_key(cf_bench_stack_t *self)
{
    unsigned char raw[32];
    char key[2 * sizeof raw + 1];
    snprintf(self->key_file, sizeof self->key_file, "%s/hmac.key", self->dir);
    int fd = open(self->key_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool random = getrandom(raw, sizeof raw, 0) == (ssize_t) sizeof raw;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(key + 2 * i, 3, "%02x", raw[i]);
    if (!random || fd < 0 || write(fd, key, sizeof key - 1) != (ssize_t) sizeof key - 1) {
        if (fd >= 0)
            close(fd);
        return stack_fail(self, "%s: %s", self->key_file, strerror(errno));
    }
    return close(fd);
}

static int stack_start_daemons(cf_bench_stack_t *self, const cf_bench_stack_config_t *config)
{
    char broker[4096], worker[4096], redis[32], wk[64], pub[64], port[16];
    snprintf(broker, sizeof broker, "%s/caseflow-broker", config->bin_dir);
    snprintf(worker, sizeof worker, "%s/caseflow-worker", config->bin_dir);
    snprintf(port, sizeof port, "%d", self->ports[0]);
    snprintf(redis, sizeof redis, "127.0.0.1:%d", self->ports[0]);
    snprintf(self->intake, sizeof self->intake, "tcp://127.0.0.1:%d", self->ports[1]);
    snprintf(wk, sizeof wk, "tcp://127.0.0.1:%d", self->ports[2]);
    snprintf(pub, sizeof pub, "tcp://127.0.0.1:%d", self->ports[3]);
    const char *aof = config->persistence ? "yes" : "no";
    char *redis_argv[] = { "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir",
                           self->dir, "--appendonly", (char *) aof, "--appendfsync", "always",
                           "--save", "", "--protected-mode", "yes", NULL };
    if ((self->redis = stack_spawn(self, "redis", redis_argv)) < 0 || stack_wait_redis(self) < 0)
        return -1;
    char *broker_argv[] = { broker, "--intake", self->intake, "--workers", wk, "--publish", pub,
                            NULL };
    if ((self->broker = stack_spawn(self, "broker", broker_argv)) < 0)
        return -1;
    for (unsigned i = 0; i < config->workers; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%u", i + 1);
        char *worker_argv[] = { worker, "--broker", wk, "--redis", redis, "--key-file",
                                self->key_file, "--scripts", (char *) config->script_dir, NULL };
        if ((self->workers[i] = stack_spawn(self, name, worker_argv)) < 0)
            return -1;
        self->worker_count++;
    }
    return stack_wait_workers(self);
}

int cf_bench_stack_start(cf_bench_stack_t *self, const cf_bench_stack_config_t *config)
{
    assert(self && config && !self->dir[0]);
    assert(config->workers >= 1 && config->workers <= CF_BENCH_MAX_WORKERS);
    const char *tmp = getenv("TMPDIR");
    snprintf(self->dir, sizeof self->dir, "%.40s/caseflow-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(self->dir)) {
        int e = errno;
        self->dir[0] = '\0';
        return stack_fail(self, "mkdtemp: %s", strerror(e));
    }
    if (stack_write_key(self) < 0 || stack_free_ports(self) < 0)
        return -1;
    return stack_start_daemons(self, config);
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
    return dir ? dir : CF_SCRIPT_DIR;
}
