/*  cf_outbox internals: the batch the reader thread has handed over, as the
    publish script wants it (cf_outbox_batch.c), and the snapshot a late
    subscriber asks for (cf_outbox_snapshot.c). Not installed.              */
#ifndef CF_OUTBOX_INTERNAL_H
#define CF_OUTBOX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_event.h"

#define OUTBOX_PROGRAMMES   64      /* programmes with returns in one batch */

/*  What one batch of notifications changes in the publisher's state:
    returns per programme (milestones), figures per programme and stage,
    overdue alerts opened and closed (the snapshot). Packed as it goes.     */
typedef struct {
    struct {
        char name[CF_PROGRAMME_MAX + 1];
        int64_t cases, persons;
    } returns[OUTBOX_PROGRAMMES];
    size_t programmes;
    msgpack_sbuffer figures, alerts;    /* array elements, packed, in order */
    uint32_t nfigures, nalerts;
    msgpack_zone zone;                  /* each body's objects, cleared after it: one
                                           allocation for the thread, not one per body */
} outbox_batch_t;

void cf_outbox_batch_init(outbox_batch_t *b);
void cf_outbox_batch_free(outbox_batch_t *b);
void cf_outbox_batch_clear(outbox_batch_t *b);

/*  Takes one shard notification (topic, msgpack body) into the batch.      */
void cf_outbox_batch_note(outbox_batch_t *b, const char *topic, size_t topic_len,
                          const char *body, size_t body_len);

/*  The batch's returns ({programme: [cases, persons]}) and state ({figures,
    alerts}) as the publish script's ARGV[2] and ARGV[4].                   */
void cf_outbox_batch_pack(const outbox_batch_t *b, msgpack_sbuffer *returns,
                          msgpack_sbuffer *state);

/*  The reader's arena for its XREAD replies (cf_outbox_reply.c).         */
typedef struct _outbox_replies_t outbox_replies_t;

outbox_replies_t *cf_outbox_replies_new(void);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_outbox_replies_destroy(outbox_replies_t **self_p);

/*  Sends one command (argv form, as redisCommandArgv) and reads its reply
    into the arena: the same redisReply tree hiredis would make, valid until
    the next call, and never given to freeReplyObject. NULL when the
    connection failed; the reader may then hold objects of the arena, so
    the caller must redisFree the context before anything else.             */
redisReply *cf_outbox_replies_command(outbox_replies_t *self, redisContext *redis, int argc,
                                      const char **argv, const size_t *argvlen);

/*  The snapshot body, read in one transaction from the {pub} keys:
    {cursors: {s0..s7, pub: entry id}, returns: {...}, figures: {...},
    open_alerts: [body...], last_milestones: {programme: body}}. 0 / -1.   */
int cf_outbox_snapshot(redisContext *redis, msgpack_sbuffer *out);

#endif
