/*  cf_broker_control: the operators' control socket of the broker
    (docs/protocol.md, section 7). A ROUTER bound by cf_broker.c; each
    request [CF01, COMMAND, argument?] gets one reply [CF01, OK or ERROR,
    msgpack body]: STATUS (uptime, queue, in flight, rates, the workers),
    WORKERS, DRAIN <id>, PAUSE and RESUME. A drained worker gets no more jobs
    (cf_roster_pick skips it) and is told EXIT once it holds none; it then
    leaves as on SIGTERM, with a BYE. A timer samples the event counters once
    a second for the rates and looks for drained workers to tell.           */
#include "cf_broker_internal.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_proto.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define CONTROL_TICK_MS 100
#define CONTROL_SAMPLE_MS 1000
#define CONTROL_EXIT_AGAIN_MS 1000  /* an EXIT not answered by a BYE is sent again */

/* ---- packing ---------------------------------------------------------- */

static void pack_real(msgpack_packer *pk, const char *key, double value)
{
    broker_pack_key(pk, key);
    msgpack_pack_double(pk, value);
}

static void pack_pair(msgpack_packer *pk, const char *key, const char *value)
{
    broker_pack_key(pk, key);
    broker_pack_key(pk, value);
}

static size_t member_events_held(const cf_member_t *member)
{
    size_t events = 0;
    for (const cf_job_t *job = member->inflight; job; job = job->next)
        events += job->event_count;
    return events;
}

static void pack_member(msgpack_packer *pk, const cf_member_t *member, int64_t now)
{
    msgpack_pack_map(pk, 10);
    pack_pair(pk, "id", member->label);
    pack_pair(pk, "host", member->host);
    broker_pack_count(pk, "pid", member->pid);
    broker_pack_count(pk, "credit", member->credit + member->inflight_count);
    broker_pack_count(pk, "jobs_held", member->inflight_count);
    broker_pack_count(pk, "events_held", member_events_held(member));
    broker_pack_count(pk, "jobs_done", member->jobs_done);
    broker_pack_count(pk, "events_done", member->events_done);
    broker_pack_count(pk, "heartbeat_age_ms", (uint64_t) (now > member->last_seen
                                                  ? now - member->last_seen : 0));
    pack_pair(pk, "state", member->draining ? "draining" : "active");
}

static void pack_workers(cf_broker_t *self, msgpack_packer *pk)
{
    int64_t now = cf_clock_ms();
    msgpack_pack_array(pk, cf_roster_size(self->roster));
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)
        pack_member(pk, cf_roster_at(self->roster, i), now);
}

/* Events in and acked per second since the oldest sample kept (about the
   last 5 s); 0 before the first sample. */
static double control_rate(const cf_broker_t *self, bool acked, double *seconds)
{
    size_t oldest = (self->sample_next + BROKER_RATE_SAMPLES - self->sample_count)
                    % BROKER_RATE_SAMPLES;
    const broker_sample_t *sample = &self->samples[oldest];
    *seconds = self->sample_count ? (double) (cf_clock_ms() - sample->at) / 1000.0 : 0;
    if (*seconds <= 0)
        return 0;
    uint64_t now = acked ? self->events_acked : self->events_in;
    return (double) (now - (acked ? sample->events_acked : sample->events_in)) / *seconds;
}

