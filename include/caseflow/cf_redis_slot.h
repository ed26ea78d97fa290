/*  cf_redis_slot: the two pure rules a Redis Cluster client needs before any
    socket: which of the 16 384 hash slots a key lives in (CRC16-XMODEM of
    the key, or of its hash tag: the bytes between the first '{' and the
    next '}', when not empty; as the Redis Cluster specification defines
    it), and what a redirection error says ("MOVED 3999 127.0.0.1:6381",
    "ASK 3999 127.0.0.1:6381", "TRYAGAIN ..."). Every caseflow key carries
    a hash tag (cf:{s12}:..., cf:{pub}:..., docs/storage.md), so one shard's
    keys share a slot and one commit stays on one node.                     */
#ifndef CF_REDIS_SLOT_H
#define CF_REDIS_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define CF_REDIS_SLOTS      16384
#define CF_REDIS_HOST_MAX   256     /* bytes of a node's host name or address, with the NUL */

/*  CRC16 as Redis Cluster uses it (XMODEM: polynomial 0x1021, start 0).    */
uint16_t cf_redis_crc16(const void *buf, size_t len);

/*  The hash slot of key (0..16383), hash tags applied.                     */
int cf_redis_slot(const void *key, size_t len);

typedef enum {
    CF_REDIS_REDIRECT_NONE = 0,     /* not a redirection: an ordinary reply or error */
    CF_REDIS_REDIRECT_MOVED,        /* the slot lives on host:port now: update the map, resend */
    CF_REDIS_REDIRECT_ASK,          /* this key is being migrated there: ASKING, then resend
                                       there once; the map stays */
    CF_REDIS_REDIRECT_TRYAGAIN,     /* a multi-key command during a migration: resend later */
} cf_redis_redirect_kind_t;

typedef struct {
    cf_redis_redirect_kind_t kind;
    int slot;                       /* MOVED and ASK */
    char host[CF_REDIS_HOST_MAX];   /* "" when the error named none: the node that answered */
    int port;
} cf_redis_redirect_t;

/*  Reads an error reply's text (len bytes, no NUL needed). Fills *out and
    returns its kind; CF_REDIS_REDIRECT_NONE for any other error and for a
    MOVED or ASK whose slot or address cannot be read (given to the caller
    as the error it is).                                                   */
cf_redis_redirect_kind_t cf_redis_redirect_parse(const char *err, size_t len,
                                                 cf_redis_redirect_t *out);

#endif
