/*  cf_redis_auth: the credentials every caseflow client of Redis presents
    (docs/security.md, "Redis credentials"). An ACL user name and a password,
    read from a file that only its owner can read, or from the environment;
    never from the command line, which `ps` shows to every local user. The
    one place that sends AUTH: each connection, first or re-opened, calls
    cf_redis_auth_send right after connecting. The password is wiped from
    memory when the object is destroyed.                                    */
#ifndef CF_REDIS_AUTH_H
#define CF_REDIS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define CF_REDIS_AUTH_PASSWORD_MAX  512     /* bytes, after the final newline is dropped */

/*  The --help lines of the two flags, shared by every command that takes them. */
#define CF_REDIS_AUTH_USAGE \
    "  --redis-user NAME     Redis ACL user (env CASEFLOW_REDIS_USER; default: the\n" \
    "                        default user)\n" \
    "  --redis-password-file FILE  its password, in a file only the owner can read\n" \
    "                        (env CASEFLOW_REDIS_PASSWORD_FILE, or the password itself\n" \
    "                        in env CASEFLOW_REDIS_PASSWORD; never on the command line)\n"

typedef struct _cf_redis_auth_t cf_redis_auth_t;
typedef struct redisContext redisContext;

/*  Credentials from the flag values (NULL when not given) with their
    environment fallbacks: user, else CASEFLOW_REDIS_USER (NULL: Redis's
    default user); the password from password_file, else from the file
    CASEFLOW_REDIS_PASSWORD_FILE names, else CASEFLOW_REDIS_PASSWORD. The
    file must be a regular file not readable or writable by group or others
    (refused, naming the file and its mode). With no password at all, the
    object sends no AUTH (a Redis without requirepass or ACL); a user without
    a password is refused. NULL with the reason in err.                     */
cf_redis_auth_t *cf_redis_auth_from_env(const char *user, const char *password_file, char *err,
                                        size_t err_size);

/*  Credentials given directly (user may be NULL; password NULL: no AUTH).
    Copied. Never NULL.                                                      */
cf_redis_auth_t *cf_redis_auth_new(const char *user, const char *password);

/*  A copy (for an object that outlives the caller's); NULL for NULL.       */
cf_redis_auth_t *cf_redis_auth_dup(const cf_redis_auth_t *self);

/*  Wipes the password, frees and nulls *self_p; accepts NULL.              */
void cf_redis_auth_destroy(cf_redis_auth_t **self_p);

/*  The user name to show in messages ("default" when none).                */
const char *cf_redis_auth_user(const cf_redis_auth_t *self);

/*  Whether AUTH is sent at all (a password is set). False for NULL.        */
bool cf_redis_auth_enabled(const cf_redis_auth_t *self);

/*  Sends AUTH [user] password on a fresh connection c, when self has a
    password (self may be NULL: nothing to do). Returns 0, or -1 with the
    reason in err: when c->err is set the connection failed (Redis may be
    down: retry later); otherwise Redis refused the credentials ("AUTH as
    user 'x' refused: WRONGPASS ...": a configuration error, not worth a
    retry).                                                                  */
int cf_redis_auth_send(const cf_redis_auth_t *self, redisContext *c, char *err, size_t err_size);

/*  For a daemon whose connection is made later, by a thread that retries:
    connects to host:port once and tries the credentials, so that wrong ones
    stop it at start-up. Returns -1 with the reason in err only when Redis
    refuses them; 0 when it accepts them, when no AUTH is configured, or when
    Redis cannot be reached now (the caller's retries deal with that).      */
int cf_redis_auth_check(const cf_redis_auth_t *self, const char *host, int port, char *err,
                        size_t err_size);

#endif