static void pack_status(cf_broker_t *self, msgpack_packer *pk)
{
    size_t held = 0;
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)
        held += member_events_held(cf_roster_at(self->roster, i));
    double seconds, in_rate = control_rate(self, false, &seconds);
    msgpack_pack_map(pk, 13);
    broker_pack_count(pk, "uptime_ms", (uint64_t) (cf_clock_ms() - self->started_at));
    broker_pack_key(pk, "paused");
    if (self->paused)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    broker_pack_count(pk, "queue_events", cf_jobq_events(self->queue));
    broker_pack_count(pk, "queue_jobs", cf_jobq_jobs(self->queue));
    broker_pack_count(pk, "inflight_jobs", cf_broker_inflight(self));
    broker_pack_count(pk, "inflight_events", held);
    broker_pack_count(pk, "events_in", self->events_in);
    broker_pack_count(pk, "events_acked", self->events_acked);
    broker_pack_count(pk, "events_busy", self->events_busy);
    pack_real(pk, "in_per_s", in_rate);
    pack_real(pk, "acked_per_s", control_rate(self, true, &seconds));
    pack_real(pk, "rate_seconds", seconds);
    broker_pack_key(pk, "workers");
    pack_workers(self, pk);
}

/* ---- requests --------------------------------------------------------- */

static void control_reply(cf_broker_t *self, cf_parts_t *parts, const char *verdict)
{
    const void *data[] = { CF_PROTO_SIGNATURE, verdict, self->sbuf.data };
    size_t size[] = { 4, strlen(verdict), self->sbuf.size };
    broker_send(self->control, cf_parts_data(parts, 0), cf_parts_len(parts, 0), data, size, 3);
}

/* An ERROR reply: the body is {"error": reason}. */
static void control_error(cf_broker_t *self, cf_parts_t *parts, const char *reason)
{
    msgpack_sbuffer_clear(&self->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    pack_pair(&pk, "error", reason);
    control_reply(self, parts, CF_CMD_ERROR);
}

static cf_member_t *control_find(cf_broker_t *self, const char *label)
{
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)
        if (strcmp(cf_roster_at(self->roster, i)->label, label) == 0)
            return cf_roster_at(self->roster, i);
    return NULL;
}

/* DRAIN <id>: the reply says what the worker still holds. */
static const char *control_drain(cf_broker_t *self, cf_parts_t *parts, msgpack_packer *pk,
                                 char *reason, size_t reason_size)
{
    char label[sizeof ((cf_member_t *) 0)->label] = "";
    size_t len = cf_parts_size(parts) == 4 ? cf_parts_len(parts, 3) : 0;
    if (cf_parts_size(parts) != 4 || len == 0 || len >= sizeof label)
        return "DRAIN needs one worker id (such as w1; WORKERS lists them)";
    memcpy(label, cf_parts_data(parts, 3), len);
    cf_member_t *member = control_find(self, label);
    if (!member) {
        snprintf(reason, reason_size, "no connected worker has id '%s' (WORKERS lists them)",
                 label);
        return reason;
    }
    if (!member->draining)
        CF_LOG(CF_LOG_INFO, "worker draining", "worker=%s id=%s jobs_held=%zu", member->name,
               member->label, member->inflight_count);
    member->draining = true;
    msgpack_pack_map(pk, 3);
    pack_pair(pk, "id", member->label);
    pack_pair(pk, "state", "draining");
    broker_pack_count(pk, "jobs_held", member->inflight_count);
    return NULL;
}

