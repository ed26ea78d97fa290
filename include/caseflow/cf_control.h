/*  cf_control: the client side of the broker's control endpoint
    (docs/protocol.md, section 7): one request, one reply, within a
    timeout. caseflow-ctl status, workers, drain, pause and resume use it,
    and caseflow-web asks it for the broker's status. No printing; errors on
    the caller's buffer.                                                    */
#ifndef CF_CONTROL_H
#define CF_CONTROL_H

#include <stddef.h>

#include "caseflow/cf_curve.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"

#define CF_CONTROL_REPLY_PARTS 4    /* a reply has 3; more is not a control reply */

/*  Sends command (worker: DRAIN's id, else NULL) to endpoint, with curve's
    keys when not NULL, and receives the reply into parts, then *reply
    (whose body points into parts). 0, or -1 with err set when the broker
    refuses the handshake, does not answer within timeout_ms or answers
    something that is not a control reply.                                  */
int cf_control_ask(const char *endpoint, int timeout_ms, const cf_curve_t *curve,
                   cf_msg_command_t command, const char *worker, cf_multipart_t *parts,
                   cf_msg_control_reply_t *reply, char *err, size_t n);

/*  The broker's STATUS as one line of JSON (the map caseflow-ctl status
    --json prints), a new string the caller frees. NULL with err set when
    cf_control_ask fails or the broker answers ERROR.                       */
char *cf_control_status_json(const char *endpoint, int timeout_ms, const cf_curve_t *curve,
                             char *err, size_t n);

#endif
