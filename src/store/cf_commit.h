/*  cf_commit: one shard's commit as plain Redis commands (docs/storage.md,
    "The commit"), in two parts the store sends in two round trips:
      the checks   WATCH of every counter hash written with an HMGET of its
                   fields, and TYPE of every key only written; their replies,
                   taken back one by one, refuse a commit Redis would fail
                   halfway (a key of another type, a counter that is not an
                   integer or would pass a signed 64-bit integer) and give
                   each counter's new value, worked out in C;
      the writes   for the store to send between MULTI and EXEC: SET of the
                   states, HSET of hash fields and of the counters' exact new
                   values, ZADD, ZREM, XADD.
    The builder names every key once, makes the items of one kind and key
    one command, and keeps notifications in the order they were added. It
    copies what it is given. No I/O: commands go out through a callback
    (the store appends them to its pipeline), replies come back as hiredis
    reply objects. Reused from call to call.                                */
#ifndef CF_COMMIT_H
#define CF_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

typedef struct _cf_commit_t cf_commit_t;
struct _cf_commit_cache_t;

/*  Receives one command; argv is valid during the call only.               */
typedef void cf_commit_emit_fn(void *arg, size_t argc, const char **argv, const size_t *argvlen);

cf_commit_t *cf_commit_new(void);
void cf_commit_destroy(cf_commit_t **self_p);

/*  Forgets every key and item.                                             */
void cf_commit_reset(cf_commit_t *self);

/*  The key's index (from 1), adding it when new.                           */
size_t cf_commit_key(cf_commit_t *self, const char *key, size_t len);

/*  The index of key (from 1), or 0 when the commit does not name it.      */
size_t cf_commit_find(const cf_commit_t *self, const char *key, size_t len);

/*  k must be absent or of `type` ("string", "stream", "zset", "hash") for
    the commit to be sent: for keys written but not read. Once per key:
    later calls for k add nothing.                                          */
void cf_commit_type(cf_commit_t *self, size_t k, const char *type);
/*  The same, and the TYPE is sent even when the cache has seen k's type:
    for a key whose type the cache vouches for but the caller did not
    confirm this time (a fixed key its read round did not probe).          */
void cf_commit_type_checked(cf_commit_t *self, size_t k, const char *type);

/* ---- writes ---------------------------------------------------------------- */
/*  The counters of hash k are family's (cf_vocab_family_measures): a field
    <row>|<measure> added to is kept in the hash field <row> with the row's
    other measures (cf_tuple). Before the first cf_commit_incr of k.       */
void cf_commit_family(cf_commit_t *self, size_t k, int family);

/*  Adds delta to field of hash k: checked, then one HSET of the new values
    per key, one hash field per row for a family's measures. A field added
    twice adds both deltas.                                                 */
void cf_commit_incr(cf_commit_t *self, size_t k, const void *field, size_t len, int64_t delta);
/*  SET k value, with EX ttl when ttl > 0 (else any TTL is dropped).         */
void cf_commit_set(cf_commit_t *self, size_t k, const void *value, size_t len, uint32_t ttl);
void cf_commit_hset(cf_commit_t *self, size_t k, const void *field, size_t field_len,
                    const void *value, size_t len);
void cf_commit_zadd(cf_commit_t *self, size_t k, int64_t score, const void *member, size_t len);
void cf_commit_zrem(cf_commit_t *self, size_t k, const void *member, size_t len);
/*  A notification, in the order added: the commit's notifications of key k
    go out as one XADD k * #z <packed and compressed> of at most
    CF_OUTBOX_NOTES_MAX, all of them in the one field (cf_outbox_notes.h).  */
void cf_commit_xadd(cf_commit_t *self, size_t k, const char *topic, size_t topic_len,
                    const void *body, size_t body_len);

/*  Whether anything would be written; how many notifications.               */
bool cf_commit_writes(const cf_commit_t *self);
size_t cf_commit_notes(const cf_commit_t *self);

/* ---- the two rounds ---------------------------------------------------------- */
/*  Emits the check round's commands; returns how many replies
    cf_commit_check is to take (0: none to send). Nothing may be added
    after it. With cache, shard's owner cache (cf_commit_cache_begin; NULL:
    none, the full round): no WATCH of the counter hashes, HMGET of only
    the fields it does not know (none of a hash it holds every field of;
    with an HLEN the first time, or an HGETALL of a small hash instead: see
    cf_commit_hash_t), TYPE of only the keys it has not seen; the counters
    it knows whole are checked here, and a refusal of them is
    cf_commit_refusal's.                                                     */
size_t cf_commit_checks(cf_commit_t *self, const struct _cf_commit_cache_t *cache, unsigned shard,
                        cf_commit_emit_fn *emit, void *arg);

/*  Why the cache's values refused the commit in cf_commit_checks (as
    cf_commit_check says it), or NULL.                                      */
const char *cf_commit_refusal(const cf_commit_t *self);

/*  Takes the check round's next reply, in order. 0, or -1 when the commit
    must not be sent, why says so: "WRONGTYPE commit: <key> holds a <type>,
    not a <type>", "counter is not an integer: <key> <hash field>" (and for
    a tuple "(not <n> integers joined by ',')"), "counter would overflow:
    <key> <field> (<old> + <delta>)", or Redis's error. A
    hash whose HMGET Redis refused as WRONGTYPE does not say which type it
    holds: cf_commit_wrong_hash names it, for the caller to ask TYPE and
    say so with cf_commit_wrong_type.                                       */
int cf_commit_check(cf_commit_t *self, const redisReply *reply, char *why, size_t size);
const char *cf_commit_wrong_hash(const cf_commit_t *self);

/*  "WRONGTYPE commit: <key> holds a <held>, not a <want>" into why.        */
void cf_commit_wrong_type(char *why, size_t size, const char *key, const char *held,
                          const char *want);

/*  Keeps the counters' new values in shard's cache, after EXEC wrote them;
    the shard and cache the checks were given, if any (a field they found
    is set by its entry, not looked up again).                              */
void cf_commit_remember(const cf_commit_t *self, struct _cf_commit_cache_t *cache, unsigned shard);

/*  Emits the writes, after every check passed; returns how many commands. */
size_t cf_commit_emit_writes(cf_commit_t *self, cf_commit_emit_fn *emit, void *arg);

/*  "<command> <key>" of write command i (from 0), into buf: what an error
    in EXEC's reply names.                                                   */
void cf_commit_describe(cf_commit_t *self, size_t i, char *buf, size_t size);

#endif