static void control_pause(cf_broker_t *self, msgpack_packer *pk, bool paused)
{
    if (self->paused != paused)
        CF_LOG(CF_LOG_INFO, paused ? "intake paused" : "intake resumed", "queued_events=%zu",
               cf_jobq_events(self->queue));
    self->paused = paused;
    msgpack_pack_map(pk, 1);
    broker_pack_key(pk, "paused");
    if (paused)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

/* Runs one request; NULL when the body in self->sbuf is the OK reply, else
   the reason for an ERROR. */
static const char *control_run(cf_broker_t *self, cf_parts_t *parts, char *reason,
                               size_t reason_size)
{
    size_t count = cf_parts_size(parts);
    if (count < 3 || !cf_parts_equals(parts, 1, CF_PROTO_SIGNATURE))
        return "signature: frame 0 must be CF01, frame 1 the command";
    msgpack_sbuffer_clear(&self->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->sbuf, msgpack_sbuffer_write);
    bool bare = count == 3;
    if (cf_parts_equals(parts, 2, CF_CMD_DRAIN))
        return control_drain(self, parts, &pk, reason, reason_size);
    if (cf_parts_equals(parts, 2, CF_CMD_STATUS) && bare)
        pack_status(self, &pk);
    else if (cf_parts_equals(parts, 2, CF_CMD_WORKERS) && bare)
        pack_workers(self, &pk);
    else if ((cf_parts_equals(parts, 2, CF_CMD_PAUSE) || cf_parts_equals(parts, 2, CF_CMD_RESUME))
             && bare)
        control_pause(self, &pk, cf_parts_equals(parts, 2, CF_CMD_PAUSE));
    else {
        size_t len = cf_parts_len(parts, 2);
        snprintf(reason, reason_size, "unknown command '%.*s'%s: expected STATUS, WORKERS, "
                 "DRAIN <id>, PAUSE or RESUME", (int) (len < 32 ? len : 32),
                 (const char *) cf_parts_data(parts, 2), bare ? "" : " (or extra frames)");
        for (char *c = reason; *c; c++)
            if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
                *c = '?';
        return reason;
    }
    return NULL;
}

static int control_on_request(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    cf_broker_t *self = arg;
    for (int i = 0; i < BROKER_DRAIN_MAX && cf_parts_recv(self->control_parts, socket) == 0;
         i++) {
        char reason[160];
        const char *error = control_run(self, self->control_parts, reason, sizeof reason);
        if (error)
            control_error(self, self->control_parts, error);
        else
            control_reply(self, self->control_parts, CF_CMD_OK);
    }
    return 0;
}

/* ---- timers ----------------------------------------------------------- */

static void control_sample(cf_broker_t *self, int64_t now)
{
    if (self->sample_count
        && now - self->samples[(self->sample_next + BROKER_RATE_SAMPLES - 1)
                               % BROKER_RATE_SAMPLES].at < CONTROL_SAMPLE_MS)
        return;
    self->samples[self->sample_next] = (broker_sample_t) { now, self->events_in,
                                                           self->events_acked };
    self->sample_next = (self->sample_next + 1) % BROKER_RATE_SAMPLES;
    if (self->sample_count < BROKER_RATE_SAMPLES)
        self->sample_count++;
}

/* A drained worker that holds nothing is told to exit (again, now and
   then, until its BYE comes). */
static void control_exit_drained(cf_broker_t *self, int64_t now)
{
    for (size_t i = 0; i < cf_roster_size(self->roster); i++) {
        cf_member_t *member = cf_roster_at(self->roster, i);
        if (!member->draining || member->inflight_count
            || (member->exit_sent && now - member->exit_sent < CONTROL_EXIT_AGAIN_MS))
            continue;
        const void *data[] = { CF_PROTO_SIGNATURE, CF_CMD_EXIT };
        size_t size[] = { 4, strlen(CF_CMD_EXIT) };
        if (broker_send(self->workers, member->id, member->id_len, data, size, 2) == 0) {
            if (!member->exit_sent)
                CF_LOG(CF_LOG_INFO, "worker drained, told to exit", "worker=%s id=%s",
                       member->name, member->label);
            member->exit_sent = member->last_sent = now;
        }
    }
}

static int control_on_tick(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    cf_broker_t *self = arg;
    int64_t now = cf_clock_ms();
    control_sample(self, now);
    control_exit_drained(self, now);
    return 0;
}

void cf_broker_control_label(cf_broker_t *self, cf_member_t *member)
{
    assert(self && member);
    snprintf(member->label, sizeof member->label, "w%u", ++self->workers_seen);
}

void cf_broker_control_start(cf_broker_t *self)
{
    assert(self && self->control);
    self->control_parts = cf_parts_new(5);
    control_sample(self, cf_clock_ms());
    cf_loop_add_socket(self->loop, self->control, control_on_request, self);
    cf_loop_add_timer(self->loop, CONTROL_TICK_MS, control_on_tick, self);
}
