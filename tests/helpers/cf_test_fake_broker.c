/*  A fake broker for the producer library's tests (test_cf_client*.c): a
    ROUTER in a thread, on a loopback port, that answers each PUSH by a
    script (cf_test_fake_broker.h).                                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "cf_test_fake_broker.h"
#include "cf_test_ports.h"

/* The status the fake gives an event, by its id's prefix. */
static cf_ack_t fake_ack(const void *data, size_t size)
{
    cf_ack_t ack = { CF_ACK_ACCEPTED, NULL, 0, NULL, 0 };
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t offset = 0;
    if (msgpack_unpack_next(&result, data, size, &offset) == MSGPACK_UNPACK_SUCCESS
        && result.data.type == MSGPACK_OBJECT_MAP && result.data.via.map.size > 0) {
        const msgpack_object *id = &result.data.via.map.ptr[0].val;
        if (id->type == MSGPACK_OBJECT_STR && id->via.str.size >= 3) {
            if (memcmp(id->via.str.ptr, "rej", 3) == 0)
                ack = (cf_ack_t) { CF_ACK_REJECTED, NULL, 0, "sex: 'z' is not one of f, m", 27 };
            else if (memcmp(id->via.str.ptr, "dup", 3) == 0)
                ack.status = CF_ACK_DUPLICATE;
        }
    }
    msgpack_unpacked_destroy(&result);
    return ack;
}

/* An ACK with the ack list body to peer's request id. */
static void fake_reply(fake_t *fake, zmq_msg_t *peer, zmq_msg_t *id, const void *body,
                       size_t size)
{
    cf_msg_send_ack(fake->router, 0, zmq_msg_data(peer), zmq_msg_size(peer), zmq_msg_data(id),
                    zmq_msg_size(id), body, size);
}

static void fake_send(fake_t *fake, cf_multipart_t *parts, const void *body, size_t size)
{
    fake_reply(fake, cf_multipart_at(parts, 0), cf_multipart_at(parts, 3), body, size);
}

