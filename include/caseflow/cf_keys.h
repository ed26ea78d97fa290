/*  cf_keys: the names of caseflow's Redis keys (docs/storage.md, "Keys"), one
    function or constant per key, so that no other file spells a key. Shard
    keys carry the hash tag {sN} of their shard; the broker's publisher keeps
    its keys under {pub}, the dead letters under {dlq}. A shard's fixed keys
    are the families then its outbox, due, route_day and spike keys, in
    cf_keys_fixed_t order.
    A function writes the name into buf (size bytes, always terminated) and
    returns its length; a name that does not fit is a programmer error
    (assert): CF_KEYS_MAX holds every key of an id of at most 64 bytes. No
    I/O, no allocation.                                                      */
#ifndef CF_KEYS_H
#define CF_KEYS_H

#include <stddef.h>

#include "caseflow/cf_vocab.h"

#define CF_KEYS_MAX         96      /* "cf:{s7}:case:" + 64 bytes, and NUL */
#define CF_KEYS_REJECTION_MAX   256 /* "cf:{s7}:rej:" + event_id + "|" + a field name */

/*  A shard's fixed keys, the families first (a cf_family_t is its own key
    index).                                                                  */
typedef enum {
    CF_KEYS_OUTBOX = CF_FAMILY_COUNT,   /* stream: the shard's notifications */
    CF_KEYS_DUE,                        /* sorted set: overdue deadlines */
    CF_KEYS_ROUTE_DAY,                  /* hash: flow counts per route and day */
    CF_KEYS_SPIKE,                      /* hash: each route's packed state */
    CF_KEYS_OWNER,                      /* hash: the shard's owner, epoch and worker */
    CF_KEYS_FIXED
} cf_keys_fixed_t;

/*  The publisher's keys (the broker's outbox reader, cf_outbox_commit.c). */
typedef enum {
    CF_KEYS_PUB_CURSOR = 0,             /* hash: stream -> last entry read */
    CF_KEYS_PUB_RETURNS,                /* hash: <programme>|cases, |persons */
    CF_KEYS_PUB_MARKS,                  /* hash: milestones announced */
    CF_KEYS_PUB_OUTBOX,                 /* stream: the milestone notifications */
    CF_KEYS_PUB_FIGURES,                /* hash: figures per programme and stage */
    CF_KEYS_PUB_OPEN,                   /* hash: the open overdue alerts */
    CF_KEYS_PUB_LAST,                   /* hash: each programme's last milestone */
    CF_KEYS_PUB_READER,                 /* string: the outbox reader's lease (its broker) */
    CF_KEYS_PUB_COUNT
} cf_keys_pub_t;

#define CF_KEYS_DLQ_STREAM  "cf:{dlq}:stream"   /* the dead letters */
#define CF_KEYS_CLOCK       "cf:clock"          /* the clock an operator set */
#define CF_KEYS_SHARDS      "cf:shards"         /* the shard count, recorded by the first process */
#define CF_KEYS_ALERT_SINKS "cf:alert:sinks"    /* caseflow-alert's sinks: name -> type */

/*  A fixed key's name ("stage" ... "flows", "outbox", "due", "route_day",
    "spike") and its Redis type ("hash", "stream", "zset"); NULL when out
    of range.                                                                */
const char *cf_keys_fixed_name(int key);
const char *cf_keys_fixed_type(int key);

/*  cf:{s<shard>}:<name> of fixed key `key` (a cf_family_t or a
    cf_keys_fixed_t).                                                        */
size_t cf_keys_fixed(char *buf, size_t size, unsigned shard, int key);

/*  cf:{s<shard>}:case:<case_id>, of the first len bytes of case_id (a case
    id may end at a '|' in a due member).                                    */
size_t cf_keys_case(char *buf, size_t size, unsigned shard, const char *case_id, size_t len);

/*  Dedupe markers (docs/storage.md, "Dedupe markers"): an applied event is
    the field <digest> = <value> of the hash cf:{s<shard>}:eid:<bucket>,
    the value gen * 2^31 + tag: the generation it was written in (the Redis
    clock divided by --eid-ttl; a marker of a generation before the one
    before is expired, and the sweeper deletes it) and the tag of the
    request that applied it. Digest and bucket come from BLAKE2b-128: the
    digest is bytes 0..11 of the hash of the event's case_id (with its
    terminator) and event_id, or of the event_id alone for an event without
    a case; the bucket is bytes 12..15, little-endian, modulo
    CF_KEYS_EID_BUCKETS of the hash of the case_id, or of the event_id for
    an event without a case. So every marker of a case is in one bucket,
    which one lookup and one write serve for a batch's events of the case,
    and a case event is known by its event_id within its case. The bucket
    count keeps each hash within Redis's listpack encoding (128 fields) for
    about 4 million ids retained per shard; every worker must use the same
    value.                                                                   */
#define CF_KEYS_EID_BUCKETS 1024
#define CF_KEYS_EID_DIGEST  12
#define CF_KEYS_EID_TAG_BITS 31     /* the value's low bits: the request tag */

/*  The marker field of the event event_id of case case_id (NULL or "" for
    an event without a case) into digest; returns its bucket.              */
unsigned cf_keys_eid_digest(const char *case_id, const char *event_id,
                            unsigned char digest[CF_KEYS_EID_DIGEST]);

/*  The same in two steps, for a caller that meets a case several times:
    the bucket of every marker of case case_id (not NULL or ""), and the
    marker field of one of its events.                                      */
unsigned cf_keys_eid_case_bucket(const char *case_id);
void cf_keys_eid_case_digest(const char *case_id, const char *event_id,
                             unsigned char digest[CF_KEYS_EID_DIGEST]);

/*  A marker's value: generation * 2^CF_KEYS_EID_TAG_BITS + tag (tag 0 ..
    2^31 - 1, 0 for none; generation >= 0).                                 */
long long cf_keys_eid_value(long long generation, long long tag);

/*  The generation and tag of a marker's value (its len bytes, a decimal);
    -1 when they are not one.                                                */
int cf_keys_eid_value_parse(const char *value, size_t len, long long *generation,
                            long long *tag);

/*  cf:{s<shard>}:eid:<bucket>, a hash of dedupe markers.                    */
size_t cf_keys_eid(char *buf, size_t size, unsigned shard, unsigned bucket);

/*  cf:{s<shard>}:rej:<event_id>|<field>, a rejection counted already.      */
size_t cf_keys_rejection(char *buf, size_t size, unsigned shard, const char *event_id,
                         const char *field);

/*  cf:{pub}:cursor ... cf:{pub}:last, and the last part alone ("cursor"
    ...); NULL when out of range.                                            */
const char *cf_keys_pub(int key);
const char *cf_keys_pub_name(int key);

/*  cf:{dlq}:try:<event_id> (the tries of a suspect event) and
    cf:{dlq}:dead:<event_id> (the entry id of an event set aside).          */
size_t cf_keys_dlq_try(char *buf, size_t size, const char *event_id);
size_t cf_keys_dlq_dead(char *buf, size_t size, const char *event_id);

/*  cf:alert:sink:<sink>, a hash: where caseflow-alert's sink has got to in
    each outbox, and how it fares (docs/notifications.md, "Alert sinks").   */
size_t cf_keys_alert_sink(char *buf, size_t size, const char *sink);

/*  cf:alert:dead:<sink>, a stream: the notifications caseflow-alert's sink
    gave up on, its receiver having refused them past the sink's
    give_up_after (docs/notifications.md, "Alert sinks").                   */
size_t cf_keys_alert_dead(char *buf, size_t size, const char *sink);

#endif
