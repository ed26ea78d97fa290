/*  Tests of cf_redis_auth: where the password may come from (a file only
    its owner can read, or the environment) and AUTH against a real
    redis-server with an ACL user: accepted, refused (WRONGPASS, as a
    refusal and not as a connection error), and through cf_store.           */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_store.h"
#include "cf_test_redis.h"

static char s_path[64];

static void write_file(const char *text, mode_t mode)
{
    snprintf(s_path, sizeof s_path, "/tmp/cf_redis_auth_test_%d", (int) getpid());
    unlink(s_path);
    FILE *file = fopen(s_path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
    assert_int_equal(chmod(s_path, mode), 0);
}

static void test_password_file(void **state)
{
    (void) state;
    char err[512];
    unsetenv("CASEFLOW_REDIS_USER");
    unsetenv("CASEFLOW_REDIS_PASSWORD_FILE");
    assert_null(cf_redis_auth_from_env("u", "/nonexistent/pw", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/pw"));
    write_file("secret\n", 0644);
    assert_null(cf_redis_auth_from_env("u", s_path, err, sizeof err));
    assert_non_null(strstr(err, s_path));
    assert_non_null(strstr(err, "mode 0644"));
    write_file("secret\n", 0640);
    assert_null(cf_redis_auth_from_env("u", s_path, err, sizeof err));
    write_file("\n", 0600);
    assert_null(cf_redis_auth_from_env("u", s_path, err, sizeof err));
    assert_non_null(strstr(err, "empty"));
    assert_null(cf_redis_auth_from_env("u", "/tmp", err, sizeof err));
    assert_non_null(strstr(err, "not a regular file"));
    write_file("secret\n", 0600);
    cf_redis_auth_t *auth = cf_redis_auth_from_env("u", s_path, err, sizeof err);
    assert_non_null(auth);
    assert_true(cf_redis_auth_enabled(auth));
    assert_string_equal(cf_redis_auth_user(auth), "u");
    cf_redis_auth_destroy(&auth);
    assert_null(auth);
    cf_redis_auth_destroy(&auth);               /* NULL is fine */
    setenv("CASEFLOW_REDIS_PASSWORD_FILE", s_path, 1);
    setenv("CASEFLOW_REDIS_USER", "from-env", 1);
    auth = cf_redis_auth_from_env(NULL, NULL, err, sizeof err);
    assert_non_null(auth);
    assert_string_equal(cf_redis_auth_user(auth), "from-env");
    cf_redis_auth_destroy(&auth);
    unsetenv("CASEFLOW_REDIS_PASSWORD_FILE");
    unsetenv("CASEFLOW_REDIS_USER");
    unlink(s_path);
}

static void test_password_env(void **state)
{
    (void) state;
    char err[256];
    unsetenv("CASEFLOW_REDIS_USER");
    unsetenv("CASEFLOW_REDIS_PASSWORD_FILE");
    unsetenv("CASEFLOW_REDIS_PASSWORD");
    assert_null(cf_redis_auth_from_env("someone", NULL, err, sizeof err));
    assert_non_null(strstr(err, "'someone' given without a password"));
    cf_redis_auth_t *auth = cf_redis_auth_from_env(NULL, NULL, err, sizeof err);
    assert_non_null(auth);
    assert_false(cf_redis_auth_enabled(auth));   /* no password: no AUTH */
    assert_string_equal(cf_redis_auth_user(auth), "default");
    cf_redis_auth_destroy(&auth);
    setenv("CASEFLOW_REDIS_PASSWORD", "from-env", 1);
    auth = cf_redis_auth_from_env(NULL, NULL, err, sizeof err);
    assert_true(cf_redis_auth_enabled(auth));
    cf_redis_auth_t *copy = cf_redis_auth_dup(auth);
    cf_redis_auth_destroy(&auth);
    assert_true(cf_redis_auth_enabled(copy));
    cf_redis_auth_destroy(&copy);
    assert_null(cf_redis_auth_dup(NULL));
    assert_false(cf_redis_auth_enabled(NULL));
    unsetenv("CASEFLOW_REDIS_PASSWORD");
}

static void test_auth_on_redis(void **state)
{
    (void) state;
    cf_test_redis_t *redis = cf_test_redis_start();
    assert_non_null(redis);
    int port = cf_test_redis_port(redis);
    redisContext *c = redisConnect("127.0.0.1", port);
    assert_true(c && !c->err);
    redisReply *r = redisCommand(c, "ACL SETUSER tester on >s3cret ~* +@all");
    assert_true(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);

    char err[300];
    cf_redis_auth_t *good = cf_redis_auth_new("tester", "s3cret");
    cf_redis_auth_t *bad = cf_redis_auth_new("tester", "wrong");
    cf_redis_auth_t *none = cf_redis_auth_new(NULL, NULL);
    assert_int_equal(cf_redis_auth_send(good, c, err, sizeof err), 0);
    assert_int_equal(cf_redis_auth_send(none, c, err, sizeof err), 0);
    assert_int_equal(cf_redis_auth_send(NULL, c, err, sizeof err), 0);
    assert_int_equal(cf_redis_auth_send(bad, c, err, sizeof err), -1);
    assert_int_equal(c->err, 0);                /* a refusal, not a broken connection */
    assert_non_null(strstr(err, "WRONGPASS"));
    assert_non_null(strstr(err, "'tester'"));
    assert_null(strstr(err, "wrong"));          /* the password is never in a message */

    assert_int_equal(cf_redis_auth_check(good, "127.0.0.1", port, err, sizeof err), 0);
    assert_int_equal(cf_redis_auth_check(bad, "127.0.0.1", port, err, sizeof err), -1);
    assert_non_null(strstr(err, "WRONGPASS"));
    assert_int_equal(cf_redis_auth_check(bad, "127.0.0.1", 1, err, sizeof err), 0);   /* down */

    cf_store_t *store = cf_store_new("127.0.0.1", port, NULL);
    cf_store_set_auth(store, bad);
    assert_int_equal(cf_store_connect(store), -1);
    assert_int_equal(cf_store_error_code(store), CF_STORE_ERR_REDIS);
    assert_non_null(strstr(cf_store_error(store), "WRONGPASS"));
    cf_store_set_auth(store, good);
    assert_int_equal(cf_store_connect(store), 0);
    cf_store_destroy(&store);

    cf_redis_auth_destroy(&good);
    cf_redis_auth_destroy(&bad);
    cf_redis_auth_destroy(&none);
    redisFree(c);
    cf_test_redis_stop(&redis);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_password_file),
                                        cmocka_unit_test(test_password_env),
                                        cmocka_unit_test(test_auth_on_redis) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
