/*  Tests of cf_outbox's packs, the messages its thread hands the broker's
    loop: entries come out as they went in, in order, empty parts too, and
    a pack cut short ends at its last whole entry. (The thread itself, with
    Redis, is integration.notifications's.)                                 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "cf_outbox.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
