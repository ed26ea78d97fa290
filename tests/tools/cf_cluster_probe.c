/*  cf_cluster_probe: drives cf_redis_cluster for integration.redis_cluster,
    until callers use it. Reads one command a line on stdin, answers one
    line on stdout ("ok ...", "fail ..." when Redis answered something
    else than was written, "error CODE MESSAGE" when the context failed):
      fill N    pipelined SET of N keys in each shard's hash tag {s0}..{s63},
                then pipelined GET of them all, compared
      check     pipelined GET of those keys, compared with what fill wrote
      spin MS   check again and again for MS milliseconds: "ok spin ROUNDS"
                or the first failure
      txn       a single-slot EVAL and a MULTI/EXEC on one shard's keys
      mode      "ok cluster" or "ok single"
      stats     "ok moved=M ask=A tryagain=T refreshes=R"
    Usage: cf_cluster_probe HOST PORT [auto|single|cluster]; credentials as
    every caseflow client takes them (CASEFLOW_REDIS_USER, ..._PASSWORD_FILE). */
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_redis_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#define SHARDS 64

static cf_redis_cluster_t *s_ctx;
static int s_keys;                  /* per shard, after fill */
static int s_generation;            /* in the values, so a stale one shows */

static int error_line(void)
{
    printf("error %d %s\n", cf_redis_cluster_errcode(s_ctx), cf_redis_cluster_error(s_ctx));
    return -1;
}

static void key_of(char *key, size_t size, int shard, int i)
{
    snprintf(key, size, "cf:{s%d}:probe:%d", shard, i);
}

/* Takes n replies; each must be a string equal to the value of key i, or a
   status when status is set. */
static int take_replies(int n, bool status, const char *what)
{
    int rc = 0;
    for (int k = 0; k < n; k++) {
        redisReply *reply;
        if (cf_redis_cluster_get_reply(s_ctx, &reply) < 0)
            return error_line();
        char want[64];
        snprintf(want, sizeof want, "g%d-%d", s_generation, k);
        bool good = status ? reply->type == REDIS_REPLY_STATUS
                           : reply->type == REDIS_REPLY_STRING && strcmp(reply->str, want) == 0;
        if (!good && rc == 0) {
            printf("fail %s: reply %d is '%s', not '%s'\n", what, k,
                   reply->str ? reply->str : "(no text)", status ? "OK" : want);
            rc = -1;
        }
        freeReplyObject(reply);
    }
    return rc;
}

static void append_gets(void)
{
    char key[64];
    for (int k = 0; k < SHARDS * s_keys; k++) {
        key_of(key, sizeof key, k % SHARDS, k / SHARDS);
        cf_redis_cluster_append(s_ctx, key, "GET %s", key);
    }
}

static int do_fill(int n)
{
    s_keys = n;
    s_generation++;
    char key[64];
    for (int k = 0; k < SHARDS * n; k++) {
        key_of(key, sizeof key, k % SHARDS, k / SHARDS);
        cf_redis_cluster_append(s_ctx, key, "SET %s g%d-%d", key, s_generation, k);
    }
    append_gets();
    if (take_replies(SHARDS * n, true, "fill") < 0 || take_replies(SHARDS * n, false, "fill") < 0)
        return -1;
    return 0;
}

static int do_check(void)
{
    append_gets();
    return take_replies(SHARDS * s_keys, false, "check");
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void do_txn(void)
{
    const char *script = "redis.call('SET', KEYS[1], ARGV[1]) "
                         "return redis.call('INCR', KEYS[2])";
    redisReply *a = cf_redis_cluster_command(s_ctx, "cf:{s5}:txn", "EVAL %s 2 %s %s %s", script,
                                             "cf:{s5}:txn", "cf:{s5}:count", "x");
    if (!a) {
        error_line();
        return;
    }
    long long first = a->type == REDIS_REPLY_INTEGER ? a->integer : -1;
    freeReplyObject(a);
    const char *key = "cf:{s7}:txn";
    cf_redis_cluster_append(s_ctx, key, "MULTI");
    cf_redis_cluster_append(s_ctx, key, "SET %s y", key);
    cf_redis_cluster_append(s_ctx, key, "INCR cf:{s7}:count");
    cf_redis_cluster_append(s_ctx, key, "EXEC");
    redisReply *r[4];
    for (int i = 0; i < 4; i++)
        if (cf_redis_cluster_get_reply(s_ctx, &r[i]) < 0) {
            while (i--)
                freeReplyObject(r[i]);
            error_line();
            return;
        }
    bool good = first >= 1 && r[3]->type == REDIS_REPLY_ARRAY && r[3]->elements == 2
                && r[3]->element[1]->type == REDIS_REPLY_INTEGER;
    if (good)
        printf("ok txn eval=%lld exec=%lld\n", first, r[3]->element[1]->integer);
    else
        printf("fail txn: eval %lld, exec type %d\n", first, r[3]->type);
    for (int i = 0; i < 4; i++)
        freeReplyObject(r[i]);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cf_cluster_probe HOST PORT [auto|single|cluster]\n");
        return 2;
    }
    cf_redis_mode_t mode = CF_REDIS_MODE_AUTO;
    if (argc > 3)
        mode = !strcmp(argv[3], "single") ? CF_REDIS_MODE_SINGLE
             : !strcmp(argv[3], "cluster") ? CF_REDIS_MODE_CLUSTER : CF_REDIS_MODE_AUTO;
    char err[256];
    cf_redis_auth_t *auth = cf_redis_auth_from_env(NULL, NULL, err, sizeof err);
    if (!auth) {
        fprintf(stderr, "cf_cluster_probe: %s\n", err);
        return 2;
    }
    s_ctx = cf_redis_cluster_new(argv[1], atoi(argv[2]), auth, mode, 5000);
    cf_redis_auth_destroy(&auth);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        int n = 0;
        if (sscanf(line, "fill %d", &n) == 1 && n > 0) {
            if (do_fill(n) == 0)
                printf("ok fill %d\n", SHARDS * n);
        } else if (!strncmp(line, "check", 5)) {
            if (do_check() == 0)
                printf("ok check %d\n", SHARDS * s_keys);
        } else if (sscanf(line, "spin %d", &n) == 1) {
            long long end = now_ms() + n;
            int rounds = 0;
            while (now_ms() < end && do_check() == 0)
                rounds++;
            if (now_ms() >= end)
                printf("ok spin %d\n", rounds);
        } else if (!strncmp(line, "txn", 3)) {
            do_txn();
        } else if (!strncmp(line, "mode", 4)) {
            if (cf_redis_cluster_connect(s_ctx) == 0)
                printf("ok %s\n", cf_redis_cluster_is_cluster(s_ctx) ? "cluster" : "single");
            else
                error_line();
        } else if (!strncmp(line, "stats", 5)) {
            cf_redis_cluster_stats_t st;
            cf_redis_cluster_stats(s_ctx, &st);
            printf("ok moved=%llu ask=%llu tryagain=%llu refreshes=%llu\n",
                   (unsigned long long) st.moved, (unsigned long long) st.ask,
                   (unsigned long long) st.tryagain, (unsigned long long) st.refreshes);
        } else {
            printf("error - unknown command\n");
        }
    }
    cf_redis_cluster_destroy(&s_ctx);
    return 0;
}
