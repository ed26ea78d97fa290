/*  cf_parts: a reusable buffer for one multipart ZeroMQ message, as a daemon
    receives it (routing id first on a ROUTER).

    It holds at most `max` parts; a longer message is drained to its end and
    marked truncated, so a peer cannot make the daemon allocate without bound
    and the socket stays in step. Parts stay valid until the next receive;
    callers may zmq_msg_move a part out to keep it.                           */
#ifndef CF_PARTS_H
#define CF_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

typedef struct _cf_parts_t cf_parts_t;

cf_parts_t *cf_parts_new(size_t max);
void cf_parts_destroy(cf_parts_t **self_p);

/*  Receives one whole message without blocking. 0, or -1 when none is
    waiting (EAGAIN) or the socket failed (errno set).                       */
int cf_parts_recv(cf_parts_t *self, void *socket);

size_t cf_parts_size(const cf_parts_t *self);
bool cf_parts_truncated(const cf_parts_t *self);
zmq_msg_t *cf_parts_at(cf_parts_t *self, size_t index);
const void *cf_parts_data(cf_parts_t *self, size_t index);
size_t cf_parts_len(cf_parts_t *self, size_t index);

/*  cf_parts_clear empties the buffer; cf_parts_add appends a copy of size
    bytes as the next part (when it is full: marks it truncated instead), as
    cf_parts_recv would have: for the parsers' tests and fuzz harnesses,
    which have no socket.                                                    */
void cf_parts_clear(cf_parts_t *self);
void cf_parts_add(cf_parts_t *self, const void *data, size_t size);

/*  True when part index exists and equals the C string text exactly.        */
bool cf_parts_equals(cf_parts_t *self, size_t index, const char *text);

#endif
