/*  cf_web_feed: caseflow-web's live feed of notifications, what
    GET /api/v1/notifications streams as Server-Sent Events.

    One subscriber for the whole daemon: a thread with a SUB socket on the
    broker's notification endpoint (on each of a list of several brokers'
    endpoints; CURVE with the subscriber's key when given) keeps the last CF_WEB_FEED_RING notifications, each as one line
    of JSON with a number of its own (1, 2, 3 ...), and wakes the streams
    waiting for them. A republished outbox entry (a restarted broker's last
    batch, or an entry two brokers both published) is dropped as
    caseflow-watch drops it (cf_seqcheck_repeat), and
    gaps in a topic's seq are counted. A stream that starts afresh, or
    resumes from a number the ring no longer holds, first gets the broker's
    snapshot (cf_snapshot_fetch), and then only the notifications the
    snapshot does not cover (cf_snapshot_prime): the Clone pattern of
    caseflow-watch --snapshot. Event ids are "EPOCH-N", EPOCH naming this
    run of the daemon, so that an id from an earlier run is not mistaken
    for one of this run.                                                    */
#ifndef CF_WEB_FEED_H
#define CF_WEB_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caseflow/cf_curve.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_seqcheck.h"

#define CF_WEB_FEED_RING 4096           /* notifications kept for resuming streams */
#define CF_WEB_FEED_SNAPSHOT_MS 5000    /* the broker's snapshot answer, at most */

typedef struct _cf_web_feed_t cf_web_feed_t;

/*  One notification as the feed keeps it; the strings belong to the copy. */
typedef struct {
    uint64_t n;
    char *topic;
    char *programme;        /* the body's programme, NULL when it has none */
    char *outbox_id;        /* NULL for reject and stats */
    char *json;             /* the body (with the broker's stamp), one line */
} cf_web_feed_entry_t;

/*  Subscribes to subscribe (a ZeroMQ endpoint) and starts the thread;
    intake is where snapshots are asked for; curve (NULL: plain) is copied
    in use and must outlive the feed. metrics may be NULL. NULL with the
    reason in err.                                                          */
cf_web_feed_t *cf_web_feed_new(const char *subscribe, const char *intake, const cf_curve_t *curve,
                               cf_metrics_t *metrics, char *err, size_t n);

/*  Wakes every waiting stream, which then ends; the thread goes on until
    destroy. For shutdown, before the HTTP server is stopped.               */
void cf_web_feed_close(cf_web_feed_t *self);

/*  Stops the thread and frees the feed; accepts NULL.                      */
void cf_web_feed_destroy(cf_web_feed_t **self_p);

/*  This run's epoch, for event ids.                                        */
const char *cf_web_feed_epoch(const cf_web_feed_t *self);

/*  The number of the last notification kept (0: none yet).                 */
uint64_t cf_web_feed_head(cf_web_feed_t *self);

/*  Whether a stream may resume after notification n of this run: the ring
    still holds every one after it.                                          */
bool cf_web_feed_can_resume(cf_web_feed_t *self, uint64_t n);

/*  Copies into out the first notification after `after`, waiting up to
    timeout_ms for one. 1 when one was copied (free it with
    cf_web_feed_entry_clear), 0 on timeout or when woken (cf_web_feed_wake
    was called since *woken was set: a stream's *woken starts at
    cf_web_feed_woken and is kept up to date here), -1 when the feed is
    closed, -2 when the ring no longer holds the one after `after` (the
    stream fell behind by more than CF_WEB_FEED_RING: it must start over).  */
int cf_web_feed_next(cf_web_feed_t *self, uint64_t after, uint64_t *woken, int timeout_ms,
                     cf_web_feed_entry_t *out);

/*  Wakes every waiting stream, so that it looks at its token again (the
    token file was read again), and the next wait of each stream that was
    not waiting.                                                             */
void cf_web_feed_wake(cf_web_feed_t *self);

/*  How many times the feed was woken, for a new stream's *woken.           */
uint64_t cf_web_feed_woken(cf_web_feed_t *self);

void cf_web_feed_entry_clear(cf_web_feed_entry_t *entry);

/*  Asks the broker for its snapshot: the map as JSON text in *json (the
    caller frees it), its cursors primed into seqs (so that what it covers
    is then dropped by cf_seqcheck_repeat). 0, or -1 with the reason in err. */
int cf_web_feed_snapshot(cf_web_feed_t *self, cf_seqcheck_t *seqs, char **json, char *err,
                         size_t n);

/*  The snapshot JSON cut to the programmes a scoped token sees: figures and
    returns keys "<programme>|...", open_alerts by their programme,
    last_milestones by key; sees(programme, arg) says which. A new string
    the caller frees, NULL when json is not a snapshot object.               */
char *cf_web_feed_scope_snapshot(const char *json, bool (*sees)(const char *programme, void *arg),
                                 void *arg);

/*  Streams opened and closed, for the metrics gauge.                        */
void cf_web_feed_stream_count(cf_web_feed_t *self, int delta);

#endif
