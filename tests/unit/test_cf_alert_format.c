/*  Tests of cf_alert_format: the webhook's JSON (envelope, then the body's
    members in order), the summary (no event id or times), the chat body,
    the mail's headers, a body that is not a map, and the signature against
    a known HMAC-SHA-256 vector (RFC 4231, test case 7).                    */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include "caseflow/cf_pack.h"
#include "cf_alert_format.h"

/* A vulnerable-case alert's body, as the fold writes it. */
static msgpack_sbuffer s_body;

static int setup(void **state)
{
    (void) state;
    msgpack_sbuffer_init(&s_body);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s_body, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    cf_pack_key_str(&pk, "case_id", "9f86d081884c7d65");
    cf_pack_key_str(&pk, "programme", "CH-AVR");
    cf_pack_key_str(&pk, "flag", "vot");
    cf_pack_key_str(&pk, "event_id", "ev-1");
    cf_pack_key_uint(&pk, "occurred_at", 1561939200000);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    msgpack_sbuffer_destroy(&s_body);
    return 0;
}

static cf_alert_note_t note(void)
{
    return (cf_alert_note_t) { .id = "s3-1561939200123-0", .topic = "alert.vulnerable.vot",
                               .time_ms = 1561939200123, .body = s_body.data,
                               .body_len = s_body.size };
}

static void test_json(void **state)
{
    (void) state;
    cf_alert_note_t n = note();
    size_t len;
    char err[128];
    char *json = cf_alert_format_json(&n, &len, err, sizeof err);
    assert_string_equal(json, "{\"id\":\"s3-1561939200123-0\",\"topic\":\"alert.vulnerable.vot\","
                        "\"time\":1561939200123,\"case_id\":\"9f86d081884c7d65\","
                        "\"programme\":\"CH-AVR\",\"flag\":\"vot\",\"event_id\":\"ev-1\","
                        "\"occurred_at\":1561939200000}");
    assert_int_equal(len, strlen(json));
    free(json);
    char programme[33];
    assert_string_equal(cf_alert_format_programme(&n, programme), "CH-AVR");
}

static void test_summary_and_chat(void **state)
{
    (void) state;
    cf_alert_note_t n = note();
    char *summary = cf_alert_format_summary(&n);
    assert_string_equal(summary, "caseflow alert.vulnerable.vot: case_id 9f86d081884c7d65, "
                        "programme CH-AVR, flag vot (id s3-1561939200123-0)");
    free(summary);
    size_t len;
    char *chat = cf_alert_format_chat(&n, &len);
    assert_string_equal(chat, "{\"text\":\"caseflow alert.vulnerable.vot: case_id "
                        "9f86d081884c7d65, programme CH-AVR, flag vot (id s3-1561939200123-0)\"}");
    free(chat);
}

static void test_mail(void **state)
{
    (void) state;
    cf_alert_note_t n = note();
    const char *to[] = { "a@example.org", "b@example.org" };
    size_t len;
    char *mail = cf_alert_format_mail(&n, "caseflow@example.org", to, 2, 0, &len);
    assert_int_equal(len, strlen(mail));
    assert_non_null(strstr(mail, "From: <caseflow@example.org>\r\nTo: <a@example.org>, "
                                 "<b@example.org>\r\nSubject: [caseflow] alert.vulnerable.vot\r\n"
                                 "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
                                 "Message-ID: <s3-1561939200123-0@example.org>\r\n"
                                 "X-Caseflow-Id: s3-1561939200123-0\r\n"));
    assert_non_null(strstr(mail, "\r\n\r\ncaseflow alert.vulnerable.vot: case_id "));
    assert_non_null(strstr(mail, "\r\n\r\n{\"id\":\"s3-1561939200123-0\","));
    assert_null(strstr(mail, "\n\n"));          /* CRLF lines only */
    free(mail);
}

static void test_not_a_map(void **state)
{
    (void) state;
    cf_alert_note_t n = note();
    n.body = "\x93\x01\x02\x03";                /* [1, 2, 3] */
    n.body_len = 4;
    size_t len;
    char err[128], programme[33];
    assert_null(cf_alert_format_json(&n, &len, err, sizeof err));
    assert_string_equal(err, "the body of s3-1561939200123-0 is not a msgpack map");
    assert_null(cf_alert_format_summary(&n));
    assert_null(cf_alert_format_chat(&n, &len));
    assert_null(cf_alert_format_programme(&n, programme));
}

/* RFC 4231, test case 7: its data holds one ". ", which splits it into our
   "<timestamp>.<body>". */
static void test_sign_vector(void **state)
{
    (void) state;
    unsigned char key[131];
    memset(key, 0xaa, sizeof key);
    const char *timestamp = "This is a test using a larger than block-size key and a larger "
                            "than block-size data";
    const char *body = " The key needs to be hashed before being used by the HMAC algorithm.";
    char signature[CF_ALERT_SIGNATURE_LEN];
    cf_alert_format_sign(key, sizeof key, timestamp, body, strlen(body), signature);
    assert_string_equal(signature, "sha256=9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f"
                        "51535c3a35e2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_summary_and_chat),
        cmocka_unit_test(test_mail),
        cmocka_unit_test(test_not_a_map),
        cmocka_unit_test(test_sign_vector),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
