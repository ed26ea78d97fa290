/*  cf_ratelimit: a token bucket per producer, and the bytes it holds, in a
    table of bounded size. The caller names producers: the broker by their
    CURVE public key, so that every connection of one key shares one rate
    and one share of the queue (as Kafka's client quotas are per client),
    or in plain mode by the intake ROUTER's routing id.

    Each producer may send `rate` events per second on average and up to
    `burst` at once, and hold up to a cap of bytes (cf_ratelimit_hold, given
    back by cf_ratelimit_release). A producer seen for the first time starts
    with a full bucket. The table holds at most `max_peers` producers: when
    it is full, a sweep forgets every producer whose bucket has refilled and
    who holds nothing (forgetting it loses nothing, it would start full
    again), at most once per 100 ms; when
    nothing can be forgotten, the new producer is refused. So a peer that
    makes up routing ids can neither grow the table nor reset others'
    buckets. Routing ids are hashed with a keyed hash (libsodium's SipHash,
    a random key per table), so a peer cannot choose an id that shares
    another producer's bucket. No sockets, no clock of its own.             */
#ifndef CF_RATELIMIT_H
#define CF_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CF_RATELIMIT_OK = 0,        /* taken */
    CF_RATELIMIT_OVER,          /* this producer is over its rate: nothing taken */
    CF_RATELIMIT_FULL           /* a new producer, and max_peers are active */
} cf_ratelimit_result_t;

typedef struct _cf_ratelimit_t cf_ratelimit_t;

/*  rate: events per second (> 0); burst: bucket size in events (>= 1);
    max_peers >= 1.                                                        */
cf_ratelimit_t *cf_ratelimit_new(double rate, double burst, size_t max_peers);

/*  Frees and nulls *self_p; accepts NULL.                                 */
void cf_ratelimit_destroy(cf_ratelimit_t **self_p);

/*  Takes n events from the bucket of producer id at time now_ms (any
    monotonic clock in ms).                                                */
cf_ratelimit_result_t cf_ratelimit_take(cf_ratelimit_t *self, const void *id, size_t id_len,
                                        size_t n, int64_t now_ms);

/*  What cf_ratelimit_take would answer for n events now, taking nothing
    (a caller that charges failures only: caseflow-web's sign-ins).        */
cf_ratelimit_result_t cf_ratelimit_check(cf_ratelimit_t *self, const void *id, size_t id_len,
                                         size_t n, int64_t now_ms);

/*  Adds bytes to what producer id holds if that stays within max (else
    OVER, nothing added; FULL as for take), at time now_ms.                */
cf_ratelimit_result_t cf_ratelimit_hold(cf_ratelimit_t *self, const void *id, size_t id_len,
                                        size_t bytes, size_t max, int64_t now_ms);

/*  Gives back bytes that cf_ratelimit_hold added for id (a programmer error
    to give back more).                                                    */
void cf_ratelimit_release(cf_ratelimit_t *self, const void *id, size_t id_len, size_t bytes);

/*  The bytes producer id holds now (0 for one not tracked).               */
size_t cf_ratelimit_held(cf_ratelimit_t *self, const void *id, size_t id_len);

/*  Producers tracked now.                                                 */
size_t cf_ratelimit_size(const cf_ratelimit_t *self);

#endif
