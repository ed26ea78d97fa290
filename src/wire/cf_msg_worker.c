/*  cf_msg (workers): what a worker and the broker's worker socket exchange:
    READY and its body, JOB and REDO, DONE, HEARTBEAT, BYE and EXIT. See
    cf_msg.h.                                                                */
#include "cf_msg_internal.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- builders --------------------------------------------------------- */

int cf_msg_send_ready(void *socket, int flags, const cf_msg_ready_t *ready)
{
    assert(ready);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    cf_pack_key_uint(&pk, "credit", ready->credit);
    cf_pack_key_uint(&pk, "pid", ready->pid);
    cf_pack_key_str(&pk, "host", ready->host);
    const void *data[] = { sbuf.data };
    size_t size[] = { sbuf.size };
    int rc = msg_send(socket, flags, NULL, 0, CF_MSG_READY, data, size, 1, false);
    msgpack_sbuffer_destroy(&sbuf);
    return rc;
}

int cf_msg_send_done(void *socket, int flags, uint64_t job_id, const void *acks,
                     size_t acks_size, size_t notices, cf_msg_notice_fn *notice,
                     const void *arg)
{
    assert(notice || notices == 0);
    const void *data[] = { &job_id, acks };
    size_t size[] = { sizeof job_id, acks_size };
    if (msg_send(socket, flags, NULL, 0, CF_MSG_DONE, data, size, 2, notices > 0) < 0)
        return -1;
    for (size_t i = 0; i < notices; i++) {
        const char *topic, *body;
        size_t topic_len, body_len;
        notice(arg, i, &topic, &topic_len, &body, &body_len);
        if (msg_send_frame(socket, flags, topic, topic_len, true) < 0
            || msg_send_frame(socket, flags, body, body_len, i + 1 < notices) < 0)
            return -1;
    }
    return 0;
}

int cf_msg_send_bye(void *socket, int flags)
{
    return msg_send(socket, flags, NULL, 0, CF_MSG_BYE, NULL, NULL, 0, false);
}

int cf_msg_send_heartbeat(void *socket, int flags, const void *to, size_t to_len)
{
    return msg_send(socket, flags, to, to_len, CF_MSG_HEARTBEAT, NULL, NULL, 0, false);
}

int cf_msg_send_job(void *socket, int flags, const void *to, size_t to_len, bool redo,
                    uint64_t job_id, const uint64_t *request_ids, const cf_msg_fence_t *fences,
                    size_t nfences, zmq_msg_t *events, size_t count)
{
    assert(to && events && request_ids && count > 0 && (fences || nfences == 0));
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (uint32_t) nfences);
    for (size_t i = 0; i < nfences; i++) {
        msgpack_pack_uint32(&pk, fences[i].shard);
        msgpack_pack_uint64(&pk, fences[i].epoch);
    }
    bool one = true;            /* every event of one request: its id once */
    for (size_t i = 1; i < count && one; i++)
        one = request_ids[i] == request_ids[0];
    const void *data[] = { &job_id, request_ids, sbuf.data ? sbuf.data : "" };
    size_t size[] = { sizeof job_id, (one ? 1 : count) * sizeof *request_ids, sbuf.size };
    int rc = msg_send(socket, flags, to, to_len, redo ? CF_MSG_REDO : CF_MSG_JOB, data, size, 3,
                      true);
    msgpack_sbuffer_destroy(&sbuf);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, &events[i]);    /* shares the buffer */
        if (zmq_msg_send(&copy, socket, flags | (i + 1 < count ? ZMQ_SNDMORE : 0)) < 0) {
            zmq_msg_close(&copy);
            return -1;
        }
    }
    return 0;
}

int cf_msg_send_exit(void *socket, int flags, const void *to, size_t to_len)
{
    assert(to);
    return msg_send(socket, flags, to, to_len, CF_MSG_EXIT, NULL, NULL, 0, false);
}

/* ---- parsers ---------------------------------------------------------- */

cf_msg_command_t cf_msg_worker_command(cf_multipart_t *parts)
{
    assert(parts);
    static const cf_msg_command_t commands[] = {
        CF_MSG_READY, CF_MSG_DONE, CF_MSG_HEARTBEAT, CF_MSG_BYE };
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (msg_is(parts, 1, commands[i]))
            return commands[i];
    return CF_MSG_NONE;
}

