/*  cf_fold: caseflow's domain logic, run in the worker: what each event does
    to its case and to the aggregates (docs/storage.md, "Semantics" and
    "Counter fields"; docs/notifications.md). It replaces the domain part of
    the old apply script (lua/apply_state.lua, apply_events.lua): Redis only
    stores what a fold computed.

    A fold takes one shard's batch of validated events, with the states of
    their cases and routes as Redis held them (opaque packed bytes that only
    this module reads and writes: cf_fold_state.c describes the format,
    which starts with a format byte), and produces:
      - each touched case's and route's new packed state;
      - the batch's counter deltas, merged: one delta per distinct
        (family, field), so that each counter is written once per batch;
      - the notifications, in the order they happened (topic and msgpack body);
      - the changes to the overdue deadlines (member "<case_id>|<limit>").
    It also fires an overdue deadline (cf_fold_fire), for the worker's timer,
    and, given the batch's clock (cf_fold_set_clock), the deadlines a batch
    leaves already due.

    No I/O, no Redis, no clock of its own: the store reads the states before, and commits
    the result in one atomic call after (guarded by the states it read, so
    that a fold computed from stale states is refused and run again).
    A fold object is reused from batch to batch; not thread-safe.          */
#ifndef CF_FOLD_H
#define CF_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "caseflow/cf_event.h"

typedef struct _cf_fold_t cf_fold_t;

cf_fold_t *cf_fold_new(void);
/*  Frees and nulls *self_p; accepts NULL.                                     */
void cf_fold_destroy(cf_fold_t **self_p);

/*  The notification rules, as cf_rules_pack makes them (overdue limits,
    vulnerable flags, predeparture window, spike rules). 0, or -1 with the
    reason in cf_fold_error when they cannot be read.                         */
int cf_fold_set_rules(cf_fold_t *self, const void *packed, size_t len);

/*  Starts a batch: forgets the previous batch's states and output.          */
void cf_fold_reset(cf_fold_t *self);

/*  The state Redis holds for case_id (NULL/0: none), loaded before the events
    that touch it are applied. Each case of the batch is loaded once. 0, or
    -1 with the reason in cf_fold_error when the bytes are not a case state
    (the store treats that as a Redis fault of the shard, not as bad input). */
int cf_fold_load_case(cf_fold_t *self, const char *case_id, const void *state, size_t len);

/*  The same for a route's flow state (its counts per day for the spike rule
    and whether it is in a spike): each route of the batch's flow.observed
    events whose route is not "-", loaded once.                              */
int cf_fold_load_route(cf_fold_t *self, const char *route, const void *state, size_t len);

/*  Applies one event whose case (or route) was loaded. fresh: the event was
    not applied before (no dedupe marker); a repeat (fresh false) only counts
    quality|duplicate. Order within the batch is the events' order in the
    request; the result does not depend on it (order independence).
    A counter whose sum within the batch would leave int64 (or a route's
    day count) makes the batch fail: cf_fold_error is then not NULL, and
    the store must commit nothing of the batch and dead-letter it (never
    saturate). The store checks the sums against what Redis holds.         */
void cf_fold_apply(cf_fold_t *self, const cf_event_t *event, bool fresh);

/*  Fires the overdue deadline of `limit` (cf_limit_t) of the loaded case_id,
    due at due_ms, as the timer sees it at now_ms: marks the case so that the
    limit never fires again, and queues the alert.overdue.<stage>
    notification. Returns false (and changes nothing) when the case's state no
    longer has that deadline at due_ms.                                        */
bool cf_fold_fire(cf_fold_t *self, const char *case_id, int limit, int64_t due_ms, int64_t now_ms);

/*  The clock of the batch (ms; the timer's clock: cf:clock when an operator
    set one, else the wall clock): a deadline that the batch leaves already
    due by it fires as the batch closes, in the same output, instead of
    going to the deadline set. -1, the default after cf_fold_reset: every
    deadline goes to the set, for the timer.                                 */
void cf_fold_set_clock(cf_fold_t *self, int64_t now_ms);

/*  Closes the batch: settles the derived aggregates of every touched case and
    computes deadlines. Call once after the last cf_fold_apply / cf_fold_fire,
    before reading the output.                                                 */
void cf_fold_finish(cf_fold_t *self);

/* ---- the output, valid until the next cf_fold_reset ------------------------ */

/*  Merged counter deltas, non-zero only. family is a cf_family_t; field
    is the hash field (docs/storage.md, "Counter fields").                   */
size_t cf_fold_counters(const cf_fold_t *self);
void cf_fold_counter(const cf_fold_t *self, size_t i, int *family, const char **field,
                     size_t *field_len, int64_t *delta);

/*  Flow counts per route and day ("<route>|<day number>"): the route_day
    counters, also merged.                                                     */
size_t cf_fold_route_days(const cf_fold_t *self);
void cf_fold_route_day(const cf_fold_t *self, size_t i, const char **field, size_t *field_len,
                       int64_t *delta);

/*  Cases whose state changed: their new state, and whether the case is
    closed (its state then lives for the closed-case time only).             */
size_t cf_fold_cases(const cf_fold_t *self);
void cf_fold_case(const cf_fold_t *self, size_t i, const char **case_id, const void **state,
                  size_t *len, bool *closed);

/*  Routes whose state changed, and their new state.                          */
size_t cf_fold_routes(const cf_fold_t *self);
void cf_fold_route(const cf_fold_t *self, size_t i, const char **route, const void **state,
                   size_t *len);

/*  Notifications in order: topic, and the msgpack map of its body.          */
size_t cf_fold_notes(const cf_fold_t *self);
void cf_fold_note(const cf_fold_t *self, size_t i, const char **topic, const void **body,
                  size_t *body_len);

/*  Deadline changes: member "<case_id>|<limit name>", and due_ms >= 0 to add
    or move it, -1 to remove it.                                              */
size_t cf_fold_deadlines(const cf_fold_t *self);

/*  How many alert.overdue.* notifications the batch holds (cf_fold_fire's,
    and those fired as the batch closed by its clock).                       */
size_t cf_fold_overdue_fired(const cf_fold_t *self);
void cf_fold_deadline(const cf_fold_t *self, size_t i, const char **member, size_t *member_len,
                      int64_t *due_ms);

/*  Why the last call failed, or the batch's first error (an overflow, a
    state that is not one); NULL when there is none. cf_fold_reset clears it. */
const char *cf_fold_error(const cf_fold_t *self);

/*  A packed case state (as cf_fold_case gives it, as Redis holds it) as
    text: "field=value " pairs, sorted, in the old case hash's grammar
    (docs/storage.md, "Case state"). A new string the caller frees; NULL
    when the bytes are not a case state. cf_fold_describe.c.                 */
char *cf_fold_describe_case(const void *state, size_t len);

#endif
