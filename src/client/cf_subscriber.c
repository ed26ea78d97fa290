/*  cf_subscriber: the SUB sockets (one per broker of the list, each with its
    own handshake watch, so that a broker that refuses this subscriber is
    tried again alone), the gap and repeat checks (cf_seqcheck) and the
    snapshot (cf_snapshot) behind one object; see cf_subscriber.h.          */
#include "caseflow/cf_subscriber.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_endpoints.h"
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_seqcheck.h"
#include "caseflow/cf_snapshot.h"
#include "caseflow/cf_unpack.h"
#include "caseflow/cf_zmq.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define SUBSCRIBER_RCVHWM       100000  /* notifications queued here before the broker drops */
#define SUBSCRIBER_SETTLE_MS    300     /* for the subscription to reach the broker */

struct _cf_subscriber_t {
    char *endpoint;                     /* as given: one, or a list */
    cf_endpoints_t *endpoints;          /* parsed by cf_subscriber_connect */
    char **prefixes;
    size_t prefix_count;
    const cf_curve_t *curve;            /* borrowed; NULL = plain */
    void *ctx;
    void *sockets[CF_ENDPOINTS_MAX];    /* one per endpoint, once connected */
    cf_handshake_t *handshakes[CF_ENDPOINTS_MAX];  /* NULL: not watched */
    size_t socket_count;
    size_t next;                        /* the socket read first next time (fairness) */
    cf_multipart_t *parts;              /* the last notification */
    msgpack_unpacked body;              /* its body, decoded */
    cf_seqcheck_t *seqs;
    msgpack_sbuffer snapshot;
    cf_subscriber_stats_t stats;
    cf_subscriber_err_t code;
    char error[2048];
};

/* Records an error on self and returns -1. */
static int subscriber_fail(cf_subscriber_t *self, cf_subscriber_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int subscriber_fail(cf_subscriber_t *self, cf_subscriber_err_t code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, args);
    va_end(args);
    self->code = code;
    return -1;
}

cf_subscriber_t *cf_subscriber_new(const char *endpoint)
{
    assert(endpoint);
    cf_subscriber_t *self = cf_calloc(1, sizeof *self);
    self->endpoint = cf_strdup(endpoint);
    self->parts = cf_multipart_new(2);      /* topic, body; more is drained */
    self->seqs = cf_seqcheck_new();
    msgpack_unpacked_init(&self->body);
    msgpack_sbuffer_init(&self->snapshot);
    return self;
}

