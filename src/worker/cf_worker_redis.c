/*  cf_worker_redis: what a worker logs of Redis's outages, whichever of its
    calls meets one (a job kept for retry, the overdue alerts' round, the
    markers' sweep): one line when a call fails and one when Redis answers
    again; the retries between them log at debug only.                     */
#include "cf_worker_internal.h"
#include "caseflow/cf_log.h"

void cf_worker_redis_failed(cf_worker_t *self, const char *what, const char *error,
                            int retry_in_ms)
{
    CF_LOG(self->redis_down ? CF_LOG_DEBUG : CF_LOG_WARN, what, "error=%s retry_in_ms=%d",
           CF_LOG_QUOTE(error), retry_in_ms);
    self->redis_down = true;
}

void cf_worker_redis_ok(cf_worker_t *self)
{
    if (self->redis_down)
        CF_LOG(CF_LOG_INFO, "redis back", "%s", "");
    self->redis_down = false;
}
