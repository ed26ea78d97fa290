/*  cf_subscriber: the SUB socket, the gap and repeat checks (cf_seqcheck)
    and the snapshot (cf_snapshot) behind one object; see cf_subscriber.h. */
#include "caseflow/cf_subscriber.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_seqcheck.h"
#include "caseflow/cf_snapshot.h"
#include "caseflow/cf_unpack.h"

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
    char *endpoint;
    char **prefixes;
    size_t prefix_count;
    const cf_curve_t *curve;            /* borrowed; NULL = plain */
    void *ctx, *socket;
    cf_handshake_t *handshake;          /* NULL: not watched */
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
    cf_handshake_destroy(&self->handshake);     /* before its socket closes */
    if (self->socket)
        zmq_close(self->socket);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
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
    assert(self && prefix && !self->socket);
    self->prefixes = cf_realloc(self->prefixes, (self->prefix_count + 1) * sizeof *self->prefixes);
    self->prefixes[self->prefix_count++] = cf_strdup(prefix);
}

void cf_subscriber_set_curve(cf_subscriber_t *self, const cf_curve_t *curve)
{
    assert(self && !self->socket);
    self->curve = curve;
}

int cf_subscriber_connect(cf_subscriber_t *self)
{
    assert(self);
    if (self->socket)
        return 0;
    int hwm = SUBSCRIBER_RCVHWM, linger = 0;
    int64_t max_frame = CF_MSG_MAX_FRAME_BYTES;
    self->ctx = zmq_ctx_new();
    self->socket = zmq_socket(self->ctx, ZMQ_SUB);
    zmq_setsockopt(self->socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(self->socket, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    for (size_t i = 0; i < self->prefix_count; i++)
        zmq_setsockopt(self->socket, ZMQ_SUBSCRIBE, self->prefixes[i], strlen(self->prefixes[i]));
    if (self->prefix_count == 0)
        zmq_setsockopt(self->socket, ZMQ_SUBSCRIBE, "", 0);
    if (self->curve)
        cf_curve_client(self->curve, self->socket);
    self->handshake = cf_handshake_new(self->ctx, self->socket);
    if (zmq_connect(self->socket, self->endpoint) < 0)
        return subscriber_fail(self, CF_SUBSCRIBER_ERR_ENDPOINT, "notification endpoint '%s': %s",
                               self->endpoint, zmq_strerror(errno));
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

int cf_subscriber_recv(cf_subscriber_t *self, int timeout_ms, cf_notification_t *notification)
{
    assert(self && notification && timeout_ms >= -1);
    if (cf_subscriber_connect(self) < 0)
        return -1;
    cf_subscriber_refused(self);
    int64_t until = timeout_ms > 0 ? cf_clock_ms() + timeout_ms : 0;
    while (true) {
        while (cf_multipart_recv(self->parts, self->socket) == 0)
            if (subscriber_take(self, notification))
                return 1;
        if (errno != EAGAIN)
            return subscriber_fail(self, CF_SUBSCRIBER_ERR_SOCKET, "receive: %s",
                                   zmq_strerror(errno));
        long wait = timeout_ms < 0 ? -1 : timeout_ms == 0 ? 0 : (long) (until - cf_clock_ms());
        if (timeout_ms == 0 || (timeout_ms > 0 && wait <= 0))
            return 0;
        zmq_pollitem_t item = { self->socket, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, wait) < 0)
            return subscriber_fail(self, CF_SUBSCRIBER_ERR_SOCKET, "poll: %s",
                                   zmq_strerror(errno));
    }
}

int cf_subscriber_refused(cf_subscriber_t *self)
{
    assert(self);
    return self->handshake ? cf_handshake_keep_trying(self->handshake, self->endpoint) : 0;
}

void *cf_subscriber_socket(cf_subscriber_t *self)
{
    assert(self);
    return self->socket;
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
