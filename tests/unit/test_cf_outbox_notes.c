/*  Tests of cf_outbox_notes: an entry of the commit's layout (one packed
    value, compressed) holds its notifications in order, as do the packed
    value uncompressed, the pairs' layout and the first (topic, body, one);
    a packed value that is empty, truncated, has a length past its end,
    lacks a NUL or holds too many is none, and so is a compressed one that
    is truncated, garbled or gives another length than it holds; the notes
    of compressed entries stay until the reader is released; ids number an
    entry's notifications in the order of stream ids, and an entry's floor
    is its last; a stream's prefix names its shard, or the milestones';
    what is not a stream id, or too large to number, is refused.            */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_outbox_notes.h"
#include "cf_test_notes.h"

#define FIELDS_MAX (2 * CF_OUTBOX_NOTES_MAX + 2)

/* A field list as a reply holds it, of hand-made string replies. */
typedef struct {
    redisReply list, items[FIELDS_MAX];
    redisReply *pointers[FIELDS_MAX];
} fields_t;

static const redisReply *fields_of(fields_t *f, size_t n, const char *const *strings)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        f->items[i].type = REDIS_REPLY_STRING;
        f->items[i].str = (char *) strings[i];
        f->items[i].len = strlen(strings[i]);
        f->pointers[i] = &f->items[i];
    }
    f->list.type = REDIS_REPLY_ARRAY;
    f->list.elements = n;
    f->list.element = f->pointers;
    return &f->list;
}

static void assert_note(cf_outbox_note_t note, const char *topic, const char *body)
{
    assert_int_equal(note.topic_len, strlen(topic));
    assert_memory_equal(note.topic, topic, note.topic_len);
    assert_int_equal(note.body_len, strlen(body));
    assert_memory_equal(note.body, body, note.body_len);
}

static void test_layouts(void **state)
{
    (void) state;
    fields_t f;
    const char *commit[] = { "case.A.registered", "b1", "alert.x", "b2", "case.A.closed", "b3" };
    const redisReply *fields = fields_of(&f, 6, commit);
    assert_int_equal(cf_test_notes_count(fields), 3);
    assert_note(cf_test_notes_get(fields, 0), "case.A.registered", "b1");
    assert_note(cf_test_notes_get(fields, 1), "alert.x", "b2");
    assert_note(cf_test_notes_get(fields, 2), "case.A.closed", "b3");

    const char *first[] = { "topic", "milestone.A", "body", "b" };
    fields = fields_of(&f, 4, first);
    assert_int_equal(cf_test_notes_count(fields), 1);
    assert_note(cf_test_notes_get(fields, 0), "milestone.A", "b");

    /* two of the commit's layout are two, whatever their topics */
    const char *two[] = { "case.A.registered", "topic", "case.B.registered", "body" };
    fields = fields_of(&f, 4, two);
    assert_int_equal(cf_test_notes_count(fields), 2);
    assert_note(cf_test_notes_get(fields, 1), "case.B.registered", "body");
}

/* A packed value of n notifications "t<i>" / "body<i>" into buf: its
   length. */
static size_t packed_of(char *buf, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        char topic[32], body[32];     /* any size_t in decimal */
        snprintf(topic, sizeof topic, "t%zu", i);
        snprintf(body, sizeof body, "body%zu", i);
        at += cf_outbox_notes_pack(buf + at, topic, strlen(topic), body, strlen(body));
    }
    return at;
}

/* Entry {CF_OUTBOX_NOTES_FIELD: value (len bytes)} into f. */
static const redisReply *packed_fields(fields_t *f, const char *value, size_t len)
{
    const char *strings[] = { CF_OUTBOX_NOTES_FIELD, "" };
    const redisReply *fields = fields_of(f, 2, strings);
    f->items[1].str = (char *) value;
    f->items[1].len = len;
    return fields;
}

