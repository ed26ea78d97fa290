/*  cf_keys: every Redis key name caseflow uses (see cf_keys.h and
    docs/storage.md). The formats are here and nowhere else.               */
#include "caseflow/cf_keys.h"
#include "caseflow/cf_fmt.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

static const struct {
    const char *name, *type;
} s_fixed[] = {
    [CF_KEYS_OUTBOX - CF_FAMILY_COUNT] = { "outbox", "stream" },
    [CF_KEYS_DUE - CF_FAMILY_COUNT] = { "due", "zset" },
    [CF_KEYS_ROUTE_DAY - CF_FAMILY_COUNT] = { "route_day", "hash" },
    [CF_KEYS_SPIKE - CF_FAMILY_COUNT] = { "spike", "hash" },
    [CF_KEYS_OWNER - CF_FAMILY_COUNT] = { "owner", "hash" },
};
_Static_assert(sizeof s_fixed / sizeof *s_fixed == CF_KEYS_FIXED - CF_FAMILY_COUNT,
               "a fixed key without its row");

#define PUB(name)       { "cf:{pub}:" name, name }
static const struct {
    const char *key, *name;
} s_pub[] = {
    [CF_KEYS_PUB_CURSOR] = PUB("cursor"), [CF_KEYS_PUB_RETURNS] = PUB("returns"),
    [CF_KEYS_PUB_MARKS] = PUB("marks"), [CF_KEYS_PUB_OUTBOX] = PUB("outbox"),
    [CF_KEYS_PUB_FIGURES] = PUB("figures"), [CF_KEYS_PUB_OPEN] = PUB("open"),
    [CF_KEYS_PUB_LAST] = PUB("last"), [CF_KEYS_PUB_READER] = PUB("reader"),
};
_Static_assert(sizeof s_pub / sizeof *s_pub == CF_KEYS_PUB_COUNT, "a publisher key unnamed");

/* snprintf that must fit (cf_fmt: the same bytes, made faster). */
static size_t keys_format(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static size_t keys_format(char *buf, size_t size, const char *fmt, ...)
{
    assert(buf && size > 0);
    va_list args;
    va_start(args, fmt);
    int len = cf_fmt_v(buf, size, fmt, args);
    va_end(args);
    assert(len > 0 && (size_t) len < size);
    return (size_t) len;
}

const char *cf_keys_fixed_name(int key)
{
    if (key >= 0 && key < CF_FAMILY_COUNT)
        return cf_vocab_family_name(key);
    return key >= CF_FAMILY_COUNT && key < CF_KEYS_FIXED ? s_fixed[key - CF_FAMILY_COUNT].name
                                                         : NULL;
}

const char *cf_keys_fixed_type(int key)
{
    if (key >= 0 && key < CF_FAMILY_COUNT)
        return "hash";
    return key >= CF_FAMILY_COUNT && key < CF_KEYS_FIXED ? s_fixed[key - CF_FAMILY_COUNT].type
                                                         : NULL;
}

/* The names a worker makes several times per event (fixed, case, eid) are
   put together by hand from their parts, "cf:{s<shard>}:" first: the bytes
   keys_format would make of the formats in their comments (unit.cf_keys
   compares them), at a fraction of the cost. keys_put appends n bytes at
   *at, which must fit with the NUL (a name that does not is cut, as
   snprintf would, and asserted against). */
static void keys_put(char *buf, size_t size, size_t *at, const char *s, size_t n)
{
    assert(size > 0 && *at + n < size);
    if (*at + n >= size)
        n = size - 1 - *at;
    memcpy(buf + *at, s, n);
    *at += n;
}

static size_t keys_shard(char *buf, size_t size, unsigned shard)
{
    char digits[CF_FMT_INT_MAX];
    size_t at = 0;
    keys_put(buf, size, &at, "cf:{s", 5);
    keys_put(buf, size, &at, digits, cf_fmt_u64(digits, shard));
    keys_put(buf, size, &at, "}:", 2);
    return at;
}

/* "cf:{s%u}:%s" */
size_t cf_keys_fixed(char *buf, size_t size, unsigned shard, int key)
{
    const char *name = cf_keys_fixed_name(key);
    assert(buf && name);
    size_t at = keys_shard(buf, size, shard);
    keys_put(buf, size, &at, name, strlen(name));
    buf[at] = '\0';
    return at;
}

/* "cf:{s%u}:case:%.*s" */
size_t cf_keys_case(char *buf, size_t size, unsigned shard, const char *case_id, size_t len)
{
    assert(buf && case_id);
    size_t at = keys_shard(buf, size, shard);
    keys_put(buf, size, &at, "case:", 5);
    keys_put(buf, size, &at, case_id, strnlen(case_id, len));
    buf[at] = '\0';
    return at;
}

/* The marker's hash: of the case with its terminator ("ab"+"c" is not
   "a"+"bc"), when there is one, and the event id. Cryptographic, so that
   no producer can make its event id collide with another's and have that
   one taken for a duplicate. */
static void keys_eid_hash(const char *case_id, const char *event_id, unsigned char hash[16])
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, 16);
    if (case_id && *case_id)
        crypto_generichash_update(&state, (const unsigned char *) case_id, strlen(case_id) + 1);
    crypto_generichash_update(&state, (const unsigned char *) event_id, strlen(event_id));
    crypto_generichash_final(&state, hash, 16);
}

