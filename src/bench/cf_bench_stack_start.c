/*  cf_bench_stack_start: ports, processes, and the waits until the stack is
    ready; see cf_bench_stack.h. Ports come from binding port 0 (the
    kernel's choice, held until all are chosen, so no two are the same). A
    child that cannot exec writes why into its log and exits 127, which the
    waits notice.                                                            */
#include "cf_bench_stack_internal.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_shard.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <hiredis/hiredis.h>

static int stack_free_ports(cf_bench_stack_t *self)
{
    int fds[STACK_PORTS], rc = 0;
    for (int i = 0; i < STACK_PORTS; i++) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof addr;
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *) &addr, sizeof addr) < 0
            || getsockname(fds[i], (struct sockaddr *) &addr, &len) < 0)
            rc = cf_bench_stack_fail(self, "no free port: %s", strerror(errno));
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
        return cf_bench_stack_fail(self, "%s: %s", log, strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* nothing outlives the benchmark */
        sigset_t none;                      /* not the guard's blocked signals: a
                                               daemon stops on SIGTERM */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* the own stack is plain on loopback: no CURVE settings from a
           shell that ran scripts/up (the broker refuses --plain with a key) */
        unsetenv("CASEFLOW_BROKER_KEY");
        unsetenv("CASEFLOW_WORKER_KEY");
        unsetenv("CASEFLOW_SERVER_KEY");
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
        return cf_bench_stack_fail(self, "fork: %s", strerror(errno));
    return pid;
}

