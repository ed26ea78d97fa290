/*  cf_snapshot: a late subscriber's side of the snapshot (docs/
    notifications.md, "Late joiners"; the Clone pattern). Subscribe first,
    then fetch: the broker answers with the state of the notifications up
    to the cursors it names (figures, returns, open overdue alerts, the last
    milestone per programme); the subscriber then drops every live
    notification at or before those cursors (already in the state) and
    takes the rest, so that it misses nothing and repeats nothing.           */
#ifndef CF_SNAPSHOT_H
#define CF_SNAPSHOT_H

#include <stddef.h>
#include <msgpack.h>
#include "caseflow/cf_seqcheck.h"

/*  Asks the broker at intake (its producers' endpoint) for the snapshot and
    waits up to timeout_ms; the msgpack map goes into body. With several
    brokers, intake lists their endpoints (cf_endpoints): each is asked in
    turn, for its share of timeout_ms, until one answers. curve: the
    subscriber's CURVE settings (cf_curve), NULL for plain. 0, or -1 with
    the reason in err.                                                      */
typedef struct _cf_curve_t cf_curve_t;
int cf_snapshot_fetch(void *zmq_ctx, const char *intake, const cf_curve_t *curve, int timeout_ms,
                      msgpack_sbuffer *body, char *err, size_t err_size);

/*  Records the snapshot's cursors in seqs (cf_seqcheck_floor), so that the
    live notifications they cover are dropped as repeats. -1 when snapshot
    is not a snapshot map.                                                  */
int cf_snapshot_prime(cf_seqcheck_t *seqs, const msgpack_object *snapshot);

#endif
