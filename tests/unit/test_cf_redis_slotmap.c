/*  Tests of cf_redis_slotmap on recorded CLUSTER SLOTS replies: the one a
    3-master, 3-replica cluster made by cf_cluster_start (scripts/lib/
    cluster.sh) sent from redis-server 7.0.15, replicas included; a node
    without host; a MOVED's change; replies that are not a map, which leave
    the map as it was.                                                      */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "cf_redis_slotmap.h"
#include "cf_test_resp.h"


/* recorded from 127.0.0.1:19526, 2 s after redis-cli --cluster create */
static const char s_slots[] =
    "*3\r\n"
    "*4\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:19526\r\n$40\r\n"
    "2d2f62b59e31f0490ead4d8ff3bc331c7cfd96c2\r\n*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:27355\r\n$40\r\n"
    "933ccaf0b850e7c46882e177ad129f3309226cf4\r\n*0\r\n"
    "*4\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n127.0.0.1\r\n:24417\r\n$40\r\n"
    "3c2eb25db871f1316d748832a3aa8f5846079bba\r\n*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:17849\r\n$40\r\n"
    "fb4062796003c0a44754151f27e3801c7985efd0\r\n*0\r\n"
    "*4\r\n:10923\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:12815\r\n$40\r\n"
    "2056246493560f00cb2bbc1108b15434a4b20622\r\n*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:15656\r\n$40\r\n"
    "c4db8d239f1f326f374524cb23dd9d5a905e2fdc\r\n*0\r\n";

static int load(cf_redis_slotmap_t *map, const char *resp, char *err, size_t size)
{
    redisReply *reply = cf_test_resp(resp);
    int rc = cf_redis_slotmap_load(map, reply, "seed.example", err, size);
    freeReplyObject(reply);
    return rc;
}

static void test_recorded_with_replicas(void **state)
{
    (void) state;
    cf_redis_slotmap_t *map = cf_redis_slotmap_new();
    assert_int_equal(cf_redis_slotmap_unowned(map), 16384);
    assert_int_equal(cf_redis_slotmap_owner(map, 0), -1);
    char err[200] = "";
    assert_int_equal(load(map, s_slots, err, sizeof err), 0);
    assert_int_equal(cf_redis_slotmap_nodes(map), 6);
    assert_int_equal(cf_redis_slotmap_unowned(map), 0);
    const struct { int slot, port; } owners[] = {
        { 0, 19526 }, { 5460, 19526 }, { 5461, 24417 }, { 10922, 24417 },
        { 10923, 12815 }, { 16383, 12815 }, { 11097, 12815 } /* {s0} */,
    };
    for (size_t i = 0; i < sizeof owners / sizeof *owners; i++) {
        int node = cf_redis_slotmap_owner(map, owners[i].slot);
        assert_true(node >= 0);
        assert_string_equal(cf_redis_slotmap_host(map, node), "127.0.0.1");
        assert_int_equal(cf_redis_slotmap_port(map, node), owners[i].port);
        assert_int_equal(cf_redis_slotmap_master_of(map, node), -1);
    }
    /* each replica is known, with its master, and owns nothing */
    const struct { int replica, master; } pairs[] = {
        { 27355, 19526 }, { 17849, 24417 }, { 15656, 12815 },
    };
    for (size_t i = 0; i < 3; i++) {
        int replica = cf_redis_slotmap_find(map, "127.0.0.1", pairs[i].replica);
        int master = cf_redis_slotmap_find(map, "127.0.0.1", pairs[i].master);
        assert_true(replica >= 0 && master >= 0);
        assert_int_equal(cf_redis_slotmap_master_of(map, replica), master);
        for (int slot = 0; slot < 16384; slot++)
            assert_int_not_equal(cf_redis_slotmap_owner(map, slot), replica);
    }
    assert_int_equal(cf_redis_slotmap_find(map, "127.0.0.2", 19526), -1);
    /* a MOVED: the replica took over slot 7 (a failover) */
    int replica = cf_redis_slotmap_find(map, "127.0.0.1", 27355);
    cf_redis_slotmap_set_owner(map, 7, replica);
    assert_int_equal(cf_redis_slotmap_owner(map, 7), replica);
    assert_int_equal(cf_redis_slotmap_master_of(map, replica), -1);
    /* a MOVED to a node not seen yet */
    int fresh = cf_redis_slotmap_node(map, "127.0.0.1", 30001);
    assert_int_equal(fresh, 6);
    assert_int_equal(cf_redis_slotmap_node(map, "127.0.0.1", 30001), 6);
    cf_redis_slotmap_destroy(&map);
    assert_null(map);
    cf_redis_slotmap_destroy(&map);
}

