/*  A throw-away redis-server for tests; see cf_test_redis.h. The port is
    found by binding 127.0.0.1:0; since another process may take it before
    redis-server binds it, a server that exits at once is retried on a new
    port. Test support code: failures go to stderr, not to an error object. */
#include "cf_test_redis.h"
#include "caseflow/cf_alloc.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>

#define REDIS_ATTEMPTS      5
#define REDIS_WAIT_MS       5000

struct _cf_test_redis_t {
    pid_t pid;
    int port;
    char dir[64];
};

static int test_redis_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *) &addr, sizeof addr) == 0
        && getsockname(fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void test_redis_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* In the child: dies with the parent, logs into the directory, execs. */
static void test_redis_exec(const cf_test_redis_t *self, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(126);
    char log[96], port[16];
    snprintf(log, sizeof log, "%s/redis.log", self->dir);
    snprintf(port, sizeof port, "%d", self->port);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    const char *server = getenv("CF_TEST_REDIS_SERVER");
    server = server ? server : "redis-server";
    execlp(server, server, "--port", port, "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", self->dir, (char *) NULL);
    _exit(127);
}

static int test_redis_pings(int port)
{
    struct timeval timeout = { 0, 200000 };
    redisContext *ctx = redisConnectWithTimeout("127.0.0.1", port, timeout);
    int ok = 0;
    if (ctx && !ctx->err) {
        redisReply *reply = redisCommand(ctx, "PING");
        ok = reply && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0;
        freeReplyObject(reply);
    }
    redisFree(ctx);
    return ok;
}

/* Starts one server; 0 once it answers PING, -1 when it exited or hung. */
static int test_redis_try(cf_test_redis_t *self)
{
    self->port = test_redis_free_port();
    if (self->port < 0)
        return -1;
    pid_t parent = getpid();
    self->pid = fork();
    if (self->pid < 0)
        return -1;
    if (self->pid == 0)
        test_redis_exec(self, parent);
    for (int waited = 0; waited < REDIS_WAIT_MS; waited += 20) {
        int status;
        if (waitpid(self->pid, &status, WNOHANG) == self->pid) {
            self->pid = 0;
            return -1;
        }
        if (test_redis_pings(self->port))
            return 0;
        test_redis_sleep_ms(20);
    }
    kill(self->pid, SIGKILL);
    waitpid(self->pid, NULL, 0);
    self->pid = 0;
    return -1;
}

static int test_redis_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    remove(path);
    return 0;
}

/* The server's directory and all in it, depth first: a test that turns the
   AOF on (CONFIG SET appendonly yes) leaves a directory of it there. */
static void test_redis_remove_dir(const char *path)
{
    if (path[0])
        nftw(path, test_redis_remove, 16, FTW_DEPTH | FTW_PHYS);
}

cf_test_redis_t *cf_test_redis_start(void)
{
    cf_test_redis_t *self = cf_calloc(1, sizeof *self);
    snprintf(self->dir, sizeof self->dir, "/tmp/cf_test_redis_XXXXXX");
    if (!mkdtemp(self->dir)) {
        perror("cf_test_redis_start: mkdtemp");
        free(self);
        return NULL;
    }
    for (int attempt = 0; attempt < REDIS_ATTEMPTS; attempt++)
        if (test_redis_try(self) == 0)
            return self;
    fprintf(stderr, "cf_test_redis_start: redis-server did not start (see %s/redis.log)\n",
            self->dir);
    self->dir[0] = '\0';        /* keep the log for whoever investigates */
    free(self);
    return NULL;
}

int cf_test_redis_port(const cf_test_redis_t *self)
{
    return self->port;
}

int cf_test_redis_pid(const cf_test_redis_t *self)
{
    return self ? (int) self->pid : -1;
}

int cf_test_redis_acl_user(const cf_test_redis_t *self, const char *user)
{
    FILE *acl = fopen(CF_SOURCE_DIR "/deploy/redis-users.acl", "r");
    if (!acl) {
        perror(CF_SOURCE_DIR "/deploy/redis-users.acl");
        return -1;
    }
    char line[1024], prefix[64];
    snprintf(prefix, sizeof prefix, "user %s ", user);
    const char *argv[64] = { "ACL", "SETUSER" };
    int argc = 2;
    while (argc == 2 && fgets(line, sizeof line, acl))
        if (!strncmp(line, prefix, strlen(prefix)))
            for (char *word = strtok(line + 5, " \n"); word && argc < 64; word = strtok(NULL, " \n"))
                argv[argc++] = word[0] == '>' ? ">pw" : word;
    fclose(acl);
    if (argc <= 4) {
        fprintf(stderr, "redis-users.acl: no user %s\n", user);
        return -1;
    }
    redisContext *ctx = redisConnect("127.0.0.1", self->port);
    redisReply *reply = ctx && !ctx->err ? redisCommandArgv(ctx, argc, argv, NULL) : NULL;
    int rc = reply && reply->type != REDIS_REPLY_ERROR ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "ACL SETUSER %s: %s\n", user,
                reply ? reply->str : ctx ? ctx->errstr : "no connection");
    freeReplyObject(reply);
    redisFree(ctx);
    return rc;
}

void cf_test_redis_stop(cf_test_redis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_test_redis_t *self = *self_p;
    if (self->pid > 0) {
        kill(self->pid, SIGTERM);
        int waited = 0;
        while (waitpid(self->pid, NULL, WNOHANG) == 0) {
            if (waited >= REDIS_WAIT_MS) {
                kill(self->pid, SIGKILL);
                waitpid(self->pid, NULL, 0);
                break;
            }
            test_redis_sleep_ms(10);
            waited += 10;
        }
    }
    test_redis_remove_dir(self->dir);
    free(self);
    *self_p = NULL;
}
