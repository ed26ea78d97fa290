/*  Tests of cf_redis_slot: CRC16 against its check value; key slots
    against what Redis 7.0's CLUSTER KEYSLOT answered for the same keys
    (hash tags included: caseflow's shard, publisher and dead-letter tags);
    every key of a shard in that shard's slot; the redirection errors Redis
    sends, and malformed ones, which stay ordinary errors.                   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_redis_slot.h"

static int slot_of(const char *key)
{
    return cf_redis_slot(key, strlen(key));
}

static void test_crc_and_slots(void **state)
{
    (void) state;
    assert_int_equal(cf_redis_crc16("123456789", 9), 0x31C3);   /* CRC-16/XMODEM check */
    assert_int_equal(cf_redis_crc16("", 0), 0);
    /* CLUSTER KEYSLOT on redis-server 7.0.15 */
    assert_int_equal(slot_of("foo"), 12182);
    assert_int_equal(slot_of("bar"), 5061);
    assert_int_equal(slot_of("hello"), 866);
    assert_int_equal(slot_of("somekey"), 11058);
    assert_int_equal(slot_of("{s0}"), 11097);
    assert_int_equal(slot_of("{s1}"), 15224);
    assert_int_equal(slot_of("{s63}"), 10331);
    assert_int_equal(slot_of("{pub}"), 9024);
    assert_int_equal(slot_of("{dlq}"), 10074);
    assert_int_equal(slot_of("cf:shards"), 12872);
    /* hash tags: the first '{' to the next '}', when not empty */
    assert_int_equal(slot_of("{user1000}.following"), 3443);
    assert_int_equal(slot_of("{user1000}.followers"), 3443);
    assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
    assert_int_equal(slot_of("foo{}{bar}"), 8363);          /* "{}": the whole key */
    assert_int_equal(slot_of("foo{{bar}}zap"), 4015);       /* the tag is "{bar" */
    assert_int_equal(slot_of("foo{bar"), cf_redis_crc16("foo{bar", 7) & 16383);
    assert_int_equal(cf_redis_slot("", 0), 0);
    /* a binary key: the length counts, not a NUL */
    assert_int_equal(cf_redis_slot("{a\0b}x", 6), cf_redis_crc16("a\0b", 3) & 16383);
}

static void test_shard_keys_share_a_slot(void **state)
{
    (void) state;
    for (int shard = 0; shard < 64; shard++) {
        char tag[16], key[64];
        snprintf(tag, sizeof tag, "{s%d}", shard);
        int slot = slot_of(tag);
        assert_true(slot >= 0 && slot < CF_REDIS_SLOTS);
        const char *suffixes[] = { "outbox", "due", "case:BEL-1", "returns" };
        for (size_t i = 0; i < 4; i++) {
            snprintf(key, sizeof key, "cf:%s:%s", tag, suffixes[i]);
            assert_int_equal(slot_of(key), slot);
        }
    }
}

static void test_redirections(void **state)
{
    (void) state;
    cf_redis_redirect_t r;
    const char *moved = "MOVED 12182 127.0.0.1:12815";   /* as Redis 7.0 sent it */
    assert_int_equal(cf_redis_redirect_parse(moved, strlen(moved), &r), CF_REDIS_REDIRECT_MOVED);
    assert_int_equal(r.slot, 12182);
    assert_string_equal(r.host, "127.0.0.1");
    assert_int_equal(r.port, 12815);
    const char *ask = "ASK 3999 10.0.0.7:6381";
    assert_int_equal(cf_redis_redirect_parse(ask, strlen(ask), &r), CF_REDIS_REDIRECT_ASK);
    assert_int_equal(r.slot, 3999);
    assert_string_equal(r.host, "10.0.0.7");
    assert_int_equal(r.port, 6381);
    /* no host: the node that answered; IPv6: split at the last ':' */
    assert_int_equal(cf_redis_redirect_parse("MOVED 1 :6380", 13, &r), CF_REDIS_REDIRECT_MOVED);
    assert_string_equal(r.host, "");
    assert_int_equal(r.port, 6380);
    assert_int_equal(cf_redis_redirect_parse("ASK 16383 ::1:7000", 18, &r), CF_REDIS_REDIRECT_ASK);
    assert_string_equal(r.host, "::1");
    assert_int_equal(r.slot, 16383);
    const char *again = "TRYAGAIN Multiple keys request during rehashing of slot";
    assert_int_equal(cf_redis_redirect_parse(again, strlen(again), &r),
                     CF_REDIS_REDIRECT_TRYAGAIN);
    /* only the given length is read */
    assert_int_equal(cf_redis_redirect_parse("MOVED 1 h:12345", 13, &r), CF_REDIS_REDIRECT_MOVED);
    assert_int_equal(r.port, 123);
    const char *not_redirects[] = {
        "ERR unknown command", "MOVED", "MOVED x h:1", "MOVED 16384 h:1", "MOVED 1 h:0",
        "MOVED 1 h", "MOVED 1 h:70000", "MOVED 1 h:12x", "ASK 1h:1", "MOVED -1 h:1",
        "CROSSSLOT Keys in request don't hash to the same slot", "moved 1 h:1",
    };
    for (size_t i = 0; i < sizeof not_redirects / sizeof *not_redirects; i++) {
        r.kind = CF_REDIS_REDIRECT_ASK;
        assert_int_equal(cf_redis_redirect_parse(not_redirects[i], strlen(not_redirects[i]), &r),
                         CF_REDIS_REDIRECT_NONE);
        assert_int_equal(r.kind, CF_REDIS_REDIRECT_NONE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_and_slots),
        cmocka_unit_test(test_shard_keys_share_a_slot),
        cmocka_unit_test(test_redirections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
