/*  cf_outbox: the broker's reader of the notification outboxes. The apply
    script appends every notification to its shard's stream cf:{sN}:outbox
    in the same atomic call as the counters it announces (docs/
    notifications.md); this reader tails the shards' streams in a thread of
    its own (a slow or dead Redis never stalls the broker's event loop) and
    hands the entries to the loop over an inproc PAIR socket, packed up to
    CF_OUTBOX_PACK_ENTRIES to a one-frame message (a message per entry cost
    the thread three zmq_sends and the loop a wake-up each): topic, msgpack
    body, and the entry's stable id "s<shard>-<entry id>".

    Where it has got to is kept in Redis (cf:{pub}:cursor), after each batch
    is handed over, in the same MULTI/EXEC (cf_outbox_commit.c: computed in
    C, plain commands, under WATCH) that adds the batch's returns to the
    programmes' totals and announces the milestones they reach (into one
    more stream, cf:{pub}:outbox, read the same way, ids "p-<entry id>"):
    a restarted broker goes on from there,
    so an entry is published once, or twice when a broker dies between
    handing a batch over and saving its cursor; then with the same id, so
    that a subscriber (caseflow-watch does) drops the repeat. Entries older
    than the retention and already read are trimmed.                         */
#ifndef CF_OUTBOX_H
#define CF_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "caseflow/cf_redis_auth.h"

#define CF_OUTBOX_ENDPOINT      "inproc://caseflow-outbox"
#define CF_OUTBOX_RETENTION_MS  (3600 * 1000)   /* read entries kept an hour */
#define CF_OUTBOX_SNAPSHOT      "SNAPSHOT"  /* on the PAIR: [it, who, request id] asks for a
                                               snapshot, [it, who, request id, body] answers */
#define CF_OUTBOX_PACK_ENTRIES  64          /* entries per message to the loop, at most */
#define CF_OUTBOX_PACK_BYTES    65536       /* ... and bytes, about (one entry may pass it) */
#define CF_OUTBOX_PACE_MS       10          /* XREADs at most this often while each finds less
                                               than a full batch: what a notification may wait
                                               more (docs/notifications.md, "Latency") */

typedef struct _cf_outbox_t cf_outbox_t;

/*  Makes the function library from script_dir (to check that Redis holds
    this build's, as every caseflow process does), binds a PAIR
    socket on endpoint in zmq_ctx (the loop reads it: see cf_outbox_socket)
    and starts the reader thread on Redis host:port. NULL with the reason in
    err when the scripts cannot be read or the socket made, when Redis
    refuses the credentials auth (copied; NULL: none), or when it lacks the
    library and this user may not load it (cf_store_library_ensure), or when
    it records another shard count than shards (cf_store_shards_agree); Redis
    itself may be down: the thread retries with backoff, and checks the
    library on each connection.                                              */
cf_outbox_t *cf_outbox_new(void *zmq_ctx, const char *host, int port, const cf_redis_auth_t *auth,
                           unsigned shards, const char *endpoint, const char *script_dir,
                           char *err, size_t err_size);

/*  The rules for milestones (cf_rules_pack's map; copied), from the next
    batch on. Until set: none.                                              */
void cf_outbox_set_rules(cf_outbox_t *self, const void *packed, size_t len);

/*  Stops the thread (within about half a second) and frees; accepts NULL.  */
void cf_outbox_destroy(cf_outbox_t **self_p);

/*  The loop's end of the pair: each message is a pack of entries (one
    frame, read with cf_outbox_entry_next) or a snapshot's answer.          */
void *cf_outbox_socket(cf_outbox_t *self);

/*  One entry of a pack; the pointers point into the pack.                  */
typedef struct {
    const char *topic, *body, *id;
    size_t topic_len, body_len, id_len;
} cf_outbox_entry_t;

/*  Appends an entry to a pack (the thread's builder; each length below
    4 GiB: Redis's strings are at most 512 MB).                             */
void cf_outbox_pack_entry(msgpack_sbuffer *pack, const cf_outbox_entry_t *entry);

/*  The entry at *pos of a pack of size bytes into *entry, *pos moved past
    it: 0, or -1 at the end of the pack (or at an entry cut short, which
    the thread does not send).                                              */
int cf_outbox_entry_next(const void *pack, size_t size, size_t *pos, cf_outbox_entry_t *entry);

/*  The name this broker's reader holds the reader's lease under
    (cf:{pub}:reader: one broker's reader reads at a time; docs/
    notifications.md, "Several brokers"): the same for a broker restarted in
    its place, so that it takes its lease back at once; copied. Until set:
    the host name and pid.                                                   */
void cf_outbox_set_reader(cf_outbox_t *self, const char *name);

/*  The reader's Redis errors so far (an atomic read).                       */
uint64_t cf_outbox_errors(const cf_outbox_t *self);

#endif
