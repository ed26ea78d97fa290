/*  Tests of cf_outbox's reader thread on a throw-away redis-server: its
    pacing (CF_OUTBOX_PACE_MS). Entries written one a millisecond are all
    handed over, each within the pace (plus what a shared machine's
    scheduling adds), by about one XREAD a pace where an unpaced reader
    sent one per entry or two; and the first entry after a quiet spell is
    not held back. (unit.cf_outbox has the packs and the commit.)          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include <zmq.h>
#include "cf_outbox.h"
#include "cf_test_redis.h"

#define THREAD_ENTRIES      300     /* written one a millisecond */
#define THREAD_SLACK_MS     150     /* what scheduling on a busy test machine may add */

static long long now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The XREADs Redis has run (INFO commandstats). */
static long long xread_calls(redisContext *c)
{
    redisReply *info = redisCommand(c, "INFO commandstats");
    assert_true(info && info->type == REDIS_REPLY_STRING);
    const char *at = strstr(info->str, "cmdstat_xread:calls=");
    long long calls = at ? strtoll(at + strlen("cmdstat_xread:calls="), NULL, 10) : 0;
    freeReplyObject(info);
    return calls;
}

/* Appends one notification to shard 0's outbox; returns its ms. */
static long long xadd(redisContext *c)
{
    static const char body[] = "\x81\xa7" "case_id" "\xa1" "c";       /* {case_id: "c"} */
    redisReply *id = redisCommand(c, "XADD cf:{s0}:outbox * topic case.X.arrived body %b", body,
                                  sizeof body - 1);
    assert_true(id && id->type == REDIS_REPLY_STRING);
    long long ms = strtoll(id->str, NULL, 10);
    freeReplyObject(id);
    return ms;
}

/* Takes the packs waiting on the pair (for up to wait_ms for the first):
   counts their entries and keeps the longest wait, from the entry's id
   (Redis's ms) to now. */
static void take(void *pair, int wait_ms, int *entries, long long *longest)
{
    zmq_pollitem_t item = { pair, 0, ZMQ_POLLIN, 0 };
    while (zmq_poll(&item, 1, wait_ms) == 1) {
        zmq_msg_t pack;
        zmq_msg_init(&pack);
        assert_true(zmq_msg_recv(&pack, pair, 0) >= 0);
        long long now = now_ms();
        cf_outbox_entry_t entry;
        for (size_t pos = 0;
             cf_outbox_entry_next(zmq_msg_data(&pack), zmq_msg_size(&pack), &pos, &entry) == 0;) {
            assert_true(entry.id_len > 3 && !memcmp(entry.id, "s0-", 3));
            long long wait = now - strtoll(entry.id + 3, NULL, 10);
            *longest = wait > *longest ? wait : *longest;
            ++*entries;
        }
        zmq_msg_close(&pack);
        wait_ms = 0;
    }
}

static void test_paced(void **state)
{
    (void) state;
    cf_test_redis_t *server = cf_test_redis_start();
    assert_non_null(server);
    redisContext *c = redisConnect("127.0.0.1", cf_test_redis_port(server));
    assert_true(c && !c->err);
    void *ctx = zmq_ctx_new();
    char err[256];
    cf_outbox_t *outbox = cf_outbox_new(ctx, "127.0.0.1", cf_test_redis_port(server), NULL, 1,
                                        "inproc://test-outbox-thread", CF_SOURCE_DIR "/lua", err,
                                        sizeof err);
    assert_non_null(outbox);
    void *pair = cf_outbox_socket(outbox);
    int entries = 0;
    long long longest = 0;
    /* quiet: the reader waits in XREAD's BLOCK; the first entry goes at once */
    usleep(300 * 1000);
    xadd(c);
    take(pair, 5000, &entries, &longest);
    assert_int_equal(entries, 1);
    assert_true(longest <= THREAD_SLACK_MS);
    /* busy: an entry a millisecond */
    long long xreads = xread_calls(c), started = now_ms();
    for (int i = 0; i < THREAD_ENTRIES; i++) {
        xadd(c);
        take(pair, 1, &entries, &longest);
    }
    long long elapsed = now_ms() - started;
    for (int tries = 0; entries < 1 + THREAD_ENTRIES && tries < 50; tries++)
        take(pair, 100, &entries, &longest);
    xreads = xread_calls(c) - xreads;
    print_message("%d entries in %lld ms: %lld XREADs, the longest wait %lld ms\n", entries,
                  elapsed, xreads, longest);
    assert_int_equal(entries, 1 + THREAD_ENTRIES);
    assert_true(longest <= CF_OUTBOX_PACE_MS + THREAD_SLACK_MS);
    assert_true(xreads <= elapsed / CF_OUTBOX_PACE_MS + 5);
    cf_outbox_destroy(&outbox);
    zmq_ctx_term(ctx);
    redisFree(c);
    cf_test_redis_stop(&server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
