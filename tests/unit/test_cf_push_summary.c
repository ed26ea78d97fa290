/*  Tests of cf_push_summary: caseflow-push's summary as text and as JSON,
    the lists in file and line order whatever the order added, "-" for an
    event without event_id, "<stdin>" for "-" and for no files, the failover
    line, the strings copied, and the exit status (0, 1 with a line in
    either list, 2 when the output cannot be flushed).                      */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_push_summary.h"

static char *s_files[] = { "a.jsonl", "-", "b.jsonl" };

/*  Prints self to memory; the text (freed by the caller) and *status.      */
static char *print(cf_push_summary_t *self, const cf_push_summary_counts_t *counts,
                   char *const *files, size_t count, cf_json_t *json, int *status)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    *status = cf_push_summary_print(self, counts, files, count, json, out);
    fclose(out);
    return text;
}

/*  Lines in two files and stdin, added out of order, in both lists.        */
static cf_push_summary_t *mixed(void)
{
    cf_push_summary_t *self = cf_push_summary_new();
    cf_push_summary_add(self, CF_PUSH_SUMMARY_UNACKED, 2, 1, "e9", "no ACK, sent 3 times");
    cf_push_summary_add(self, CF_PUSH_SUMMARY_REJECTED, 0, 7, NULL, "json: not an object");
    cf_push_summary_add(self, CF_PUSH_SUMMARY_REJECTED, 2, 3, "e3", "unknown field");
    cf_push_summary_add(self, CF_PUSH_SUMMARY_REJECTED, 0, 2, NULL, "json: invalid token");
    cf_push_summary_add(self, CF_PUSH_SUMMARY_REJECTED, 1, 10, "s1", NULL);
    cf_push_summary_add(self, CF_PUSH_SUMMARY_UNACKED, 0, 12, NULL, "no ACK, sent 3 times");
    return self;
}

static void test_text_in_input_order(void **state)
{
    (void) state;
    cf_push_summary_t *self = mixed();
    cf_push_summary_counts_t counts = { .events = 9, .accepted = 2, .duplicate = 1,
                                        .endpoint = "tcp://b:5555", .seconds = 1.234 };
    int status;
    char *text = print(self, &counts, s_files, 3, NULL, &status);
    assert_string_equal(text,
        "9 events in 1.23 s: 2 accepted, 1 duplicate, 4 rejected, 2 unacked\n"
        "rejected:\n"
        "a.jsonl:2 -: json: invalid token\n"
        "a.jsonl:7 -: json: not an object\n"
        "<stdin>:10 s1: \n"
        "b.jsonl:3 e3: unknown field\n"
        "unacked:\n"
        "a.jsonl:12 -: no ACK, sent 3 times\n"
        "b.jsonl:1 e9: no ACK, sent 3 times\n");
    assert_int_equal(status, 1);
    free(text);
    cf_push_summary_destroy(&self);
    assert_null(self);
}

static void test_failover_line(void **state)
{
    (void) state;
    cf_push_summary_t *self = cf_push_summary_new();
    cf_push_summary_counts_t counts = { .events = 3, .accepted = 3, .failovers = 1,
                                        .endpoint = "tcp://b:5555", .seconds = 0.5 };
    int status;
    char *text = print(self, &counts, s_files, 1, NULL, &status);
    assert_string_equal(text, "3 events in 0.50 s: 3 accepted, 0 duplicate, 0 rejected, 0 unacked\n"
                              "failed over 1 time, ending at tcp://b:5555\n");
    assert_int_equal(status, 0);
    free(text);
    counts.failovers = 3;
    text = print(self, &counts, s_files, 1, NULL, &status);
    assert_string_equal(text, "3 events in 0.50 s: 3 accepted, 0 duplicate, 0 rejected, 0 unacked\n"
                              "failed over 3 times, ending at tcp://b:5555\n");
    free(text);
    cf_push_summary_destroy(&self);
}

static void test_stdin_and_status(void **state)
{
    (void) state;
    cf_push_summary_counts_t counts = { .events = 1, .endpoint = "tcp://a:5555" };
    int status;
    /* no files: every index is stdin; one unacked line: status 1 */
    cf_push_summary_t *self = cf_push_summary_new();
    cf_push_summary_add(self, CF_PUSH_SUMMARY_UNACKED, 0, 4, "x", "no ACK");
    char *text = print(self, &counts, NULL, 0, NULL, &status);
    assert_string_equal(text, "1 events in 0.00 s: 0 accepted, 0 duplicate, 0 rejected, 1 unacked\n"
                              "unacked:\n"
                              "<stdin>:4 x: no ACK\n");
    assert_int_equal(status, 1);
    free(text);
    cf_push_summary_destroy(&self);
    /* one rejected line alone: 1 as well */
    self = cf_push_summary_new();
    cf_push_summary_add(self, CF_PUSH_SUMMARY_REJECTED, 0, 1, NULL, "bad");
    free(print(self, &counts, s_files, 1, NULL, &status));
    assert_int_equal(status, 1);
    cf_push_summary_destroy(&self);
    /* none: 0 */
    self = cf_push_summary_new();
    free(print(self, &counts, s_files, 1, NULL, &status));
    assert_int_equal(status, 0);
    cf_push_summary_destroy(&self);
}