static void ready_take(cf_msg_ready_t *ready, const msgpack_object *key,
                       const msgpack_object *val)
{
    bool is_uint = val->type == MSGPACK_OBJECT_POSITIVE_INTEGER && val->via.u64 <= 0xffffffffu;
    if (cf_unpack_str_equals(key, "credit") && is_uint)
        ready->credit = (unsigned) val->via.u64;
    else if (cf_unpack_str_equals(key, "pid") && is_uint)
        ready->pid = (unsigned) val->via.u64;
    else if (cf_unpack_str_equals(key, "host") && val->type == MSGPACK_OBJECT_STR)
        snprintf(ready->host, sizeof ready->host, "%.*s", (int) val->via.str.size,
                 val->via.str.ptr);
}

int cf_msg_parse_ready(cf_multipart_t *parts, cf_msg_ready_t *ready)
{
    assert(parts && ready);
    *ready = (cf_msg_ready_t) { .credit = 1, .pid = 0, .host = "?" };
    if (cf_msg_worker_command(parts) != CF_MSG_READY || cf_multipart_size(parts) < 4)
        return -1;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int status = -1;
    if (cf_unpack(&result, cf_multipart_data(parts, 3), cf_multipart_len(parts, 3)) == 0
        && result.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < result.data.via.map.size; i++)
            ready_take(ready, &result.data.via.map.ptr[i].key, &result.data.via.map.ptr[i].val);
        status = 0;
    }
    msgpack_unpacked_destroy(&result);
    return status;
}

int cf_msg_parse_done(cf_multipart_t *parts, uint64_t *job_id)
{
    assert(parts && job_id);
    if (cf_msg_worker_command(parts) != CF_MSG_DONE || cf_multipart_size(parts) < 5
        || cf_multipart_len(parts, 3) != sizeof *job_id)
        return -1;
    memcpy(job_id, cf_multipart_data(parts, 3), sizeof *job_id);
    return 0;
}

/* The fences frame: a map of at most max uint shards to uint epochs. */
static int job_fences(const void *data, size_t size, cf_msg_job_t *job, size_t max)
{
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int rc = cf_unpack(&result, data, size) == 0 && result.data.type == MSGPACK_OBJECT_MAP
             && result.data.via.map.size <= max ? 0 : -1;
    for (uint32_t i = 0; rc == 0 && i < result.data.via.map.size; i++) {
        const msgpack_object_kv *kv = &result.data.via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_POSITIVE_INTEGER || kv->key.via.u64 > UINT32_MAX
            || kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            rc = -1;
        else
            job->fence[job->fences++] = (cf_msg_fence_t) { (uint32_t) kv->key.via.u64,
                                                           kv->val.via.u64 };
    }
    msgpack_unpacked_destroy(&result);
    return rc;
}

int cf_msg_parse_job(cf_multipart_t *parts, cf_msg_job_t *job)
{
    assert(parts && job);
    size_t count = cf_multipart_size(parts);
    job->fences = 0;
    if (count < CF_MSG_JOB_FIRST_EVENT + 1 || cf_multipart_truncated(parts)
        || count - CF_MSG_JOB_FIRST_EVENT > CF_MSG_MAX_JOB_EVENTS
        || !(msg_is(parts, 0, CF_MSG_JOB) || msg_is(parts, 0, CF_MSG_REDO))
        || cf_multipart_len(parts, 2) != sizeof job->job_id)
        return -1;
    job->events = count - CF_MSG_JOB_FIRST_EVENT;
    size_t ids = cf_multipart_len(parts, 3);
    if (ids != sizeof *job->request_id && ids != job->events * sizeof *job->request_id)
        return -1;
    if (job_fences(cf_multipart_data(parts, 4), cf_multipart_len(parts, 4), job,
                   job->events) < 0)
        return -1;
    memcpy(&job->job_id, cf_multipart_data(parts, 2), sizeof job->job_id);
    const unsigned char *id = cf_multipart_data(parts, 3);
    size_t step = ids == sizeof *job->request_id ? 0 : sizeof *job->request_id;
    for (size_t i = 0; i < job->events; i++)    /* one id for all, or one each */
        memcpy(&job->request_id[i], id + i * step, sizeof *job->request_id);
    job->redo = msg_is(parts, 0, CF_MSG_REDO);
    return 0;
}

bool cf_msg_is_exit(cf_multipart_t *parts)
{
    assert(parts);
    return cf_multipart_size(parts) == 2 && msg_is(parts, 0, CF_MSG_EXIT);
}
