/*  cf_msg (control): an operator's requests to the broker's control socket
    (STATUS, WORKERS, DRAIN, PAUSE, RESUME) and the broker's replies, OK
    with its body or ERROR with a reason; see cf_msg.h.                      */
#include "cf_msg_internal.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* ---- requests --------------------------------------------------------- */

int cf_msg_send_control(void *socket, int flags, cf_msg_command_t command, const char *worker)
{
    assert(command == CF_MSG_DRAIN ? worker != NULL : worker == NULL);
    const void *data[] = { worker };
    size_t size[] = { worker ? strlen(worker) : 0 };
    return msg_send(socket, flags, NULL, 0, command, data, size, worker ? 1 : 0, false);
}

/* The reason for an unknown command: its name, cut and made printable. */
static const char *control_unknown(cf_multipart_t *parts, bool bare, char *reason,
                                   size_t reason_size)
{
    size_t len = cf_multipart_len(parts, 2);
    snprintf(reason, reason_size, "unknown command '%.*s'%s: expected STATUS, WORKERS, "
             "DRAIN <id>, PAUSE or RESUME", (int) (len < 32 ? len : 32),
             (const char *) cf_multipart_data(parts, 2), bare ? "" : " (or extra frames)");
    for (char *c = reason; *c; c++)
        if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
            *c = '?';
    return reason;
}

const char *cf_msg_parse_control(cf_multipart_t *parts, cf_msg_control_t *request,
                                 char *reason, size_t reason_size)
{
    assert(parts && request && reason);
    static const cf_msg_command_t bare_commands[] = {
        CF_MSG_STATUS, CF_MSG_WORKERS, CF_MSG_PAUSE, CF_MSG_RESUME };
    memset(request, 0, sizeof *request);
    size_t count = cf_multipart_size(parts);
    if (count < 3 || !cf_multipart_equals(parts, 1, CF_MSG_SIGNATURE))
        return "signature: frame 0 must be CF01, frame 1 the command";
    if (msg_is(parts, 1, CF_MSG_DRAIN)) {
        size_t len = count == 4 ? cf_multipart_len(parts, 3) : 0;
        if (len == 0 || len >= sizeof request->worker)
            return "DRAIN needs one worker id (such as w1; WORKERS lists them)";
        memcpy(request->worker, cf_multipart_data(parts, 3), len);
        request->command = CF_MSG_DRAIN;
        return NULL;
    }
    for (size_t i = 0; count == 3 && i < sizeof bare_commands / sizeof *bare_commands; i++)
        if (msg_is(parts, 1, bare_commands[i])) {
            request->command = bare_commands[i];
            return NULL;
        }
    return control_unknown(parts, count == 3, reason, reason_size);
}

/* ---- replies ---------------------------------------------------------- */

int cf_msg_send_control_ok(void *socket, int flags, const void *to, size_t to_len,
                           const void *body, size_t size)
{
    assert(to);
    const void *data[] = { body };
    size_t sizes[] = { size };
    return msg_send(socket, flags, to, to_len, CF_MSG_OK, data, sizes, 1, false);
}

int cf_msg_send_control_error(void *socket, int flags, const void *to, size_t to_len,
                              const char *reason)
{
    assert(to && reason);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    cf_pack_key_str(&pk, "error", reason);
    const void *data[] = { sbuf.data };
    size_t size[] = { sbuf.size };
    int rc = msg_send(socket, flags, to, to_len, CF_MSG_ERROR, data, size, 1, false);
    msgpack_sbuffer_destroy(&sbuf);
    return rc;
}

int cf_msg_parse_control_reply(cf_multipart_t *parts, cf_msg_control_reply_t *reply)
{
    assert(parts && reply);
    memset(reply, 0, sizeof *reply);
    reply->ok = msg_is(parts, 0, CF_MSG_OK);
    if (cf_multipart_size(parts) != 3 || cf_multipart_truncated(parts)
        || !(reply->ok || msg_is(parts, 0, CF_MSG_ERROR)))
        return -1;
    reply->body = cf_multipart_data(parts, 2);
    reply->body_len = cf_multipart_len(parts, 2);
    return 0;
}

/* ---- the bodies of OK ------------------------------------------------- */

void cf_msg_pack_status(msgpack_packer *pk, const cf_msg_status_t *status)
{
    assert(pk && status);
    msgpack_pack_map(pk, 13);
    cf_pack_key_uint(pk, "uptime_ms", status->uptime_ms);
    cf_pack_key_bool(pk, "paused", status->paused);
    cf_pack_key_uint(pk, "queue_events", status->queue_events);
    cf_pack_key_uint(pk, "queue_jobs", status->queue_jobs);
    cf_pack_key_uint(pk, "inflight_jobs", status->inflight_jobs);
    cf_pack_key_uint(pk, "inflight_events", status->inflight_events);
    cf_pack_key_uint(pk, "events_in", status->events_in);
    cf_pack_key_uint(pk, "events_acked", status->events_acked);
    cf_pack_key_uint(pk, "events_busy", status->events_busy);
    cf_pack_key_real(pk, "in_per_s", status->in_per_s);
    cf_pack_key_real(pk, "acked_per_s", status->acked_per_s);
    cf_pack_key_real(pk, "rate_seconds", status->rate_seconds);
    cf_pack_str(pk, "workers");
    cf_msg_pack_workers(pk, status->workers);
}