/* A bucket from bytes 12..15 of a 16-byte hash. */
static unsigned keys_eid_bucket(const unsigned char hash[16])
{
    uint32_t b = (uint32_t) hash[12] | (uint32_t) hash[13] << 8 | (uint32_t) hash[14] << 16
               | (uint32_t) hash[15] << 24;
    return b % CF_KEYS_EID_BUCKETS;
}

unsigned cf_keys_eid_case_bucket(const char *case_id)
{
    assert(case_id && *case_id);
    unsigned char hash[16];     /* every event of the case in one bucket */
    crypto_generichash(hash, sizeof hash, (const unsigned char *) case_id, strlen(case_id),
                       NULL, 0);
    return keys_eid_bucket(hash);
}

void cf_keys_eid_case_digest(const char *case_id, const char *event_id,
                             unsigned char digest[CF_KEYS_EID_DIGEST])
{
    assert(case_id && *case_id && event_id && digest);
    unsigned char hash[16];
    keys_eid_hash(case_id, event_id, hash);
    memcpy(digest, hash, CF_KEYS_EID_DIGEST);
}

unsigned cf_keys_eid_digest(const char *case_id, const char *event_id,
                            unsigned char digest[CF_KEYS_EID_DIGEST])
{
    assert(event_id && digest);
    if (case_id && *case_id) {
        cf_keys_eid_case_digest(case_id, event_id, digest);
        return cf_keys_eid_case_bucket(case_id);
    }
    unsigned char hash[16];
    keys_eid_hash(NULL, event_id, hash);
    memcpy(digest, hash, CF_KEYS_EID_DIGEST);
    return keys_eid_bucket(hash);
}

long long cf_keys_eid_value(long long generation, long long tag)
{
    assert(generation >= 0 && generation < (1LL << (63 - CF_KEYS_EID_TAG_BITS))
           && tag >= 0 && tag < (1LL << CF_KEYS_EID_TAG_BITS));
    return generation << CF_KEYS_EID_TAG_BITS | tag;
}

int cf_keys_eid_value_parse(const char *value, size_t len, long long *generation,
                            long long *tag)
{
    assert(value && generation && tag);
    long long v = 0;
    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int d = value[i] - '0';
        if (d < 0 || d > 9 || (i == 0 && d == 0 && len > 1) || v > (LLONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *generation = v >> CF_KEYS_EID_TAG_BITS;
    *tag = v & ((1LL << CF_KEYS_EID_TAG_BITS) - 1);
    return 0;
}

size_t cf_keys_eid(char *buf, size_t size, unsigned shard, unsigned bucket)
{
    assert(buf && bucket < CF_KEYS_EID_BUCKETS);
    /* "cf:{s%u}:eid:%u" */
    char digits[CF_FMT_INT_MAX];
    size_t at = keys_shard(buf, size, shard);
    keys_put(buf, size, &at, "eid:", 4);
    keys_put(buf, size, &at, digits, cf_fmt_u64(digits, bucket));
    buf[at] = '\0';
    return at;
}

size_t cf_keys_rejection(char *buf, size_t size, unsigned shard, const char *event_id,
                         const char *field)
{
    assert(event_id && field);
    return keys_format(buf, size, "cf:{s%u}:rej:%s|%s", shard, event_id, field);
}

const char *cf_keys_pub(int key)
{
    return key >= 0 && key < CF_KEYS_PUB_COUNT ? s_pub[key].key : NULL;
}

const char *cf_keys_pub_name(int key)
{
    return key >= 0 && key < CF_KEYS_PUB_COUNT ? s_pub[key].name : NULL;
}

size_t cf_keys_dlq_try(char *buf, size_t size, const char *event_id)
{
    assert(event_id);
    return keys_format(buf, size, "cf:{dlq}:try:%s", event_id);
}

size_t cf_keys_dlq_dead(char *buf, size_t size, const char *event_id)
{
    assert(event_id);
    return keys_format(buf, size, "cf:{dlq}:dead:%s", event_id);
}

size_t cf_keys_alert_sink(char *buf, size_t size, const char *sink)
{
    assert(sink);
    return keys_format(buf, size, "cf:alert:sink:%s", sink);
}

size_t cf_keys_alert_dead(char *buf, size_t size, const char *sink)
{
    assert(sink);
    return keys_format(buf, size, "cf:alert:dead:%s", sink);
}
