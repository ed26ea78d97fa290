/*  cf_broker_control: the operators' control socket of the broker
    (docs/protocol.md, section 7). A ROUTER bound by cf_broker.c; each
    request [CF01, COMMAND, argument?] gets one reply [CF01, OK or ERROR,
    msgpack body]: STATUS (uptime, queue, in flight, rates, the workers),
    WORKERS, DRAIN <id>, PAUSE and RESUME; a request whose key was taken out
    of the operators' list since it connected gets ERROR. A drained worker gets no more jobs
    (cf_roster_pick skips it) and is told EXIT once it holds none; it then
    leaves as on SIGTERM, with a BYE. A timer samples the event counters once
    a second for the rates and looks for drained workers to tell.           */
#include "cf_broker_internal.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_msg.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof ((cf_member_t *) 0)->label == CF_MSG_WORKER_ID_MAX,
               "a worker's label is what DRAIN names it by");

#define CONTROL_TICK_MS 100
#define CONTROL_SAMPLE_MS 1000
#define CONTROL_EXIT_AGAIN_MS 1000  /* an EXIT not answered by a BYE is sent again */

/* ---- the bodies of OK -------------------------------------------------- */

static void control_pack_member(msgpack_packer *pk, const cf_member_t *member, int64_t now)
{
    cf_msg_worker_t worker = {
        .pid = member->pid, .credit = member->credit + member->inflight_count,
        .jobs_held = member->inflight_count, .events_held = cf_member_events_held(member),
        .jobs_done = member->jobs_done, .events_done = member->events_done,
        .heartbeat_age_ms = (uint64_t) (now > member->last_seen ? now - member->last_seen : 0),
        .draining = member->draining };
    snprintf(worker.id, sizeof worker.id, "%s", member->label);
    snprintf(worker.host, sizeof worker.host, "%s", member->host);
    cf_msg_pack_worker(pk, &worker);
}

static void control_pack_members(cf_broker_t *self, msgpack_packer *pk)
{
    int64_t now = cf_clock_ms();
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)
        control_pack_member(pk, cf_roster_at(self->roster, i), now);
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

static void control_pack_status(cf_broker_t *self, msgpack_packer *pk)
{
    size_t held = 0;
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)
        held += cf_member_events_held(cf_roster_at(self->roster, i));
    double seconds;
    cf_msg_status_t status = {
        .uptime_ms = (uint64_t) (cf_clock_ms() - self->started_at), .paused = self->paused,
        .queue_events = cf_broker_queued(self, cf_jobq_events),
        .queue_jobs = cf_broker_queued(self, cf_jobq_jobs),
        .inflight_jobs = cf_roster_inflight(self->roster), .inflight_events = held,
        .events_in = self->events_in, .events_acked = self->events_acked,
        .events_busy = self->events_busy, .in_per_s = control_rate(self, false, &seconds),
        .workers = cf_roster_size(self->roster) };
    status.acked_per_s = control_rate(self, true, &seconds);
    status.rate_seconds = seconds;
    cf_msg_pack_status(pk, &status);
    control_pack_members(self, pk);
}

/* ---- requests --------------------------------------------------------- */

static cf_member_t *control_find(cf_broker_t *self, const char *label)
{
    for (size_t i = 0; i < cf_roster_size(self->roster); i++)
        if (strcmp(cf_roster_at(self->roster, i)->label, label) == 0)
            return cf_roster_at(self->roster, i);
    return NULL;
}

/* DRAIN <id>: the reply says what the worker still holds. */
static const char *control_drain(cf_broker_t *self, const char *label, msgpack_packer *pk,
                                 char *reason, size_t reason_size)
{
    cf_member_t *member = control_find(self, label);
    if (!member) {
        snprintf(reason, reason_size, "no connected worker has id '%s' (WORKERS lists them)",
                 label);
        return reason;
    }
    if (!member->draining)
        CF_LOG(CF_LOG_INFO, "worker draining", "worker=%s id=%s jobs_held=%zu",
               CF_LOG_QUOTE(member->name), member->label, member->inflight_count);
    member->draining = true;
    cf_msg_pack_drained(pk, member->label, member->inflight_count);
    return NULL;
}

static void control_pause(cf_broker_t *self, msgpack_packer *pk, bool paused)
{
    if (self->paused != paused)
        CF_LOG(CF_LOG_INFO, paused ? "intake paused" : "intake resumed", "queued_events=%zu",
               cf_broker_queued(self, cf_jobq_events));
    self->paused = paused;
    cf_msg_pack_paused(pk, paused);
}

/* Runs one request; NULL when the body in self->sbuf is the OK reply, else
   the reason for an ERROR. */
static const char *control_run(cf_broker_t *self, cf_multipart_t *parts, char *reason,
                               size_t reason_size)
{
    cf_msg_control_t request;
    const char *error = cf_msg_parse_control(parts, &request, reason, reason_size);
    if (error)
        return error;
    msgpack_sbuffer_clear(&self->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->sbuf, msgpack_sbuffer_write);
    switch (request.command) {
    case CF_MSG_DRAIN:
        return control_drain(self, request.worker, &pk, reason, reason_size);
    case CF_MSG_STATUS:
        control_pack_status(self, &pk);
        break;
    case CF_MSG_WORKERS:
        cf_msg_pack_workers(&pk, cf_roster_size(self->roster));
        control_pack_members(self, &pk);
        break;
    default:
        control_pause(self, &pk, request.command == CF_MSG_PAUSE);
        break;
    }
    return NULL;
}

static int control_on_request(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    cf_broker_t *self = arg;
    for (int i = 0; i < BROKER_DRAIN_MAX && cf_multipart_recv(self->control_parts, socket) == 0;
         i++) {
        char reason[160];
        /* the key first (revoked on SIGHUP: refused on its open connection) */
        cf_multipart_t *parts = self->control_parts;
        const char *error = cf_multipart_size(parts) > 1
                            && !cf_zap_current(self->zap, cf_multipart_at(parts, 1))
                            ? BROKER_REVOKED : control_run(self, parts, reason, sizeof reason);
        const void *to = cf_multipart_data(self->control_parts, 0);
        size_t to_len = cf_multipart_len(self->control_parts, 0);
        if (error)
            cf_msg_send_control_error(self->control, ZMQ_DONTWAIT, to, to_len, error);
        else
            cf_msg_send_control_ok(self->control, ZMQ_DONTWAIT, to, to_len, self->sbuf.data,
                                   self->sbuf.size);
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
        if (cf_msg_send_exit(self->workers, ZMQ_DONTWAIT, member->id, member->id_len) == 0) {
            if (!member->exit_sent)
                CF_LOG(CF_LOG_INFO, "worker drained, told to exit", "worker=%s id=%s",
                       CF_LOG_QUOTE(member->name), member->label);
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
    self->control_parts = cf_multipart_new(5);
    control_sample(self, cf_clock_ms());
    cf_loop_add_socket(self->loop, self->control, control_on_request, self);
    cf_loop_add_timer(self->loop, CONTROL_TICK_MS, control_on_tick, self);
}
