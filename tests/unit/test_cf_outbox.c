/*  Tests of cf_outbox's packs, the messages its thread hands the broker's
    loop: entries come out as they went in, in order, empty parts too, and
    a pack cut short ends at its last whole entry; and of its XREAD replies
    made in an arena (cf_outbox_reply.c): the same trees as hiredis's, on a
    throw-away redis-server, for entries, a body larger than a chunk, no
    entries and an error, and the connection usable after; of the batch's
    merge (figures summed, the alerts' last word), the milestones (marks
    reached, their flags, the body byte for byte as the Lua script made
    it), and of the commit on a throw-away redis-server: each mark
    announced once, totals and cursors saved with it, the open alerts' last
    word, an EXEC refused read again, cursors another reader moved giving
    the batch up, and what it writes: the cursors that moved only, the
    figures and returns as sums in one HSET each. (The thread's pacing is
    unit.cf_outbox_thread's, the rest integration.notifications's.)        */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cf_outbox.h"
#include "cf_outbox_internal.h"
#include "cf_test_notes.h"
#include "cf_test_redis.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_rules.h"

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

/* A msgpack body {case_id, persons, limit} (NULLs left out). */
static void body_of(msgpack_sbuffer *out, const char *case_id, int persons, const char *limit)
{
    msgpack_sbuffer_clear(out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (case_id != NULL) + (persons >= 0) + (limit != NULL));
    if (case_id)
        cf_pack_key_str(&pk, "case_id", case_id);
    if (persons >= 0)
        cf_pack_key_uint(&pk, "persons", (uint64_t) persons);
    if (limit)
        cf_pack_key_str(&pk, "limit", limit);
}

static void note(outbox_batch_t *b, const char *topic, const char *case_id, int persons,
                 const char *limit)
{
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    body_of(&body, case_id, persons, limit);
    cf_outbox_batch_note(b, topic, strlen(topic), body.data, body.size);
    msgpack_sbuffer_destroy(&body);
}

/* The batch's items as "field=cases/persons " or "field=open|closed ". */
static const char *items_text(const outbox_batch_t *b, const outbox_items_t *set, bool alerts)
{
    static char text[4096];
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++) {
        const outbox_item_t *it = &set->items[i];
        n += (size_t) (alerts ? snprintf(text + n, sizeof text - n, "%.*s=%s ", (int) it->key_len,
                                         b->bytes + it->key, it->open ? "open" : "closed")
                       : snprintf(text + n, sizeof text - n, "%.*s=%lld/%lld ",
                                  (int) it->key_len, b->bytes + it->key,
                                  (long long) it->cases, (long long) it->persons));
    }
    text[n] = '\0';
    return text;
}

/* Figures summed per programme and stage, the alerts' last word, the
   returns, each in the order first seen; clear empties it all. */
static void test_batch_merge(void **state)
{
    (void) state;
    outbox_batch_t b;
    cf_outbox_batch_init(&b);
    for (int round = 0; round < 2; round++) {
        note(&b, "case.CH-AVR.arrived", "c1", 3, NULL);
        note(&b, "alert.overdue.registered", "c2", -1, "registered_departed");
        note(&b, "case.UA-TPS.registered", "c2", 2, NULL);
        note(&b, "case.CH-AVR.arrived", "c3", 4, NULL);
        note(&b, "alert.overdue.registered", "c9", -1, "registered_departed");
        note(&b, "case.UA-TPS.departed", "c2", 2, NULL);    /* closes c2|registered_departed, c2|detained */
        note(&b, "alert.overdue.registered", "c3", -1, "registered_departed");
        note(&b, "alert.overdue.arrived", "c3", -1, "arrived_reintegrating");
        for (int i = 0; i < 300; i++) {                          /* past the index's first size */
            char id[16];
            snprintf(id, sizeof id, "x%d", i);
            note(&b, "alert.overdue.registered", id, -1, "registered_departed");
        }
        assert_string_equal(items_text(&b, &b.figures, false),
                            "CH-AVR|arrived=2/7 UA-TPS|registered=1/2 UA-TPS|departed=1/2 ");
        assert_int_equal(b.alerts.count, 5 + 300);
        assert_int_equal(b.opened, 3 + 300);
        const outbox_item_t *c2 = &b.alerts.items[0];
        assert_false(c2->open);
        assert_memory_equal(b.bytes + c2->key, "c2|registered_departed", 22);
        const outbox_item_t *c3 = &b.alerts.items[3];
        assert_true(c3->open);
        assert_memory_equal(b.bytes + c3->key, "c3|registered_departed", 22);
        assert_int_equal(b.programmes, 1);
        assert_string_equal(b.returns[0].name, "CH-AVR");
        assert_int_equal(b.returns[0].cases, 2);
        assert_int_equal(b.returns[0].persons, 7);
        cf_outbox_batch_clear(&b);
        assert_int_equal(b.figures.count + b.alerts.count + b.programmes + b.opened, 0);
    }
    cf_outbox_batch_free(&b);
}

