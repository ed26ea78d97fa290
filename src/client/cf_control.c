/*  cf_control: one request to the broker's control endpoint; see
    cf_control.h.                                                           */
#include "caseflow/cf_control.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_unpack.h"
#include "caseflow/cf_zmq.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <zmq.h>

/* Why no reply came: the broker refused the handshake, or is silent. */
static void control_silence(cf_handshake_t *handshake, const char *endpoint, int timeout_ms,
                            char *err, size_t n)
{
    int refused = handshake ? cf_handshake_refused(handshake) : 0;
    if (refused)
        snprintf(err, n, "the broker at %s: %s", endpoint, cf_handshake_explain(refused));
    else
        snprintf(err, n, "no answer from the broker at %s within %d ms (is it running, "
                 "with --control?)", endpoint, timeout_ms);
}

int cf_control_ask(const char *endpoint, int timeout_ms, const cf_curve_t *curve,
                   cf_msg_command_t command, const char *worker, cf_multipart_t *parts,
                   cf_msg_control_reply_t *reply, char *err, size_t n)
{
    void *ctx = zmq_ctx_new(), *socket = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, rc = -1;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(socket, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    cf_handshake_t *handshake = cf_handshake_new(ctx, socket);     /* NULL: not watched */
    if (curve && cf_curve_client(curve, socket) < 0)
        snprintf(err, n, "CURVE: %s", zmq_strerror(zmq_errno()));
    else if (zmq_connect(socket, endpoint) < 0)
        snprintf(err, n, "--control %s: %s", endpoint, zmq_strerror(zmq_errno()));
    else if (cf_msg_send_control(socket, 0, command, worker) < 0)
        snprintf(err, n, "cannot send to the broker at %s: %s", endpoint,
                 zmq_strerror(zmq_errno()));
    else if (cf_multipart_wait(parts, socket) < 0 && zmq_errno() == EAGAIN)
        control_silence(handshake, endpoint, timeout_ms, err, n);
    else if (cf_multipart_size(parts) == 0 || cf_msg_parse_control_reply(parts, reply) < 0)
        snprintf(err, n, "the broker at %s sent a reply that is not a control reply",
                 endpoint);
    else
        rc = 0;
    cf_handshake_destroy(&handshake);
    zmq_close(socket);
    cf_zmq_ctx_term(&ctx);
    return rc;
}

char *cf_control_status_json(const char *endpoint, int timeout_ms, const cf_curve_t *curve,
                             char *err, size_t n)
{
    assert(endpoint && err);
    cf_multipart_t *parts = cf_multipart_new(CF_CONTROL_REPLY_PARTS);
    cf_msg_control_reply_t reply;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    char *text = NULL;
    if (cf_control_ask(endpoint, timeout_ms, curve, CF_MSG_STATUS, NULL, parts, &reply, err,
                       n) < 0)
        ;                           /* err says why */
    else if (cf_unpack(&result, reply.body, reply.body_len) != 0)
        snprintf(err, n, "the broker's reply body is not msgpack");
    else if (!reply.ok) {
        char reason[512];
        cf_msg_read_control_error(&result.data, reason, sizeof reason);
        snprintf(err, n, "the broker says: %s", reason);
    } else {
        cf_json_t *json = cf_json_new();
        const char *line = cf_json_from_object(json, &result.data);
        if (line)
            text = cf_strdup(line);
        else
            snprintf(err, n, "the broker's status cannot be written as JSON");
        cf_json_destroy(&json);
    }
    msgpack_unpacked_destroy(&result);
    cf_multipart_destroy(&parts);
    return text;
}
