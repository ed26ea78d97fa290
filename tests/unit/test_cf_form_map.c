/*  Tests of cf_form_map without a broker: deploy/forms/flow-monitoring.ini
    makes its sample submission (as KoboToolbox sends it) the flow.observed
    event the integration test posts; every filter (dates with and without
    an offset, numbers, yes/no, select_multiple lists through a code list,
    upper); nested groups read as paths; no answer (absent, null, "") leaves
    a field out; a field the mapping neither reads nor ignores, a value a
    filter refuses, a code not in its list and a template without its field
    refuse the submission with a reason naming the field; and a mapping
    file's mistakes are refused at load with FILE:LINE and the key.         */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_form_map.h"
#include "cf_test_files.h"

#define FLOW_MAP CF_SOURCE_DIR "/deploy/forms/flow-monitoring.ini"
#define FLOW_SAMPLE CF_SOURCE_DIR "/deploy/forms/flow-monitoring.sample.json"

/*  Applies map to text; returns the event (freed by the caller) or NULL
    with the reason in err.                                                  */
static char *apply(const cf_form_map_t *map, const char *text, char *err, size_t n)
{
    char *event = NULL;
    int rc = cf_form_map_apply(map, text, strlen(text), &event, err, n);
    assert_int_equal(rc, event ? 0 : -1);
    return event;
}

