/*  cf_apply: decode, validate, pseudonymise, store, and build the job's acks
    and notifications; see cf_apply.h. The event-by-event run for suspect
    jobs, with its try counters and dead letters, is cf_apply_careful.c.     */
#include "cf_apply.h"
#include "caseflow/cf_alloc.h"
#include "cf_apply_internal.h"
#include "caseflow/cf_event.h"
#include "caseflow/cf_hash.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

cf_apply_t *cf_apply_new(const cf_pseudo_t *pseudo, cf_store_t *store)
{
    assert(pseudo && store);
    cf_apply_t *self = cf_calloc(1, sizeof *self);
    self->pseudo = pseudo;
    self->store = store;
    self->valid = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->valid);
    self->statuses = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->statuses);
    self->slot = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->slot);
    self->rejects = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->rejects);
    self->rejections = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->rejections);
    self->dead = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->dead);
    self->requests = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->requests);
    self->valid_requests = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->valid_requests);
    self->ack_list = cf_calloc(CF_MSG_MAX_JOB_EVENTS, sizeof *self->ack_list);
    self->note_first = cf_calloc(CF_MSG_MAX_JOB_EVENTS + 1, sizeof *self->note_first);
    self->poison_tries = CF_APPLY_POISON_TRIES;
    msgpack_sbuffer_init(&self->acks);
    msgpack_sbuffer_init(&self->notes);
    return self;
}

void cf_apply_destroy(cf_apply_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_apply_t *self = *self_p;
    free(self->valid);
    free(self->statuses);
    free(self->slot);
    free(self->rejects);
    free(self->rejections);
    free(self->dead);
    free(self->requests);
    free(self->seen_refs);
    free(self->valid_requests);
    free(self->ack_list);
    free(self->note_first);
    free(self->note_index);
    msgpack_sbuffer_destroy(&self->acks);
    msgpack_sbuffer_destroy(&self->notes);
    free(self);
    *self_p = NULL;
}

/* ---- notifications ---------------------------------------------------- */

static void apply_add_note(cf_apply_t *self, const char *topic, size_t topic_len,
                           const void *body, size_t body_len)
{
    self->note_index = cf_grow(self->note_index, &self->note_capacity, self->note_count + 1,
                               sizeof *self->note_index);
    apply_note_t *note = &self->note_index[self->note_count++];
    note->topic_at = self->notes.size;
    note->topic_len = topic_len;
    msgpack_sbuffer_write(&self->notes, topic, topic_len);
    note->body_at = self->notes.size;
    note->body_len = body_len;
    msgpack_sbuffer_write(&self->notes, body, body_len);
}

/* The field a reason names: "persons[2].sex" from "persons[2].sex: ...".
   Without indexes ("persons.sex") it names a quality counter, so that the
   counters stay few. */
static size_t apply_reason_field(const char *reason, bool keep_indexes, char *field,
                                 size_t field_size)
{
    size_t n = 0;
    bool in_index = false;
    for (const char *p = reason; *p && *p != ':' && n + 1 < field_size; p++) {
        if (!keep_indexes && (*p == '[' || *p == ']'))
            in_index = *p == '[';
        else if (!in_index)
            field[n++] = *p;
    }
    field[n] = '\0';
    return n;
}

/* A notification body leaves out what is not known rather than packing
   nil (docs/notifications.md): a reject of an event without a readable
   event_id has no event_id key. */
void cf_apply_note_reject(cf_apply_t *self, const apply_reject_t *reject)
{
    char field[96];
    apply_reason_field(reject->reason, true, field, sizeof field);
    const char *keys[] = { "event_id", "reason", "field", "source" };
    const char *values[] = { reject->event_id, reject->reason, field, reject->source };
    uint32_t known = 0;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        known += values[i][0] != '\0';
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, known);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (values[i][0])
            cf_pack_key_str(&pk, keys[i], values[i]);
    _Static_assert(CF_EVENT_ID_MAX + 2 * CF_REASON_MAX + CF_SOURCE_MAX + 64
                   <= CF_MSG_MAX_WORKER_NOTICE_BYTES, "a reject passes the broker's limit");
    apply_add_note(self, "reject", 6, body.data, body.size);
    msgpack_sbuffer_destroy(&body);
}

/* ---- the run ---------------------------------------------------------- */