static void test_packed(void **state)
{
    (void) state;
    fields_t f;
    static char buf[(CF_OUTBOX_NOTES_MAX + 1) * 32];
    size_t len = packed_of(buf, 3);
    assert_int_equal(len, 3 * (4 + 2 + 1 + 4 + 5 + 1));
    const redisReply *fields = packed_fields(&f, buf, len);
    assert_int_equal(cf_test_notes_count(fields), 3);
    for (size_t k = 0; k < 3; k++) {
        char topic[32], body[32];     /* any size_t in decimal */
        snprintf(topic, sizeof topic, "t%zu", k);
        snprintf(body, sizeof body, "body%zu", k);
        cf_outbox_note_t note = cf_test_notes_get(fields, k);
        assert_note(note, topic, body);
        assert_string_equal(note.topic, topic);         /* NUL-terminated, as hiredis's */
        assert_string_equal(note.body, body);
    }

    /* bytes of any value, an empty body */
    const char body[] = { 'a', 0, (char) 0xff };
    len = cf_outbox_notes_pack(buf, "case.A.closed", 13, body, sizeof body);
    len += cf_outbox_notes_pack(buf + len, "alert.x", 7, NULL, 0);
    fields = packed_fields(&f, buf, len);
    assert_int_equal(cf_test_notes_count(fields), 2);
    cf_outbox_note_t one = cf_test_notes_get(fields, 0), two = cf_test_notes_get(fields, 1);
    assert_int_equal(one.body_len, 3);
    assert_memory_equal(one.body, body, 3);
    assert_note(two, "alert.x", "");

    len = packed_of(buf, CF_OUTBOX_NOTES_MAX);
    assert_int_equal(cf_test_notes_count(packed_fields(&f, buf, len)), CF_OUTBOX_NOTES_MAX);
    assert_note(cf_test_notes_get(packed_fields(&f, buf, len), CF_OUTBOX_NOTES_MAX - 1),
                "t255", "body255");
}

static void test_packed_malformed(void **state)
{
    (void) state;
    fields_t f;
    static char buf[(CF_OUTBOX_NOTES_MAX + 1) * 32];
    size_t len = packed_of(buf, CF_OUTBOX_NOTES_MAX + 1);          /* too many */
    assert_int_equal(cf_test_notes_count(packed_fields(&f, buf, len)), 0);
    assert_int_equal(cf_test_notes_count(packed_fields(&f, buf, 0)), 0);     /* none */

    len = packed_of(buf, 2);
    for (size_t cut = 1; cut < len; cut++)  /* truncated anywhere: between the two, one */
        assert_int_equal(cf_test_notes_count(packed_fields(&f, buf, cut)), cut == len / 2);
    assert_int_equal(cf_test_notes_count(packed_fields(&f, buf, len)), 2);

    /* a topic's, then a body's length past the end: far, or by its NUL alone
       (the length running to the value's last byte) */
    len = packed_of(buf, 1);                                    /* 4 t0 \0 4 body0 \0 */
    assert_int_equal(len, 17);
    const size_t at[] = { 0, 7 }, past[][3] = { { 0xffffffff, 0x80000000, 17 - 4 },
                                                { 0xffffffff, 0x80000000, 17 - 11 } };
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 3; j++) {
            len = packed_of(buf, 1);
            for (int b = 0; b < 4; b++)
                buf[at[i] + (size_t) b] = (char) (past[i][j] >> (8 * b) & 0xff);
            assert_int_equal(cf_test_notes_count(packed_fields(&f, buf, len)), 0);
        }

    len = packed_of(buf, 1);                                    /* a topic's NUL missing */
    buf[4 + 2] = 'x';
    assert_int_equal(cf_test_notes_count(packed_fields(&f, buf, len)), 0);
    len = packed_of(buf, 1);                                    /* a body's NUL missing */
    buf[len - 1] = 'x';
    assert_int_equal(cf_test_notes_count(packed_fields(&f, buf, len)), 0);

    /* the field with anything but one value is not the packed layout */
    const char *four[] = { CF_OUTBOX_NOTES_FIELD, "x", "t", "b" };
    assert_int_equal(cf_test_notes_count(fields_of(&f, 4, four)), 2);     /* pairs */
    const char *four_z[] = { CF_OUTBOX_NOTES_LZ4_FIELD, "x", "t", "b" };
    assert_int_equal(cf_test_notes_count(fields_of(&f, 4, four_z)), 2);
}

/* Entry {CF_OUTBOX_NOTES_LZ4_FIELD: packed value (len bytes) compressed}
   into f, the value into out (cf_outbox_notes_compress_bound(len)). */
static const redisReply *compressed_fields(fields_t *f, char *out, const char *packed,
                                           size_t len, size_t *out_len)
{
    *out_len = cf_outbox_notes_compress(out, packed, len);
    assert_true(*out_len <= cf_outbox_notes_compress_bound(len));
    const redisReply *fields = packed_fields(f, out, *out_len);
    f->items[0].str = (char *) CF_OUTBOX_NOTES_LZ4_FIELD;
    f->items[0].len = strlen(CF_OUTBOX_NOTES_LZ4_FIELD);
    return fields;
}

