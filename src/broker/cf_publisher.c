/*  cf_publisher: XPUB fan-out of notifications with per-topic sequence
    numbers; see cf_publisher.h.                                             */
#include "cf_publisher.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_seqmap.h"
#include "caseflow/cf_unpack.h"

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
    int hwm = PUBLISHER_HWM, linger = 0;
    zmq_setsockopt(self->socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
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

/* Checks that body is exactly one msgpack map and returns its entry count
   and header length, so that its entries can be copied as they are. */
static int publisher_map_header(const unsigned char *body, size_t size, uint32_t *entries,
                                size_t *header)
{
    size_t end;     /* the walk checks the whole map without allocating */
    if (size == 0 || cf_unpack_scan(body, size, &end) != 0 || end != size)
        return -1;
    if (body[0] >= 0x80 && body[0] <= 0x8f) {           /* fixmap */
        *entries = body[0] & 0x0f;
        *header = 1;
    } else if (body[0] == 0xde) {                       /* map 16 */
        *entries = (uint32_t) body[1] << 8 | body[2];
        *header = 3;
    } else if (body[0] == 0xdf) {                       /* map 32 */
        *entries = (uint32_t) body[1] << 24 | (uint32_t) body[2] << 16
                 | (uint32_t) body[3] << 8 | body[4];
        *header = 5;
    } else {
        return -1;
    }
    return 0;
}

static void pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

int cf_publisher_send(cf_publisher_t *self, zmq_msg_t *topic, zmq_msg_t *body, const char *id)
{
    assert(self && topic && body);
    const char *name = zmq_msg_data(topic);
    size_t name_len = zmq_msg_size(topic);
    uint32_t entries;
    size_t header;
    if (name_len == 0
        || publisher_map_header(zmq_msg_data(body), zmq_msg_size(body), &entries, &header) < 0)
        return -1;
    struct timeval now;
    gettimeofday(&now, NULL);
    msgpack_sbuffer_clear(&self->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, entries + (id ? 5 : 4));
    if (id) {
        pack_str(&pk, "id", 2);
        pack_str(&pk, id, strlen(id));
    }
    pack_str(&pk, "topic", 5);
    pack_str(&pk, name, name_len);
    pack_str(&pk, "publisher", 9);
    pack_str(&pk, self->id, strlen(self->id));
    pack_str(&pk, "seq", 3);
    msgpack_pack_uint64(&pk, cf_seqmap_next(self->seqs, name, name_len));
    pack_str(&pk, "time", 4);
    msgpack_pack_int64(&pk, (int64_t) now.tv_sec * 1000 + now.tv_usec / 1000);
    msgpack_sbuffer_write(&self->sbuf, (const char *) zmq_msg_data(body) + header,
                          zmq_msg_size(body) - header);
    if (zmq_send(self->socket, name, name_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send(self->socket, self->sbuf.data, self->sbuf.size, ZMQ_DONTWAIT) < 0)
        self->dropped++;
    else
        self->sent++;
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