void cf_msg_pack_workers(msgpack_packer *pk, size_t count)
{
    assert(pk);
    msgpack_pack_array(pk, count);
}

void cf_msg_pack_worker(msgpack_packer *pk, const cf_msg_worker_t *worker)
{
    assert(pk && worker);
    msgpack_pack_map(pk, 10);
    cf_pack_key_str(pk, "id", worker->id);
    cf_pack_key_str(pk, "host", worker->host);
    cf_pack_key_uint(pk, "pid", worker->pid);
    cf_pack_key_uint(pk, "credit", worker->credit);
    cf_pack_key_uint(pk, "jobs_held", worker->jobs_held);
    cf_pack_key_uint(pk, "events_held", worker->events_held);
    cf_pack_key_uint(pk, "jobs_done", worker->jobs_done);
    cf_pack_key_uint(pk, "events_done", worker->events_done);
    cf_pack_key_uint(pk, "heartbeat_age_ms", worker->heartbeat_age_ms);
    cf_pack_key_str(pk, "state", worker->draining ? "draining" : "active");
}

void cf_msg_pack_drained(msgpack_packer *pk, const char *worker, uint64_t jobs_held)
{
    assert(pk && worker);
    msgpack_pack_map(pk, 3);
    cf_pack_key_str(pk, "id", worker);
    cf_pack_key_str(pk, "state", "draining");
    cf_pack_key_uint(pk, "jobs_held", jobs_held);
}

void cf_msg_pack_paused(msgpack_packer *pk, bool paused)
{
    assert(pk);
    msgpack_pack_map(pk, 1);
    cf_pack_key_bool(pk, "paused", paused);
}

/* ---- reading them ----------------------------------------------------- */

static uint64_t read_uint(const msgpack_object *body, const char *key)
{
    const msgpack_object *v = cf_unpack_get(body, key);
    return v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? v->via.u64 : 0;
}

static double read_real(const msgpack_object *body, const char *key)
{
    const msgpack_object *v = cf_unpack_get(body, key);
    return v && v->type == MSGPACK_OBJECT_FLOAT64 ? v->via.f64 : (double) read_uint(body, key);
}

static bool read_true(const msgpack_object *body, const char *key)
{
    const msgpack_object *v = cf_unpack_get(body, key);
    return v && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
}

/* A string member as a NUL-terminated copy in text ("" when absent). */
static void read_text(const msgpack_object *body, const char *key, char *text, size_t size)
{
    const msgpack_object *v = cf_unpack_get(body, key);
    bool is_str = v && v->type == MSGPACK_OBJECT_STR;
    snprintf(text, size, "%.*s", is_str ? (int) v->via.str.size : 0,
             is_str ? v->via.str.ptr : "");
}

const msgpack_object *cf_msg_read_status(const msgpack_object *body, cf_msg_status_t *status)
{
    assert(status);
    *status = (cf_msg_status_t) {
        .uptime_ms = read_uint(body, "uptime_ms"), .paused = read_true(body, "paused"),
        .queue_events = read_uint(body, "queue_events"),
        .queue_jobs = read_uint(body, "queue_jobs"),
        .inflight_jobs = read_uint(body, "inflight_jobs"),
        .inflight_events = read_uint(body, "inflight_events"),
        .events_in = read_uint(body, "events_in"),
        .events_acked = read_uint(body, "events_acked"),
        .events_busy = read_uint(body, "events_busy"),
        .in_per_s = read_real(body, "in_per_s"), .acked_per_s = read_real(body, "acked_per_s"),
        .rate_seconds = read_real(body, "rate_seconds") };
    const msgpack_object *workers = cf_unpack_get(body, "workers");
    if (!workers || workers->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    status->workers = workers->via.array.size;
    return workers;
}

void cf_msg_read_worker(const msgpack_object *body, cf_msg_worker_t *worker)
{
    assert(worker);
    char state[16];
    *worker = (cf_msg_worker_t) {
        .pid = read_uint(body, "pid"), .credit = read_uint(body, "credit"),
        .jobs_held = read_uint(body, "jobs_held"), .events_held = read_uint(body, "events_held"),
        .jobs_done = read_uint(body, "jobs_done"), .events_done = read_uint(body, "events_done"),
        .heartbeat_age_ms = read_uint(body, "heartbeat_age_ms") };
    read_text(body, "id", worker->id, sizeof worker->id);
    read_text(body, "host", worker->host, sizeof worker->host);
    read_text(body, "state", state, sizeof state);
    worker->draining = strcmp(state, "draining") == 0;
}

bool cf_msg_read_paused(const msgpack_object *body)
{
    return read_true(body, "paused");
}

void cf_msg_read_control_error(const msgpack_object *body, char *reason, size_t reason_size)
{
    assert(reason);
    read_text(body, "error", reason, reason_size);
}