/* Rules from an INI text, packed as the broker hands them over. */
static outbox_marks_t *marks_from(const char *ini)
{
    char path[] = "/tmp/cf_rules_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0 && write(fd, ini, strlen(ini)) == (ssize_t) strlen(ini));
    close(fd);
    cf_rules_t *rules = cf_rules_new();
    assert_int_equal(cf_rules_load(rules, path), 0);
    unlink(path);
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(rules, &packed);
    cf_rules_destroy(&rules);
    outbox_marks_t *marks = cf_outbox_marks_new(packed.data, packed.size);
    msgpack_sbuffer_destroy(&packed);
    return marks;
}

/* The marks a programme's totals cross, once each, its own or "*"'s; the
   flag and the body as the Lua script it replaced (publish_batch.lua) wrote them. */
static void test_milestones(void **state)
{
    (void) state;
    outbox_marks_t *marks = marks_from("[milestones]\nCH-AVR = 100, 200, 250p\n* = 5\n");
    const outbox_programme_marks_t *avr = cf_outbox_marks_of(marks, "CH-AVR");
    const outbox_programme_marks_t *any = cf_outbox_marks_of(marks, "UA-TPS");
    assert_non_null(avr);
    assert_int_equal(avr->count, 3);
    assert_true(any && any->count == 1 && any->marks[0].mark == 5 && !any->marks[0].persons);
    size_t reached[CF_RULES_MAX_MARKS];
    int64_t before[2] = { 99, 240 }, after[2] = { 200, 250 };
    assert_int_equal(cf_outbox_marks_reached(avr, before, after, NULL, reached), 3);
    assert_int_equal(reached[0] + reached[1] * 10 + reached[2] * 100, 210);
    bool announced[CF_RULES_MAX_MARKS] = { false, true, false };
    assert_int_equal(cf_outbox_marks_reached(avr, before, after, announced, reached), 2);
    int64_t at[2] = { 100, 249 };
    assert_int_equal(cf_outbox_marks_reached(avr, at, after, NULL, reached), 2);  /* not 100 again */
    char flag[96];
    cf_outbox_mark_flag(flag, sizeof flag, "CH-AVR", &avr->marks[2]);
    assert_string_equal(flag, "CH-AVR|persons|250");
    cf_rules_mark_t big = { 100000000000000ULL, false };
    cf_outbox_mark_flag(flag, sizeof flag, "X", &big);
    assert_string_equal(flag, "X|cases|1e+14");              /* Lua's tostring */
    /* cmsgpack.pack({ programme = 'CH-AVR', mark = 100, kind = 'cases',
       returned_cases = 150, returned_persons = 3 }) in Redis 7.0 */
    static const char lua[] = "\x85\xa9programme\xa6" "CH-AVR\xaereturned_cases\xcc\x96"
                              "\xa4mark\x64\xa4kind\xa5" "cases\xb0returned_persons\x03";
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    int64_t totals[2] = { 150, 3 };
    cf_outbox_milestone_body(&body, "CH-AVR", &avr->marks[0], totals);
    assert_int_equal(body.size, sizeof lua - 1);
    assert_memory_equal(body.data, lua, sizeof lua - 1);
    msgpack_sbuffer_destroy(&body);
    cf_outbox_marks_destroy(&marks);
    assert_null(marks);
    marks = cf_outbox_marks_new("\x80", 1);                  /* no rules: no marks */
    assert_null(cf_outbox_marks_of(marks, "CH-AVR"));
    cf_outbox_marks_destroy(&marks);
}

/* A reader's commit on a throw-away redis-server. */
typedef struct {
    cf_test_redis_t *server;
    redisContext *c, *other;
    char fields[2][12], cursor[2][48], saved[2][48];
    outbox_batch_t batch;
} commit_fixture_t;

