/*  cf_msg: the command names and the frames that every message starts with
    (a routing id on a ROUTER, the signature, the command); see cf_msg.h.
    Each socket's messages are in cf_msg_<socket>.c.                         */
#include "cf_msg_internal.h"

#include <assert.h>
#include <string.h>

static const char *const s_commands[] = {
    [CF_MSG_NONE] = NULL,
    [CF_MSG_PUSH] = "PUSH", [CF_MSG_SNAPSHOT] = "SNAPSHOT", [CF_MSG_ACK] = "ACK",
    [CF_MSG_ERROR] = "ERROR", [CF_MSG_READY] = "READY", [CF_MSG_JOB] = "JOB",
    [CF_MSG_REDO] = "REDO", [CF_MSG_DONE] = "DONE", [CF_MSG_HEARTBEAT] = "HEARTBEAT",
    [CF_MSG_BYE] = "BYE", [CF_MSG_EXIT] = "EXIT", [CF_MSG_STATUS] = "STATUS",
    [CF_MSG_WORKERS] = "WORKERS", [CF_MSG_DRAIN] = "DRAIN", [CF_MSG_PAUSE] = "PAUSE",
    [CF_MSG_RESUME] = "RESUME", [CF_MSG_OK] = "OK",
};
_Static_assert(sizeof s_commands / sizeof *s_commands == CF_MSG_COMMAND_COUNT,
               "every command has its name");

const char *cf_msg_command_name(cf_msg_command_t command)
{
    return command < CF_MSG_COMMAND_COUNT ? s_commands[command] : NULL;
}

int msg_send_frame(void *socket, int flags, const void *data, size_t size, bool more)
{
    return zmq_send(socket, data, size, flags | (more ? ZMQ_SNDMORE : 0)) < 0 ? -1 : 0;
}

int msg_send(void *socket, int flags, const void *to, size_t to_len, cf_msg_command_t command,
             const void *const *data, const size_t *size, size_t count, bool more)
{
    const char *name = cf_msg_command_name(command);
    assert(socket && name && (data || count == 0));
    if ((to && msg_send_frame(socket, flags, to, to_len, true) < 0)
        || msg_send_frame(socket, flags, CF_MSG_SIGNATURE, strlen(CF_MSG_SIGNATURE), true) < 0
        || msg_send_frame(socket, flags, name, strlen(name), count > 0 || more) < 0)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (msg_send_frame(socket, flags, data[i], size[i], i + 1 < count || more) < 0)
            return -1;
    return 0;
}

bool cf_msg_signed(cf_multipart_t *parts, size_t index)
{
    assert(parts);
    return cf_multipart_size(parts) > index + 1
        && cf_multipart_equals(parts, index, CF_MSG_SIGNATURE);
}

bool msg_is(cf_multipart_t *parts, size_t index, cf_msg_command_t command)
{
    const char *name = cf_msg_command_name(command);
    assert(parts && name);
    return cf_multipart_equals(parts, index, CF_MSG_SIGNATURE)
        && cf_multipart_equals(parts, index + 1, name);
}
