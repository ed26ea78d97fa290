/*  cf_seqcheck: the subscriber's side of the notification sequence numbers
    (docs/protocol.md, section 4).

    Remembers the last seq seen per (publisher, topic) and says how many
    notifications were missed when the next one is not last + 1. The first
    notification of a pair is never a gap (a subscriber does not receive what
    was published before it connected), and a new publisher id (a restarted
    broker) is a new pair. No I/O; the caller decides how to warn.           */
#ifndef CF_SEQCHECK_H
#define CF_SEQCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF_SEQCHECK_MAX_PAIRS   100000  /* pairs tracked; a publisher cannot grow a
                                           subscriber without bound with made-up topics */

typedef struct _cf_seqcheck_t cf_seqcheck_t;

cf_seqcheck_t *cf_seqcheck_new(void);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_seqcheck_destroy(cf_seqcheck_t **self_p);

/*  Records seq for the pair and returns how many were missed before it
    (seq - last - 1 when seq > last + 1, else 0). *last (when not NULL) gets
    the previous seq of the pair, 0 when it is new. A seq at or below the
    last one (a repeat) replaces it and counts as no gap. A new pair beyond
    CF_SEQCHECK_MAX_PAIRS is not tracked (0, *last 0).                       */
uint64_t cf_seqcheck_see(cf_seqcheck_t *self, const char *publisher, size_t publisher_len,
                         const char *topic, size_t topic_len, uint64_t seq, uint64_t *last);

/*  For the "id" of a notification from an outbox ("s<shard>-<ms>-<n>", or
    "p-<ms>-<n>" for the milestones' stream): true when it is a repeat (drop
    it): an id among the last CF_RECENT_IDS (65 536) seen, whatever their
    order (two brokers publish each at its own pace, a restarted broker
    publishes its last batch again), or at or before the newest id of its
    stream that was forgotten, or at or before its stream's floor
    (cf_seqcheck_floor). Else records it and returns false. An id that does
    not parse is never a repeat.                                            */
bool cf_seqcheck_repeat(cf_seqcheck_t *self, const char *id, size_t len);

/*  Every id of the stream of id at or before it is a repeat from now on (a
    snapshot's cursor: what the snapshot holds). An id that does not parse
    is ignored.                                                             */
void cf_seqcheck_floor(cf_seqcheck_t *self, const char *id, size_t len);

/*  The number of (publisher, topic) pairs seen.                             */
size_t cf_seqcheck_size(const cf_seqcheck_t *self);

#endif