static void test_host_and_partial(void **state)
{
    (void) state;
    cf_redis_slotmap_t *map = cf_redis_slotmap_new();
    char err[200] = "";
    /* an empty host: the node that answered; two ranges of one master */
    assert_int_equal(load(map, "*2\r\n*3\r\n:0\r\n:99\r\n*2\r\n$0\r\n\r\n:7000\r\n"
                               "*3\r\n:200\r\n:299\r\n*2\r\n$0\r\n\r\n:7000\r\n", err, sizeof err),
                     0);
    assert_int_equal(cf_redis_slotmap_nodes(map), 1);
    assert_string_equal(cf_redis_slotmap_host(map, 0), "seed.example");
    assert_int_equal(cf_redis_slotmap_owner(map, 250), 0);
    assert_int_equal(cf_redis_slotmap_owner(map, 150), -1);
    assert_int_equal(cf_redis_slotmap_unowned(map), 16384 - 200);
    /* a master of two ranges, its replica listed with each */
    assert_int_equal(load(map, "*2\r\n*4\r\n:0\r\n:9\r\n*2\r\n$1\r\nm\r\n:1\r\n"
                               "*2\r\n$1\r\nr\r\n:2\r\n*4\r\n:20\r\n:29\r\n"
                               "*2\r\n$1\r\nm\r\n:1\r\n*2\r\n$1\r\nr\r\n:2\r\n",
                          err, sizeof err), 0);
    assert_int_equal(cf_redis_slotmap_nodes(map), 2);
    assert_int_equal(cf_redis_slotmap_master_of(map, 1), 0);
    assert_int_equal(cf_redis_slotmap_owner(map, 25), 0);
    cf_redis_slotmap_destroy(&map);
}

static void test_refused_replies_keep_the_map(void **state)
{
    (void) state;
    cf_redis_slotmap_t *map = cf_redis_slotmap_new();
    char err[200] = "";
    assert_int_equal(load(map, s_slots, err, sizeof err), 0);
    const struct { const char *resp, *why; } bad[] = {
        { "-ERR This instance has cluster support disabled\r\n", "cluster support disabled" },
        { "-NOPERM this user has no permissions to run the 'cluster|slots' command\r\n",
          "NOPERM" },
        { "+OK\r\n", "not an array" },
        { "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n", "not within" },
        { "*1\r\n*3\r\n:9\r\n:8\r\n*2\r\n$1\r\nh\r\n:1\r\n", "not within" },
        { "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:0\r\n", "not an address" },
        { "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\n?\r\n:6379\r\n", "not an address" },
        { "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n:1\r\n:6379\r\n", "not [host, port" },
        { "*1\r\n*2\r\n:0\r\n:1\r\n", "not [start, end" },
        /* a node both master and replica (found by fuzz_redis_reply), or replica of two */
        { "*2\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n"
          "*4\r\n:2\r\n:3\r\n*2\r\n$1\r\nb\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n",
          "a:1 is listed as a master and as a replica" },
        { "*2\r\n*4\r\n:2\r\n:3\r\n*2\r\n$1\r\nb\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n"
          "*3\r\n:0\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n",
          "a:1 is listed as a master and as a replica" },
        { "*2\r\n*4\r\n:2\r\n:3\r\n*2\r\n$1\r\nb\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n"
          "*4\r\n:0\r\n:1\r\n*2\r\n$1\r\nc\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n",
          "a:1 is listed as a master and as a replica" },
        /* the first range good, the second not: nothing of it is kept */
        { "*2\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nx\r\n:1\r\n*1\r\n:5\r\n", "not [start" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(load(map, bad[i].resp, err, sizeof err), -1);
        if (!strstr(err, bad[i].why))
            fail_msg("reply %zu: '%s' does not say '%s'", i, err, bad[i].why);
        assert_int_equal(cf_redis_slotmap_nodes(map), 6);
        assert_int_equal(cf_redis_slotmap_unowned(map), 0);
        assert_int_equal(cf_redis_slotmap_port(map, cf_redis_slotmap_owner(map, 0)), 19526);
    }
    assert_int_equal(cf_redis_slotmap_load(map, NULL, "h", err, sizeof err), -1);
    cf_redis_slotmap_destroy(&map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_with_replicas),
        cmocka_unit_test(test_host_and_partial),
        cmocka_unit_test(test_refused_replies_keep_the_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
