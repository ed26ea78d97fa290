/*  cf_parts: bounded multipart receive buffer; see cf_parts.h.              */
#include "caseflow/cf_parts.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _cf_parts_t {
    zmq_msg_t *parts;
    size_t size, max;
    bool truncated;
};

cf_parts_t *cf_parts_new(size_t max)
{
    assert(max > 0);
    cf_parts_t *self = cf_calloc(1, sizeof *self);
    self->parts = cf_calloc(max, sizeof(zmq_msg_t));
    self->max = max;
    for (size_t i = 0; i < max; i++)
        zmq_msg_init(&self->parts[i]);
    return self;
}

void cf_parts_destroy(cf_parts_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_parts_t *self = *self_p;
    for (size_t i = 0; i < self->max; i++)
        zmq_msg_close(&self->parts[i]);
    free(self->parts);
    free(self);
    *self_p = NULL;
}

static void parts_clear(cf_parts_t *self)
{
    for (size_t i = 0; i < self->size; i++) {
        zmq_msg_close(&self->parts[i]);
        zmq_msg_init(&self->parts[i]);
    }
    self->size = 0;
    self->truncated = false;
}

void cf_parts_clear(cf_parts_t *self)
{
    assert(self);
    parts_clear(self);
}

void cf_parts_add(cf_parts_t *self, const void *data, size_t size)
{
    assert(self && (data || size == 0));
    if (self->size == self->max) {
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

int cf_parts_recv(cf_parts_t *self, void *socket)
{
    assert(self && socket);
    parts_clear(self);
    int more = 1;
    while (more) {
        zmq_msg_t scratch, *msg = self->size < self->max ? &self->parts[self->size] : &scratch;
        if (msg == &scratch)
            zmq_msg_init(&scratch);
        if (zmq_msg_recv(msg, socket, self->size == 0 ? ZMQ_DONTWAIT : 0) < 0) {
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

size_t cf_parts_size(const cf_parts_t *self)
{
    assert(self);
    return self->size;
}

bool cf_parts_truncated(const cf_parts_t *self)
{
    assert(self);
    return self->truncated;
}

zmq_msg_t *cf_parts_at(cf_parts_t *self, size_t index)
{
    assert(self && index < self->size);
    return &self->parts[index];
}

const void *cf_parts_data(cf_parts_t *self, size_t index)
{
    return zmq_msg_data(cf_parts_at(self, index));
}

size_t cf_parts_len(cf_parts_t *self, size_t index)
{
    return zmq_msg_size(cf_parts_at(self, index));
}

bool cf_parts_equals(cf_parts_t *self, size_t index, const char *text)
{
    assert(self && text);
    if (index >= self->size)
        return false;
    size_t len = strlen(text);
    return zmq_msg_size(&self->parts[index]) == len
        && memcmp(zmq_msg_data(&self->parts[index]), text, len) == 0;
}
