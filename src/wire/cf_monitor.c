/*  cf_monitor: socket monitor readers; see cf_monitor.h. An event is two
    frames: 2 bytes of event and 4 of value, then the endpoint.             */
#include "caseflow/cf_monitor.h"

#include <assert.h>
#include <string.h>
#include <zmq.h>

void *cf_monitor_reader(void *ctx, const char *endpoint)
{
    assert(ctx && endpoint);
    void *reader = zmq_socket(ctx, ZMQ_PAIR);
    if (!reader)
        return NULL;
    int linger = 0, unlimited = 0;
    zmq_setsockopt(reader, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(reader, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    if (zmq_connect(reader, endpoint) < 0) {
        zmq_close(reader);
        return NULL;
    }
    return reader;
}

int cf_monitor_read(void *reader, int flags, uint16_t *event, uint32_t *value)
{
    assert(reader && event && value);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, reader, flags) < 0) {
        zmq_msg_close(&msg);
        return -1;
    }
    *event = 0;
    *value = 0;
    if (zmq_msg_size(&msg) >= 6) {
        memcpy(event, zmq_msg_data(&msg), sizeof *event);
        memcpy(value, (char *) zmq_msg_data(&msg) + 2, sizeof *value);
    }
    while (zmq_msg_more(&msg) && zmq_msg_recv(&msg, reader, 0) >= 0)
        ;                       /* the endpoint frame */
    zmq_msg_close(&msg);
    return 0;
}
