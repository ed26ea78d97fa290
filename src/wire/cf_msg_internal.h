/*  cf_msg internals shared by cf_msg.c (the command names, the frames every
    message starts with) and the codec of each socket: cf_msg_intake.c,
    cf_msg_worker.c, cf_msg_control.c and cf_msg_notice.c. Not installed.  */
#ifndef CF_MSG_INTERNAL_H
#define CF_MSG_INTERNAL_H

#include "caseflow/cf_msg.h"

/*  Sends [to,] CF01, command, then count frames of (data, size): the last
    with more set when further frames follow, which the caller then sends
    with msg_send_frame. to is NULL on a DEALER. 0, or -1 with errno.      */
int msg_send(void *socket, int flags, const void *to, size_t to_len, cf_msg_command_t command,
             const void *const *data, const size_t *size, size_t count, bool more);

/*  Sends one frame; more when further frames follow. 0 or -1.             */
int msg_send_frame(void *socket, int flags, const void *data, size_t size, bool more);

/*  True when frame index is CF01 and frame index + 1 names command.      */
bool msg_is(cf_multipart_t *parts, size_t index, cf_msg_command_t command);

#endif
