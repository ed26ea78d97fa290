/*  cf_web_redis: the Redis source of caseflow-web; see cf_web_redis.h.     */
#include "cf_web_redis.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_dlq_table.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct _cf_web_redis_t {
    char *host;
    int port;
    unsigned shards;
    cf_redis_auth_t *auth;
    char *scripts;
};

cf_web_redis_t *cf_web_redis_new(const char *host, int port, const cf_redis_auth_t *auth,
                                 unsigned shards, const char *script_dir)
{
    assert(host);
    cf_web_redis_t *self = cf_calloc(1, sizeof *self);
    self->shards = shards;
    self->host = cf_strdup(host);
    self->port = port;
    self->auth = auth ? cf_redis_auth_dup(auth) : NULL;
    self->scripts = cf_strdup(script_dir ? script_dir : cf_store_default_scripts());
    return self;
}

void cf_web_redis_destroy(cf_web_redis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_web_redis_t *self = *self_p;
    free(self->host);
    free(self->scripts);
    cf_redis_auth_destroy(&self->auth);
    free(self);
    *self_p = NULL;
}

/*  A store over self's Redis; a reader unless scripts (a replay).          */
static cf_store_t *redis_store(const cf_web_redis_t *self, bool scripts)
{
    cf_store_t *store = cf_store_new(self->host, self->port, scripts ? self->scripts : NULL);
    if (self->auth)
        cf_store_set_auth(store, self->auth);
    cf_store_set_shards(store, self->shards, false);
    return store;
}

static int redis_read_family(void *ctx, const char *family, cf_counts_t **counts, char *err,
                             size_t n)
{
    cf_web_redis_t *self = ctx;
    cf_store_t *store = redis_store(self, false);
    int rc = cf_store_read_family(store, family, counts);
    if (rc < 0)
        snprintf(err, n, "redis %s:%d: %s", self->host, self->port, cf_store_error(store));
    cf_store_destroy(&store);
    return rc;
}

static int redis_clock(void *ctx, int64_t *ms, char *err, size_t n)
{
    cf_web_redis_t *self = ctx;
    cf_store_t *store = redis_store(self, false);
    int rc = cf_store_connect(store) < 0 ? -1 : cf_store_clock(store, ms);
    if (rc < 0)
        snprintf(err, n, "redis %s:%d: %s", self->host, self->port, cf_store_error(store));
    cf_store_destroy(&store);
    return rc;
}

/*  The store connected, or NULL with the reason in err.                    */
static cf_store_t *redis_connect(const cf_web_redis_t *self, bool scripts, char *err, size_t n)
{
    cf_store_t *store = redis_store(self, scripts);
    if (cf_store_connect(store) == 0)
        return store;
    snprintf(err, n, "redis %s:%d: %s", self->host, self->port, cf_store_error(store));
    cf_store_destroy(&store);
    return NULL;
}

static cf_table_t *redis_dlq_list(void *ctx, char *err, size_t n)
{
    cf_store_t *store = redis_connect(ctx, false, err, n);
    cf_table_t *table = store ? cf_dlq_table_list(store, err, n) : NULL;
    cf_store_destroy(&store);
    return table;
}

static cf_table_t *redis_dlq_replay(void *ctx, const char *id, bool *missing, char *err,
                                    size_t n)
{
    *missing = false;
    cf_store_t *store = redis_connect(ctx, true, err, n);
    cf_table_t *table = store ? cf_dlq_table_replay(store, id, missing, err, n) : NULL;
    cf_store_destroy(&store);
    return table;
}

cf_web_source_t cf_web_redis_source(cf_web_redis_t *self)
{
    assert(self);
    return (cf_web_source_t) { .read_family = redis_read_family, .clock = redis_clock,
                               .dlq_list = redis_dlq_list, .dlq_replay = redis_dlq_replay,
                               .ctx = self };
}
