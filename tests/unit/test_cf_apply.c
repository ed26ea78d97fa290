/*  Tests of cf_apply against a throw-away redis-server: one ack per frame in
    frame order (accepted, rejected with its reason, duplicate), the case and
    reject notifications, the pseudonym in place of the raw case_ref, and that
    a run against a dead Redis acks nothing and can be run again.           */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "caseflow/cf_apply.h"
#include "caseflow/cf_proto.h"
#include "cf_test_redis.h"

#define RAW_REF "BEL-2019-000123"

typedef struct {
    cf_test_redis_t *redis;
    cf_pseudo_t *pseudo;
    cf_store_t *store;
    cf_apply_t *apply;
    char key_path[64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->key_path, sizeof f->key_path, "/tmp/cf_apply_test_%d.key", (int) getpid());
    FILE *file = fopen(f->key_path, "w");
    fputs("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", file);
    fclose(file);
    char err[256];
    f->pseudo = cf_pseudo_new(f->key_path, err, sizeof err);
    f->redis = cf_test_redis_start();
    if (!f->pseudo || !f->redis)
        return -1;
    f->store = cf_store_new("127.0.0.1", cf_test_redis_port(f->redis), CF_SOURCE_DIR "/lua");
    if (cf_store_connect(f->store) < 0)
        return -1;
    f->apply = cf_apply_new(f->pseudo, f->store);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cf_apply_destroy(&f->apply);
    cf_store_destroy(&f->store);
    cf_pseudo_destroy(&f->pseudo);
    cf_test_redis_stop(&f->redis);
    unlink(f->key_path);
    free(f);
    return 0;
}

static void pack_kv(msgpack_packer *pk, const char *key, const char *value)
{
    msgpack_pack_str(pk, strlen(key));
    msgpack_pack_str_body(pk, key, strlen(key));
    msgpack_pack_str(pk, strlen(value));
    msgpack_pack_str_body(pk, value, strlen(value));
}

static void pack_registration(msgpack_sbuffer *sbuf, const char *event_id)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 10);
    pack_kv(&pk, "event_id", event_id);
    pack_kv(&pk, "event_type", "case.registered");
    msgpack_pack_str(&pk, 14);
    msgpack_pack_str_body(&pk, "schema_version", 14);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str(&pk, 11);
    msgpack_pack_str_body(&pk, "occurred_at", 11);
    msgpack_pack_int64(&pk, 1554076800000LL);
    pack_kv(&pk, "case_ref", RAW_REF);
    pack_kv(&pk, "programme", "CH-AVR");
    pack_kv(&pk, "programme_type", "avrr");
    pack_kv(&pk, "host_country", "CHE");
    pack_kv(&pk, "origin_country", "SRB");
    msgpack_pack_str(&pk, 7);
    msgpack_pack_str_body(&pk, "persons", 7);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 3);
    pack_kv(&pk, "sex", "f");
    pack_kv(&pk, "age_band", "18-59");
    pack_kv(&pk, "role", "principal");
}

static int body_contains(const char *body, size_t len, const char *text)
{
    return memmem(body, len, text, strlen(text)) != NULL;
}

static void test_acks_and_notifications(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer good;
    msgpack_sbuffer_init(&good);
    pack_registration(&good, "ev-1");
    const void *frames[] = { good.data, "\xc1garbage", good.data };
    size_t sizes[] = { good.size, 8, good.size };
    assert_int_equal(cf_apply_run(f->apply, frames, sizes, 3), 0);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_ACCEPTED), 1);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_REJECTED), 1);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_DUPLICATE), 1);   /* same id in one job */

    const msgpack_sbuffer *body = cf_apply_acks(f->apply);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    cf_ack_t acks[3];
    assert_int_equal(cf_proto_unpack_acks(&result, body->data, body->size, acks, 3), 3);
    assert_int_equal(acks[0].status, CF_ACK_ACCEPTED);
    assert_int_equal(acks[0].event_id_len, 4);
    assert_memory_equal(acks[0].event_id, "ev-1", 4);
    assert_int_equal(acks[1].status, CF_ACK_REJECTED);
    assert_true(acks[1].reason_len > 6 && memcmp(acks[1].reason, "event:", 6) == 0);
    assert_int_equal(acks[2].status, CF_ACK_DUPLICATE);
    msgpack_unpacked_destroy(&result);

    /* case.CH-AVR.registered carrying the pseudonym, and one reject. */
    size_t count = cf_apply_notifications(f->apply);
    assert_int_equal(count, 2);
    int cases = 0, rejects = 0;
    for (size_t i = 0; i < count; i++) {
        const char *topic, *note;
        size_t topic_len, note_len;
        cf_apply_notification(f->apply, i, &topic, &topic_len, &note, &note_len);
        assert_false(body_contains(note, note_len, RAW_REF));
        if (topic_len == 22 && memcmp(topic, "case.CH-AVR.registered", 22) == 0) {
            assert_true(body_contains(note, note_len, "1a75ba782c69c616effad62ef0c836e5"));
            cases++;
        } else if (topic_len == 6 && memcmp(topic, "reject", 6) == 0) {
            rejects++;
        }
    }
    assert_int_equal(cases, 1);
    assert_int_equal(rejects, 1);

    /* Sent again: duplicate, and no second case notification. */
    assert_int_equal(cf_apply_run(f->apply, frames, sizes, 1), 0);
    assert_int_equal(cf_apply_count(f->apply, CF_ACK_DUPLICATE), 1);
    assert_int_equal(cf_apply_notifications(f->apply), 0);
    msgpack_sbuffer_destroy(&good);
}

static void test_dead_redis_acks_nothing(void **state)
{
    fixture_t *f = *state;
    msgpack_sbuffer good;
    msgpack_sbuffer_init(&good);
    pack_registration(&good, "ev-2");
    const void *frames[] = { good.data };
    size_t sizes[] = { good.size };
    cf_test_redis_stop(&f->redis);
    assert_int_equal(cf_apply_run(f->apply, frames, sizes, 1), -1);
    assert_true(strlen(cf_apply_error(f->apply)) > 0);
    msgpack_sbuffer_destroy(&good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acks_and_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_redis_acks_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