static int commit_setup(void **state)
{
    commit_fixture_t *f = cf_calloc(1, sizeof *f);
    f->server = cf_test_redis_start();
    assert_non_null(f->server);
    f->c = redisConnect("127.0.0.1", cf_test_redis_port(f->server));
    f->other = redisConnect("127.0.0.1", cf_test_redis_port(f->server));
    assert_true(f->c && !f->c->err && f->other && !f->other->err);
    snprintf(f->fields[0], sizeof f->fields[0], "s0");
    snprintf(f->fields[1], sizeof f->fields[1], "pub");
    cf_outbox_batch_init(&f->batch);
    *state = f;
    return 0;
}

static int commit_teardown(void **state)
{
    commit_fixture_t *f = *state;
    cf_outbox_batch_free(&f->batch);
    redisFree(f->c);
    redisFree(f->other);
    cf_test_redis_stop(&f->server);
    free(f);
    return 0;
}

/* The reader's side: WATCH and read the cursors, as before an XREAD. */
static int commit_watch(commit_fixture_t *f)
{
    cf_outbox_cursor_watch(f->c);
    return cf_outbox_cursor_check(f->c, 2, (const char (*)[12]) f->fields, f->saved);
}

/* Commits the batch with the cursor s0 at entry; returns the commit's. */
static int commit_at(commit_fixture_t *f, const char *entry, const outbox_marks_t *marks)
{
    snprintf(f->cursor[0], sizeof f->cursor[0], "%s", entry);
    snprintf(f->cursor[1], sizeof f->cursor[1], "0-0");
    int rc = cf_outbox_commit(f->c, 2, (const char (*)[12]) f->fields,
                              (const char (*)[48]) f->cursor, f->saved, &f->batch, marks);
    cf_outbox_batch_clear(&f->batch);
    return rc;
}

/* A command on the other connection; its integer, or -1. */
static long long other(commit_fixture_t *f, const char *command)
{
    redisReply *reply = redisCommand(f->other, command);
    assert_non_null(reply);
    long long n = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    freeReplyObject(reply);
    return n;
}

/* HGETALL key as "field=value " in Redis's order (bodies as lengths). */
static const char *hgetall(commit_fixture_t *f, const char *key)
{
    static char text[4096];
    redisReply *reply = redisCommand(f->other, "HGETALL %s", key);
    assert_true(reply && reply->type == REDIS_REPLY_ARRAY);
    size_t n = 0;
    for (size_t i = 0; i + 1 < reply->elements; i += 2)
        n += (size_t) snprintf(text + n, sizeof text - n, "%s=%s ", reply->element[i]->str,
                               reply->element[i + 1]->str);
    text[n] = '\0';
    freeReplyObject(reply);
    return text;
}

/* n arrivals of CH-AVR, persons persons in all (the first carries them). */
static void arrivals(commit_fixture_t *f, int n, int persons)
{
    for (int i = 0; i < n; i++)
        note(&f->batch, "case.CH-AVR.arrived", "c", i ? 0 : persons, NULL);
}

