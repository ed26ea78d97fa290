/*  cf_web_tokens: who may use caseflow-web, read from its token file.

    One token a line: the SHA-256 of the token in hex (64 digits; the token
    itself is never stored), its role, and optionally the programmes it may
    see, comma-separated; blank lines and lines starting with '#' are
    skipped:
        # sha256(token)                                                  role    programmes
        9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 viewer  CH-AVR
    Roles are ordered, each allowing what the one before it does: viewer
    (published figures), exact (exact figures too), operator (dead letters
    and replay too). The producer role stands apart: it may post events
    (POST /api/v1/events) and nothing else, and only it may; it takes no
    programmes. A token with programmes sees those programmes only;
    one without sees them all. docs/web.md describes the file. Pure: no
    sockets; only cf_web_tokens_load reads a file.

    A set is reference-counted, so that caseflow-web can read the file again
    while requests and event streams still point into the old set: each
    holder takes a reference (cf_web_tokens_hold) and drops it with
    cf_web_tokens_destroy; the last one frees it. A set replaced by a newer
    one points to it (cf_web_tokens_replace), so that a long-lived holder
    can follow its token into the newest set, or learn that it was removed
    (cf_web_tokens_renew). The entries never change once parsed.            */
#ifndef CF_WEB_TOKENS_H
#define CF_WEB_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

/*  Readers are ordered (each role allows what the one before does); a
    producer only posts events (cf_web_token_reads is false for it).         */
typedef enum { CF_WEB_VIEWER = 0, CF_WEB_EXACT, CF_WEB_OPERATOR, CF_WEB_PRODUCER } cf_web_role_t;

typedef struct _cf_web_tokens_t cf_web_tokens_t;
typedef struct _cf_web_token_t cf_web_token_t;

#define CF_WEB_TOKEN_HASH_HEX 65    /* 64 hex digits and a NUL */

/*  Parses text (a token file's contents). NULL with the reason in err as
    "origin:LINE: reason".                                                   */
cf_web_tokens_t *cf_web_tokens_parse(const char *text, const char *origin, char *err, size_t n);

/*  Reads and parses the file at path. NULL with the reason in err.          */
cf_web_tokens_t *cf_web_tokens_load(const char *path, char *err, size_t n);

/*  Drops the caller's reference (the set is freed with the last one) and
    nulls *self_p; accepts NULL.                                             */
void cf_web_tokens_destroy(cf_web_tokens_t **self_p);

/*  Takes another reference to self, for a holder that outlives the
    caller's; returns self. Thread-safe.                                     */
cf_web_tokens_t *cf_web_tokens_hold(cf_web_tokens_t *self);

/*  Records that successor replaces self (self then holds a reference to
    it). Once per set. Thread-safe against cf_web_tokens_renew.             */
void cf_web_tokens_replace(cf_web_tokens_t *self, cf_web_tokens_t *successor);

/*  For a holder of *set_p and of token, one of its entries: when the set
    was replaced, moves the reference to the newest set (*set_p changes)
    and returns the entry of the same hash there, or NULL when the token was
    removed (the holder still holds *set_p, to destroy). Returns token when
    the set was not replaced.                                                */
const cf_web_token_t *cf_web_tokens_renew(cf_web_tokens_t **set_p, const cf_web_token_t *token);

/*  The number of tokens.                                                    */
size_t cf_web_tokens_size(const cf_web_tokens_t *self);

/*  The entry whose hash is token's, or NULL. Every entry is compared, in
    constant time each, so the time taken does not say which one nearly
    matched. Lives as long as self.                                          */
const cf_web_token_t *cf_web_tokens_find(const cf_web_tokens_t *self, const char *token);

/*  SHA-256 of token as 64 lower-case hex digits, into out.                  */
void cf_web_tokens_hash(const char *token, char out[CF_WEB_TOKEN_HASH_HEX]);

cf_web_role_t cf_web_token_role(const cf_web_token_t *token);

/*  "viewer", "exact", "operator" or "producer".                             */
const char *cf_web_role_name(cf_web_role_t role);

/*  True when token may read (figures, the feed, dead letters): any role
    but producer.                                                            */
bool cf_web_token_reads(const cf_web_token_t *token);

/*  True when token may see programme: it has no list, or programme is in
    it.                                                                      */
bool cf_web_token_sees(const cf_web_token_t *token, const char *programme);

/*  The programmes of token's list (0: it sees all), and the i-th.          */
size_t cf_web_token_programmes(const cf_web_token_t *token);
const char *cf_web_token_programme(const cf_web_token_t *token, size_t i);

#endif
