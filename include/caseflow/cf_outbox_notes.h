/*  cf_outbox_notes: the notifications an outbox stream entry holds, and the
    ids they are published with (docs/storage.md, "Outboxes"; docs/
    protocol.md, section 4). A commit writes one entry per shard with all of
    its notifications packed into one field: per notification, its topic
    and its body, each as a 4-byte little-endian length, the bytes and a NUL
    (so that a note points into a string as into a NUL-terminated one), and
    that packed value compressed with LZ4, in the field
    CF_OUTBOX_NOTES_LZ4_FIELD. Compressed, an entry takes about a third of
    the bytes in Redis, in its append-only file and on the way to the
    broker; the AOF's fdatasync, which every commit waits for, is that much
    shorter (docs/performance.md, issue 14). One field, not one per topic
    and body: Redis's XREAD and XADD cost per field far more than per byte.
    Entries of the three earlier layouts are still read, so that entries
    written before an upgrade are published: the same packed value
    uncompressed in CF_OUTBOX_NOTES_FIELD; each notification a field-value
    pair (its topic, its body; the milestones are still written so, one to
    an entry); and the first, one notification as the fields `topic` and
    `body`.

    A reader (cf_outbox_notes_t) indexes an entry's notifications once, so
    that each is found in constant time, and keeps what it decompressed
    until it is released. The writer's functions and the ids' need no
    object.

    Notification k of entry <ms>-<seq> has the id <ms>-<seq * 256 + k>: ids
    keep the form and the order of stream ids, so that subscribers compare
    and remember them as before, and an entry's cursor stands for its last
    notification, <ms>-<seq * 256 + 255>.                                   */
#ifndef CF_OUTBOX_NOTES_H
#define CF_OUTBOX_NOTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

/*  Notifications in one entry: a commit starts another entry past it.     */
#define CF_OUTBOX_NOTES_MAX     256

/*  The field of the packed layout: no topic starts with '#' (topics are
    case., alert. or milestone. and [A-Za-z0-9_.-]), so that a pair entry
    is never taken for a packed one.                                        */
#define CF_OUTBOX_NOTES_FIELD   "#n"

/*  The field of the compressed layout, which commits write: a 4-byte
    little-endian length of the packed value, then the value as one LZ4
    block (LZ4_compress_default). '#' for the same reason as above.         */
#define CF_OUTBOX_NOTES_LZ4_FIELD   "#z"

/*  The longest packed value a compressed entry may hold: 256 notifications
    of at most 64 kB each, with room to spare. A reader refuses a longer
    length before it allocates anything.                                   */
#define CF_OUTBOX_NOTES_MAX_BYTES   (32u << 20)

/*  The longest id cf_outbox_notes_id writes, with its NUL; the longest
    prefix cf_outbox_notes_prefix writes ("s<shard>-", "p-").              */
#define CF_OUTBOX_NOTES_ID_MAX      64
#define CF_OUTBOX_NOTES_PREFIX_MAX  16

typedef struct {
    const char *topic, *body;       /* into the reply's strings or the reader's (NUL-terminated) */
    size_t topic_len, body_len;
} cf_outbox_note_t;

typedef struct _cf_outbox_notes_t cf_outbox_notes_t;

cf_outbox_notes_t *cf_outbox_notes_new(void);

/*  Frees what it decompressed, frees and nulls *self_p; accepts NULL.      */
void cf_outbox_notes_destroy(cf_outbox_notes_t **self_p);

/*  Reads entry `fields` (the field list of an XREAD or XRANGE entry): how
    many notifications it holds, 0 when it is not an outbox entry (anything
    but strings in pairs, or more than CF_OUTBOX_NOTES_MAX of them, or a
    packed value that is empty, runs past its end or lacks a NUL, or a
    compressed one that does not decompress to the length it gives). Its
    notes point into the reply's strings, or for a compressed entry into
    the reader's memory, which stays until cf_outbox_notes_release: several
    entries' notes may be held at once.                                    */
size_t cf_outbox_notes_read(cf_outbox_notes_t *self, const redisReply *fields);

/*  Notification k (< what the last cf_outbox_notes_read returned).         */
cf_outbox_note_t cf_outbox_notes_get(const cf_outbox_notes_t *self, size_t k);

/*  Frees what the reads so far decompressed: the notes of compressed
    entries read before are gone.                                          */
void cf_outbox_notes_release(cf_outbox_notes_t *self);

/*  The bytes one notification takes in a packed value.                    */
static inline size_t cf_outbox_notes_packed_len(size_t topic_len, size_t body_len)
{
    return 4 + topic_len + 1 + 4 + body_len + 1;
}

/*  Writes one notification at `at` (cf_outbox_notes_packed_len bytes of
    room), for the value of CF_OUTBOX_NOTES_FIELD: the bytes it wrote. The
    lengths are below 2^32 (a body is a few kB).                            */
size_t cf_outbox_notes_pack(char *at, const char *topic, size_t topic_len, const void *body,
                            size_t body_len);

/*  The most bytes cf_outbox_notes_compress writes for a packed value of
    len bytes (at most CF_OUTBOX_NOTES_MAX_BYTES).                          */
size_t cf_outbox_notes_compress_bound(size_t len);

/*  The value of CF_OUTBOX_NOTES_LZ4_FIELD for packed value `packed` (len
    bytes, at most CF_OUTBOX_NOTES_MAX_BYTES) into out, which has
    cf_outbox_notes_compress_bound(len) bytes: the bytes it wrote.          */
size_t cf_outbox_notes_compress(char *out, const char *packed, size_t len);

/*  Parses a stream id "<ms>-<seq>": false when it is not one, or when its
    seq is too large for notification numbers (above 2^56 - 1).            */
bool cf_outbox_notes_entry(const char *entry_id, uint64_t *ms, uint64_t *seq);

/*  The number of notification k of an entry of sequence seq: seq * 256 + k.  */
static inline uint64_t cf_outbox_notes_number(uint64_t seq, size_t k)
{
    return seq * CF_OUTBOX_NOTES_MAX + k;
}

/*  The prefix of the ids of stream `stream`'s notifications into buf: the
    shards' outboxes (stream < shards) "s<stream>-", the milestones' "p-".   */
void cf_outbox_notes_prefix(char buf[CF_OUTBOX_NOTES_PREFIX_MAX], unsigned stream,
                            unsigned shards);

/*  Writes "<prefix><ms>-<number>" of notification k of entry entry_id into
    buf (CF_OUTBOX_NOTES_ID_MAX bytes); k CF_OUTBOX_NOTES_MAX - 1 is the
    entry's floor. Its length, or -1 when entry_id is not a stream id
    (cf_outbox_notes_entry).                                                */
int cf_outbox_notes_id(char buf[CF_OUTBOX_NOTES_ID_MAX], const char *prefix,
                       const char *entry_id, size_t k);

/*  The same for an entry id parsed before (cf_outbox_notes_entry), so that
    an entry's notes do not parse it again each: its length.               */
int cf_outbox_notes_id_of(char buf[CF_OUTBOX_NOTES_ID_MAX], const char *prefix, uint64_t ms,
                          uint64_t seq, size_t k);

#endif
