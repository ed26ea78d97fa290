/*  Tests of cf_outbox's packs, the messages its thread hands the broker's
    loop: entries come out as they went in, in order, empty parts too, and
    a pack cut short ends at its last whole entry; and of its XREAD replies
    made in an arena (cf_outbox_reply.c): the same trees as hiredis's, on a
    throw-away redis-server, for entries, a body larger than a chunk, no
    entries and an error, and the connection usable after. (The thread
    itself is integration.notifications's.)                                 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "cf_outbox.h"
#include "cf_outbox_internal.h"
#include "cf_test_redis.h"
#include "caseflow/cf_alloc.h"

static void test_pack_round_trip(void **state)
{
    (void) state;
    static const cf_outbox_entry_t in[] = {
        { "case.CH-AVR.arrived", "\x81\xa1" "a\x01", "s3-1733380000000-0", 19, 5, 18 },
        { "", "", "", 0, 0, 0 },
        { "alert.overdue.x", "\x80", "p-1-1", 15, 1, 5 },
    };
    msgpack_sbuffer pack;
    msgpack_sbuffer_init(&pack);
    size_t ends[3];
    for (size_t i = 0; i < 3; i++) {
        cf_outbox_pack_entry(&pack, &in[i]);
        ends[i] = pack.size;
    }
    cf_outbox_entry_t out;
    size_t pos = 0;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(cf_outbox_entry_next(pack.data, pack.size, &pos, &out), 0);
        assert_int_equal(pos, ends[i]);
        assert_int_equal(out.topic_len, in[i].topic_len);
        assert_int_equal(out.body_len, in[i].body_len);
        assert_int_equal(out.id_len, in[i].id_len);
        assert_memory_equal(out.topic, in[i].topic, in[i].topic_len);
        assert_memory_equal(out.body, in[i].body, in[i].body_len);
        assert_memory_equal(out.id, in[i].id, in[i].id_len);
    }
    assert_int_equal(cf_outbox_entry_next(pack.data, pack.size, &pos, &out), -1);
    for (size_t cut = 0; cut < pack.size; cut++) {  /* whole entries only */
        size_t n = 0;
        pos = 0;
        while (cf_outbox_entry_next(pack.data, cut, &pos, &out) == 0)
            n++;
        assert_int_equal(n, cut >= ends[1] ? 2 : cut >= ends[0] ? 1 : 0);
    }
    assert_int_equal(cf_outbox_entry_next(NULL, 0, &pos, &out), -1);
    msgpack_sbuffer_destroy(&pack);
}

/* Whether two reply trees are the same. */
static bool same_reply(const redisReply *a, const redisReply *b)
{
    if (a->type != b->type || a->integer != b->integer || a->len != b->len
        || a->elements != b->elements || (a->str == NULL) != (b->str == NULL)
        || (a->str && memcmp(a->str, b->str, a->len + 1) != 0))
        return false;
    for (size_t i = 0; i < a->elements; i++)
        if (!same_reply(a->element[i], b->element[i]))
            return false;
    return true;
}

/* The command both ways: hiredis's tree and the arena's are the same. */
static void check_command(outbox_replies_t *replies, redisContext *c, int argc, const char **argv)
{
    redisReply *own = redisCommandArgv(c, argc, argv, NULL);
    assert_non_null(own);
    const redisReply *arena = cf_outbox_replies_command(replies, c, argc, argv, NULL);
    assert_non_null(arena);
    assert_true(same_reply(own, arena));
    freeReplyObject(own);
}

static void test_replies_in_arena(void **state)
{
    (void) state;
    cf_test_redis_t *server = cf_test_redis_start();
    assert_non_null(server);
    redisContext *c = redisConnect("127.0.0.1", cf_test_redis_port(server));
    assert_true(c && !c->err);
    size_t big_len = 200000;            /* more than a chunk */
    char *big = cf_malloc(big_len);
    memset(big, 'b', big_len);
    for (int i = 0; i < 300; i++)
        freeReplyObject(redisCommand(c, "XADD s * topic case.CH-AVR.arrived body %b",
                                     "\x81\xa1x\x01", (size_t) 4));
    freeReplyObject(redisCommand(c, "XADD s * topic t body %b", big, big_len));
    freeReplyObject(redisCommand(c, "SET k v"));
    outbox_replies_t *replies = cf_outbox_replies_new();
    const char *xread[] = { "XREAD", "COUNT", "1000", "STREAMS", "s", "none", "0-0", "0-0" };
    check_command(replies, c, 8, xread);                            /* entries, and a nil */
    const char *empty[] = { "XREAD", "STREAMS", "none", "0-0" };
    check_command(replies, c, 4, empty);                            /* nil */
    const char *wrong[] = { "XREAD", "STREAMS", "k", "0-0" };
    check_command(replies, c, 4, wrong);                            /* an error */
    const char *len[] = { "XLEN", "s" };
    check_command(replies, c, 2, len);                              /* an integer */
    redisReply *after = redisCommand(c, "GET k");                   /* hiredis's own again */
    assert_true(after && after->type == REDIS_REPLY_STRING && strcmp(after->str, "v") == 0);
    freeReplyObject(after);
    cf_outbox_replies_destroy(&replies);
    assert_null(replies);
    cf_outbox_replies_destroy(&replies);
    free(big);
    redisFree(c);
    cf_test_redis_stop(&server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_round_trip),
        cmocka_unit_test(test_replies_in_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
