/*  cf_snapshot: fetching a snapshot from the broker and priming a
    subscriber's repeat check with its cursors; see cf_snapshot.h.          */
#include "caseflow/cf_snapshot.h"
#include "caseflow/cf_proto.h"
#include "caseflow/cf_curve.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

int cf_snapshot_fetch(void *zmq_ctx, const char *intake, const cf_curve_t *curve, int timeout_ms,
                      msgpack_sbuffer *body, char *err, size_t err_size)
{
    assert(zmq_ctx && intake && body && err);
    void *dealer = zmq_socket(zmq_ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    if (curve)
        cf_curve_client(curve, dealer);
    int64_t max_frame = CF_PROTO_MAX_SNAPSHOT_BYTES;
    zmq_setsockopt(dealer, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    int rc = -1;
    if (zmq_connect(dealer, intake) < 0) {
        snprintf(err, err_size, "intake endpoint '%s': %s", intake, zmq_strerror(zmq_errno()));
        goto done;
    }
    zmq_send(dealer, CF_PROTO_SIGNATURE, 4, ZMQ_SNDMORE);
    zmq_send(dealer, CF_CMD_SNAPSHOT, strlen(CF_CMD_SNAPSHOT), ZMQ_SNDMORE);
    zmq_send(dealer, "snapshot-1", 10, 0);
    zmq_msg_t part;
    for (int n = 0, more = 1; more; n++) {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, dealer, 0) < 0) {
            snprintf(err, err_size, "no snapshot from %s within %d ms", intake, timeout_ms);
            zmq_msg_close(&part);
            goto done;
        }
        more = zmq_msg_more(&part);
        if (n == 3)                 /* CF01, SNAPSHOT, request id, body */
            msgpack_sbuffer_write(body, zmq_msg_data(&part), zmq_msg_size(&part));
        zmq_msg_close(&part);
        rc = n >= 3 ? 0 : -1;
    }
    if (rc < 0)
        snprintf(err, err_size, "malformed snapshot reply from %s", intake);
done:
    zmq_close(dealer);
    return rc;
}

int cf_snapshot_prime(cf_seqcheck_t *seqs, const msgpack_object *snapshot)
{
    assert(seqs && snapshot);
    if (snapshot->type != MSGPACK_OBJECT_MAP)
        return -1;
    for (uint32_t i = 0; i < snapshot->via.map.size; i++) {
        const msgpack_object_kv *kv = &snapshot->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != 7
            || memcmp(kv->key.via.str.ptr, "cursors", 7) || kv->val.type != MSGPACK_OBJECT_MAP)
            continue;
        for (uint32_t j = 0; j < kv->val.via.map.size; j++) {
            const msgpack_object *field = &kv->val.via.map.ptr[j].key;
            const msgpack_object *cursor = &kv->val.via.map.ptr[j].val;
            if (field->type != MSGPACK_OBJECT_STR || cursor->type != MSGPACK_OBJECT_STR)
                continue;
            char id[96];
            int len = field->via.str.size == 3 && !memcmp(field->via.str.ptr, "pub", 3)
                    ? snprintf(id, sizeof id, "p-%.*s", (int) cursor->via.str.size,
                               cursor->via.str.ptr)
                    : snprintf(id, sizeof id, "%.*s-%.*s", (int) field->via.str.size,
                               field->via.str.ptr, (int) cursor->via.str.size,
                               cursor->via.str.ptr);
            if (len > 0 && (size_t) len < sizeof id)
                cf_seqcheck_repeat(seqs, id, (size_t) len);
        }
        return 0;
    }
    return -1;
}
