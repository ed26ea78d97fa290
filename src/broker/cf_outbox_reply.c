/*  cf_outbox_reply: the outbox reader's XREAD replies, built in an arena
    of its own instead of hiredis's objects. An XREAD of a busy minute
    returns thousands of entries, each an array of an id and an array of
    four strings; hiredis makes every one of those with its own calloc and
    malloc and frees them one by one (about a sixth of the broker's CPU in
    perf, the most of any one thing in its outbox thread). The same
    redisReply structs are made here from a few large chunks that the next
    command reuses, so cf_outbox_reader.c reads them as before. The arena's
    functions are hiredis's reader's for the one command only: other
    replies on the connection are hiredis's own, as its callers expect.    */
#include "cf_outbox_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_CHUNK     (64 * 1024)     /* bytes of a chunk; a larger object gets its own */

typedef struct reply_chunk {
    struct reply_chunk *next;
    size_t size, used;
    _Alignas(max_align_t) char data[];
} reply_chunk_t;

struct _outbox_replies_t {
    reply_chunk_t *chunks;          /* the one being filled first */
};

outbox_replies_t *cf_outbox_replies_new(void)
{
    return cf_calloc(1, sizeof(outbox_replies_t));
}

/* Frees every chunk but the first made (the last in the list), emptied. */
static void replies_reset(outbox_replies_t *self)
{
    while (self->chunks && self->chunks->next) {
        reply_chunk_t *chunk = self->chunks;
        self->chunks = chunk->next;
        free(chunk);
    }
    if (self->chunks)
        self->chunks->used = 0;
}

void cf_outbox_replies_destroy(outbox_replies_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    outbox_replies_t *self = *self_p;
    replies_reset(self);
    free(self->chunks);
    free(self);
    *self_p = NULL;
}

/* size bytes, zeroed, aligned for any object. */
static void *replies_alloc(outbox_replies_t *self, size_t size)
{
    size = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    reply_chunk_t *chunk = self->chunks;
    if (!chunk || chunk->size - chunk->used < size) {
        size_t room = size > REPLY_CHUNK ? size : REPLY_CHUNK;
        chunk = cf_malloc(sizeof *chunk + room);
        chunk->size = room;
        chunk->used = 0;
        chunk->next = self->chunks;
        self->chunks = chunk;
    }
    void *p = chunk->data + chunk->used;
    chunk->used += size;
    return memset(p, 0, size);
}

/* A reply of type for task, in its parent's array when it has one. */
static redisReply *replies_object(const redisReadTask *task, int type, size_t extra)
{
    redisReply *reply = replies_alloc(task->privdata, sizeof *reply + extra);
    reply->type = type;
    if (task->parent) {
        redisReply *parent = task->parent->obj;
        assert(parent->type == REDIS_REPLY_ARRAY && (size_t) task->idx < parent->elements);
        parent->element[task->idx] = reply;
    }
    return reply;
}

static void *replies_string(const redisReadTask *task, char *str, size_t len)
{
    redisReply *reply = replies_object(task, task->type, len + 1);     /* as hiredis: NUL-ended */
    reply->str = (char *) (reply + 1);
    memcpy(reply->str, str, len);
    reply->len = len;
    return reply;
}

static void *replies_array(const redisReadTask *task, int elements)
{
    redisReply *reply = replies_object(task, REDIS_REPLY_ARRAY, 0);
    if (elements > 0) {
        reply->element = replies_alloc(task->privdata, (size_t) elements * sizeof *reply->element);
        reply->elements = (size_t) elements;
    }
    return reply;
}

static void *replies_integer(const redisReadTask *task, long long value)
{
    redisReply *reply = replies_object(task, REDIS_REPLY_INTEGER, 0);
    reply->integer = value;
    return reply;
}

static void *replies_nil(const redisReadTask *task)
{
    return replies_object(task, REDIS_REPLY_NIL, 0);
}

static void replies_free(void *reply)
{
    (void) reply;               /* the arena's: freed whole by the next command */
}

static redisReplyObjectFunctions s_functions = {
    replies_string, replies_array, replies_integer, replies_nil, replies_free };

redisReply *cf_outbox_replies_next(outbox_replies_t *self, redisContext *redis)
{
    assert(self && redis);
    replies_reset(self);
    redisReplyObjectFunctions *own = redis->reader->fn;
    void *privdata = redis->reader->privdata;
    redis->reader->fn = &s_functions;
    redis->reader->privdata = self;
    void *reply = NULL;
    if (redisGetReply(redis, &reply) != REDIS_OK || !reply)
        return NULL;            /* the reader may still hold arena objects: left as is */
    redis->reader->fn = own;
    redis->reader->privdata = privdata;
    return reply;
}

redisReply *cf_outbox_replies_command(outbox_replies_t *self, redisContext *redis, int argc,
                                      const char **argv, const size_t *argvlen)
{
    assert(self && redis && argc > 0 && argv);
    if (redisAppendCommandArgv(redis, argc, argv, argvlen) != REDIS_OK)
        return NULL;
    return cf_outbox_replies_next(self, redis);
}
