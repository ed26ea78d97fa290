/*  cf_alert: the deliverer object: one alert_sink_t and thread per sink of
    the rules (cf_alert_sink.c runs each); see cf_alert.h. Here: reading the
    sinks' secrets before any thread starts, their metrics, and naming in
    cf:alert:sinks the sinks there are now, so that caseflow-ctl alerts does
    not show one the rules no longer have.                                   */
#include "cf_alert.h"
#include "cf_alert_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_shard.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _cf_alert_t {
    char *host;
    int port;
    unsigned shards;
    cf_redis_auth_t *auth;
    atomic_int stop;
    alert_sink_t *sinks;
    size_t count;
};

/*  The sink's series: caseflow_alert_*{sink="<name>"} (names are
    [A-Za-z0-9_-]: nothing to escape).                                       */
static void alert_metrics(alert_sink_t *s, cf_metrics_t *m)
{
    char labels[64];
    snprintf(labels, sizeof labels, "sink=\"%s\"", s->sink.name);
    s->m_delivered = cf_metrics_counter(m, "caseflow_alert_delivered_total",
                                        "notifications the sink's receiver took", labels);
    s->m_failed = cf_metrics_counter(m, "caseflow_alert_failed_total",
                                     "tries the receiver refused or that failed", labels);
    s->m_retries = cf_metrics_counter(m, "caseflow_alert_retries_total",
                                      "tries after the first of a notification", labels);
    s->m_pending = cf_metrics_gauge(m, "caseflow_alert_pending",
                                    "notifications read for the sink and not delivered yet",
                                    labels);
    s->m_lag = cf_metrics_gauge(m, "caseflow_alert_lag_seconds",
                                "age of the oldest notification not delivered yet (0: none)",
                                labels);
    s->m_lost = cf_metrics_counter(m, "caseflow_alert_lost_total",
                                   "outbox entries trimmed before the sink read them (not every "
                                   "one need have been for it)", labels);
    s->m_given_up = cf_metrics_counter(m, "caseflow_alert_given_up_total",
                                       "notifications the receiver refused past give_up_after, "
                                       "moved to the sink's dead letters", labels);
}

/*  Drops from cf:alert:sinks the names the rules no longer have, when Redis
    answers now (else the threads add theirs and a stale name stays).
    -1 with the reason in err only when Redis refuses the credentials or
    records another shard count.                                            */
static int alert_forget_stale(cf_alert_t *self, char *err, size_t n)
{
    bool refused;
    cf_redis_cluster_t *c = alert_redis_open(self->host, self->port, self->auth, self->shards,
                                             err, n, &refused);
    if (!c)
        return refused ? -1 : 0;        /* unreachable, not refused: the threads retry */
    redisReply *names = cf_redis_cluster_command(c, CF_KEYS_ALERT_SINKS, "HGETALL %s",
                                                 CF_KEYS_ALERT_SINKS);
    for (size_t i = 0; names && names->type == REDIS_REPLY_ARRAY && i + 1 < names->elements;
         i += 2) {
        bool known = false;
        for (size_t j = 0; j < self->count && !known; j++)
            known = !strcmp(names->element[i]->str, self->sinks[j].sink.name);
        redisReply *gone = known ? NULL : cf_redis_cluster_command(c, CF_KEYS_ALERT_SINKS,
                                                                   "HDEL %s %s",
                                                                   CF_KEYS_ALERT_SINKS,
                                                                   names->element[i]->str);
        if (gone)
            freeReplyObject(gone);
    }
    if (names)
        freeReplyObject(names);
    cf_redis_cluster_destroy(&c);
    return 0;
}

cf_alert_t *cf_alert_new(const cf_alert_config_t *config, char *err, size_t n)
{
    assert(config && config->redis_host && config->rules);
    assert(config->shards >= 1 && config->shards <= CF_SHARD_MAX);
    size_t count = cf_rules_sink_count(config->rules);
    if (count == 0) {
        snprintf(err, n, "the rules have no [sink.<name>] section: nothing to deliver to");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, n, "libcurl could not start");
        return NULL;
    }
    cf_alert_t *self = cf_calloc(1, sizeof *self);
    self->host = cf_strdup(config->redis_host);
    self->port = config->redis_port;
    self->shards = config->shards;
    self->auth = cf_redis_auth_dup(config->auth);
    self->sinks = cf_calloc(count, sizeof *self->sinks);
    self->count = count;
    for (size_t i = 0; i < count; i++) {
        alert_sink_t *s = &self->sinks[i];
        s->sink = *cf_rules_sink(config->rules, i);
        s->host = self->host;
        s->port = self->port;
        s->auth = self->auth;
        s->stop = &self->stop;
        cf_keys_alert_sink(s->key, sizeof s->key, s->sink.name);
        cf_keys_alert_dead(s->dead, sizeof s->dead, s->sink.name);
        alert_sink_init(s, config->shards);
        if (!(s->sender = cf_alert_send_new(&s->sink, &self->stop, err, n))) {
            cf_alert_destroy(&self);
            return NULL;
        }
        alert_metrics(s, config->metrics);
    }
    if (alert_forget_stale(self, err, n) < 0) {
        cf_alert_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (pthread_create(&self->sinks[i].thread, NULL, alert_sink_run, &self->sinks[i]) != 0)
            abort();
        self->sinks[i].started = true;
    }
    return self;
}

void cf_alert_destroy(cf_alert_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_alert_t *self = *self_p;
    atomic_store(&self->stop, 1);
    for (size_t i = 0; i < self->count; i++) {
        if (self->sinks[i].started)
            pthread_join(self->sinks[i].thread, NULL);
        cf_alert_send_destroy(&self->sinks[i].sender);
        alert_sink_free(&self->sinks[i]);
    }
    free(self->sinks);
    cf_redis_auth_destroy(&self->auth);
    free(self->host);
    free(self);
    curl_global_cleanup();
    *self_p = NULL;
}

size_t cf_alert_sinks(const cf_alert_t *self)
{
    assert(self);
    return self->count;
}
