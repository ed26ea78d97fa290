/*  cf_shard: which shard an event belongs to, from what its producer sent,
    with no key: a producer, the broker and a worker all compute the same
    number (docs/protocol.md, "Shards").

    The shard key of an event is one of its string fields, chosen by its
    event_type: a case event (event_type starting "case.") its case_ref, a
    flow.observed its route ("-" when it has none), any other type (a
    funding.transaction) its event_id. The shard is FNV-1a (64-bit) of the
    key's UTF-8 bytes, modulo the deployment's shard count (the setting
    `shards`, the same in every process: cf_store checks it against the
    count recorded in Redis). Bytes in, numbers out; no I/O.               */
#ifndef CF_SHARD_H
#define CF_SHARD_H

#include <stddef.h>
#include <stdint.h>

#define CF_SHARD_DEFAULT    64      /* the setting `shards` */
#define CF_SHARD_MAX        1024

/*  Which field of an event is its shard key.                                */
typedef enum {
    CF_SHARD_BY_CASE_REF = 0,       /* case.* */
    CF_SHARD_BY_ROUTE,              /* flow.observed; "-" when absent */
    CF_SHARD_BY_EVENT_ID            /* everything else */
} cf_shard_by_t;

/*  The field that keys an event of type name (len bytes, not terminated).   */
cf_shard_by_t cf_shard_by(const char *name, size_t len);

/*  FNV-1a, 64-bit (offset basis 14695981039346656037, prime
    1099511628211), of len bytes.                                            */
uint64_t cf_shard_hash(const void *data, size_t len);

/*  The shard of a key's hash among shards (1 .. CF_SHARD_MAX): hash modulo
    shards.                                                                  */
unsigned cf_shard_pick(uint64_t hash, unsigned shards);

/*  The hash of the shard key of one encoded event (a msgpack map, as a
    producer sends it) into *hash: 0, or -1 when the frame is not a map
    whose event_type and key field are strings (the worker rejects such an
    event; whoever routes it may send it anywhere).                          */
int cf_shard_of_frame(const void *data, size_t size, uint64_t *hash);

#endif
