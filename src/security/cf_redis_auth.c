/*  cf_redis_auth: reading Redis credentials and sending AUTH; see
    cf_redis_auth.h. The password file is read by cf_secret_file, which
    checks it the way ssh checks a key: a secret that others can read is
    treated as already leaked, so it is refused rather than used.                 */
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_secret_file.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include <sodium.h>

struct _cf_redis_auth_t {
    char *user;                     /* NULL: Redis's default user */
    char *password;                 /* NULL: send no AUTH */
    size_t password_len;
};

static cf_redis_auth_t *auth_make(const char *user, const char *password, size_t len)
{
    cf_redis_auth_t *self = cf_calloc(1, sizeof *self);
    self->user = user && *user ? cf_strdup(user) : NULL;
    if (password) {
        self->password = cf_malloc(len + 1);
        memcpy(self->password, password, len);
        self->password[len] = '\0';
        self->password_len = len;
    }
    return self;
}

cf_redis_auth_t *cf_redis_auth_new(const char *user, const char *password)
{
    return auth_make(user, password, password ? strlen(password) : 0);
}

cf_redis_auth_t *cf_redis_auth_dup(const cf_redis_auth_t *self)
{
    return self ? auth_make(self->user, self->password, self->password_len) : NULL;
}

void cf_redis_auth_destroy(cf_redis_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_redis_auth_t *self = *self_p;
    if (self->password)
        sodium_memzero(self->password, self->password_len);
    free(self->password);
    free(self->user);
    free(self);
    *self_p = NULL;
}

cf_redis_auth_t *cf_redis_auth_from_env(const char *user, const char *password_file, char *err,
                                        size_t err_size)
{
    if (!user)
        user = getenv("CASEFLOW_REDIS_USER");
    if (!password_file)
        password_file = getenv("CASEFLOW_REDIS_PASSWORD_FILE");
    if (password_file && *password_file) {
        char buf[CF_REDIS_AUTH_PASSWORD_MAX + 2];
        size_t len = 0;
        int rc = cf_secret_file_read("redis password file", password_file, false, buf,
                                     sizeof buf, &len, CF_REDIS_AUTH_PASSWORD_MAX, err,
                                     err_size);
        cf_redis_auth_t *self = rc < 0 ? NULL : auth_make(user, buf, len);
        sodium_memzero(buf, sizeof buf);
        return self;
    }
    const char *password = getenv("CASEFLOW_REDIS_PASSWORD");
    if (user && *user && !(password && *password)) {
        /* without AUTH the connection would be Redis's default user, not this one */
        snprintf(err, err_size, "redis user '%s' given without a password: give "
                 "--redis-password-file, CASEFLOW_REDIS_PASSWORD_FILE or CASEFLOW_REDIS_PASSWORD",
                 user);
        return NULL;
    }
    return cf_redis_auth_new(user, password && *password ? password : NULL);
}

const char *cf_redis_auth_user(const cf_redis_auth_t *self)
{
    return self && self->user ? self->user : "default";
}

bool cf_redis_auth_enabled(const cf_redis_auth_t *self)
{
    return self && self->password;
}

int cf_redis_auth_send(const cf_redis_auth_t *self, redisContext *c, char *err, size_t err_size)
{
    assert(c);
    if (!cf_redis_auth_enabled(self))
        return 0;
    redisReply *reply = self->user
        ? redisCommand(c, "AUTH %s %b", self->user, self->password, self->password_len)
        : redisCommand(c, "AUTH %b", self->password, self->password_len);
    if (!reply) {
        snprintf(err, err_size, "AUTH: %s", c->errstr[0] ? c->errstr : "no reply");
        return -1;
    }
    int rc = 0;
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(err, err_size, "AUTH as user '%s' refused: %.200s", cf_redis_auth_user(self),
                 reply->str);
        rc = -1;
    }
    freeReplyObject(reply);
    return rc;
}

int cf_redis_auth_check(const cf_redis_auth_t *self, const char *host, int port, char *err,
                        size_t err_size)
{
    assert(host);
    if (!cf_redis_auth_enabled(self))
        return 0;
    struct timeval timeout = { 2, 0 };
    redisContext *c = redisConnectWithTimeout(host, port, timeout);
    if (!c)
        abort();                    /* hiredis could not allocate */
    int rc = 0;
    if (!c->err && redisSetTimeout(c, timeout) == REDIS_OK
        && cf_redis_auth_send(self, c, err, err_size) < 0 && !c->err)
        rc = -1;
    redisFree(c);
    return rc;
}