void cf_subscriber_destroy(cf_subscriber_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_subscriber_t *self = *self_p;
    for (size_t i = 0; i < self->socket_count; i++) {
        cf_handshake_destroy(&self->handshakes[i]);     /* before its socket closes */
        zmq_close(self->sockets[i]);
    }
    cf_endpoints_destroy(&self->endpoints);
    cf_zmq_ctx_term(&self->ctx);
    for (size_t i = 0; i < self->prefix_count; i++)
        free(self->prefixes[i]);
    free(self->prefixes);
    msgpack_sbuffer_destroy(&self->snapshot);
    msgpack_unpacked_destroy(&self->body);
    cf_seqcheck_destroy(&self->seqs);
    cf_multipart_destroy(&self->parts);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

void cf_subscriber_add_prefix(cf_subscriber_t *self, const char *prefix)
{
    assert(self && prefix && !self->socket_count);
    self->prefixes = cf_realloc(self->prefixes, (self->prefix_count + 1) * sizeof *self->prefixes);
    self->prefixes[self->prefix_count++] = cf_strdup(prefix);
}

void cf_subscriber_set_curve(cf_subscriber_t *self, const cf_curve_t *curve)
{
    assert(self && !self->socket_count);
    self->curve = curve;
}

/* A SUB socket on endpoint, subscribed, added to the subscriber's. */
static int subscriber_open(cf_subscriber_t *self, const char *endpoint)
{
    int hwm = SUBSCRIBER_RCVHWM, linger = 0;
    int64_t max_frame = CF_MSG_MAX_FRAME_BYTES;
    void *socket = zmq_socket(self->ctx, ZMQ_SUB);
    if (!socket)
        return subscriber_fail(self, CF_SUBSCRIBER_ERR_SOCKET, "zmq_socket: %s",
                               zmq_strerror(errno));
    zmq_setsockopt(socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    for (size_t i = 0; i < self->prefix_count; i++)
        zmq_setsockopt(socket, ZMQ_SUBSCRIBE, self->prefixes[i], strlen(self->prefixes[i]));
    if (self->prefix_count == 0)
        zmq_setsockopt(socket, ZMQ_SUBSCRIBE, "", 0);
    if (self->curve)
        cf_curve_client(self->curve, socket);
    self->handshakes[self->socket_count] = cf_handshake_new(self->ctx, socket);
    self->sockets[self->socket_count++] = socket;
    if (zmq_connect(socket, endpoint) < 0)
        return subscriber_fail(self, CF_SUBSCRIBER_ERR_ENDPOINT, "notification endpoint '%s': %s",
                               endpoint, zmq_strerror(errno));
    return 0;
}

int cf_subscriber_connect(cf_subscriber_t *self)
{
    assert(self);
    if (self->socket_count)
        return self->code == CF_SUBSCRIBER_ERR_ENDPOINT ? -1 : 0;
    char err[512];
    if (!(self->endpoints = cf_endpoints_new(self->endpoint, err, sizeof err)))
        return subscriber_fail(self, CF_SUBSCRIBER_ERR_ENDPOINT, "notification endpoints %s",
                               err);
    self->ctx = zmq_ctx_new();
    for (size_t i = 0; i < cf_endpoints_size(self->endpoints); i++)
        if (subscriber_open(self, cf_endpoints_at(self->endpoints, i)) < 0)
            return -1;
    return 0;
}

int cf_subscriber_snapshot(cf_subscriber_t *self, const char *intake, int timeout_ms,
                           const void **data, size_t *size)
{
    assert(self && intake && timeout_ms > 0 && data && size);
    if (cf_subscriber_connect(self) < 0)
        return -1;
    struct timespec settle = { 0, SUBSCRIBER_SETTLE_MS * 1000000L };
    nanosleep(&settle, NULL);
    msgpack_sbuffer_clear(&self->snapshot);
    char err[1024];
    if (cf_snapshot_fetch(self->ctx, intake, self->curve, timeout_ms, &self->snapshot, err,
                          sizeof err) < 0)
        return subscriber_fail(self, CF_SUBSCRIBER_ERR_SNAPSHOT, "snapshot: %s", err);
    msgpack_unpacked map;
    msgpack_unpacked_init(&map);
    int rc = cf_unpack(&map, self->snapshot.data, self->snapshot.size) < 0
          || cf_snapshot_prime(self->seqs, &map.data) < 0 ? -1 : 0;
    msgpack_unpacked_destroy(&map);
    if (rc < 0)
        return subscriber_fail(self, CF_SUBSCRIBER_ERR_SNAPSHOT,
                               "snapshot: the answer from %s is not a snapshot map", intake);
    *data = self->snapshot.data;
    *size = self->snapshot.size;
    return 0;
}

/* Fills n from the message in self->parts. false when it is a repeat. */
static bool subscriber_take(cf_subscriber_t *self, cf_notification_t *n)
{
    cf_msg_notice_t notice;
    memset(n, 0, sizeof *n);
    bool parsed = cf_msg_parse_notice(self->parts, &self->body, &notice) == 0;
    n->topic = notice.topic;
    n->topic_len = notice.topic_len;
    if (cf_multipart_size(self->parts) >= 2) {
        n->body = cf_multipart_data(self->parts, 1);
        n->body_size = cf_multipart_len(self->parts, 1);
    }
    if (!parsed) {
        n->malformed = true;
        self->stats.malformed++;
        self->stats.received++;
        return true;
    }
    if (notice.publisher && notice.has_seq)
        n->missed = cf_seqcheck_see(self->seqs, notice.publisher, notice.publisher_len,
                                    notice.topic, notice.topic_len, notice.seq, &n->last);
    self->stats.missed += n->missed;
    if (notice.id && cf_seqcheck_repeat(self->seqs, notice.id, notice.id_len)) {
        self->stats.repeats++;
        return false;
    }
    n->publisher = notice.publisher;
    n->publisher_len = notice.publisher_len;
    n->seq = notice.has_seq ? notice.seq : 0;
    n->time = notice.time;
    self->stats.received++;
    return true;
}

/* Takes what waits on the sockets, starting after the one read first last
   time so that a busy broker cannot starve the others: 1 with *n filled,
   0 when nothing is waiting, -1 on a socket error. */
static int subscriber_take_waiting(cf_subscriber_t *self, cf_notification_t *n)
{
    for (size_t k = 0; k < self->socket_count; k++) {
        size_t i = (self->next + k) % self->socket_count;
        while (cf_multipart_recv(self->parts, self->sockets[i]) == 0)
            if (subscriber_take(self, n)) {
                self->next = (i + 1) % self->socket_count;
                return 1;
            }
        if (errno != EAGAIN)
            return subscriber_fail(self, CF_SUBSCRIBER_ERR_SOCKET, "receive: %s",
                                   zmq_strerror(errno));
    }
    return 0;
}

int cf_subscriber_recv(cf_subscriber_t *self, int timeout_ms, cf_notification_t *notification)
{
    assert(self && notification && timeout_ms >= -1);
    if (cf_subscriber_connect(self) < 0)
        return -1;
    cf_subscriber_refused(self);
    int64_t until = timeout_ms > 0 ? cf_clock_ms() + timeout_ms : 0;
    while (true) {
        int rc = subscriber_take_waiting(self, notification);
        if (rc != 0)
            return rc;
        long wait = timeout_ms < 0 ? -1 : timeout_ms == 0 ? 0 : (long) (until - cf_clock_ms());
        if (timeout_ms == 0 || (timeout_ms > 0 && wait <= 0))
            return 0;
        zmq_pollitem_t items[CF_ENDPOINTS_MAX];
        for (size_t i = 0; i < self->socket_count; i++)
            items[i] = (zmq_pollitem_t) { self->sockets[i], 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(items, (int) self->socket_count, wait) < 0)
            return subscriber_fail(self, CF_SUBSCRIBER_ERR_SOCKET, "poll: %s",
                                   zmq_strerror(errno));
    }
}

int cf_subscriber_refused(cf_subscriber_t *self)
{
    assert(self);
    int refused = 0;
    for (size_t i = 0; i < self->socket_count; i++) {
        int status = self->handshakes[i] ? cf_handshake_keep_trying(self->handshakes[i],
                                                cf_endpoints_at(self->endpoints, i)) : 0;
        refused = refused ? refused : status;
    }
    return refused;
}

void *cf_subscriber_socket(cf_subscriber_t *self)
{
    assert(self);
    return self->socket_count ? self->sockets[0] : NULL;
}

size_t cf_subscriber_socket_count(const cf_subscriber_t *self)
{
    assert(self);
    return self->socket_count;
}

void *cf_subscriber_socket_at(cf_subscriber_t *self, size_t i)
{
    assert(self && i < self->socket_count);
    return self->sockets[i];
}

void cf_subscriber_stats(const cf_subscriber_t *self, cf_subscriber_stats_t *stats)
{
    assert(self && stats);
    *stats = self->stats;
}

const char *cf_subscriber_error(const cf_subscriber_t *self)
{
    assert(self);
    return self->error;
}

cf_subscriber_err_t cf_subscriber_error_code(const cf_subscriber_t *self)
{
    assert(self);
    return self->code;
}
