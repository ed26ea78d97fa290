/*  cf_zmq: what caseflow adds to libzmq's own calls.

    zmq_ctx_term blocks until every socket of the context is closed and
    their linger has run out, and a signal that comes meanwhile ends it
    with EINTR, the context still alive (zmq_ctx_term(3): "It can be
    restarted"). A process stopping on SIGTERM gets a second signal often
    enough (an operator's ^C twice, a supervisor that asks again), and a
    library (cf_client, cf_subscriber) cannot know which signals its caller
    catches, so every context is ended here.                                 */
#ifndef CF_ZMQ_H
#define CF_ZMQ_H

/*  Ends *ctx_p with zmq_ctx_term, again after each EINTR, and sets *ctx_p
    to NULL. 0, or -1 when libzmq refused it (errno: EFAULT, not a
    context). NULL and a NULL *ctx_p are accepted (0).                       */
int cf_zmq_ctx_term(void **ctx_p);

#endif
