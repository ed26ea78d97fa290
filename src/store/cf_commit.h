/*  cf_commit: one shard's commit, as a list of operations for the library's
    caseflow_commit (lua/commit.lua, which documents each operation): the
    guards (what the worker read and computed from), then the writes. The
    builder names every key once (its KEYS index), groups the operations of
    one kind and key into one, keeps notifications in the order they were
    added, and splits long lists so that Lua's unpack never sees more than
    CF_COMMIT_CHUNK values. It copies what it is given. No I/O: the store
    sends cf_commit_argv with hiredis. Reused from call to call.            */
#ifndef CF_COMMIT_H
#define CF_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF_COMMIT_CHUNK     256     /* fields (or pairs) per operation */

typedef struct _cf_commit_t cf_commit_t;

cf_commit_t *cf_commit_new(void);
void cf_commit_destroy(cf_commit_t **self_p);

/*  Forgets every key and operation.                                          */
void cf_commit_reset(cf_commit_t *self);

/*  The key's index (from 1, as KEYS counts), adding it when new.            */
size_t cf_commit_key(cf_commit_t *self, const char *key, size_t len);

/* ---- guards -------------------------------------------------------------- */
/*  String key k holds old[0..len) (old NULL: k does not exist).              */
void cf_commit_guard_value(cf_commit_t *self, size_t k, const void *old, size_t len);
/*  Field of hash k holds old (NULL: the field is absent).                    */
void cf_commit_guard_field(cf_commit_t *self, size_t k, const void *field, size_t field_len,
                           const void *old, size_t len);
/*  The fence: field of hash k holds old, checked before every other guard,
    so that a commit it refuses answers CFSTALE 1 (CF_COMMIT_FENCE_OP): the
    shard's owner record still holds the epoch the worker was given.        */
#define CF_COMMIT_FENCE_OP  1
void cf_commit_fence(cf_commit_t *self, size_t k, const void *field, size_t field_len,
                     const void *old, size_t len);
/*  Field of hash k does not exist (dedupe markers; grouped per key).         */
void cf_commit_guard_absent(cf_commit_t *self, size_t k, const void *field, size_t len);
/*  k is absent or a `type` ("stream", "zset", "hash"): for keys only
    written. Once per key: later calls for k add nothing.                    */
void cf_commit_guard_type(cf_commit_t *self, size_t k, const char *type);

/* ---- writes ---------------------------------------------------------------- */
void cf_commit_incr(cf_commit_t *self, size_t k, const void *field, size_t len, int64_t delta);
/*  SET k value, with EX ttl when ttl > 0 (else any TTL is dropped).         */
void cf_commit_set(cf_commit_t *self, size_t k, const void *value, size_t len, uint32_t ttl);
void cf_commit_hset(cf_commit_t *self, size_t k, const void *field, size_t field_len,
                    const void *value, size_t len);
/*  EXPIREAT k at, once per key: the latest time asked for wins.             */
void cf_commit_expireat(cf_commit_t *self, size_t k, int64_t at);
void cf_commit_zadd(cf_commit_t *self, size_t k, int64_t score, const void *member, size_t len);
void cf_commit_zrem(cf_commit_t *self, size_t k, const void *member, size_t len);
/*  A notification, XADD * topic <topic> body <body>, in the order added.    */
void cf_commit_xadd(cf_commit_t *self, size_t k, const char *topic, size_t topic_len,
                    const void *body, size_t body_len);

/*  Whether anything would be written.                                         */
bool cf_commit_writes(const cf_commit_t *self);

/*  The argument vector FCALL <function> numkeys KEYS... <version>
    <generation> <ttl> <operations>: valid until the next call on self.
    generation NULL: the call sets no marker ("").                            */
void cf_commit_argv(cf_commit_t *self, const char *function, const char *version,
                    const char *generation, uint32_t eid_ttl, const char ***argv,
                    const size_t **argvlen, size_t *argc);

#endif
