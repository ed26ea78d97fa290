/*  A throw-away redis-server for tests: started on a free loopback port in
    a temporary directory, with no persistence, killed (and its directory
    removed) by cf_test_redis_stop. The server also dies with the test
    process (PR_SET_PDEATHSIG), so a crashed test leaves nothing behind.     */
#ifndef CF_TEST_REDIS_H
#define CF_TEST_REDIS_H

typedef struct _cf_test_redis_t cf_test_redis_t;

/*  Starts redis-server (from PATH, or CF_TEST_REDIS_SERVER) and returns
    once it answers PING; NULL when it could not be started within a few
    seconds (after a few attempts on other ports).                          */
cf_test_redis_t *cf_test_redis_start(void);

/*  The server's TCP port on 127.0.0.1.                                     */
int cf_test_redis_port(const cf_test_redis_t *self);

/*  The server's process (to freeze it with SIGSTOP, say).                  */
int cf_test_redis_pid(const cf_test_redis_t *self);

/*  Creates user (password "pw") with its rules in deploy/redis-users.acl
    (caseflow-worker, caseflow-broker, ...), as the admin. 0, or -1 with why
    on stderr.                                                              */
int cf_test_redis_acl_user(const cf_test_redis_t *self, const char *user);

/*  Stops the server (SIGTERM, SIGKILL after 5 s), removes its directory,
    frees and nulls *self_p; accepts NULL and an already stopped server.   */
void cf_test_redis_stop(cf_test_redis_t **self_p);

#endif