static void test_compressed(void **state)
{
    (void) state;
    fields_t f, g;
    static char buf[(CF_OUTBOX_NOTES_MAX + 1) * 32], out[(CF_OUTBOX_NOTES_MAX + 1) * 64],
                other[64];
    size_t len = packed_of(buf, CF_OUTBOX_NOTES_MAX), out_len;
    const redisReply *fields = compressed_fields(&f, out, buf, len, &out_len);
    assert_true(out_len < len / 2);                 /* notes alike compress well */
    assert_int_equal(cf_outbox_notes_read(cf_test_notes_reader(), fields), CF_OUTBOX_NOTES_MAX);
    for (size_t k = 0; k < CF_OUTBOX_NOTES_MAX; k++) {
        char topic[32], body[32];     /* any size_t in decimal */
        snprintf(topic, sizeof topic, "t%zu", k);
        snprintf(body, sizeof body, "body%zu", k);
        cf_outbox_note_t note = cf_outbox_notes_get(cf_test_notes_reader(), k);
        assert_note(note, topic, body);
        assert_string_equal(note.topic, topic);         /* NUL-terminated */
        assert_string_equal(note.body, body);
    }
    /* a second entry's read keeps the first's notes until the release */
    cf_outbox_note_t first = cf_outbox_notes_get(cf_test_notes_reader(), 7);
    size_t small = cf_outbox_notes_pack(buf, "case.A.closed", 13, "b", 1), small_out;
    assert_int_equal(cf_outbox_notes_read(cf_test_notes_reader(),
                                          compressed_fields(&g, other, buf, small, &small_out)), 1);
    assert_note(cf_outbox_notes_get(cf_test_notes_reader(), 0), "case.A.closed", "b");
    assert_note(first, "t7", "body7");
    cf_outbox_notes_release(cf_test_notes_reader());
    cf_outbox_notes_release(cf_test_notes_reader());              /* twice: nothing left to free */
}

static void test_compressed_malformed(void **state)
{
    (void) state;
    fields_t f;
    static char buf[(CF_OUTBOX_NOTES_MAX + 1) * 32], out[(CF_OUTBOX_NOTES_MAX + 1) * 64];
    size_t len = packed_of(buf, 40), out_len;
    const redisReply *fields = compressed_fields(&f, out, buf, len, &out_len);
    assert_int_equal(cf_test_notes_count(fields), 40);
    for (size_t cut = 0; cut < out_len; cut++) {     /* truncated anywhere */
        f.items[1].len = cut;
        assert_int_equal(cf_test_notes_count(fields), 0);
    }
    f.items[1].len = out_len;
    /* a length other than the block's, one either side, larger than its
       bytes can hold, past the limit, none */
    const size_t lengths[] = { len - 1, len + 1, 255 * out_len + 1000, 0xffffffff,
                               CF_OUTBOX_NOTES_MAX_BYTES + 1, 0 };
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        for (int b = 0; b < 4; b++)
            out[b] = (char) (lengths[i] >> (8 * b) & 0xff);
        assert_int_equal(cf_test_notes_count(fields), 0);
    }
    for (int b = 0; b < 4; b++)
        out[b] = (char) (len >> (8 * b) & 0xff);
    assert_int_equal(cf_test_notes_count(fields), 40);
    for (size_t at = 4; at < out_len; at++) {   /* garbled: refused, or notes whole */
        char was = out[at];
        out[at] = (char) ~was;
        size_t n = cf_test_notes_count(fields);
        for (size_t k = 0; k < n; k++) {
            cf_outbox_note_t note = cf_outbox_notes_get(cf_test_notes_reader(), k);
            assert_int_equal(note.topic[note.topic_len], '\0');
            assert_int_equal(note.body[note.body_len], '\0');
        }
        out[at] = was;
    }
    /* a value that decompresses to a malformed packed one: none */
    len = packed_of(buf, 2);
    buf[len - 1] = 'x';                             /* the last body's NUL */
    assert_int_equal(cf_test_notes_count(compressed_fields(&f, out, buf, len, &out_len)), 0);
    cf_outbox_notes_release(cf_test_notes_reader());
}