static void test_commit_milestones_once(void **state)
{
    commit_fixture_t *f = *state;
    outbox_marks_t *marks = marks_from("[milestones]\nCH-AVR = 100, 200, 250p\n");
    assert_int_equal(commit_watch(f), 1);                   /* nothing saved yet: "0-0" */
    arrivals(f, 99, 240);
    assert_int_equal(commit_at(f, "7-0", marks), 0);
    assert_int_equal(commit_watch(f), 0);                   /* its own save: not moved */
    arrivals(f, 1, 5);
    assert_int_equal(commit_at(f, "7-1", marks), 1);        /* 100 cases */
    assert_int_equal(commit_watch(f), 0);
    arrivals(f, 150, 10);
    assert_int_equal(commit_at(f, "7-2", marks), 2);        /* 200 cases, 250 persons */
    assert_int_equal(commit_watch(f), 0);
    arrivals(f, 1000, 1000);
    assert_int_equal(commit_at(f, "7-3", marks), 0);        /* each mark once */
    assert_int_equal(other(f, "XLEN cf:{pub}:outbox"), 3);
    assert_string_equal(hgetall(f, "cf:{pub}:returns"), "CH-AVR|cases=1250 CH-AVR|persons=1255 ");
    assert_string_equal(hgetall(f, "cf:{pub}:cursor"), "s0=7-3 ");    /* pub never moved */
    assert_string_equal(hgetall(f, "cf:{pub}:marks"),
                        "CH-AVR|cases|100=1 CH-AVR|cases|200=1 CH-AVR|persons|250=1 ");
    assert_string_equal(hgetall(f, "cf:{pub}:figures"),
                        "CH-AVR|arrived|cases=1250 CH-AVR|arrived|persons=1255 ");
    /* the last milestone's body, and the stream's: one notification, topic and body as the script's */
    redisReply *last = redisCommand(f->other, "HGET cf:{pub}:last CH-AVR");
    redisReply *entries = redisCommand(f->other, "XRANGE cf:{pub}:outbox - +");
    assert_true(last && last->type == REDIS_REPLY_STRING && entries
                && entries->type == REDIS_REPLY_ARRAY && entries->elements == 3);
    const redisReply *third = entries->element[2]->element[1];
    assert_int_equal(cf_test_notes_count(third), 1);
    cf_outbox_note_t note = cf_test_notes_get(third, 0);
    assert_int_equal(note.topic_len, strlen("milestone.CH-AVR"));
    assert_memory_equal(note.topic, "milestone.CH-AVR", note.topic_len);
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    int64_t totals[2] = { 250, 255 };
    cf_rules_mark_t persons = { 250, true };
    cf_outbox_milestone_body(&body, "CH-AVR", &persons, totals);
    assert_int_equal(note.body_len, body.size);
    assert_memory_equal(note.body, body.data, body.size);
    assert_int_equal(last->len, body.size);
    assert_memory_equal(last->str, body.data, body.size);
    msgpack_sbuffer_destroy(&body);
    freeReplyObject(last);
    freeReplyObject(entries);
    cf_outbox_marks_destroy(&marks);
}

/* Within one batch the last word on an alert wins, whatever came before. */
static void test_commit_open_alerts_last_word(void **state)
{
    commit_fixture_t *f = *state;
    outbox_marks_t *marks = cf_outbox_marks_new("\x80", 1);
    other(f, "HSET cf:{pub}:open d|registered_departed old e|arrived_reintegrating kept");
    assert_int_equal(commit_watch(f), 1);
    note(&f->batch, "alert.overdue.registered", "a", -1, "registered_departed");
    note(&f->batch, "case.X.departed", "a", 1, NULL);        /* closes a|registered_departed */
    note(&f->batch, "case.X.departed", "b", 1, NULL);
    note(&f->batch, "alert.overdue.registered", "b", -1, "registered_departed");
    note(&f->batch, "alert.overdue.registered", "c", -1, "registered_departed");
    note(&f->batch, "case.X.departed", "d", 1, NULL);
    assert_int_equal(commit_at(f, "1-0", marks), 0);
    const char *open = hgetall(f, "cf:{pub}:open");
    assert_non_null(strstr(open, "e|arrived_reintegrating=kept "));
    assert_non_null(strstr(open, "b|registered_departed="));
    assert_non_null(strstr(open, "c|registered_departed="));
    assert_null(strstr(open, "a|registered_departed"));
    assert_null(strstr(open, "d|registered_departed"));
    assert_string_equal(hgetall(f, "cf:{pub}:figures"),
                        "X|departed|cases=3 X|departed|persons=3 ");
    cf_outbox_marks_destroy(&marks);
}

/* An EXEC refused because a watched key moved reads again and commits; the
   cursors moved by another reader give the batch up, writing nothing. */
static void test_commit_watched(void **state)
{
    commit_fixture_t *f = *state;
    outbox_marks_t *marks = marks_from("[milestones]\nCH-AVR = 2\n");
    assert_int_equal(commit_watch(f), 1);
    other(f, "HSET cf:{pub}:cursor s0 0-0");                /* the same value: still a write */
    arrivals(f, 2, 0);
    assert_int_equal(commit_at(f, "3-0", marks), 1);        /* read again: the mark, once */
    assert_string_equal(hgetall(f, "cf:{pub}:cursor"), "s0=3-0 ");
    assert_int_equal(commit_watch(f), 0);
    other(f, "HSET cf:{pub}:cursor s0 5-0");                /* another reader saved */
    arrivals(f, 2, 0);
    assert_int_equal(commit_at(f, "4-0", marks), -2);
    assert_string_equal(f->saved[0], "5-0");
    assert_string_equal(hgetall(f, "cf:{pub}:returns"), "CH-AVR|cases=2 ");
    assert_string_equal(hgetall(f, "cf:{pub}:cursor"), "s0=5-0 ");
    /* and before an XREAD: the moved cursors are read, not saved over */
    other(f, "HSET cf:{pub}:cursor pub 6-0");
    assert_int_equal(commit_watch(f), 1);
    assert_string_equal(f->saved[1], "6-0");
    cf_outbox_marks_destroy(&marks);
}

