/*  cf_redis_pipe: a pipelined batch across cluster nodes; see
    cf_redis_pipe.h. Commands stay in the caller's order in one array; a
    round is every command still without its reply, written and read back
    in that order: one connection per node answers strictly in sequence, so
    each reply read is the one of the next command written to that node.             */
#include "cf_redis_pipe.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

typedef struct {
    char *cmd;
    size_t len;
    int slot;                       /* -1: no key */
    int node;                       /* -1: to be routed */
    bool asking;                    /* ASKING first (an ASK redirection) */
    bool answered;
    redisReply *reply;              /* NULL once taken */
} pipe_entry_t;

struct _cf_redis_pipe_t {
    pipe_entry_t *entries;
    size_t count, alloc;
    size_t next;                    /* the first not taken by cf_redis_pipe_next */
};

cf_redis_pipe_t *cf_redis_pipe_new(void)
{
    return cf_calloc(1, sizeof(cf_redis_pipe_t));
}

void cf_redis_pipe_clear(cf_redis_pipe_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->count; i++) {
        free(self->entries[i].cmd);
        if (self->entries[i].reply)
            freeReplyObject(self->entries[i].reply);
    }
    self->count = self->next = 0;
}

void cf_redis_pipe_destroy(cf_redis_pipe_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_redis_pipe_clear(*self_p);
    free((*self_p)->entries);
    free(*self_p);
    *self_p = NULL;
}

void cf_redis_pipe_add(cf_redis_pipe_t *self, int slot, char *cmd, size_t len)
{
    assert(self && cmd && slot >= -1 && slot < CF_REDIS_SLOTS);
    if (self->count == self->alloc) {
        self->alloc = self->alloc ? self->alloc * 2 : 16;
        self->entries = cf_realloc(self->entries, self->alloc * sizeof *self->entries);
    }
    self->entries[self->count++] = (pipe_entry_t) { .cmd = cmd, .len = len, .slot = slot,
                                                    .node = -1 };
}

size_t cf_redis_pipe_size(const cf_redis_pipe_t *self)
{
    assert(self);
    return self->count - self->next;
}

bool cf_redis_pipe_answered(const cf_redis_pipe_t *self)
{
    assert(self);
    for (size_t i = self->next; i < self->count; i++)
        if (!self->entries[i].answered)
            return false;
    return true;
}

int cf_redis_pipe_plan(cf_redis_pipe_t *self, cf_redis_pipe_route_fn *route, void *arg, int *slot)
{
    assert(self && route);
    int planned = 0;
    for (size_t i = self->next; i < self->count; i++) {
        pipe_entry_t *e = &self->entries[i];
        if (e->answered)
            continue;
        if (e->node < 0)
            e->node = route(arg, e->slot);
        if (e->node < 0) {
            if (slot)
                *slot = e->slot;
            return -1;
        }
        planned++;
    }
    return planned;
}

long cf_redis_pipe_following(const cf_redis_pipe_t *self, long after)
{
    assert(self && after >= -1);
    size_t k = after < 0 ? self->next : (size_t) after + 1;
    for (; k < self->count; k++)
        if (!self->entries[k].answered)
            return (long) k;
    return -1;
}

int cf_redis_pipe_node(const cf_redis_pipe_t *self, long index)
{
    assert(self && index >= 0 && (size_t) index < self->count);
    return self->entries[index].node;
}

const char *cf_redis_pipe_command(const cf_redis_pipe_t *self, long index, size_t *len)
{
    assert(self && index >= 0 && (size_t) index < self->count && len);
    *len = self->entries[index].len;
    return self->entries[index].cmd;
}

bool cf_redis_pipe_asking(const cf_redis_pipe_t *self, long index)
{
    assert(self && index >= 0 && (size_t) index < self->count);
    return self->entries[index].asking;
}

cf_redis_redirect_kind_t cf_redis_pipe_deliver(cf_redis_pipe_t *self, long index, redisReply *reply,
                                               bool redirects, cf_redis_redirect_t *redirect)
{
    assert(self && index >= 0 && (size_t) index < self->count && reply && redirect);
    pipe_entry_t *e = &self->entries[index];
    assert(!e->answered);
    cf_redis_redirect_kind_t kind = CF_REDIS_REDIRECT_NONE;
    memset(redirect, 0, sizeof *redirect);
    if (redirects && reply->type == REDIS_REPLY_ERROR)
        kind = cf_redis_redirect_parse(reply->str, reply->len, redirect);
    if (kind == CF_REDIS_REDIRECT_NONE) {
        e->reply = reply;
        e->answered = true;
    } else {
        freeReplyObject(reply);
        e->asking = false;          /* an ASK is good for one resend */
    }
    return kind;
}

void cf_redis_pipe_resend(cf_redis_pipe_t *self, long index, int node, bool asking)
{
    assert(self && index >= 0 && (size_t) index < self->count && node >= -1);
    pipe_entry_t *e = &self->entries[index];
    assert(!e->answered);
    e->node = node;
    e->asking = asking;
}

void cf_redis_pipe_unroute(cf_redis_pipe_t *self)
{
    assert(self);
    for (size_t i = self->next; i < self->count; i++)
        if (!self->entries[i].answered) {
            self->entries[i].node = -1;
            self->entries[i].asking = false;
        }
}

redisReply *cf_redis_pipe_next(cf_redis_pipe_t *self)
{
    assert(self);
    if (self->next == self->count || !self->entries[self->next].answered)
        return NULL;
    pipe_entry_t *e = &self->entries[self->next++];
    redisReply *reply = e->reply;
    e->reply = NULL;
    if (self->next == self->count)
        cf_redis_pipe_clear(self);
    return reply;
}