static void test_not_ours(void **state)
{
    (void) state;
    fields_t f;
    const char *odd[] = { "t", "b", "t2" };
    assert_int_equal(cf_test_notes_count(fields_of(&f, 3, odd)), 0);
    assert_int_equal(cf_test_notes_count(fields_of(&f, 0, odd)), 0);
    assert_int_equal(cf_test_notes_count(NULL), 0);
    const redisReply *fields = fields_of(&f, 2, odd);
    f.items[1].type = REDIS_REPLY_INTEGER;
    assert_int_equal(cf_test_notes_count(fields), 0);
    redisReply nil = { .type = REDIS_REPLY_NIL };
    assert_int_equal(cf_test_notes_count(&nil), 0);

    static const char *many[FIELDS_MAX];
    for (size_t i = 0; i < FIELDS_MAX; i++)
        many[i] = i % 2 ? "b" : "t";
    assert_int_equal(cf_test_notes_count(fields_of(&f, 2 * CF_OUTBOX_NOTES_MAX, many)),
                     CF_OUTBOX_NOTES_MAX);
    assert_int_equal(cf_test_notes_count(fields_of(&f, FIELDS_MAX, many)), 0);
}

static void test_ids(void **state)
{
    (void) state;
    char id[CF_OUTBOX_NOTES_ID_MAX];
    assert_int_equal(cf_outbox_notes_id(id, "s3-", "1733380000000-0", 0), 18);
    assert_string_equal(id, "s3-1733380000000-0");
    cf_outbox_notes_id(id, "s3-", "1733380000000-2", 5);
    assert_string_equal(id, "s3-1733380000000-517");            /* 2 * 256 + 5 */
    cf_outbox_notes_id(id, "", "7-3", CF_OUTBOX_NOTES_MAX - 1);  /* the entry's floor */
    assert_string_equal(id, "7-1023");
    cf_outbox_notes_id(id, "p-", "7-4", 0);                     /* the next entry's first */
    assert_string_equal(id, "p-7-1024");
    assert_int_equal(cf_outbox_notes_number(4, 0), 1024);
    char prefix[CF_OUTBOX_NOTES_PREFIX_MAX];
    cf_outbox_notes_prefix(prefix, 7, 64);                      /* a shard's outbox */
    assert_string_equal(prefix, "s7-");
    cf_outbox_notes_prefix(prefix, 1023, 1024);
    assert_string_equal(prefix, "s1023-");
    cf_outbox_notes_prefix(prefix, 64, 64);                     /* the milestones' */
    assert_string_equal(prefix, "p-");

    uint64_t ms, seq;
    assert_true(cf_outbox_notes_entry("18446744073709551615-72057594037927935", &ms, &seq));
    assert_true(ms == UINT64_MAX && seq == (UINT64_MAX >> 8));
    cf_outbox_notes_id(id, "s1023-", "18446744073709551615-72057594037927935", 255);
    assert_string_equal(id, "s1023-18446744073709551615-18446744073709551615");
    char of[CF_OUTBOX_NOTES_ID_MAX];                            /* the entry parsed once */
    assert_int_equal(cf_outbox_notes_id_of(of, "s1023-", ms, seq, 255), (int) strlen(id));
    assert_string_equal(of, id);
    assert_int_equal(cf_outbox_notes_id_of(of, "s3-", 1733380000000, 2, 5), 20);
    assert_string_equal(of, "s3-1733380000000-517");
    const char *bad[] = { "", "7", "7-", "-7-1", "7--1", "7-1x", "7-+1", " 7-1", "x-1",
                          "7-72057594037927936", "18446744073709551616-0" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(cf_outbox_notes_entry(bad[i], &ms, &seq));
        assert_int_equal(cf_outbox_notes_id(id, "s0-", bad[i], 0), -1);
    }
}

/* A reader of its own: destroy NULLs the pointer, and a NULL one is
   accepted. */
static void test_new_destroy(void **state)
{
    (void) state;
    cf_outbox_notes_t *reader = cf_outbox_notes_new();
    assert_non_null(reader);
    cf_outbox_notes_release(reader);                /* nothing read: nothing to free */
    cf_outbox_notes_destroy(&reader);
    assert_null(reader);
    cf_outbox_notes_destroy(&reader);
    cf_outbox_notes_destroy(NULL);
}

static int teardown(void **state)
{
    (void) state;
    cf_test_notes_release();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_packed),
        cmocka_unit_test(test_packed_malformed),
        cmocka_unit_test(test_compressed),
        cmocka_unit_test(test_compressed_malformed),
        cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_new_destroy),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
