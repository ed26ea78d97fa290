/*  cf_zap's connection limits: a socket monitor per limited socket, read by
    the handler thread, counts the connections accepted and not yet ended;
    a handshake that finds more than the limit open (itself included) is
    refused. See cf_zap.h.

    The counts come from libzmq's ACCEPTED and DISCONNECTED events, which
    carry the file descriptor but not the peer, so the limit is per socket,
    not per key or address. ACCEPTED is sent when the connection is set up,
    before the client's first handshake command can arrive, and the thread
    reads every monitor before it answers a request, so a count is never
    behind the request it is asked about (the readers are cf_monitor's).  */
#include "cf_zap_internal.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_monitor.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

int cf_zap_limit(cf_zap_t *self, void *socket, const char *domain, size_t max, char *err,
                 size_t err_size)
{
    assert(self && socket && domain && max > 0);
    for (size_t i = 0; i < self->limit_count; i++)
        if (strcmp(self->limits[i].domain, domain) == 0) {
            snprintf(err, err_size, "connection limit: ZAP domain '%s' is limited already",
                     domain);
            return -1;
        }
    if (self->limit_count == ZAP_LIMITS_MAX || strlen(domain) >= ZAP_DOMAIN_LEN) {
        snprintf(err, err_size, "connection limit: at most %d sockets, domains of %d bytes",
                 ZAP_LIMITS_MAX, ZAP_DOMAIN_LEN - 1);
        return -1;
    }
    uint32_t index = (uint32_t) self->limit_count;
    zap_limit_t *limit = &self->limits[index];
    snprintf(limit->domain, sizeof limit->domain, "%s", domain);
    snprintf(limit->endpoint, sizeof limit->endpoint, "inproc://cf-zap-limit-%p-%u",
             (void *) self, index);
    limit->max = max;
    if (zmq_socket_monitor(socket, limit->endpoint,
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) < 0) {
        snprintf(err, err_size, "connection limit: socket monitor: %s",
                 zmq_strerror(zmq_errno()));
        return -1;
    }
    /* the thread connects its reader now, before the socket is bound */
    char reply[8] = "";
    if (zmq_send(self->pipe, "LIMIT", 5, ZMQ_SNDMORE) < 0
        || zmq_send(self->pipe, &index, sizeof index, 0) < 0
        || zmq_recv(self->pipe, reply, sizeof reply, 0) != 2 || memcmp(reply, "OK", 2) != 0) {
        zmq_socket_monitor(socket, NULL, 0);
        snprintf(err, err_size, "connection limit: the ZAP thread did not take the monitor");
        return -1;
    }
    self->limit_count++;
    return 0;
}

int zap_limit_connect(cf_zap_t *self, size_t index)
{
    zap_limit_t *limit = &self->limits[index];
    void *reader = index == self->limit_active ? cf_monitor_reader(self->ctx, limit->endpoint)
                                               : NULL;
    if (!reader)
        return -1;
    limit->monitor = reader;
    self->limit_active++;
    return 0;
}

/* Reads one event of limit's monitor, never blocking; 0, or -1 when none. */
static int zap_limit_read(cf_zap_t *self, zap_limit_t *limit)
{
    uint16_t event;
    uint32_t fd;
    if (cf_monitor_read(limit->monitor, ZMQ_DONTWAIT, &event, &fd) < 0)
        return -1;
    pthread_mutex_lock(&self->lock);
    if (event == ZMQ_EVENT_ACCEPTED)
        limit->open++;
    else if (event == ZMQ_EVENT_DISCONNECTED && limit->open > 0)
        limit->open--;
    pthread_mutex_unlock(&self->lock);
    return 0;
}

void zap_limits_drain(cf_zap_t *self)
{
    for (size_t i = 0; i < self->limit_active; i++)
        while (zap_limit_read(self, &self->limits[i]) == 0)
            ;
}

bool zap_limit_exceeded(cf_zap_t *self, const char *domain, const char *address)
{
    zap_limit_t *limit = NULL;
    for (size_t i = 0; i < self->limit_active && !limit; i++)
        if (strcmp(self->limits[i].domain, domain) == 0)
            limit = &self->limits[i];
    if (!limit)
        return false;
    int64_t now = cf_clock_ms();
    pthread_mutex_lock(&self->lock);
    bool exceeded = limit->open > limit->max, log = false;
    size_t open = limit->open;
    uint64_t since = 0;
    if (exceeded) {
        limit->refused++;
        if (limit->refused_logged == 0 || now - limit->logged_at >= ZAP_LIMIT_LOG_MS) {
            since = limit->refused - limit->refused_logged;
            limit->refused_logged = limit->refused;
            limit->logged_at = now;
            log = true;
        }
    }
    pthread_mutex_unlock(&self->lock);
    if (log)
        CF_LOG(CF_LOG_WARN, "client refused: too many connections",
               "roles=%s open=%zu max=%zu refused=%llu address=%s", domain, open, limit->max,
               (unsigned long long) since, address);
    return exceeded;
}

void cf_zap_connections(cf_zap_t *self, const char *domain, size_t *open, uint64_t *refused)
{
    assert(self && domain);
    size_t now_open = 0;
    uint64_t now_refused = 0;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->limit_count; i++)
        if (strcmp(self->limits[i].domain, domain) == 0) {
            now_open = self->limits[i].open;
            now_refused = self->limits[i].refused;
        }
    pthread_mutex_unlock(&self->lock);
    if (open)
        *open = now_open;
    if (refused)
        *refused = now_refused;
}

void zap_limits_close(cf_zap_t *self)
{
    for (size_t i = 0; i < self->limit_active; i++)
        if (self->limits[i].monitor)
            zmq_close(self->limits[i].monitor);
    self->limit_active = 0;
}