static void test_flow_sample(void **state)
{
    (void) state;
    char err[512] = "", text[4096];
    cf_form_map_t *map = cf_form_map_load(FLOW_MAP, err, sizeof err);
    if (!map)
        fail_msg("%s", err);
    FILE *f = fopen(FLOW_SAMPLE, "r");
    assert_non_null(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    char *event = apply(map, text, err, sizeof err);
    if (!event)
        fail_msg("%s", err);
    assert_string_equal(event, "{\"event_id\":\"kobo-fm-0c3f5d6e-7a8b-4c9d-8e1f-2a3b4c5d6e7f\","
        "\"event_type\":\"flow.observed\",\"schema_version\":1,\"source_system\":"
        "\"kobo-flow-monitoring\",\"occurred_at\":1551657600000,\"reported_at\":1551687662000,"
        "\"point\":\"Agadez bus station\",\"country\":\"NER\",\"from_country\":\"MLI\","
        "\"to_country\":\"LBY\",\"route\":\"central_mediterranean\",\"count\":42,\"females\":9,"
        "\"males\":33,\"uasc\":3}");
    free(event);
    /* a question the mapping does not know refuses the submission */
    char *extra = strdup(text);
    char *at = strstr(extra, "\"deviceid\"");
    memcpy(at + 1, "phone_no", 8);          /* as long as deviceid */
    assert_null(apply(map, extra, err, sizeof err));
    assert_string_equal(err, "phone_no: not in the mapping: map it in [fields] or drop it "
                        "with [form] ignore (an unknown field is refused, as in an event)");
    free(extra);
    cf_form_map_destroy(&map);
    assert_null(map);
}

static const char *s_map =
    "[form]\n"
    "ignore = _* meta/* skip\n"
    "[templates]\n"
    "event_id = odk-{meta/instanceID}-{n}\n"
    "case_ref = CASE-{g/ref}\n"
    "[constants]\n"
    "schema_version = 1\n"
    "[fields]\n"
    "event_type = g/kind | code kind   ; chosen by the form\n"
    "occurred_at = g/when | date\n"
    "screening = g/screening\n"
    "outcome = g/outcome | lower\n"
    "vulnerabilities = g/vulns | list | code vuln\n"
    "escort = g/escort | bool\n"
    "departure_country = g/from | upper\n"
    "mode = g/mode\n"
    "value = g/value | number\n"
    "currency = g/currency | upper\n"
    "assistance = g/assistance\n"
    "[codes.kind]\n"
    "screen = case.screened\n"
    "leave = case.departed\n"
    "help = case.assisted\n"
    "[codes.vuln]\n"
    "child_alone = uasc\n"
    "sick = health\n";

static void test_filters(void **state)
{
    (void) state;
    char err[512] = "";
    cf_form_map_t *map = cf_form_map_load(cf_test_file_write(s_map), err, sizeof err);
    if (!map)
        fail_msg("%s", err);
    struct { const char *in, *out; } cases[] = {
        /* nested groups are paths; select_multiple through a code list */
        { "{\"meta\":{\"instanceID\":\"uuid:1\"},\"n\":7,\"g\":{\"ref\":\"R1\",\"kind\":\"screen\","
          "\"when\":\"2019-03-04T10:00:00+01:00\",\"screening\":\"medical\",\"outcome\":\"CLEARED\","
          "\"vulns\":\" sick  child_alone \"},\"_id\":3}",
          "{\"event_id\":\"odk-uuid:1-7\",\"case_ref\":\"CASE-R1\",\"schema_version\":1,"
          "\"event_type\":\"case.screened\",\"occurred_at\":1551690000000,\"screening\":\"medical\","
          "\"outcome\":\"cleared\",\"vulnerabilities\":[\"health\",\"uasc\"]}" },
        /* flat paths; yes/no; a date-time without offset is UTC, .fff kept;
           null and "" are no answer */
        { "{\"meta/instanceID\":\"uuid:2\",\"n\":\"8\",\"g/ref\":\"R2\",\"g/kind\":\"leave\","
          "\"g/when\":\"2019-03-04 23:59:59.5\",\"g/escort\":\"Yes\",\"g/from\":\"che\","
          "\"g/mode\":\"charter\",\"g/vulns\":null,\"g/outcome\":\"\",\"skip\":[1]}",
          "{\"event_id\":\"odk-uuid:2-8\",\"case_ref\":\"CASE-R2\",\"schema_version\":1,"
          "\"event_type\":\"case.departed\",\"occurred_at\":1551743999500,\"escort\":true,"
          "\"departure_country\":\"CHE\",\"mode\":\"charter\"}" },
        { "{\"meta/instanceID\":\"u3\",\"n\":1,\"g/ref\":\"R3\",\"g/kind\":\"help\","
          "\"g/when\":\"2020-02-29\",\"g/value\":\"130000.50\",\"g/currency\":\"usd\","
          "\"g/assistance\":\"cash\",\"g/escort\":0}",
          "{\"event_id\":\"odk-u3-1\",\"case_ref\":\"CASE-R3\",\"schema_version\":1,"
          "\"event_type\":\"case.assisted\",\"occurred_at\":1582934400000,\"escort\":false,"
          "\"value\":130000.5,\"currency\":\"USD\",\"assistance\":\"cash\"}" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *event = apply(map, cases[i].in, err, sizeof err);
        if (!event)
            fail_msg("case %zu: %s", i, err);
        if (strcmp(event, cases[i].out))
            fail_msg("case %zu:\n%s\nnot\n%s", i, event, cases[i].out);
        free(event);
    }
    struct { const char *in, *why; } bad[] = {
        { "[1]", "submission: not a JSON object" },
        { "{\"n\":1,", "submission: not JSON: " },
        { "{\"n\":1,\"g/ref\":\"R\",\"g\":{\"ref\":\"S\"}}", "g/ref: given twice" },
        { "{\"n\":1,\"g/name\":\"Ali\"}", "g/name: not in the mapping" },
        { "{\"meta/instanceID\":\"u\",\"n\":1,\"g/ref\":\"R\",\"g/kind\":\"fly\"}",
          "g/kind: 'fly' is not a code of [codes.kind]" },
        { "{\"meta/instanceID\":\"u\",\"n\":1,\"g/ref\":\"R\",\"g/vulns\":\"sick tall\"}",
          "g/vulns: 'tall' is not a code of [codes.vuln]" },
        { "{\"meta/instanceID\":\"u\",\"n\":1,\"g/ref\":\"R\",\"g/when\":\"2019-02-29\"}",
          "g/when: '2019-02-29' is not a date" },
        { "{\"meta/instanceID\":\"u\",\"n\":1,\"g/ref\":\"R\",\"g/when\":\"04/03/2019\"}",
          "g/when: '04/03/2019' is not a date" },
        { "{\"meta/instanceID\":\"u\",\"n\":1,\"g/ref\":\"R\",\"g/escort\":\"maybe\"}",
          "g/escort: 'maybe' is not yes or no" },
        { "{\"meta/instanceID\":\"u\",\"n\":1,\"g/ref\":\"R\",\"g/value\":\"1e999\"}",
          "g/value: '1e999' is not a number" },
        { "{\"meta/instanceID\":\"u\",\"n\":1,\"g/ref\":\"R\",\"g/mode\":[\"a\"]}",
          "g/mode: a JSON array: not one value" },
        { "{\"n\":1,\"g/ref\":\"R\"}", "meta/instanceID: no answer, and event_id = " },
        { "{\"meta/instanceID\":\"u\",\"n\":true,\"g/ref\":\"R\"}",
          "n: a JSON boolean cannot stand in a template" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(apply(map, bad[i].in, err, sizeof err));
        if (strncmp(err, bad[i].why, strlen(bad[i].why)))
            fail_msg("%s: '%s' is not '%s...'", bad[i].in, err, bad[i].why);
    }
    cf_form_map_destroy(&map);
}

static void test_load_errors(void **state)
{
    (void) state;
    const char *head = "[templates]\nevent_id = k-{_uuid}\n[constants]\n"
                       "event_type = \"flow.observed\"\n";
    const char *flow = "point = p\ncountry = c\nfrom_country = f\nto_country = t\n"
                       "count = n | int\noccurred_at = d | date\n";
    struct { const char *body, *says; int head; } cases[] = {
        { "[mapping]\n", ":1: section 'mapping': unknown section", 0 },
        { "[fields]\nname = q/name\n", ":2: key 'name': not a field of caseflow's events", 0 },
        { "[fields]\npersons = q/p\n", ":2: key 'persons': a form's fields cannot make a list", 0 },
        { "[form]\nskip = x\n", ":2: key 'skip': unknown key ([form] has ignore)", 0 },
        { "[fields]\ncount = n | integer\n", ":2: key 'count': unknown filter 'integer'", 0 },
        { "[fields]\ncount = n | code\n", ":2: key 'count': code needs the name", 0 },
        { "[fields]\ncount = n int\n", ":2: key 'count': 'n int' is not a submission's field", 0 },
        { "[constants]\ncount = twelve\n", ":2: key 'count': 'twelve' is not a JSON string", 0 },
        { "[templates]\nevent_id = k-{_uuid\n", ":2: key 'event_id': a brace without its pair", 0 },
        { "[templates]\nevent_id = k\n", ":2: key 'event_id': no {path}", 0 },
        { "[fields]\ncount = n | code zz\n", ":2: key 'count': no code list [codes.zz]", 0 },
        { "[fields]\npoint = p\n[constants]\npoint = \"x\"\n",
          ":4: key 'point': written twice (first on line 2)", 0 },
        { "[constants]\nevent_type = \"flow.observed\"\nevent_id = \"x\"\n",
          ":3: key 'event_id': a constant would make every submission one event", 0 },
        { "[templates]\nevent_id = k-{_uuid}\n", ": key 'event_type': not written", 0 },
        { "[constants]\nevent_type = \"flow.observed\"\n", ": key 'event_id': not written", 0 },
        { "[templates]\nevent_id = k-{_uuid}\n[constants]\nevent_type = \"flow.seen\"\n",
          ":4: key 'event_type': \"flow.seen\" is not an event type", 0 },
        { "[templates]\nevent_id = k-{_uuid}\n[fields]\nevent_type = k\n",
          ":4: key 'event_type': chosen by a field, it must end with code NAME", 0 },
        { "[templates]\nevent_id = k-{_uuid}\n[fields]\nevent_type = k | code k\n"
          "[codes.k]\na = case.seen\n", ":4: key 'event_type': [codes.k] a = case.seen: not", 0 },
        /* after head (1), and flow's fields (2) */
        { "[fields]\ncase_ref = r\n", ":6: key 'case_ref': not a field of the event type this",
          2 },
        { "[fields]\npoint = p\n", ":4: key 'event_type': flow.observed needs schema_version, which",
          1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024], err[512] = "";
        snprintf(text, sizeof text, "%s%s%s", cases[i].head ? head : "", cases[i].body,
                 cases[i].head == 2 ? flow : "");
        const char *path = cf_test_file_write(text);
        cf_form_map_t *map = cf_form_map_load(path, err, sizeof err);
        assert_null(map);
        size_t len = strlen(path);
        if (strncmp(err, path, len) || strncmp(err + len, cases[i].says, strlen(cases[i].says)))
            fail_msg("case %zu: '%s' is not '%s%s...'", i, err, path, cases[i].says);
    }
    char err[512];
    assert_null(cf_form_map_load("/nonexistent/form.ini", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_sample),
        cmocka_unit_test_teardown(test_filters, cf_test_file_teardown),
        cmocka_unit_test_teardown(test_load_errors, cf_test_file_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
