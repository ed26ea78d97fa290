/*  cf_outbox_snapshot: the state a late subscriber starts from, read in one
    MULTI/EXEC from the {pub} keys that cf_outbox_commit keeps with the
    cursors, so that it is exactly the state of the notifications up to the
    cursors it names (docs/notifications.md, "Late joiners"), each given as
    the last notification id of its entry.                                   */
#include "cf_outbox_internal.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_outbox_notes.h"
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static const cf_keys_pub_t s_keys[] = { CF_KEYS_PUB_CURSOR, CF_KEYS_PUB_RETURNS,
                                       CF_KEYS_PUB_FIGURES, CF_KEYS_PUB_OPEN, CF_KEYS_PUB_LAST };
static const char *const s_names[] = { "cursors", "returns", "figures", "open_alerts",
                                       "last_milestones" };
#define SNAPSHOT_PARTS 5
#define SNAPSHOT_SMALL_CELL 10      /* counts below it are published as nil */

/* One HGETALL reply: a map of strings, counters as integers, bodies (which
   are msgpack maps) as they are; the open alerts as an array of bodies. */
static void snapshot_pack_hash(msgpack_packer *pk, msgpack_sbuffer *out, unsigned part,
                               const redisReply *hash)
{
    size_t n = hash->elements / 2;
    if (part == 3)
        msgpack_pack_array(pk, n);
    else
        msgpack_pack_map(pk, n);
    for (size_t i = 0; i < n; i++) {
        const redisReply *k = hash->element[2 * i], *v = hash->element[2 * i + 1];
        if (part != 3)
            cf_pack_strn(pk, k->str, k->len);
        if (part == 1 || part == 2) {
            /* published figures: a count from 1 to 9 is not shown (docs/domain.md) */
            long long count = strtoll(v->str, NULL, 10);
            if (count > 0 && count < SNAPSHOT_SMALL_CELL)
                msgpack_pack_nil(pk);
            else
                msgpack_pack_int64(pk, count);
        }
        else if (part == 0) {
            /* a cursor is an entry's id; the snapshot names the floor of the
               notification ids it covers: its last one (cf_outbox_notes.h) */
            char floor[CF_OUTBOX_NOTES_ID_MAX];
            if (cf_outbox_notes_id(floor, "", v->str, CF_OUTBOX_NOTES_MAX - 1) < 0)
                cf_pack_strn(pk, v->str, v->len);
            else
                cf_pack_str(pk, floor);
        }
        else
            msgpack_sbuffer_write(out, v->str, v->len);
    }
}

int cf_outbox_snapshot(redisContext *redis, msgpack_sbuffer *out)
{
    assert(redis && out);
    redisAppendCommand(redis, "MULTI");
    for (unsigned i = 0; i < SNAPSHOT_PARTS; i++)
        redisAppendCommand(redis, "HGETALL %s", cf_keys_pub(s_keys[i]));
    redisAppendCommand(redis, "EXEC");
    int rc = 0;
    redisReply *exec = NULL;
    for (unsigned i = 0; i < SNAPSHOT_PARTS + 2; i++) {
        void *reply = NULL;
        if (redisGetReply(redis, &reply) != REDIS_OK || !reply)
            return -1;
        if (i == SNAPSHOT_PARTS + 1)
            exec = reply;
        else
            freeReplyObject(reply);
    }
    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != SNAPSHOT_PARTS)
        rc = -1;
    for (unsigned i = 0; rc == 0 && i < SNAPSHOT_PARTS; i++)
        if (exec->element[i]->type != REDIS_REPLY_ARRAY)
            rc = -1;
    if (rc == 0) {
        msgpack_packer pk;
        msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, SNAPSHOT_PARTS);
        for (unsigned i = 0; i < SNAPSHOT_PARTS; i++) {
            cf_pack_str(&pk, s_names[i]);
            snapshot_pack_hash(&pk, out, i, exec->element[i]);
        }
    }
    freeReplyObject(exec);
    return rc;
}
