/*  cf_web_redis: the Redis source of caseflow-web; see cf_web_redis.h.     */
#include "cf_web_redis.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

struct _cf_web_redis_t {
    char *host;
    int port;
    cf_redis_auth_t *auth;
};

cf_web_redis_t *cf_web_redis_new(const char *host, int port, const cf_redis_auth_t *auth)
{
    assert(host);
    cf_web_redis_t *self = cf_calloc(1, sizeof *self);
    self->host = cf_strdup(host);
    self->port = port;
    self->auth = auth ? cf_redis_auth_dup(auth) : NULL;
    return self;
}

void cf_web_redis_destroy(cf_web_redis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_web_redis_t *self = *self_p;
    free(self->host);
    cf_redis_auth_destroy(&self->auth);
    free(self);
    *self_p = NULL;
}

static cf_store_t *redis_store(const cf_web_redis_t *self)
{
    cf_store_t *store = cf_store_new(self->host, self->port, NULL);   /* a reader */
    if (self->auth)
        cf_store_set_auth(store, self->auth);
    return store;
}

static int redis_read_family(void *ctx, const char *family, cf_counts_t **counts, char *err,
                             size_t n)
{
    cf_web_redis_t *self = ctx;
    cf_store_t *store = redis_store(self);
    int rc = cf_store_read_family(store, family, counts);
    if (rc < 0)
        snprintf(err, n, "redis %s:%d: %s", self->host, self->port, cf_store_error(store));
    cf_store_destroy(&store);
    return rc;
}

static int redis_clock(void *ctx, int64_t *ms, char *err, size_t n)
{
    cf_web_redis_t *self = ctx;
    cf_store_t *store = redis_store(self);
    int rc = cf_store_connect(store) < 0 ? -1 : cf_store_clock(store, ms);
    if (rc < 0)
        snprintf(err, n, "redis %s:%d: %s", self->host, self->port, cf_store_error(store));
    cf_store_destroy(&store);
    return rc;
}

cf_web_source_t cf_web_redis_source(cf_web_redis_t *self)
{
    assert(self);
    return (cf_web_source_t) { .read_family = redis_read_family, .clock = redis_clock,
                               .ctx = self };
}
