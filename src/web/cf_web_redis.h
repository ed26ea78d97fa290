/*  cf_web_redis: caseflow-web's figures, read from Redis through cf_store
    as caseflow-ctl reads them: a cf_web_source_t over a Redis address and
    its credentials. Each call opens its own connection (the server answers
    each request in its own thread) and closes it. A replay writes (as
    caseflow-ctl dlq replay): the Redis user must be allowed to (the
    caseflow-web user of deploy/redis-users.acl is).                         */
#ifndef CF_WEB_REDIS_H
#define CF_WEB_REDIS_H

#include "caseflow/cf_redis_auth.h"
#include "cf_web_api.h"

typedef struct _cf_web_redis_t cf_web_redis_t;

/*  A source for Redis at host:port with auth (copied; NULL: none), whose
    state is split into shards (the setting); a replay loads the scripts of
    script_dir (copied; NULL: where they were built or installed).          */
cf_web_redis_t *cf_web_redis_new(const char *host, int port, const cf_redis_auth_t *auth,
                                 unsigned shards, const char *script_dir);
void cf_web_redis_destroy(cf_web_redis_t **self_p);

/*  The callbacks over self, which must outlive their use.                   */
cf_web_source_t cf_web_redis_source(cf_web_redis_t *self);

#endif