/* Gives valid events 0..n their case_ref's pseudonym, each distinct ref of
   the run once: a job often holds several events of a case (a backlog, a
   replay, the bench's mix), and the HMAC was 7 % of a worker's CPU.
   The table holds indices only; every raw ref is wiped after. */
static void apply_pseudonymise(cf_apply_t *self, size_t n)
{
    self->seen_refs = cf_table_clear(self->seen_refs, &self->seen_refs_n, n,
                                     sizeof *self->seen_refs);
    size_t mask = self->seen_refs_n - 1;
    for (size_t v = 0; v < n; v++) {
        cf_event_t *event = &self->valid[v];
        if (!cf_event_is_case_event(event->type))
            continue;
        size_t len = strlen(event->case_ref);
        size_t at = cf_hash(event->case_ref, len, 0) & mask;
        for (; self->seen_refs[at]; at = (at + 1) & mask) {
            const cf_event_t *same = &self->valid[self->seen_refs[at] - 1];
            if (strcmp(same->case_ref, event->case_ref) == 0)
                break;
        }
        if (self->seen_refs[at])
            memcpy(event->case_id, self->valid[self->seen_refs[at] - 1].case_id,
                   sizeof event->case_id);
        else {
            cf_pseudo_apply(self->pseudo, event->case_ref, len, event->case_id);
            self->seen_refs[at] = (uint32_t) v + 1;
        }
    }
    for (size_t v = 0; v < n; v++)
        sodium_memzero(self->valid[v].case_ref, sizeof self->valid[v].case_ref);
}

/* Decodes every frame; valid events are packed into self->valid with their
   case_ref replaced by its pseudonym. Returns how many were valid. */
size_t cf_apply_decode(cf_apply_t *self, const void *const *frames, const size_t *sizes,
                       size_t count)
{
    size_t valid = 0;
    for (size_t i = 0; i < count; i++) {
        cf_event_t *event = &self->valid[valid];
        apply_reject_t *reject = &self->rejects[i];
        if (cf_event_decode(event, frames[i], sizes[i], reject->reason, sizeof reject->reason) < 0) {
            snprintf(reject->event_id, sizeof reject->event_id, "%s", event->event_id);
            snprintf(reject->source, sizeof reject->source, "%s", event->source_system);
            apply_reason_field(reject->reason, false, reject->counter, sizeof reject->counter);
            sodium_memzero(event->case_ref, sizeof event->case_ref);
            self->slot[i] = -1;
            continue;
        }
        self->slot[i] = (int) valid++;
    }
    apply_pseudonymise(self, valid);
    return valid;
}

/* Counts the rejections in Redis (quality report) by the field they name,
   each (event_id, field) once (cf_store_count_rejections). */
int cf_apply_count_rejections(cf_apply_t *self, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (self->slot[i] < 0)
            self->rejections[n++] = (cf_store_rejection_t) { self->rejects[i].counter,
                                                             self->rejects[i].event_id };
    return n ? cf_store_count_rejections(self->store, self->rejections, n, NULL) : 0;
}

void cf_apply_build_acks(cf_apply_t *self, size_t count)
{
    cf_ack_t *acks = self->ack_list;
    for (size_t i = 0; i < count; i++) {
        int v = self->slot[i];
        /* what the run noted before (a careful run's dead letters) goes
           with the first frame: a careful run is answered whole */
        self->note_first[i] = i ? self->note_count : 0;
        if (v >= 0 && self->statuses[v] == CF_ACK_REJECTED) {     /* dead-lettered */
            const cf_event_t *event = &self->valid[v];
            acks[i] = (cf_ack_t) { CF_ACK_REJECTED, event->event_id, strlen(event->event_id),
                                   self->dead[v], strlen(self->dead[v]) };
        } else if (v >= 0) {
            const cf_event_t *event = &self->valid[v];
            /* busy: a fence refused its shard's commit (cf_store_set_fence) */
            bool fenced = self->statuses[v] == CF_ACK_BUSY;
            acks[i] = (cf_ack_t) { self->statuses[v], event->event_id,
                                   strlen(event->event_id), fenced ? CF_MSG_FENCED_REASON : NULL,
                                   fenced ? strlen(CF_MSG_FENCED_REASON) : 0 };
        } else {
            const apply_reject_t *reject = &self->rejects[i];
            acks[i] = (cf_ack_t) { CF_ACK_REJECTED, reject->event_id, strlen(reject->event_id),
                                   reject->reason, strlen(reject->reason) };
            cf_apply_note_reject(self, reject);
        }
        cf_metric_inc(self->metrics.events[v >= 0 ? self->valid[v].type : CF_EV_TYPE_COUNT]
                                          [acks[i].status]);
    }
    self->note_first[count] = self->note_count;
    self->frames = count;
    cf_apply_select(self, 0, count);
}

