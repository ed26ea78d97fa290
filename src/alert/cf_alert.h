/*  cf_alert: caseflow-alert's deliverer. It reads the notification outboxes
    in Redis (the eight shards' cf:{sN}:outbox and the milestones'
    cf:{pub}:outbox, as the broker's cf_outbox does) and delivers the
    notifications each sink of the rules file selects, by topic prefix and
    programme (docs/notifications.md, "Alert sinks").

    Each sink has a thread of its own, with its own Redis connection and its
    own cursors, so a slow or failing receiver holds up no other sink. A
    sink takes its notifications in order and retries the one it is on with
    exponential backoff (1 s, doubling up to the sink's backoff_max) until
    the receiver takes it: delivery is at least once. One the receiver
    still refuses past the sink's give_up_after is moved to the sink's dead
    letters (cf:alert:dead:<name>) so that it holds up no other. After each delivery it
    saves its cursors and counts in cf:alert:sink:<name>, so a restarted
    deliverer goes on after the last notification delivered; one delivered
    but not yet saved when the process died is sent again, with the same id,
    which is what a receiver drops repeats by.                               */
#ifndef CF_ALERT_H
#define CF_ALERT_H

#include <stddef.h>
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_rules.h"

typedef struct _cf_alert_t cf_alert_t;

typedef struct {
    const char *redis_host;
    int redis_port;
    const cf_redis_auth_t *auth;        /* copied; NULL: none */
    const cf_rules_t *rules;            /* its sinks are copied */
    unsigned shards;                    /* the deployment's shard count (the setting) */
    cf_metrics_t *metrics;              /* NULL: none; must outlive the object */
} cf_alert_config_t;

/*  Reads each sink's secret, then starts one thread per sink. NULL with the
    reason in err when a secret cannot be read, the rules have no sinks, or
    Redis refuses the credentials or records another shard count (a Redis
    not up yet is waited for; each sink checks the count when it connects). */
cf_alert_t *cf_alert_new(const cf_alert_config_t *config, char *err, size_t n);

/*  Stops the threads (a try under way ends within its timeout) and frees;
    accepts NULL.                                                            */
void cf_alert_destroy(cf_alert_t **self_p);

/*  How many sinks it delivers to.                                           */
size_t cf_alert_sinks(const cf_alert_t *self);

#endif
