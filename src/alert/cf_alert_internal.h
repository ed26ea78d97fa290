/*  cf_alert internals: one sink's deliverer (cf_alert_sink.c, its state in
    Redis in cf_alert_sink_state.c), which the object (cf_alert.c) starts in
    a thread per sink. Not installed.                                        */
#ifndef CF_ALERT_INTERNAL_H
#define CF_ALERT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "caseflow/cf_keys.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_outbox_notes.h"
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_redis_cluster.h"
#include "caseflow/cf_rules.h"
#include "caseflow/cf_store.h"
#include "cf_alert_send.h"

#define ALERT_CURSOR_MAX    48                      /* "<ms>-<seq>" */
#define ALERT_FIELD_MAX     12                      /* "s1023", "pub" */
#define ALERT_COUNTS        11                      /* the fields besides the cursors */
#define ALERT_DEAD_MAX      "10000"                 /* about the most a dead-letter stream keeps */
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
    cf_redis_cluster_t *redis;          /* a server or a cluster; NULL while not connected */
    char key[CF_KEYS_MAX];              /* cf:alert:sink:<name> */
    char dead[CF_KEYS_MAX];             /* cf:alert:dead:<name> */
    unsigned shards, streams;           /* the deployment's shards; their outboxes + 1 */
    char (*keys)[CF_KEYS_MAX];          /* the outboxes: the shards', then the milestones' */
    char (*fields)[ALERT_FIELD_MAX];    /* their fields in cf:alert:sink:<name>: s0.., pub */
    char (*cursor)[ALERT_CURSOR_MAX];   /* the last entry taken of each */
    char (*seen_fields)[ALERT_FIELD_MAX];   /* n0.., npub */
    uint64_t *seen;                     /* entries taken of each, trimmed ones counted */
    const char **argv;                  /* room for the XREAD's and the HSET's arguments */
    cf_outbox_notes_t *notes;           /* the batch's entries, read (until it is done) */
    char (*numbers)[24];                /* room for the HSET's seen counts */
    /* what cf:alert:sink:<name> keeps besides the cursors */
    uint64_t delivered, failed, retries, pending, lag_ms;
    uint64_t lost;                      /* outbox entries trimmed before it read them */
    uint64_t given_up;                  /* refused past give_up_after: in its dead letters */
    int64_t last_delivered_at, last_error_at;     /* Unix ms; 0: never */
    char last_error[ALERT_ERROR_MAX];
    cf_metric_t *m_delivered, *m_failed, *m_retries, *m_pending, *m_lag, *m_lost,
                *m_given_up;
    bool fresh;                         /* nothing saved: what was trimmed is not its loss */
    int64_t trim_checked_at;            /* when the outboxes' trims were last looked at */
} alert_sink_t;

/*  A context for the Redis at host:port (a single server or a cluster),
    connected and authenticated, the shard count it records checked against
    shards (on cf:shards's master). NULL with the reason in err, and
    *refused set when Redis answered (credentials, another shard count)
    rather than could not be reached (cf_alert_sink_state.c).              */
cf_redis_cluster_t *alert_redis_open(const char *host, int port, const cf_redis_auth_t *auth,
                                     unsigned shards, char *err, size_t n, bool *refused);

/*  The thread of one sink: reads, delivers, saves, until *sink->stop.       */
void *alert_sink_run(void *arg);

/*  Makes s's per-outbox arrays for shards shards (the keys, fields and
    cursors); alert_sink_free frees them.                                   */
void alert_sink_init(alert_sink_t *s, unsigned shards);
void alert_sink_free(alert_sink_t *s);

/*  The wall clock, Unix ms: the notes' ages, the gauges, the trims check. */
int64_t alert_sink_now_ms(void);

/*  Drops s's connection (s->redis NULL, safe when already NULL).          */
void alert_sink_disconnect(alert_sink_t *s);

/*  Connects, loads what was saved; 0, or -1 logged once per outage.       */
int alert_sink_connect(alert_sink_t *s, bool *logged);

/*  Saves the cursors and counts in one HSET; 0, or -1 disconnected.       */
int alert_sink_save(alert_sink_t *s);

/*  Every SINK_TRIM_CHECK_MS, counts trimmed unread entries; -1 disconnected. */
int alert_sink_check_trims(alert_sink_t *s);

#endif