/* The writes to the {pub} hashes that Redis ran since slowlog_all, oldest
   first, as "COMMAND key field value ...|" (the slow log keeps every
   command's arguments when its threshold is 0). */
static void slowlog_all(commit_fixture_t *f)
{
    other(f, "CONFIG SET slowlog-log-slower-than 0");
    other(f, "SLOWLOG RESET");
}

static const char *slowlog_writes(commit_fixture_t *f)
{
    static char text[4096];
    redisReply *log = redisCommand(f->other, "SLOWLOG GET -1");
    assert_true(log && log->type == REDIS_REPLY_ARRAY);
    size_t n = 0;
    for (size_t i = log->elements; i-- > 0;) {
        const redisReply *args = log->element[i]->element[3];
        const char *command = args->element[0]->str;
        if (strcmp(command, "HSET") && strcmp(command, "HINCRBY"))
            continue;
        for (size_t j = 0; j < args->elements; j++)
            n += (size_t) snprintf(text + n, sizeof text - n, "%s%s", j ? " " : "",
                                   args->element[j]->str);
        n += (size_t) snprintf(text + n, sizeof text - n, "|");
    }
    text[n] = '\0';
    freeReplyObject(log);
    return text;
}

/* A commit writes only the cursors that moved, and the figures and returns
   as sums (what the hash held, a field without an integer as 0, plus the
   batch's) in one HSET each, where it wrote every cursor and sent two
   HINCRBY per figure and programme. */
static void test_commit_writes_what_moved(void **state)
{
    commit_fixture_t *f = *state;
    outbox_marks_t *marks = cf_outbox_marks_new("\x80", 1);
    other(f, "HSET cf:{pub}:figures X|departed|cases 5 X|departed|persons abc");
    other(f, "HSET cf:{pub}:returns X|cases 10");
    other(f, "HSET cf:{pub}:cursor s0 4-0");
    assert_int_equal(commit_watch(f), 1);
    note(&f->batch, "case.X.departed", "a", 2, NULL);
    note(&f->batch, "case.X.arrived", "b", 3, NULL);
    note(&f->batch, "case.X.departed", "c", 1, NULL);
    snprintf(f->cursor[0], sizeof f->cursor[0], "4-0");     /* not moved */
    snprintf(f->cursor[1], sizeof f->cursor[1], "2-0");
    slowlog_all(f);
    assert_int_equal(cf_outbox_commit(f->c, 2, (const char (*)[12]) f->fields,
                                      (const char (*)[48]) f->cursor, f->saved, &f->batch,
                                      marks), 0);
    assert_string_equal(slowlog_writes(f),
                        "HSET cf:{pub}:cursor pub 2-0|"
                        "HSET cf:{pub}:figures X|departed|cases 7 X|departed|persons 3 "
                        "X|arrived|cases 1 X|arrived|persons 3|"
                        "HSET cf:{pub}:returns X|cases 11 X|persons 3|");
    assert_string_equal(hgetall(f, "cf:{pub}:cursor"), "s0=4-0 pub=2-0 ");
    assert_string_equal(f->saved[1], "2-0");
    cf_outbox_batch_clear(&f->batch);
    cf_outbox_marks_destroy(&marks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_round_trip),
        cmocka_unit_test(test_replies_in_arena),
        cmocka_unit_test(test_batch_merge),
        cmocka_unit_test(test_milestones),
        cmocka_unit_test_setup_teardown(test_commit_milestones_once, commit_setup,
                                        commit_teardown),
        cmocka_unit_test_setup_teardown(test_commit_open_alerts_last_word, commit_setup,
                                        commit_teardown),
        cmocka_unit_test_setup_teardown(test_commit_watched, commit_setup, commit_teardown),
        cmocka_unit_test_setup_teardown(test_commit_writes_what_moved, commit_setup,
                                        commit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
