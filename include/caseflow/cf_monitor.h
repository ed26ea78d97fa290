/*  cf_monitor: the reading side of a libzmq socket monitor
    (zmq_socket_monitor), shared by cf_handshake (a client's handshakes) and
    cf_zap (the broker's connection counts).

    The reader is a PAIR with no receive high-water mark: libzmq's I/O
    thread blocks on a full monitor pipe, so a reader that falls behind
    must never stall the socket it watches. Only version 1 events.           */
#ifndef CF_MONITOR_H
#define CF_MONITOR_H

#include <stdint.h>

/*  A reader connected to the monitor endpoint (after zmq_socket_monitor
    bound it). NULL with errno from libzmq.                                  */
void *cf_monitor_reader(void *ctx, const char *endpoint);

/*  Reads one event (flags: 0 or ZMQ_DONTWAIT) into *event and *value (a
    descriptor, a ZAP status...). 0, or -1 when none came.                   */
int cf_monitor_read(void *reader, int flags, uint16_t *event, uint32_t *value);

#endif
