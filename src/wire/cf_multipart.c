/*  cf_multipart: bounded multipart receive buffer; see cf_multipart.h. Its
    parts are allocated as messages need them, up to the bound: a DONE may
    hold 160 000 frames (CF_MSG_MAX_DONE_PARTS), and most hold a few.      */
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define MULTIPART_FIRST 64      /* parts allocated at first; doubled as needed */

struct _cf_multipart_t {
    zmq_msg_t *parts;           /* capacity of them, each initialised */
    size_t size, capacity, max;
    bool truncated;
};

/* Room for parts up to capacity: a zmq_msg_t may be moved by copying it
   (libzmq moves its own so), and the new ones are empty messages. */
static void multipart_reserve(cf_multipart_t *self, size_t capacity)
{
    self->parts = cf_realloc(self->parts, capacity * sizeof(zmq_msg_t));
    for (size_t i = self->capacity; i < capacity; i++)
        zmq_msg_init(&self->parts[i]);
    self->capacity = capacity;
}

cf_multipart_t *cf_multipart_new(size_t max)
{
    assert(max > 0);
    cf_multipart_t *self = cf_calloc(1, sizeof *self);
    self->max = max;
    multipart_reserve(self, max < MULTIPART_FIRST ? max : MULTIPART_FIRST);
    return self;
}

/* Whether there is room for one more part (growing if need be). */
static bool multipart_room(cf_multipart_t *self)
{
    if (self->size < self->capacity)
        return true;
    if (self->capacity == self->max)
        return false;
    multipart_reserve(self, self->capacity * 2 < self->max ? self->capacity * 2 : self->max);
    return true;
}

void cf_multipart_destroy(cf_multipart_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_multipart_t *self = *self_p;
    for (size_t i = 0; i < self->capacity; i++)
        zmq_msg_close(&self->parts[i]);
    free(self->parts);
    free(self);
    *self_p = NULL;
}

static void multipart_clear(cf_multipart_t *self)
{
    for (size_t i = 0; i < self->size; i++) {
        zmq_msg_close(&self->parts[i]);
        zmq_msg_init(&self->parts[i]);
    }
    self->size = 0;
    self->truncated = false;
}

void cf_multipart_clear(cf_multipart_t *self)
{
    assert(self);
    multipart_clear(self);
}

void cf_multipart_add(cf_multipart_t *self, const void *data, size_t size)
{
    assert(self && (data || size == 0));
    if (!multipart_room(self)) {
        self->truncated = true;
        return;
    }
    zmq_msg_t *msg = &self->parts[self->size++];
    zmq_msg_close(msg);
    if (zmq_msg_init_size(msg, size) < 0)
        abort();
    if (size)
        memcpy(zmq_msg_data(msg), data, size);
}

/* Receives one message, its first part with flags. */
static int multipart_recv(cf_multipart_t *self, void *socket, int flags)
{
    assert(self && socket);
    multipart_clear(self);
    int more = 1;
    while (more) {
        zmq_msg_t scratch, *msg = multipart_room(self) ? &self->parts[self->size] : &scratch;
        if (msg == &scratch)
            zmq_msg_init(&scratch);
        if (zmq_msg_recv(msg, socket, self->size == 0 ? flags : 0) < 0) {
            if (msg == &scratch)
                zmq_msg_close(&scratch);
            return -1;      /* nothing waiting: a message's later parts are always there */
        }
        more = zmq_msg_more(msg);
        if (msg == &scratch) {
            zmq_msg_close(&scratch);
            self->truncated = true;
        } else {
            self->size++;
        }
    }
    return 0;
}

int cf_multipart_recv(cf_multipart_t *self, void *socket)
{
    return multipart_recv(self, socket, ZMQ_DONTWAIT);
}

int cf_multipart_wait(cf_multipart_t *self, void *socket)
{
    return multipart_recv(self, socket, 0);
}

size_t cf_multipart_size(const cf_multipart_t *self)
{
    assert(self);
    return self->size;
}

bool cf_multipart_truncated(const cf_multipart_t *self)
{
    assert(self);
    return self->truncated;
}

zmq_msg_t *cf_multipart_at(cf_multipart_t *self, size_t index)
{
    assert(self && index < self->size);
    return &self->parts[index];
}

const void *cf_multipart_data(cf_multipart_t *self, size_t index)
{
    return zmq_msg_data(cf_multipart_at(self, index));
}

size_t cf_multipart_len(cf_multipart_t *self, size_t index)
{
    return zmq_msg_size(cf_multipart_at(self, index));
}

bool cf_multipart_equals(cf_multipart_t *self, size_t index, const char *text)
{
    assert(self && text);
    if (index >= self->size)
        return false;
    size_t len = strlen(text);
    return zmq_msg_size(&self->parts[index]) == len
        && memcmp(zmq_msg_data(&self->parts[index]), text, len) == 0;
}
