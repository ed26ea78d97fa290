/*  cf_zmq: see cf_zmq.h.                                                   */
#include "caseflow/cf_zmq.h"

#include <errno.h>
#include <stddef.h>
#include <zmq.h>

int cf_zmq_ctx_term(void **ctx_p)
{
    if (!ctx_p || !*ctx_p)
        return 0;
    int rc;
    while ((rc = zmq_ctx_term(*ctx_p)) < 0 && errno == EINTR)
        ;
    *ctx_p = NULL;
    return rc < 0 ? -1 : 0;
}
