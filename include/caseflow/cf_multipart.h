/*  cf_multipart: a reusable buffer for one multipart ZeroMQ message, as a
    process receives it (routing id first on a ROUTER). The codec's parsers
    (cf_msg) read it.

    It holds at most `max` parts, allocated as messages need them (a bound
    far above what most messages hold costs nothing until one does); a
    longer message is drained to its end and
    marked truncated, so a peer cannot make the daemon allocate without bound
    and the socket stays in step. Parts stay valid until the next receive;
    callers may zmq_msg_move a part out to keep it.                           */
#ifndef CF_MULTIPART_H
#define CF_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

typedef struct _cf_multipart_t cf_multipart_t;

cf_multipart_t *cf_multipart_new(size_t max);
void cf_multipart_destroy(cf_multipart_t **self_p);

/*  Receives one whole message without blocking. 0, or -1 when none is
    waiting (EAGAIN) or the socket failed (errno set).                       */
int cf_multipart_recv(cf_multipart_t *self, void *socket);

/*  The same, waiting for the message as long as the socket's ZMQ_RCVTIMEO
    lets it (EAGAIN after that): for a tool's one request and one reply.    */
int cf_multipart_wait(cf_multipart_t *self, void *socket);

size_t cf_multipart_size(const cf_multipart_t *self);
bool cf_multipart_truncated(const cf_multipart_t *self);
zmq_msg_t *cf_multipart_at(cf_multipart_t *self, size_t index);
const void *cf_multipart_data(cf_multipart_t *self, size_t index);
size_t cf_multipart_len(cf_multipart_t *self, size_t index);

/*  cf_multipart_clear empties the buffer; cf_multipart_add appends a copy
    of size bytes as the next part (when it is full: marks it truncated
    instead), as cf_multipart_recv would have: for the parsers' tests and
    fuzz harnesses, which have no socket.                                    */
void cf_multipart_clear(cf_multipart_t *self);
void cf_multipart_add(cf_multipart_t *self, const void *data, size_t size);

/*  True when part index exists and equals the C string text exactly.        */
bool cf_multipart_equals(cf_multipart_t *self, size_t index, const char *text);

#endif
