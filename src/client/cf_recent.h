/*  cf_recent: a bounded memory of the outbox ids a subscriber has delivered
    lately, so that a notification that two brokers both publish (docs/
    notifications.md, "Several brokers") is delivered once.

    An id is its stream (a shard's outbox, or the milestones') and its entry
    id (<ms>-<seq>). The memory keeps the last CF_RECENT_IDS of them, the
    oldest forgotten first. Ids from several brokers arrive out of order
    within their stream (each broker publishes the batches it read, at its
    own pace), so "at or before the last id seen" would drop entries that
    only the slower broker published; a memory of the ids themselves does
    not. What it has forgotten it still answers for: per stream it keeps
    the newest id it forgot (its floor), and an id at or before the floor
    counts as seen. No I/O.                                                 */
#ifndef CF_RECENT_H
#define CF_RECENT_H

#include <stdbool.h>
#include <stdint.h>

/*  Ids remembered. The copies of one entry come from brokers that read the
    same batch (both publish it) or from one that took over a dead one's
    cursors (it publishes that batch again): apart by a broker's round, tens
    of milliseconds, at most a few seconds when a broker's Redis stalls. At
    20 000 notifications/s (the apply path's rate on the reference machine,
    docs/performance.md) 65 536 ids are 3 s of them, at about 2 MiB; an id
    older than that is answered by its stream's floor.                     */
#define CF_RECENT_IDS   65536

typedef struct _cf_recent_t cf_recent_t;

/*  An empty memory for streams 0 .. streams - 1 (streams >= 1); it grows
    with the ids it holds, up to CF_RECENT_IDS.                             */
cf_recent_t *cf_recent_new(unsigned streams);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_recent_destroy(cf_recent_t **self_p);

/*  Whether (stream, ms, seq) was seen (remembered, or at or before its
    stream's floor); if not, remembers it (forgetting the oldest when full,
    which raises the oldest's stream floor to it) and returns false.        */
bool cf_recent_seen(cf_recent_t *self, unsigned stream, uint64_t ms, uint64_t seq);

/*  Raises the floor of stream to (ms, seq): every id at or before it counts
    as seen from now on (a snapshot's cursor).                               */
void cf_recent_floor(cf_recent_t *self, unsigned stream, uint64_t ms, uint64_t seq);

/*  The ids remembered now (at most CF_RECENT_IDS).                          */
uint32_t cf_recent_size(const cf_recent_t *self);

#endif
