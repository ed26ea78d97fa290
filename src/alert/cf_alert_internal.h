/*  cf_alert internals: one sink's deliverer (cf_alert_sink.c), which the
    object (cf_alert.c) starts in a thread per sink. Not installed.          */
#ifndef CF_ALERT_INTERNAL_H
#define CF_ALERT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "caseflow/cf_keys.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_store.h"
#include "cf_alert_send.h"

#define ALERT_STREAMS       (CF_STORE_SHARDS + 1)   /* the shards' outboxes, then the milestones' */
#define ALERT_CURSOR_MAX    48                      /* "<ms>-<seq>" */
#define ALERT_ERROR_MAX     256

typedef struct {
    cf_rules_sink_t sink;
    const char *host;                   /* the owner's */
    int port;
    const cf_redis_auth_t *auth;        /* the owner's; NULL: none */
    const atomic_int *stop;             /* the owner's */
    cf_alert_send_t *sender;
    pthread_t thread;
    bool started;
    redisContext *redis;                /* NULL while not connected */
    char key[CF_KEYS_MAX];              /* cf:alert:sink:<name> */
    char streams[ALERT_STREAMS][CF_KEYS_MAX];
    char cursor[ALERT_STREAMS][ALERT_CURSOR_MAX];
    /* what cf:alert:sink:<name> keeps besides the cursors */
    uint64_t delivered, failed, retries, pending, lag_ms;
    int64_t last_delivered_at, last_error_at;     /* Unix ms; 0: never */
    char last_error[ALERT_ERROR_MAX];
    cf_metric_t *m_delivered, *m_failed, *m_retries, *m_pending, *m_lag;
} alert_sink_t;

/*  The thread of one sink: reads, delivers, saves, until *sink->stop.       */
void *alert_sink_run(void *arg);

/*  The stream a field of cf:alert:sink:<name> names ("s0".."s7", "pub").    */
const char *alert_sink_field(unsigned stream);

#endif