static bool stack_alive(pid_t pid)
{
    return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

/* Waits until the redis-server on port (process *pid, log <name>.log)
   answers command with a reply holding want (NULL: any status reply). */
static int stack_wait_redis(cf_bench_stack_t *self, pid_t *pid, int port, const char *name,
                            const char *command, const char *want)
{
    for (int tries = 0; tries < 250; tries++) {
        struct timeval tv = { 0, 200000 };
        redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
        char why[300];
        redisReply *r = c && !c->err && cf_redis_auth_send(self->auth, c, why, sizeof why) == 0
                      ? redisCommand(c, command) : NULL;
        bool ready = r && (want ? r->type == REDIS_REPLY_STRING && strstr(r->str, want)
                                : r->type == REDIS_REPLY_STATUS);
        if (r)
            freeReplyObject(r);
        redisFree(c);
        if (ready)
            return 0;
        if (!stack_alive(*pid)) {
            *pid = 0;
            break;
        }
        cf_bench_stack_sleep_ms(20);
    }
    return cf_bench_stack_fail(self, "%s did not start (see %s/%s.log)", name, self->dir, name);
}

/* A replica of the stack's Redis, in its own directory, with the same
   persistence, replicating (its link up). */
static int stack_start_replica(cf_bench_stack_t *self, const char *aof)
{
    char dir[96], port[16], master[16];
    snprintf(dir, sizeof dir, "%s/replica", self->dir);
    if (mkdir(dir, 0700) < 0)
        return cf_bench_stack_fail(self, "%s: %s", dir, strerror(errno));
    snprintf(port, sizeof port, "%d", self->ports[4]);
    snprintf(master, sizeof master, "%d", self->ports[0]);
    char *argv[] = { "redis-server", self->redis_conf, "--port", port, "--bind", "127.0.0.1",
                     "--dir", dir, "--appendonly", (char *) aof, "--appendfsync", "always",
                     "--save", "", "--protected-mode", "yes", "--replicaof", "127.0.0.1", master,
                     "--hash-max-listpack-entries", "128", NULL };
    if ((self->replica = stack_spawn(self, "replica", argv)) < 0)
        return -1;
    return stack_wait_redis(self, &self->replica, self->ports[4], "replica", "INFO replication",
                            "master_link_status:up");
}

static unsigned stack_joined(const cf_bench_stack_t *self)
{
    static const char *const joined[] = { "msg=\"worker joined\"", NULL };
    return cf_bench_stack_log_count(self, "broker", joined);
}

static int stack_wait_workers(cf_bench_stack_t *self)
{
    for (int tries = 0; tries < 1500; tries++) {
        if (stack_joined(self) >= self->worker_count)
            return 0;
        if (!stack_alive(self->broker))
            return cf_bench_stack_fail(self, "the broker stopped (see %s/broker.log)", self->dir);
        for (unsigned i = 0; i < self->worker_count; i++)
            if (!stack_alive(self->workers[i]))
                return cf_bench_stack_fail(self, "worker %u stopped (see %s/worker-%u.log)", i + 1,
                                  self->dir, i + 1);
        cf_bench_stack_sleep_ms(20);
    }
    return cf_bench_stack_fail(self, "the workers did not join within 30 s (see %s)", self->dir);
}

/* Writes prefix, then 32 random bytes as 64 hex digits (into hex too),
   into a new file <dir>/<name>, mode 0600. Hex, because raw bytes would end
   in a newline one time in 256, which cf_pseudo drops, leaving 31 bytes
   that the workers refuse. */
static int stack_write_secret(cf_bench_stack_t *self, char *path, size_t size, const char *name,
                              const char *prefix, char hex[65])
{
    unsigned char raw[32];
    char text[64 + 65];
    snprintf(path, size, "%s/%s", self->dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool random = getrandom(raw, sizeof raw, 0) == (ssize_t) sizeof raw;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    int len = snprintf(text, sizeof text, "%s%s", prefix, hex);
    if (!random || fd < 0 || write(fd, text, (size_t) len) != (ssize_t) len) {
        if (fd >= 0)
            close(fd);
        return cf_bench_stack_fail(self, "%s: %s", path, strerror(errno));
    }
    return close(fd);
}

/* The stack's files: the HMAC key, and Redis's password, in the password
   file for the daemons and in redis.conf for redis-server (requirepass), so
   never in an argv. Without aof_rewrite, redis.conf also turns off Redis's
   own rewrites of its AOF: one costs a fork and a core for a while, and
   whether it falls in a phase of a few seconds or not would decide that
   phase's figures (docs/performance.md, "The AOF rewrites in the bench"). */
static int stack_write_files(cf_bench_stack_t *self, bool aof_rewrite)
{
    char hex[65], conf[96];
    if (stack_write_secret(self, self->key_file, sizeof self->key_file, "hmac.key", "", hex) < 0
        || stack_write_secret(self, self->password_file, sizeof self->password_file,
                              "redis.password", "", hex) < 0)
        return -1;
    snprintf(conf, sizeof conf, "%s/redis.conf", self->dir);
    int fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    /* masterauth: what the replica, when there is one, presents */
    if (fd < 0 || dprintf(fd, "requirepass %s\nmasterauth %s\n%s", hex, hex,
                          aof_rewrite ? "" : "auto-aof-rewrite-percentage 0\n") < 0) {
        if (fd >= 0)
            close(fd);
        return cf_bench_stack_fail(self, "%s: %s", conf, strerror(errno));
    }
    snprintf(self->redis_conf, sizeof self->redis_conf, "%s", conf);
    self->auth = cf_redis_auth_new("default", hex);
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
    char *redis_argv[] = { "redis-server", self->redis_conf, "--port", port, "--bind", "127.0.0.1", "--dir",
                           self->dir, "--appendonly", (char *) aof, "--appendfsync", "always",
                           "--save", "", "--protected-mode", "yes",
                           /* docs/operations.md, "Redis settings": counters' hashes past
                              128 fields as hash tables, cheap to update */
                           "--hash-max-listpack-entries", "128",
                           /* what held Redis's thread, for the open loop's report */
                           "--latency-monitor-threshold", CF_BENCH_STACK_LATENCY_MS,
                           /* and which commands took that long */
                           "--slowlog-log-slower-than", CF_BENCH_STACK_SLOWLOG_US,
                           "--slowlog-max-len", "1024",
                           /* a replica's first sync at once, not after 5 s */
                           "--repl-diskless-sync-delay", "0", NULL };
    if ((self->redis = stack_spawn(self, "redis", redis_argv)) < 0
        || stack_wait_redis(self, &self->redis, self->ports[0], "redis", "PING", NULL) < 0
        || (config->replica && stack_start_replica(self, aof) < 0))
        return -1;
    /* the broker reads the outboxes from this Redis to publish them, as a
       real stack's does: without it, it would look for one at the default
       address and the publishing would cost the measured Redis nothing */
    char shards[16];
    snprintf(shards, sizeof shards, "%u", config->shards ? config->shards : CF_SHARD_DEFAULT);
    /* the bench measures the pipeline, not the intake's policy: its one
       producer would hear 'busy' past the default 50 000 events/s (and
       pause 0.1 s), so its broker lets a producer push as fast as it can */
    char rate[24];
    snprintf(rate, sizeof rate, "%d", CF_SETTINGS_PRODUCER_RATE_MAX);
    char *broker_argv[] = { broker, "--intake", self->intake, "--workers", wk, "--publish", pub,
                            "--plain", "--redis", redis, "--redis-user", "default",
                            "--redis-password-file", self->password_file, "--shards", shards,
                            "--producer-rate", rate, NULL };
    if ((self->broker = stack_spawn(self, "broker", broker_argv)) < 0)
        return -1;
    for (unsigned i = 0; i < config->workers; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%u", i + 1);
        char *worker_argv[] = { worker, "--broker", wk, "--redis", redis, "--key-file",
                                self->key_file, "--scripts", (char *) config->script_dir,
                                "--redis-user", "default", "--redis-password-file",
                                self->password_file, "--shards", shards,
                                config->replica ? "--ack-replicas" : NULL, "1", NULL };
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
    tmp = tmp && *tmp ? tmp : "/tmp";
    if (strlen(tmp) > STACK_TMPDIR_MAX)     /* the daemons' paths in it must fit */
        return cf_bench_stack_fail(self, "TMPDIR is longer than %d characters: %s",
                                   STACK_TMPDIR_MAX, tmp);
    snprintf(self->dir, sizeof self->dir, "%s/caseflow-bench.XXXXXX", tmp);
    if (!mkdtemp(self->dir)) {
        int e = errno;
        self->dir[0] = '\0';
        return cf_bench_stack_fail(self, "mkdtemp: %s", strerror(e));
    }
    if (stack_write_files(self, config->aof_rewrite) < 0 || stack_free_ports(self) < 0)
        return -1;
    return stack_start_daemons(self, config);
}

