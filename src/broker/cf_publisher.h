/*  cf_publisher: the broker's notification endpoint (XPUB).

    Takes a topic and a msgpack map body (from the outboxes, or a worker's
    DONE) and publishes
    [topic, body'] where body' is the same map with four keys put in front:
    topic, publisher (this broker instance's random id), seq (per topic,
    from 1) and time (Unix ms). Sends never block: a subscriber that falls
    behind its high-water mark loses messages, and sees the gap in seq; the
    publisher counts each such overflow (cf_publisher_dropped), not what
    was lost in it, which libzmq does not tell. The others get everything. */
#ifndef CF_PUBLISHER_H
#define CF_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct _cf_publisher_t cf_publisher_t;

/*  Binds an XPUB socket on endpoint. NULL with the reason in err.            */
cf_publisher_t *cf_publisher_new(void *ctx, const char *endpoint, char *err, size_t err_size);

/*  Called with the new socket before it is bound, to set who may connect
    (the broker makes it a CURVE server and limits its connections); 0, or
    -1 with the reason in err, which stops the publisher's creation.         */
typedef int (cf_publisher_prepare_fn)(void *arg, void *socket, const char *endpoint, char *err,
                                      size_t err_size);

/*  The same, with prepare (NULL: none) called on the socket first.          */
cf_publisher_t *cf_publisher_new_prepared(void *ctx, const char *endpoint,
                                          cf_publisher_prepare_fn *prepare, void *arg, char *err,
                                          size_t err_size);
void cf_publisher_destroy(cf_publisher_t **self_p);

/*  Publishes one notification; 0, or -1 when the body is not a msgpack map or
    the topic is empty (nothing is sent then). id, when not NULL, is put in
    the body as "id": the outbox entry's stable name ("s<shard>-<entry id>"),
    the same when the entry is published again after a broker restart.     */
int cf_publisher_send(cf_publisher_t *self, zmq_msg_t *topic, zmq_msg_t *body, const char *id);

/*  Reads and discards subscription messages (XPUB delivers them).            */
void cf_publisher_drain(cf_publisher_t *self);

void *cf_publisher_socket(cf_publisher_t *self);
const char *cf_publisher_id(const cf_publisher_t *self);
/*  Notifications handed to the socket (every subscriber with room got
    them); and overflows: each time a subscriber's queue was full when a
    notification for it came, which it lost with the ones after it until
    it caught up (how many is known to the subscriber only, from its seq
    gaps), plus sends the socket refused. At least 1 whenever a subscriber
    lost anything; 0 means none did.                                        */
uint64_t cf_publisher_sent(const cf_publisher_t *self);
uint64_t cf_publisher_dropped(const cf_publisher_t *self);

#endif
