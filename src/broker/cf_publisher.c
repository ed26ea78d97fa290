/*  cf_publisher: XPUB fan-out of notifications with per-topic sequence
    numbers; see cf_publisher.h.                                             */
#include "cf_publisher.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_seqmap.h"

#include <assert.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define PUBLISHER_HWM 10000     /* per subscriber; beyond it, that subscriber loses messages */

struct _cf_publisher_t {
    void *socket;
    cf_seqmap_t *seqs;
    char id[17];
    msgpack_sbuffer sbuf;
    uint64_t sent, dropped;
};

cf_publisher_t *cf_publisher_new(void *ctx, const char *endpoint, char *err, size_t err_size)
{
    return cf_publisher_new_prepared(ctx, endpoint, NULL, NULL, err, err_size);
}

cf_publisher_t *cf_publisher_new_prepared(void *ctx, const char *endpoint,
                                          cf_publisher_prepare_fn *prepare, void *arg, char *err,
                                          size_t err_size)
{
    assert(ctx);
    cf_publisher_t *self = cf_calloc(1, sizeof *self);
    self->socket = zmq_socket(ctx, ZMQ_XPUB);
    int hwm = PUBLISHER_HWM, linger = 0, nodrop = 1;
    zmq_setsockopt(self->socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->socket, ZMQ_XPUB_NODROP, &nodrop, sizeof nodrop);
    zmq_setsockopt(self->socket, ZMQ_LINGER, &linger, sizeof linger);
    if (prepare && prepare(arg, self->socket, endpoint, err, err_size) < 0) {
        cf_publisher_destroy(&self);
        return NULL;
    }
    if (!endpoint || zmq_bind(self->socket, endpoint) < 0) {
        snprintf(err, err_size, "cannot bind %s: %s", endpoint ? endpoint : "(none)",
                 endpoint ? zmq_strerror(zmq_errno()) : "no endpoint given");
        cf_publisher_destroy(&self);
        return NULL;
    }
    unsigned char raw[8];
    if (sodium_init() < 0)
        abort();
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(self->id, sizeof self->id, raw, sizeof raw);
    self->seqs = cf_seqmap_new();
    msgpack_sbuffer_init(&self->sbuf);
    return self;
}

void cf_publisher_destroy(cf_publisher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_publisher_t *self = *self_p;
    if (self->socket)
        zmq_close(self->socket);
    cf_seqmap_destroy(&self->seqs);
    msgpack_sbuffer_destroy(&self->sbuf);
    free(self);
    *self_p = NULL;
}

/* Sends a stamped notification, counting subscribers' overflows. XPUB
   drops silently for a subscriber whose queue is full. With NODROP it
   refuses the whole message instead (EAGAIN) while such a subscriber is
   still in its fan-out, and sends nothing to anyone; so a refused
   notification is sent again lossy, which gives it to every subscriber
   with room, drops it for the full one and takes that one out of the
   fan-out until it has read enough to have room again. What it loses
   meanwhile libzmq does not say: one count per overflow, a lower bound
   of what was lost that is 0 only when nothing was. (A refusal can come
   only on the first frame: a queue's fill counts whole messages.) */
static void publisher_put(cf_publisher_t *self, const cf_msg_notice_t *notice)
{
    if (cf_msg_send_notice(self->socket, ZMQ_DONTWAIT, notice, self->sbuf.data,
                           self->sbuf.size) == 0) {
        self->sent++;
        return;
    }
    self->dropped++;
    if (zmq_errno() != EAGAIN)
        return;
    int nodrop = 0;
    zmq_setsockopt(self->socket, ZMQ_XPUB_NODROP, &nodrop, sizeof nodrop);
    if (cf_msg_send_notice(self->socket, ZMQ_DONTWAIT, notice, self->sbuf.data,
                           self->sbuf.size) == 0)
        self->sent++;
    nodrop = 1;
    zmq_setsockopt(self->socket, ZMQ_XPUB_NODROP, &nodrop, sizeof nodrop);
}

int cf_publisher_send(cf_publisher_t *self, zmq_msg_t *topic, zmq_msg_t *body, const char *id)
{
    assert(self && topic && body);
    if (zmq_msg_size(topic) == 0)
        return -1;
    struct timeval now;
    gettimeofday(&now, NULL);
    cf_msg_notice_t notice = {
        .topic = zmq_msg_data(topic), .topic_len = zmq_msg_size(topic),
        .publisher = self->id, .publisher_len = strlen(self->id), .has_seq = true,
        .id = id, .id_len = id ? strlen(id) : 0,
        .time = (int64_t) now.tv_sec * 1000 + now.tv_usec / 1000 };
    /* the number is taken only for what is published: no gap for a bad body */
    notice.seq = cf_seqmap_last(self->seqs, notice.topic, notice.topic_len) + 1;
    if (cf_msg_pack_notice(&self->sbuf, &notice, zmq_msg_data(body), zmq_msg_size(body)) < 0)
        return -1;
    cf_seqmap_set(self->seqs, notice.topic, notice.topic_len, notice.seq);
    publisher_put(self, &notice);
    return 0;
}

void cf_publisher_drain(cf_publisher_t *self)
{
    assert(self);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, self->socket, ZMQ_DONTWAIT) >= 0)
        ;
    zmq_msg_close(&msg);
}

void *cf_publisher_socket(cf_publisher_t *self)
{
    assert(self);
    return self->socket;
}

const char *cf_publisher_id(const cf_publisher_t *self)
{
    assert(self);
    return self->id;
}

uint64_t cf_publisher_sent(const cf_publisher_t *self)
{
    assert(self);
    return self->sent;
}

uint64_t cf_publisher_dropped(const cf_publisher_t *self)
{
    assert(self);
    return self->dropped;
}
