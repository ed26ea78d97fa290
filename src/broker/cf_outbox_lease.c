/*  cf_outbox_lease: which broker's outbox reader reads (docs/notifications.md,
    "Several brokers"). Every broker runs a reader; the cursor commit under
    WATCH (cf_outbox_commit.c) already makes each batch count once in
    cf:{pub}:*, but it comes after the batch is handed over, so readers that
    XREAD the same entries at once would all publish them. The lease
    cf:{pub}:reader (the holder's name, with a time to live) lets one reader
    read at a time: the others wait, and take over when it lapses (a broker
    killed) or is let go (a broker stopped), from the saved cursors. A
    takeover publishes again, with the same ids, what the last holder handed
    over and did not save, as a restarted broker does. A lease that lapses
    under a holder that is only slow lets two readers read for a moment:
    the commit still counts each batch once.

    Set and renewed by a compare-and-set of its one key (WATCH, GET, MULTI,
    SET PX, EXEC): the broker's Redis user has no PEXPIRE or DEL.            */
#include "cf_outbox_internal.h"
#include "caseflow/cf_keys.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* Reads the appended commands' n replies; reply number keep goes to *kept
   (the caller frees it) when kept is not NULL. false when Redis failed. */
static bool lease_replies(redisContext *redis, size_t n, size_t keep, redisReply **kept)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = NULL;
        if (redisGetReply(redis, (void **) &reply) != REDIS_OK || !reply) {
            if (kept && *kept)
                freeReplyObject(*kept), *kept = NULL;
            return false;
        }
        if (kept && i == keep)
            *kept = reply;
        else
            freeReplyObject(reply);
    }
    return true;
}

int cf_outbox_lease_hold(outbox_lease_t *lease, redisContext *redis, const char *name,
                         int64_t now_ms)
{
    assert(lease && redis && name);
    if (now_ms < lease->next_ms)
        return lease->held;
    const char *key = cf_keys_pub(CF_KEYS_PUB_READER);
    redisAppendCommand(redis, "WATCH %s", key);
    redisAppendCommand(redis, "GET %s", key);
    redisReply *holder = NULL;
    if (!lease_replies(redis, 2, 1, &holder))
        return -1;
    bool free_or_ours = holder->type == REDIS_REPLY_NIL
        || (holder->type == REDIS_REPLY_STRING && strcmp(holder->str, name) == 0);
    freeReplyObject(holder);
    if (!free_or_ours) {
        redisAppendCommand(redis, "UNWATCH");
        if (!lease_replies(redis, 1, 0, NULL))
            return -1;
        lease->held = false;
    } else {
        redisAppendCommand(redis, "MULTI");
        redisAppendCommand(redis, "SET %s %s PX %d", key, name, CF_OUTBOX_LEASE_MS);
        redisAppendCommand(redis, "EXEC");
        redisReply *exec = NULL;
        if (!lease_replies(redis, 3, 2, &exec))
            return -1;
        lease->held = exec->type == REDIS_REPLY_ARRAY;  /* nil: another reader came first */
        freeReplyObject(exec);
    }
    /* the holder renews well before its lease lapses; the others look as often */
    lease->next_ms = now_ms + CF_OUTBOX_LEASE_MS / 3;
    return lease->held;
}

void cf_outbox_lease_release(outbox_lease_t *lease, redisContext *redis, const char *name)
{
    assert(lease && name);
    if (!lease->held || !redis)
        return;
    lease->held = false;
    lease->next_ms = 0;
    const char *key = cf_keys_pub(CF_KEYS_PUB_READER);
    redisAppendCommand(redis, "WATCH %s", key);
    redisAppendCommand(redis, "GET %s", key);
    redisReply *holder = NULL;
    if (!lease_replies(redis, 2, 1, &holder))
        return;
    bool ours = holder->type == REDIS_REPLY_STRING && strcmp(holder->str, name) == 0;
    freeReplyObject(holder);
    if (ours) {     /* lapses at once: another reader takes over on its next look */
        redisAppendCommand(redis, "MULTI");
        redisAppendCommand(redis, "SET %s %s PX 1", key, name);
        redisAppendCommand(redis, "EXEC");
    } else {
        redisAppendCommand(redis, "UNWATCH");
    }
    lease_replies(redis, ours ? 3 : 1, 0, NULL);
}
