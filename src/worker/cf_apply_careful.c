/*  cf_apply_careful: the event-by-event run of a suspect job (docs/
    reliability.md, "Poison events"). A job comes here when the worker that
    held it was lost (the broker sends it as REDO) or when Redis refused it
    as a whole. Each event then gets its own store call, preceded by a try
    counted in Redis, so that the one event that takes workers down, or that
    Redis keeps refusing, is found after a few tries and set aside in the
    dead-letter stream instead of taking more workers with it. A try that
    met an outage (Redis unreachable or loading, the library missing) is
    given back: an outage must not set good events aside.                  */
#include "cf_apply.h"
#include "cf_apply_internal.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The event map of frame, with the value of case_ref replaced by the
   pseudonym, into out: what a dead letter keeps (never the raw reference). */
static int careful_redact(const void *frame, size_t size, const cf_event_t *event,
                          msgpack_sbuffer *out)
{
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    if (msgpack_unpack_next(&result, frame, size, NULL) != MSGPACK_UNPACK_SUCCESS
        || result.data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy(&result);
        return -1;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    const msgpack_object_map *map = &result.data.via.map;
    msgpack_pack_map(&pk, map->size);
    for (uint32_t i = 0; i < map->size; i++) {
        const msgpack_object *key = &map->ptr[i].key;
        msgpack_pack_object(&pk, *key);
        if (cf_unpack_str_equals(key, "case_ref")) {
            cf_pack_str(&pk, event->case_id);
        } else {
            msgpack_pack_object(&pk, map->ptr[i].val);
        }
    }
    msgpack_unpacked_destroy(&result);
    return 0;
}

/* Sets event v aside: the dead letter, its ack reason, a reject note. */
static int careful_dead_letter(cf_apply_t *self, size_t v, const void *frame, size_t size,
                               const char *error, unsigned tries)
{
    const cf_event_t *event = &self->valid[v];
    msgpack_sbuffer payload;
    msgpack_sbuffer_init(&payload);
    careful_redact(frame, size, event, &payload);   /* it decoded: it is a map */
    cf_dead_letter_t letter = { .payload = payload.data, .payload_len = payload.size,
                                .tries = tries, .time_ms = cf_wall_ms(),
                                .shard_hash = event->shard_hash };
    snprintf(letter.event_id, sizeof letter.event_id, "%s", event->event_id);
    snprintf(letter.type, sizeof letter.type, "%s", cf_event_type_name(event->type));
    snprintf(letter.error, sizeof letter.error, "%s", error);
    char id[CF_DLQ_ID_MAX];
    int rc = cf_store_dead_letter(self->store, &letter, id);
    msgpack_sbuffer_destroy(&payload);
    /* its tries start again if it is ever sent again */
    if (rc < 0 || cf_store_try_end(self->store, event->event_id) < 0)
        return -1;
    self->statuses[v] = CF_ACK_REJECTED;
    cf_metric_inc(self->metrics.dead_letters);
    /* the reason must fit an ack (CF_REASON_MAX): the error is cut at 70 */
    snprintf(self->dead[v], sizeof self->dead[v], "dead_letter: after %u tries: %.70s "
             "(caseflow-ctl dlq replay %.24s)", tries, error, id);
    apply_reject_t reject = { .reason = "" };
    snprintf(reject.event_id, sizeof reject.event_id, "%s", event->event_id);
    snprintf(reject.source, sizeof reject.source, "%s", event->source_system);
    snprintf(reject.reason, sizeof reject.reason, "%s", self->dead[v]);
    cf_apply_note_reject(self, &reject);
    return 0;
}

/* Gives back the try owed for an outage, if any. -1 (the error on the
   store) only while Redis is unreachable: it stays owed, for the next run.
   Any other failure leaves the try counted, as a refusal would. */
static int careful_give_back(cf_apply_t *self)
{
    if (!self->owed[0])
        return 0;
    if (cf_store_try_undo(self->store, self->owed) < 0
        && cf_store_error_code(self->store) == CF_STORE_ERR_IO)
        return -1;
    self->owed[0] = '\0';
    return 0;
}

/* The store failed on event_id, whose try this attempt counted when
   counted. An outage (CF_STORE_ERR_IO) is not the event's fault, so its try
   is given back, at the next run if Redis cannot take it now; a refusal
   spends it. Only a worker that dies before knowing leaves it counted, which
   is what the count before the call is for. Keeps the store's error on
   self; returns -1. */
static int careful_fail(cf_apply_t *self, const char *event_id, bool counted)
{
    cf_apply_fail_store(self);
    if (counted && self->err == CF_STORE_ERR_IO) {
        snprintf(self->owed, sizeof self->owed, "%s", event_id);
        careful_give_back(self);
    }
    return -1;
}

/* Applies valid event v alone, trying again while Redis refuses it, until
   its tries (counted in Redis, across workers) run out. -1 (the error on
   self) when Redis is unreachable. */
static int careful_one(cf_apply_t *self, size_t v, const void *frame, size_t size)
{
    const char *event_id = self->valid[v].event_id;
    for (;;) {
        unsigned tries;
        char error[256];
        if (cf_store_try_begin(self->store, event_id, &tries, error, sizeof error) < 0)
            return careful_fail(self, event_id, tries > 0);
        if (tries > self->poison_tries)
            return careful_dead_letter(self, v, frame, size,
                                       error[0] ? error : "workers were lost while holding it",
                                       tries - 1) < 0 ? careful_fail(self, event_id, true) : 0;
        cf_apply_store_requests(self, v, 1);
        if (cf_store_apply(self->store, &self->valid[v], 1, &self->statuses[v]) == 0)
            return cf_store_try_end(self->store, event_id) < 0
                 ? careful_fail(self, event_id, true) : 0;
        if (cf_store_error_code(self->store) == CF_STORE_ERR_IO)
            return careful_fail(self, event_id, true);
        snprintf(error, sizeof error, "%s", cf_store_error(self->store));
        if (cf_store_try_failed(self->store, event_id, error) < 0)
            return cf_apply_fail_store(self);  /* the refusal spent the try all the same */
    }
}

void cf_apply_set_tick(cf_apply_t *self, cf_apply_tick_fn *tick, void *arg)
{
    assert(self);
    self->tick = tick;
    self->tick_arg = arg;
}

int cf_apply_run_careful(cf_apply_t *self, const void *const *frames, const size_t *sizes,
                         size_t count)
{
    assert(self && count <= CF_MSG_MAX_JOB_EVENTS);
    self->note_count = 0;
    msgpack_sbuffer_clear(&self->notes);
    cf_apply_decode(self, frames, sizes, count);
    cf_apply_map_requests(self, count);
    if (careful_give_back(self) < 0 || cf_apply_count_rejections(self, count) < 0) {
        self->per_event = false;
        return cf_apply_fail_store(self);
    }
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++)
        if (self->slot[i] >= 0) {
            if (self->tick)
                self->tick(self->tick_arg);
            rc = careful_one(self, (size_t) self->slot[i], frames[i], sizes[i]);
        }
    self->per_event = false;
    if (rc == 0)
        cf_apply_build_acks(self, count);
    return rc;
}