static void test_json(void **state)
{
    (void) state;
    cf_json_t *json = cf_json_new();
    cf_push_summary_t *self = mixed();
    char *files[] = { "a.jsonl", "-", "b\xff.jsonl" };
    cf_push_summary_counts_t counts = { .events = 9, .accepted = 2, .duplicate = 1, .busy = 4,
                                        .resent = 5, .failovers = 2,
                                        .endpoint = "tcp://b:5555", .seconds = 1.23456 };
    int status;
    char *text = print(self, &counts, files, 3, json, &status);
    assert_string_equal(text,
        "{\"events\":9,\"accepted\":2,\"duplicate\":1,\"rejected\":4,\"unacked\":2,\"busy\":4,"
        "\"resent\":5,\"failovers\":2,\"endpoint\":\"tcp://b:5555\",\"seconds\":1.235,"
        "\"rejected_events\":["
        "{\"file\":\"a.jsonl\",\"line\":2,\"event_id\":null,\"reason\":\"json: invalid token\"},"
        "{\"file\":\"a.jsonl\",\"line\":7,\"event_id\":null,\"reason\":\"json: not an object\"},"
        "{\"file\":\"<stdin>\",\"line\":10,\"event_id\":\"s1\",\"reason\":null},"
        "{\"file\":\"b\\ufffd.jsonl\",\"line\":3,\"event_id\":\"e3\",\"reason\":\"unknown field\"}],"
        "\"unacked_events\":["
        "{\"file\":\"a.jsonl\",\"line\":12,\"event_id\":null,\"reason\":\"no ACK, sent 3 times\"},"
        "{\"file\":\"b\\ufffd.jsonl\",\"line\":1,\"event_id\":\"e9\",\"reason\":\"no ACK, sent 3 times\"}]}\n");
    assert_int_equal(status, 1);
    /* one JSON object, read back */
    assert_int_equal(cf_json_to_msgpack(json, text, strlen(text), CF_JSON_OBJECT), 0);
    assert_string_equal(cf_json_member(json, "endpoint"), "tcp://b:5555");
    free(text);
    cf_push_summary_destroy(&self);
    /* empty lists are empty arrays; status 0 */
    self = cf_push_summary_new();
    counts = (cf_push_summary_counts_t) { .endpoint = "tcp://a:1" };
    text = print(self, &counts, NULL, 0, json, &status);
    assert_string_equal(text,
        "{\"events\":0,\"accepted\":0,\"duplicate\":0,\"rejected\":0,\"unacked\":0,\"busy\":0,"
        "\"resent\":0,\"failovers\":0,\"endpoint\":\"tcp://a:1\",\"seconds\":0.0,"
        "\"rejected_events\":[],\"unacked_events\":[]}\n");
    assert_int_equal(status, 0);
    free(text);
    cf_push_summary_destroy(&self);
    cf_json_destroy(&json);
}

static void test_entries_copied_and_kept_in_order(void **state)
{
    (void) state;
    cf_push_summary_t *self = cf_push_summary_new();
    char id[8] = "e1", reason[16] = "too long";
    cf_push_summary_add(self, CF_PUSH_SUMMARY_REJECTED, 1, 5, id, reason);
    cf_push_summary_add(self, CF_PUSH_SUMMARY_REJECTED, 0, 9, NULL, "bad");
    strcpy(id, "XX");
    strcpy(reason, "overwritten");
    assert_int_equal(cf_push_summary_size(self, CF_PUSH_SUMMARY_REJECTED), 2);
    assert_int_equal(cf_push_summary_size(self, CF_PUSH_SUMMARY_UNACKED), 0);
    const cf_push_summary_entry_t *e = cf_push_summary_entry(self, CF_PUSH_SUMMARY_REJECTED, 0);
    assert_int_equal(e->file, 1);
    assert_int_equal(e->line, 5);
    assert_string_equal(e->event_id, "e1");
    assert_string_equal(e->reason, "too long");
    e = cf_push_summary_entry(self, CF_PUSH_SUMMARY_REJECTED, 1);
    assert_null(e->event_id);
    assert_string_equal(e->reason, "bad");
    cf_push_summary_destroy(&self);
    cf_push_summary_destroy(&self);         /* NULL: nothing */
    cf_push_summary_destroy(NULL);
}

static void test_file_names(void **state)
{
    (void) state;
    assert_string_equal(cf_push_summary_file_name(s_files, 3, 0), "a.jsonl");
    assert_string_equal(cf_push_summary_file_name(s_files, 3, 1), "<stdin>");
    assert_string_equal(cf_push_summary_file_name(NULL, 0, 0), "<stdin>");
}

static void test_unflushable_output(void **state)
{
    (void) state;
    FILE *out = fopen("/dev/full", "w");
    if (!out)
        skip();
    cf_push_summary_t *self = cf_push_summary_new();
    cf_push_summary_counts_t counts = { .endpoint = "tcp://a:1" };
    assert_int_equal(cf_push_summary_print(self, &counts, NULL, 0, NULL, out), 2);
    fclose(out);
    cf_push_summary_destroy(&self);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_in_input_order),
        cmocka_unit_test(test_failover_line),
        cmocka_unit_test(test_stdin_and_status),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_entries_copied_and_kept_in_order),
        cmocka_unit_test(test_file_names),
        cmocka_unit_test(test_unflushable_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
