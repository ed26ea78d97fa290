/*  cf_publisher: the broker's notification endpoint (XPUB).

    Takes a topic and a msgpack map body (from the outboxes, or a worker's
    DONE) and publishes
    [topic, body'] where body' is the same map with four keys put in front:
    topic, publisher (this broker instance's random id), seq (per topic,
    from 1) and time (Unix ms). Sends never block: a subscriber that falls
    behind its high-water mark loses messages, and sees the gap in seq.      */
#ifndef CF_PUBLISHER_H
#define CF_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct _cf_publisher_t cf_publisher_t;

/*  Binds an XPUB socket on endpoint. NULL with the reason in err.            */
cf_publisher_t *cf_publisher_new(void *ctx, const char *endpoint, char *err, size_t err_size);

/*  The same as a CURVE server with curve's pair admitting roles (a ZAP
    domain, cf_zap.h); curve NULL = plain.                                  */
typedef struct _cf_curve_t cf_curve_t;
cf_publisher_t *cf_publisher_new_secure(void *ctx, const char *endpoint, const cf_curve_t *curve,
                                        const char *roles, char *err, size_t err_size);
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
uint64_t cf_publisher_sent(const cf_publisher_t *self);
uint64_t cf_publisher_dropped(const cf_publisher_t *self);

#endif
