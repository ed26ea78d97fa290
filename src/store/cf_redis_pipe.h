/*  cf_redis_pipe: the bookkeeping of one pipelined batch across the nodes
    of a Redis Cluster, without I/O. The caller queues formatted commands
    with their slot; cf_redis_pipe_plan assigns each unanswered one to a
    node; the caller writes every node's share, reads each node's replies in
    the order it wrote them and hands each one to cf_redis_pipe_deliver,
    which keeps it or, for a redirection, marks the command for another
    round; replies come back out in the order the commands were queued,
    whichever node answered first. Tested on recorded replies.             */
#ifndef CF_REDIS_PIPE_H
#define CF_REDIS_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include "caseflow/cf_redis_slot.h"

typedef struct _cf_redis_pipe_t cf_redis_pipe_t;
typedef struct redisReply redisReply;

/*  Where a command goes: the node for slot (-1: a command with no key,
    which any node may serve), or -1 when no node owns that slot.          */
typedef int (cf_redis_pipe_route_fn)(void *arg, int slot);

/*  An empty pipe. Never NULL.                                              */
cf_redis_pipe_t *cf_redis_pipe_new(void);

/*  Frees the queued commands and the replies not taken; nulls *self_p;
    accepts NULL.                                                           */
void cf_redis_pipe_destroy(cf_redis_pipe_t **self_p);

/*  Queues cmd (len bytes of RESP, malloc'd: the pipe frees it) for slot
    (-1: no key).                                                           */
void cf_redis_pipe_add(cf_redis_pipe_t *self, int slot, char *cmd, size_t len);

/*  Commands queued and not yet taken out by cf_redis_pipe_next.            */
size_t cf_redis_pipe_size(const cf_redis_pipe_t *self);

/*  Whether every queued command has its reply.                             */
bool cf_redis_pipe_answered(const cf_redis_pipe_t *self);

/*  Gives every command still without a reply and without a node (new, or
    moved) its node from route. Returns how many commands are to be sent,
    or -1 when route found no node for one (the slot is named in *slot).   */
int cf_redis_pipe_plan(cf_redis_pipe_t *self, cf_redis_pipe_route_fn *route, void *arg,
                       int *slot);

/*  The first command after index after (-1: from the start) that awaits a
    reply in this round, or -1 past the last; and its node. The caller
    writes the round in this order (ASKING first where cf_redis_pipe_asking
    says so) and reads it back in the same order: each node then answers in
    the order it was written to, whichever node is read first.              */
long cf_redis_pipe_following(const cf_redis_pipe_t *self, long after);
int cf_redis_pipe_node(const cf_redis_pipe_t *self, long index);

/*  The RESP bytes of command index, and whether ASKING must precede it.    */
const char *cf_redis_pipe_command(const cf_redis_pipe_t *self, long index, size_t *len);
bool cf_redis_pipe_asking(const cf_redis_pipe_t *self, long index);

/*  Hands over the reply to command index (the pipe owns it then). With
    redirects (a cluster), a MOVED, ASK or TRYAGAIN error is not kept: its
    kind is returned with what it said in *redirect, and the command waits
    for cf_redis_pipe_resend. Any other reply is kept for the caller
    (CF_REDIS_REDIRECT_NONE). Without redirects every reply is kept.        */
cf_redis_redirect_kind_t cf_redis_pipe_deliver(cf_redis_pipe_t *self, long index, redisReply *reply,
                                               bool redirects, cf_redis_redirect_t *redirect);

/*  Sends command index again in the next round: to node (-1: wherever the
    next plan routes it), preceded by ASKING when asking.                    */
void cf_redis_pipe_resend(cf_redis_pipe_t *self, long index, int node, bool asking);

/*  The next reply in queue order, the caller's to free; NULL when none is
    left or the next one has not arrived. The pipe is empty again once every
    reply was taken.                                                         */
redisReply *cf_redis_pipe_next(cf_redis_pipe_t *self);

/*  Forgets the node of every command still without its reply, and any
    ASKING due (after the map was loaded again: node numbers changed).     */
void cf_redis_pipe_unroute(cf_redis_pipe_t *self);

/*  Drops every queued command and reply (after a connection failed).       */
void cf_redis_pipe_clear(cf_redis_pipe_t *self);

#endif