/* An ACK of count events all with status. */
static void fake_send_all(fake_t *fake, zmq_msg_t *peer, zmq_msg_t *id, size_t count,
                          cf_ack_status_t status)
{
    static cf_ack_t acks[CF_MSG_MAX_EVENTS];
    for (size_t i = 0; i < count; i++)
        acks[i] = (cf_ack_t) { status, NULL, 0, NULL, 0 };
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    cf_msg_pack_acks(&sbuf, acks, count);
    fake_reply(fake, peer, id, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
}

/* FAKE_LATE_FIRST: holds the first push; when its resend comes, answers the
   first attempt (accepted) and then the resend (duplicate). */
static bool fake_late(fake_t *fake, cf_multipart_t *parts, int push, size_t events)
{
    if (push == 1) {
        zmq_msg_init(&fake->held[0]);
        zmq_msg_init(&fake->held[1]);
        zmq_msg_copy(&fake->held[0], cf_multipart_at(parts, 0));
        zmq_msg_copy(&fake->held[1], cf_multipart_at(parts, 3));
        return true;
    }
    if (push != 4)              /* the resend comes after the two others */
        return false;
    fake_send_all(fake, &fake->held[0], &fake->held[1], events, CF_ACK_ACCEPTED);
    fake_send_all(fake, cf_multipart_at(parts, 0), cf_multipart_at(parts, 3), events, CF_ACK_DUPLICATE);
    zmq_msg_close(&fake->held[0]);
    zmq_msg_close(&fake->held[1]);
    return true;
}

/* FAKE_RESTART_FIRST: the first push is lost with the broker, which comes
   back on the same endpoint as a new socket (a restart). */
static void fake_restart(fake_t *fake)
{
    zmq_close(fake->router);
    usleep(200 * 1000);             /* down for a while, as a broker is */
    fake->router = zmq_socket(fake->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(fake->router, ZMQ_LINGER, &linger, sizeof linger);
    for (int tries = 0; zmq_bind(fake->router, fake->endpoint) < 0 && tries < 100; tries++)
        usleep(20 * 1000);          /* the old listener closes in libzmq's thread */
}

static void fake_answer(fake_t *fake, cf_multipart_t *parts)
{
    int push = atomic_fetch_add(&fake->pushes, 1) + 1;
    size_t events = cf_multipart_size(parts) - 4;
    if (push <= 4)
        snprintf(fake->ids[push - 1], sizeof fake->ids[0], "%.*s", (int) cf_multipart_len(parts, 3),
                 (const char *) cf_multipart_data(parts, 3));
    if (fake->mode == FAKE_RESTART_FIRST && push == 1) {
        fake_restart(fake);
        return;
    }
    if ((fake->mode == FAKE_DROP_FIRST && push == 1) || fake->mode == FAKE_SILENT
        || (fake->mode == FAKE_LATE_FIRST && fake_late(fake, parts, push, events)))
        return;
    if (fake->mode == FAKE_GARBAGE_FIRST && push == 1) {
        fake_send(fake, parts, "\x91\x80", 2);                 /* one ack, and no status */
        return;
    }
    if (fake->mode == FAKE_ERROR) {
        cf_msg_send_error(fake->router, 0, cf_multipart_data(parts, 0),
                          cf_multipart_len(parts, 0), cf_multipart_data(parts, 3),
                          cf_multipart_len(parts, 3), "no events");
        return;
    }
    static cf_ack_t acks[CF_MSG_MAX_EVENTS];
    for (size_t i = 0; i < events; i++)
        acks[i] = fake->mode == FAKE_BUSY_FIRST && push == 1
                ? (cf_ack_t) { CF_ACK_BUSY, NULL, 0, "queue full", 10 }
                : fake_ack(cf_multipart_data(parts, 4 + i), cf_multipart_len(parts, 4 + i));
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    cf_msg_pack_acks(&sbuf, acks, events);
    fake_send(fake, parts, sbuf.data, sbuf.size);
    if (fake->mode == FAKE_TWICE)
        fake_send(fake, parts, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
}

static void *fake_run(void *arg)
{
    fake_t *fake = arg;
    cf_multipart_t *parts = cf_multipart_new(CF_MSG_MAX_EVENTS + 4);
    char reason[128];
    while (!atomic_load(&fake->stop)) {
        zmq_pollitem_t item = { fake->router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 20) <= 0)
            continue;
        while (cf_multipart_recv(parts, fake->router) == 0)
            if (!cf_msg_check_push(parts, reason, sizeof reason))
                fake_answer(fake, parts);
    }
    cf_multipart_destroy(&parts);
    return NULL;
}

fake_t *fake_start(fake_mode_t mode)
{
    fake_t *fake = calloc(1, sizeof *fake);
    fake->mode = mode;
    fake->ctx = zmq_ctx_new();
    fake->router = zmq_socket(fake->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(fake->router, ZMQ_LINGER, &linger, sizeof linger);
    cf_test_bind_loopback(fake->router, fake->endpoint, sizeof fake->endpoint);
    pthread_create(&fake->thread, NULL, fake_run, fake);
    return fake;
}

void fake_stop(fake_t **fake_p)
{
    fake_t *fake = *fake_p;
    atomic_store(&fake->stop, 1);
    pthread_join(fake->thread, NULL);
    zmq_close(fake->router);
    zmq_ctx_term(fake->ctx);
    free(fake);
    *fake_p = NULL;
}

void cf_test_add_events(cf_client_t *client, const char *prefix, int count)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    for (int i = 0; i < count; i++) {
        char id[32];
        int n = snprintf(id, sizeof id, "%s%d", prefix, i);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_sbuffer_clear(&sbuf);
        msgpack_pack_map(&pk, 1);
        msgpack_pack_str(&pk, 8);
        msgpack_pack_str_body(&pk, "event_id", 8);
        msgpack_pack_str(&pk, (size_t) n);
        msgpack_pack_str_body(&pk, id, (size_t) n);
        int64_t index = cf_client_add(client, sbuf.data, sbuf.size, id);
        assert_int_equal(index, (int64_t) cf_client_size(client) - 1);
    }
    msgpack_sbuffer_destroy(&sbuf);
}
