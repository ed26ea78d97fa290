/*  cf_apply internals shared by cf_apply.c (the normal run) and
    cf_apply_careful.c (the event-by-event run with dead letters). Not
    installed.                                                              */
#ifndef CF_APPLY_INTERNAL_H
#define CF_APPLY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <msgpack.h>
#include "cf_apply.h"
#include "caseflow/cf_event.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_store.h"

typedef struct {
    size_t topic_at, topic_len, body_at, body_len;
} apply_note_t;


typedef struct {
    char event_id[CF_EVENT_ID_MAX + 1];
    char source[CF_SOURCE_MAX + 1];
    char reason[CF_REASON_MAX];
    char counter[96];               /* the quality counter it counts under */
} apply_reject_t;

struct _cf_apply_t {
    const cf_pseudo_t *pseudo;
    cf_store_t *store;
    cf_event_t *valid;              /* the events that passed, packed */
    cf_ack_status_t *statuses;      /* per valid event, from the store */
    int *slot;                      /* per frame: index into valid, or -1 */
    apply_reject_t *rejects;        /* per frame, when slot is -1 */
    cf_store_rejection_t *rejections;   /* the rejects, for cf_store_count_rejections */
    msgpack_sbuffer acks, notes;
    apply_note_t *note_index;
    size_t note_count, note_capacity;
    size_t *note_first;             /* per frame + 1: its first notification's index */
    size_t frames;                  /* of the last successful run */
    size_t note_from, note_to;      /* the notifications of the frames selected */
    size_t counts[CF_ACK_STATUS_COUNT];     /* of the frames selected */
    char (*dead)[CF_REASON_MAX];    /* per valid event: why it was dead-lettered */
    uint64_t *requests;             /* per frame: its request (cf_apply_set_requests) */
    uint64_t *valid_requests;       /* per valid event: its request */
    cf_ack_t *ack_list;             /* per event: its ack, packed into acks */
    cf_apply_tick_fn *tick;         /* between the events of a careful run */
    void *tick_arg;
    uint32_t *seen_refs;            /* a run's case_refs: valid event + 1, 0 empty */
    size_t seen_refs_n;             /* its slots (cf_table_clear) */
    bool per_event;                 /* requests set for the next run */
    unsigned poison_tries;
    char owed[CF_EVENT_ID_MAX + 1]; /* the event whose try an outage counted and
                                       Redis could not take back yet; "" */
    cf_apply_metrics_t metrics;
    cf_store_err_t err;
    char error[256];
};

/*  Maps the requests cf_apply_set_requests set, one per frame of the run
    (count frames), to the valid events they became; once per run, after
    cf_apply_decode. Nothing when none was set.                             */
void cf_apply_map_requests(cf_apply_t *self, size_t count);

/*  Hands the store the requests of valid events v..v+n of the run (mapped
    by cf_apply_map_requests), when set, for its next apply.                */
void cf_apply_store_requests(cf_apply_t *self, size_t v, size_t n);

/*  Decodes every frame; valid events are packed into self->valid with their
    case_ref replaced by its pseudonym (self->slot maps frames to them).
    Returns how many were valid.                                            */
size_t cf_apply_decode(cf_apply_t *self, const void *const *frames, const size_t *sizes,
                       size_t count);

/*  Counts the run's rejections in Redis (quality). 0 / -1.                 */
int cf_apply_count_rejections(cf_apply_t *self, size_t count);

/*  Builds the acks of the run (and the reject notifications), and selects
    every frame (cf_apply_select).                                          */
void cf_apply_build_acks(cf_apply_t *self, size_t count);

/*  Publishes a "reject" notification for reject.                           */
void cf_apply_note_reject(cf_apply_t *self, const apply_reject_t *reject);

/*  Copies the store's error into the object; returns -1.                   */
int cf_apply_fail_store(cf_apply_t *self);

#endif
