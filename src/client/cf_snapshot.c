/*  cf_snapshot: fetching a snapshot from the broker and priming a
    subscriber's repeat check with its cursors; see cf_snapshot.h.          */
#include "caseflow/cf_snapshot.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_endpoints.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define SNAPSHOT_REPLY_PARTS 5      /* a SNAPSHOT answer has 4; more is malformed */

/* Asks on the connected dealer and waits for the answer. 0 or -1 (err). */
static int snapshot_ask(void *dealer, const char *intake, int timeout_ms, msgpack_sbuffer *body,
                        char *err, size_t err_size)
{
    cf_multipart_t *parts = cf_multipart_new(SNAPSHOT_REPLY_PARTS);
    cf_msg_reply_t reply;
    int rc = -1;
    cf_msg_send_snapshot_request(dealer, 0, "snapshot-1", 10);
    if (cf_multipart_wait(parts, dealer) < 0)
        snprintf(err, err_size, "no snapshot from %s within %d ms", intake, timeout_ms);
    else if (cf_msg_parse_snapshot(parts, &reply) < 0)
        snprintf(err, err_size, "malformed snapshot reply from %s", intake);
    else {
        msgpack_sbuffer_write(body, reply.body, reply.body_len);
        rc = 0;
    }
    cf_multipart_destroy(&parts);
    return rc;
}

/* The snapshot from the broker at one intake endpoint. 0 or -1 (err). */
static int snapshot_fetch_one(void *zmq_ctx, const char *intake, const cf_curve_t *curve,
                              int timeout_ms, msgpack_sbuffer *body, char *err, size_t err_size)
{
    void *dealer = zmq_socket(zmq_ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    if (curve)
        cf_curve_client(curve, dealer);
    int64_t max_frame = CF_MSG_MAX_SNAPSHOT_BYTES;
    zmq_setsockopt(dealer, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    int rc = -1;
    if (zmq_connect(dealer, intake) < 0)
        snprintf(err, err_size, "intake endpoint '%s': %s", intake, zmq_strerror(zmq_errno()));
    else
        rc = snapshot_ask(dealer, intake, timeout_ms, body, err, err_size);
    zmq_close(dealer);
    return rc;
}

int cf_snapshot_fetch(void *zmq_ctx, const char *intake, const cf_curve_t *curve, int timeout_ms,
                      msgpack_sbuffer *body, char *err, size_t err_size)
{
    assert(zmq_ctx && intake && body && err);
    cf_endpoints_t *list = cf_endpoints_new(intake, err, err_size);
    if (!list)
        return -1;
    /* every broker reads the same Redis, so any one's snapshot will do: ask
       each in turn, sharing the time out, until one answers */
    size_t count = cf_endpoints_size(list);
    int each = timeout_ms / (int) count > 0 ? timeout_ms / (int) count : 1;
    int rc = -1;
    for (size_t i = 0; rc < 0 && i < count; i++)
        rc = snapshot_fetch_one(zmq_ctx, cf_endpoints_at(list, i), curve, each, body, err,
                                err_size);
    cf_endpoints_destroy(&list);
    return rc;
}

int cf_snapshot_prime(cf_seqcheck_t *seqs, const msgpack_object *snapshot)
{
    assert(seqs && snapshot);
    if (snapshot->type != MSGPACK_OBJECT_MAP)
        return -1;
    for (uint32_t i = 0; i < snapshot->via.map.size; i++) {
        const msgpack_object_kv *kv = &snapshot->via.map.ptr[i];
        if (!cf_unpack_str_equals(&kv->key, "cursors") || kv->val.type != MSGPACK_OBJECT_MAP)
            continue;
        for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
            const msgpack_object *field = &kv->val.via.map.ptr[j].key;
            const msgpack_object *cursor = &kv->val.via.map.ptr[j].val;
            if (field->type != MSGPACK_OBJECT_STR || cursor->type != MSGPACK_OBJECT_STR)
                continue;
            char id[96];
            int len = cf_unpack_str_equals(field, "pub")
                    ? snprintf(id, sizeof id, "p-%.*s", (int) cursor->via.str.size,
                               cursor->via.str.ptr)
                    : snprintf(id, sizeof id, "%.*s-%.*s", (int) field->via.str.size,
                               field->via.str.ptr, (int) cursor->via.str.size,
                               cursor->via.str.ptr);
            if (len > 0 && (size_t) len < sizeof id)
                cf_seqcheck_floor(seqs, id, (size_t) len);
        }
        return 0;
    }
    return -1;
}