void cf_apply_select(cf_apply_t *self, size_t from, size_t count)
{
    assert(self && from + count <= self->frames);
    memset(self->counts, 0, sizeof self->counts);
    for (size_t i = from; i < from + count; i++)
        self->counts[self->ack_list[i].status]++;
    self->note_from = self->note_first[from];
    self->note_to = self->note_first[from + count];
    msgpack_sbuffer_clear(&self->acks);
    cf_msg_pack_acks(&self->acks, self->ack_list + from, count);
}

void cf_apply_set_requests(cf_apply_t *self, const uint64_t *ids, size_t count)
{
    assert(self && (ids || count == 0) && count <= CF_MSG_MAX_JOB_EVENTS);
    memcpy(self->requests, ids, count * sizeof *ids);
    self->per_event = count > 0;
}

void cf_apply_map_requests(cf_apply_t *self, size_t count)
{
    if (!self->per_event)
        return;
    for (size_t i = 0; i < count; i++)
        if (self->slot[i] >= 0)
            self->valid_requests[self->slot[i]] = self->requests[i];
}

void cf_apply_store_requests(cf_apply_t *self, size_t v, size_t n)
{
    if (self->per_event)
        cf_store_set_requests(self->store, &self->valid_requests[v], n);
}

int cf_apply_run(cf_apply_t *self, const void *const *frames, const size_t *sizes, size_t count)
{
    assert(self && count <= CF_MSG_MAX_JOB_EVENTS);
    self->note_count = 0;
    msgpack_sbuffer_clear(&self->notes);
    size_t valid = cf_apply_decode(self, frames, sizes, count);
    /* Rejections are counted first (the reverse order would lose the
       notifications of events that a retry then finds duplicate); a retry
       after a store failure finds them counted already. */
    cf_apply_map_requests(self, count);
    if (valid)
        cf_apply_store_requests(self, 0, valid);
    int rc = cf_apply_count_rejections(self, count) < 0
          || (valid && cf_store_apply(self->store, self->valid, valid, self->statuses) < 0)
           ? cf_apply_fail_store(self) : 0;
    self->per_event = false;
    if (rc == 0)
        cf_apply_build_acks(self, count);
    return rc;
}

int cf_apply_fail_store(cf_apply_t *self)
{
    snprintf(self->error, sizeof self->error, "%s", cf_store_error(self->store));
    self->err = cf_store_error_code(self->store);
    return -1;
}

cf_store_err_t cf_apply_error_code(const cf_apply_t *self)
{
    assert(self);
    return self->err;
}

void cf_apply_set_poison_tries(cf_apply_t *self, unsigned tries)
{
    assert(self && tries >= 1);
    self->poison_tries = tries;
}

void cf_apply_set_metrics(cf_apply_t *self, const cf_apply_metrics_t *metrics)
{
    assert(self && metrics);
    self->metrics = *metrics;
}

const msgpack_sbuffer *cf_apply_acks(const cf_apply_t *self)
{
    assert(self);
    return &self->acks;
}

size_t cf_apply_notifications(const cf_apply_t *self)
{
    assert(self);
    return self->note_to - self->note_from;
}

void cf_apply_notification(const cf_apply_t *self, size_t index, const char **topic,
                           size_t *topic_len, const char **body, size_t *body_len)
{
    assert(self && index < self->note_to - self->note_from);
    const apply_note_t *note = &self->note_index[self->note_from + index];
    *topic = self->notes.data + note->topic_at;
    *topic_len = note->topic_len;
    *body = self->notes.data + note->body_at;
    *body_len = note->body_len;
}

size_t cf_apply_count(const cf_apply_t *self, cf_ack_status_t status)
{
    assert(self && status < CF_ACK_STATUS_COUNT);
    return self->counts[status];
}

const char *cf_apply_error(const cf_apply_t *self)
{
    assert(self);
    return self->error;
}
