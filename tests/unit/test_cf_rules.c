/*  Tests of cf_rules: the defaults, a full file and deploy/rules.ini, every
    kind of error with its exact line and message, a failed reload keeping
    the old rules, and the exact shape and types of the packed map. Each
    case writes its file into a temporary folder.                            */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "caseflow/cf_json.h"
#include "caseflow/cf_rules.h"

static char s_dir[] = "/tmp/cf-rules-test-XXXXXX";
static char s_path[64];

static int group_setup(void **state)
{
    (void) state;
    if (!mkdtemp(s_dir))
        return -1;
    snprintf(s_path, sizeof s_path, "%s/rules.ini", s_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void) state;
    unlink(s_path);
    return rmdir(s_dir);
}

/* Writes len bytes of text (strlen when len is 0) to s_path. */
static const char *write_rules(const char *text, size_t len)
{
    FILE *file = fopen(s_path, "wb");
    assert_non_null(file);
    len = len ? len : strlen(text);
    assert_int_equal(fwrite(text, 1, len, file), len);
    assert_int_equal(fclose(file), 0);
    return s_path;
}

/* The rules packed and printed as JSON (the caller frees it). */
static char *packed_json(const cf_rules_t *rules)
{
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(rules, &packed);
    cf_json_t *json = cf_json_new();
    const char *text = cf_json_from_msgpack(json, packed.data, packed.size);
    assert_non_null(text);
    char *copy = strdup(text);
    cf_json_destroy(&json);
    msgpack_sbuffer_destroy(&packed);
    return copy;
}

static void assert_packed(const cf_rules_t *rules, const char *want)
{
    char *got = packed_json(rules);
    assert_string_equal(got, want);
    free(got);
}

static void assert_spike(const cf_rules_t *rules, const char *route, double ratio,
                         uint64_t min_count)
{
    double got_ratio;
    uint64_t got_min_count;
    cf_rules_spike(rules, route, &got_ratio, &got_min_count);
    assert_true(got_ratio == ratio);
    assert_int_equal(got_min_count, min_count);
}

#define DEFAULTS_JSON \
    "{\"milestones\":{},\"spike\":{\"*\":[1.5,10]},\"overdue\":{\"registered_departed\":" \
    "5184000000,\"arrived_reintegrating\":2592000000,\"detained\":2592000000}," \
    "\"vulnerable\":[\"vot\",\"uasc\",\"health\",\"risk_high\"],\"predeparture_ms\":259200000}"

static void test_defaults(void **state)
{
    (void) state;
    cf_rules_t *rules = cf_rules_new();
    assert_string_equal(cf_rules_error(rules), "");
    const cf_rules_mark_t *marks;
    assert_int_equal(cf_rules_milestones(rules, "CH-AVR", &marks), 0);
    assert_null(marks);
    assert_spike(rules, NULL, 1.5, 10);
    assert_spike(rules, "central_mediterranean", 1.5, 10);
    assert_int_equal(cf_rules_overdue_ms(rules, CF_LIMIT_REGISTERED_DEPARTED), 60 * 86400000ULL);
    assert_int_equal(cf_rules_overdue_ms(rules, CF_LIMIT_ARRIVED_REINTEGRATING), 30 * 86400000ULL);
    assert_int_equal(cf_rules_overdue_ms(rules, CF_LIMIT_DETAINED), 30 * 86400000ULL);
    assert_true(cf_rules_vulnerable(rules, "vot") && cf_rules_vulnerable(rules, "uasc")
                && cf_rules_vulnerable(rules, "health") && cf_rules_vulnerable(rules, "risk_high"));
    assert_false(cf_rules_vulnerable(rules, "elderly") || cf_rules_vulnerable(rules, "nope"));
    assert_int_equal(cf_rules_predeparture_ms(rules), 72 * 3600000ULL);
    assert_packed(rules, DEFAULTS_JSON);
    /* an empty file, or one of comments only, is the defaults too */
    assert_int_equal(cf_rules_load(rules, write_rules("# nothing\n; here\n\n", 0)), 0);
    assert_packed(rules, DEFAULTS_JSON);
    cf_rules_destroy(&rules);
    assert_null(rules);
    cf_rules_destroy(&rules);
}

static const char *s_full =
    "\xEF\xBB\xBF# every key\r\n"
    "[milestones]\r\n"
    "CH-AVR = 100, 200, 500p, 1000p\r\n"
    "UK-VARRP =\r\n"
    "* = 1000,10000 , 65000       ; every other programme\r\n"
    "[spike]\n"
    "  ratio = 1.25\n"
    "  min_count = 0\n"
    "[spike.central_mediterranean]   ; an override\n"
    "ratio = 2.0\n"
    "[spike.western_balkans]\n"
    "min_count = 50\n"
    "[overdue]\n"
    "registered_departed = 90d\n"
    "arrived_reintegrating = 36h\n"
    "detained = 45m\n"
    "[vulnerable]\n"
    "flags = elderly, vot\n"
    "[predeparture]\n"
    "window = 30s\n";

static void test_full_file(void **state)
{
    (void) state;
    cf_rules_t *rules = cf_rules_new();
    assert_int_equal(cf_rules_load(rules, write_rules(s_full, 0)), 0);
    assert_string_equal(cf_rules_error(rules), "");
    const cf_rules_mark_t *marks;
    assert_int_equal(cf_rules_milestones(rules, "CH-AVR", &marks), 4);
    assert_int_equal(marks[0].mark, 100);
    assert_false(marks[0].persons);
    assert_int_equal(marks[2].mark, 500);
    assert_true(marks[2].persons);
    assert_int_equal(cf_rules_milestones(rules, "UK-VARRP", &marks), 0);  /* its own, empty */
    assert_int_equal(cf_rules_milestones(rules, "KS-RRP", &marks), 3);    /* the * line */
    assert_int_equal(marks[2].mark, 65000);
    assert_spike(rules, "central_mediterranean", 2.0, 0);     /* min_count: [spike]'s */
    assert_spike(rules, "western_balkans", 1.25, 50);
    assert_int_equal(cf_rules_overdue_ms(rules, CF_LIMIT_ARRIVED_REINTEGRATING), 36 * 3600000ULL);
    assert_int_equal(cf_rules_overdue_ms(rules, CF_LIMIT_DETAINED), 45 * 60000ULL);
    assert_true(cf_rules_vulnerable(rules, "elderly"));
    assert_false(cf_rules_vulnerable(rules, "uasc"));
    assert_int_equal(cf_rules_predeparture_ms(rules), 30000);
    assert_packed(rules,
        "{\"milestones\":{\"CH-AVR\":[[100,\"cases\"],[200,\"cases\"],[500,\"persons\"],"
        "[1000,\"persons\"]],\"UK-VARRP\":[],\"*\":[[1000,\"cases\"],[10000,\"cases\"],"
        "[65000,\"cases\"]]},\"spike\":{\"*\":[1.25,0],\"central_mediterranean\":[2.0,0],"
        "\"western_balkans\":[1.25,50]},\"overdue\":{\"registered_departed\":7776000000,"
        "\"arrived_reintegrating\":129600000,\"detained\":2700000},"
        "\"vulnerable\":[\"vot\",\"elderly\"],\"predeparture_ms\":30000}");
    char *text = cf_rules_describe(rules);
    assert_string_equal(text,
        "milestones: CH-AVR 100, 200, 500p, 1000p; UK-VARRP none; * 1000, 10000, 65000\n"
        "spike: ratio 1.25, min_count 0; central_mediterranean ratio 2, min_count 0; "
        "western_balkans ratio 1.25, min_count 50\n"
        "overdue: registered_departed 90d, arrived_reintegrating 36h, detained 45m\n"
        "vulnerable: vot, elderly\n"
        "predeparture: window 30s\n");
    free(text);
    /* empty flags turn the vulnerability alerts off */
    assert_int_equal(cf_rules_load(rules, write_rules("[vulnerable]\nflags =\n", 0)), 0);
    assert_false(cf_rules_vulnerable(rules, "vot"));
    text = cf_rules_describe(rules);
    assert_non_null(strstr(text, "\nvulnerable: none\n"));
    assert_non_null(strstr(text, "milestones: none\n"));
    free(text);
    cf_rules_destroy(&rules);
}

static void test_deploy_example(void **state)
{
    (void) state;
    cf_rules_t *rules = cf_rules_new();
    assert_int_equal(cf_rules_load(rules, CF_SOURCE_DIR "/deploy/rules.ini"), 0);
    const cf_rules_mark_t *marks;
    assert_int_equal(cf_rules_milestones(rules, "CH-AVR", &marks), 3);
    assert_int_equal(cf_rules_milestones(rules, "EU-IOM-JI", &marks), 3);
    assert_spike(rules, "central_mediterranean", 2.0, 100);
    cf_rules_destroy(&rules);
}

/* 65 marks, 1 to 65, for the limit of 64. */
static const char *too_many_marks(void)
{
    static char text[512];
    int len = snprintf(text, sizeof text, "[milestones]\nCH-AVR = 1");
    for (int i = 2; i <= 65; i++)
        len += snprintf(text + len, sizeof text - (size_t) len, ",%d", i);
    snprintf(text + len, sizeof text - (size_t) len, "\n");
    return text;
}

static const char *long_line(void)
{
    static char text[300];
    memset(text, '#', 250);
    strcpy(text + 250, "\n");
    return text;
}

static const struct {
    const char *text, *want;        /* want follows "PATH:" */
} s_errors[] = {
    { "[spike]\nratio = fast\n", "2: spike.ratio: 'fast' is not a number above 0" },
    { "[spike]\nratio = 0\n", "2: spike.ratio: '0' is not a number above 0" },
    { "[spike]\nratio = -1.5\n", "2: spike.ratio: '-1.5' is not a number above 0" },
    { "[spike]\nratio = inf\n", "2: spike.ratio: 'inf' is not a number above 0" },
    { "[spike]\nratio = 1.5x\n", "2: spike.ratio: '1.5x' is not a number above 0" },
    { "[spike]\n\nmin_count = -3\n", "3: spike.min_count: '-3' is not a whole number, 0 or more" },
    { "[spike]\nmin_count = 99999999999999999999\n",
      "2: spike.min_count: '99999999999999999999' is too large (at most 9007199254740991)" },
    { "[spike.central_mediterranean]\nratio = 0.0\n",
      "2: spike.central_mediterranean.ratio: '0.0' is not a number above 0" },
    { "# x\n[spiky]\nratio = 2\n", "2: spiky: unknown section (milestones, spike, "
      "spike.<route>, overdue, vulnerable, predeparture, sink.<name>)" },
    { "[spike]\n[alerts]\n", "2: alerts: unknown section (milestones, spike, spike.<route>, "
      "overdue, vulnerable, predeparture, sink.<name>)" },
    { "[]\n", "1: []: a section needs a name" },
    { "\xEF\xBB\xBF[Spike]\n", "1: Spike: unknown section (milestones, spike, spike.<route>, "
      "overdue, vulnerable, predeparture, sink.<name>)" },
    { "[spike]\nspeed = 2\n", "2: spike.speed: unknown key (ratio, min_count)" },
    { "[overdue]\nclosed = 1d\n", "2: overdue.closed: unknown key (registered_departed, "
      "arrived_reintegrating, detained)" },
    { "[vulnerable]\nflag = vot\n", "2: vulnerable.flag: unknown key (flags)" },
    { "[predeparture]\nwindow_h = 72\n", "2: predeparture.window_h: unknown key (window)" },
    { "[spike.balkans]\nspeed = 2\n", "2: spike.balkans.speed: unknown key (ratio, min_count)" },
    { "[spike]\nratio = 1\nmin_count = 3\nratio = 2\n",
      "4: spike.ratio: duplicate key (first on line 2)" },
    { "[overdue]\ndetained = 1d\n[spike]\n[overdue]\ndetained = 2d\n",
      "5: overdue.detained: duplicate key (first on line 2)" },
    { "[milestones]\nCH-AVR = 1\n* = 5\nCH-AVR = 2\n",
      "4: milestones.CH-AVR: duplicate key (first on line 2)" },
    { "[spike.a]\nmin_count = 1\n[spike.b]\n[spike.a]\nmin_count = 2\n",
      "5: spike.a.min_count: duplicate key (first on line 2)" },
    { "[milestones]\nCH AVR = 1\n", "2: milestones.CH AVR: 'CH AVR' is not a programme name "
      "([A-Za-z0-9_-], 1 to 32 characters, or *)" },
    { "[milestones]\nABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 = 1\n",
      "2: milestones.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456' is "
      "not a programme name ([A-Za-z0-9_-], 1 to 32 characters, or *)" },
    { "[milestones]\nCH.AVR = 1\n", "2: milestones.CH.AVR: 'CH.AVR' is not a programme name "
      "([A-Za-z0-9_-], 1 to 32 characters, or *)" },
    { "[spike.central med]\n", "1: spike.central med: 'central med' is not a route name "
      "([A-Za-z0-9_-], 1 to 32 characters)" },
    { "[spike.*]\nratio = 2\n", "1: spike.*: '*' is not a route name ([A-Za-z0-9_-], 1 to 32 "
      "characters)" },
    { "[spike.]\n", "1: spike.: '' is not a route name ([A-Za-z0-9_-], 1 to 32 characters)" },
    { "[overdue]\ndetained = 0d\n", "2: overdue.detained: '0d' is not a duration above 0 "
      "(<n>d, <n>h, <n>m or <n>s)" },
    { "[overdue]\nregistered_departed = 60\n", "2: overdue.registered_departed: '60' is not a "
      "duration above 0 (<n>d, <n>h, <n>m or <n>s)" },
    { "[overdue]\narrived_reintegrating = 2w\n", "2: overdue.arrived_reintegrating: '2w' is not "
      "a duration above 0 (<n>d, <n>h, <n>m or <n>s)" },
    { "[predeparture]\nwindow = -72h\n", "2: predeparture.window: '-72h' is not a duration "
      "above 0 (<n>d, <n>h, <n>m or <n>s)" },
    { "[predeparture]\nwindow = 72 h\n", "2: predeparture.window: '72 h' is not a duration "
      "above 0 (<n>d, <n>h, <n>m or <n>s)" },
    { "[predeparture]\nwindow =\n", "2: predeparture.window: '' is not a duration above 0 "
      "(<n>d, <n>h, <n>m or <n>s)" },
    { "[predeparture]\nwindow = 999999999999d\n",
      "2: predeparture.window: '999999999999d' is too long (at most 2^53 - 1 ms)" },
    { "[milestones]\nCH-AVR = 200, 100\n",
      "2: milestones.CH-AVR: marks must increase: 100 after 200" },
    { "[milestones]\nCH-AVR = 100, 100\n",
      "2: milestones.CH-AVR: marks must increase: 100 after 100" },
    { "[milestones]\n* = 100, 500p, 300, 400p\n",
      "2: milestones.*: marks must increase: 400p after 500p" },
    { "[milestones]\nCH-AVR = 0\n", "2: milestones.CH-AVR: '0' is not a mark (a whole number "
      "above 0, ending in p to count persons)" },
    { "[milestones]\nCH-AVR = 100,,200\n", "2: milestones.CH-AVR: '' is not a mark (a whole "
      "number above 0, ending in p to count persons)" },
    { "[milestones]\nCH-AVR = 100q\n", "2: milestones.CH-AVR: '100q' is not a mark (a whole "
      "number above 0, ending in p to count persons)" },
    { "[milestones]\nCH-AVR = p\n", "2: milestones.CH-AVR: 'p' is not a mark (a whole number "
      "above 0, ending in p to count persons)" },
    { NULL, "2: milestones.CH-AVR: more than 64 marks" },      /* too_many_marks() */
    { "[vulnerable]\nflags = vot, bogus\n", "2: vulnerable.flags: 'bogus' is not one of vot, "
      "uasc, health, disability, elderly, pregnant, single_parent, risk_high" },
    { "[vulnerable]\nflags = vot, uasc, vot\n", "2: vulnerable.flags: 'vot' is listed twice" },
    { "ratio = 1.5\n", "1: ratio: key outside a section" },
    { "[spike]\nratio\n", "2: syntax error: expected [section], key = value or a comment" },
    { "[spike\nratio = 1\n", "1: syntax error: expected [section], key = value or a comment" },
    { "[spike]\nratio\nmin_count = -1\n",      /* the first error wins */
      "2: syntax error: expected [section], key = value or a comment" },
    { "[spike]\nmin_count = -1\nratio\n", "2: spike.min_count: '-1' is not a whole number, "
      "0 or more" },
    { "", "1: line longer than 197 characters" },           /* long_line() */
    /* sinks: a key checked as it is read, the section once the file is */
    { "[sink.a b]\n", "1: sink.a b: 'a b' is not a sink name ([A-Za-z0-9_-], 1 to 32 "
      "characters)" },
    { "[sink.hook]\ntype = pager\n", "2: sink.hook.type: 'pager' is not a sink type (webhook, "
      "slack, smtp)" },
    { "[sink.hook]\ncolour = red\n", "2: sink.hook.colour: unknown key (type, url, topics, "
      "programmes, backoff_max, secret_file, from, to, username, password_file, give_up_after)" },
    { "[sink.hook]\ntype = slack\ntype = slack\n",
      "3: sink.hook.type: duplicate key (first on line 2)" },
    { "[sink.hook]\ntopics = alert., alrt.\n", "2: sink.hook.topics: 'alrt.' is not a topic "
      "prefix (of case.<programme>.<stage>, alert.<kind>... or milestone.<programme>; "
      "[A-Za-z0-9_.-], 1 to 64 characters)" },
    { "[sink.hook]\ntopics = alert.,,case.\n",
      "2: sink.hook.topics: an empty item in 'alert.,,case.'" },
    { "[sink.hook]\ntopics =\n", "2: sink.hook.topics: an empty list" },
    { "[sink.hook]\nprogrammes = CH AVR\n", "2: sink.hook.programmes: 'CH AVR' is not a "
      "programme name ([A-Za-z0-9_-], 1 to 32 characters)" },
    { "[sink.hook]\nurl = http://a b\n", "2: sink.hook.url: 'http://a b' is not a URL" },
    { "[sink.m]\nto = a@example.org, <b@example.org>\n", "2: sink.m.to: '<b@example.org>' is "
      "not a mail address (local@domain)" },
    { "[sink.m]\nfrom = nobody\n", "2: sink.m.from: 'nobody' is not a mail address "
      "(local@domain)" },
    { "[sink.hook]\nbackoff_max = 500d\n", "2: sink.hook.backoff_max: '500d' is not from 1s "
      "to 1d" },
    { "[sink.hook]\ngive_up_after = 8d\n", "2: sink.hook.give_up_after: '8d' is not from 1s "
      "to 7d (the age of a notification its receiver refuses, past which the sink gives it "
      "up)" },
    { "[sink.hook]\ngive_up_after = soon\n", "2: sink.hook.give_up_after: 'soon' is not a "
      "duration above 0 (<n>d, <n>h, <n>m or <n>s)" },
    { "[sink.hook]\nurl = http://x\ntopics = alert.\n",
      "1: sink.hook: missing key type (webhook, slack or smtp)" },
    { "# webhook\n[sink.hook]\ntype = webhook\nurl = http://x\ntopics = alert.\n",
      "2: sink.hook: missing key secret_file (a webhook sink needs type, url, topics, "
      "secret_file)" },
    { "[sink.chat]\ntype = slack\nurl = http://x\ntopics = alert.\nfrom = a@b.org\n",
      "5: sink.chat.from: not a key of a slack sink" },
    { "[sink.m]\ntype = smtp\nurl = https://x\ntopics = alert.\nfrom = a@b.org\nto = c@d.org\n",
      "3: sink.m.url: 'https://x' is not a smtp:// or smtps:// URL of a smtp sink" },
    { "[sink.m]\ntype = smtp\nurl = smtp://x\ntopics = alert.\nfrom = a@b.org\nto = c@d.org\n"
      "username = me\n", "7: sink.m: username and password_file go together" },
};

static void test_errors(void **state)
{
    (void) state;
    cf_rules_t *rules = cf_rules_new();
    char want[512];
    for (size_t i = 0; i < sizeof s_errors / sizeof s_errors[0]; i++) {
        const char *text = s_errors[i].text ? s_errors[i].text : too_many_marks();
        text = *text ? text : long_line();
        assert_int_equal(cf_rules_load(rules, write_rules(text, 0)), -1);
        snprintf(want, sizeof want, "%s:%s", s_path, s_errors[i].want);
        assert_string_equal(cf_rules_error(rules), want);
    }
    /* a NUL byte on line 2 */
    static const char nul[] = "[spike]\nratio = 1\0.5\n";
    assert_int_equal(cf_rules_load(rules, write_rules(nul, sizeof nul - 1)), -1);
    snprintf(want, sizeof want, "%s:2: a NUL byte in the line", s_path);
    assert_string_equal(cf_rules_error(rules), want);
    /* the OS's reason when the file cannot be opened or read */
    assert_int_equal(cf_rules_load(rules, "/nonexistent/rules.ini"), -1);
    assert_string_equal(cf_rules_error(rules),
                        "/nonexistent/rules.ini: cannot open: No such file or directory");
    assert_int_equal(cf_rules_load(rules, s_dir), -1);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", s_dir);
    assert_string_equal(cf_rules_error(rules), want);
    /* a sink heading after a stray carriage return (found by fuzz_rules: it
       crashed the parser, whose line watch did not see the heading) */
    static const char cr[] = "# sinks\n\r[sink.ops]\ntopics = alert.\n";
    assert_int_equal(cf_rules_load(rules, write_rules(cr, sizeof cr - 1)), -1);
    snprintf(want, sizeof want, "%s:3: sink.ops: missing key type (webhook, slack or smtp)",
             s_path);
    assert_string_equal(cf_rules_error(rules), want);
    /* none of it changed the rules; a good load clears the error */
    assert_packed(rules, DEFAULTS_JSON);
    assert_int_equal(cf_rules_load(rules, write_rules("[spike]\nratio = 3\n", 0)), 0);
    assert_string_equal(cf_rules_error(rules), "");
    cf_rules_destroy(&rules);
}

/* Three sinks, one of each type: what the getters give, and which
   notifications each selects. */
static void test_sinks(void **state)
{
    (void) state;
    cf_rules_t *rules = cf_rules_new();
    assert_int_equal(cf_rules_sink_count(rules), 0);
    assert_int_equal(cf_rules_load(rules, write_rules(
        "[sink.hook]\ntype = webhook\nurl = https://example.org/in\nsecret_file = /s\n"
        "topics = alert.vulnerable., milestone.\n[spike]\nratio = 2\n"
        "[sink.chat]\ntype = slack\nurl = http://chat/hooks/x\ntopics = alert.\n"
        "programmes = CH-AVR, UK-VARRP\nbackoff_max = 30s\ngive_up_after = 2h\n"
        "[sink.mail]\ntype = smtp\nurl = smtps://mail.example.org\nfrom = cf@example.org\n"
        "to = a@example.org, b@example.org\nusername = cf\npassword_file = /p\n"
        "topics = alert.overdue.\n", 0)), 0);
    assert_int_equal(cf_rules_sink_count(rules), 3);
    assert_null(cf_rules_sink(rules, 3));
    const cf_rules_sink_t *hook = cf_rules_sink(rules, 0), *chat = cf_rules_sink(rules, 1),
                          *mail = cf_rules_sink(rules, 2);
    assert_string_equal(hook->name, "hook");
    assert_int_equal(hook->type, CF_RULES_SINK_WEBHOOK);
    assert_string_equal(hook->secret_file, "/s");
    assert_int_equal(hook->topics_n, 2);
    assert_int_equal(hook->backoff_max_ms, 300000);             /* the default, 5 min */
    assert_int_equal(chat->type, CF_RULES_SINK_SLACK);
    assert_int_equal(chat->backoff_max_ms, 30000);
    assert_int_equal(hook->give_up_after_ms, 1800000);          /* the default, 30 min */
    assert_int_equal(chat->give_up_after_ms, 7200000);
    assert_int_equal(chat->programmes_n, 2);
    assert_string_equal(cf_rules_sink_type_name(mail->type), "smtp");
    assert_int_equal(mail->to_n, 2);
    assert_string_equal(mail->to[1], "b@example.org");
    assert_string_equal(mail->username, "cf");
    assert_true(cf_rules_sink_selects(hook, "alert.vulnerable.vot", NULL));
    assert_true(cf_rules_sink_selects(hook, "milestone.CH-AVR", "CH-AVR"));
    assert_false(cf_rules_sink_selects(hook, "alert.overdue.registered", "CH-AVR"));
    assert_false(cf_rules_sink_selects(hook, "case.CH-AVR.registered", "CH-AVR"));
    assert_true(cf_rules_sink_selects(chat, "alert.overdue.detained", "UK-VARRP"));
    assert_false(cf_rules_sink_selects(chat, "alert.overdue.detained", "KS-RRP"));
    assert_false(cf_rules_sink_selects(chat, "alert.spike.balkans", NULL));  /* no programme */
    char *text = cf_rules_describe(rules);
    assert_non_null(strstr(text, "sink chat: slack http://chat/hooks/x, topics alert., "
                                 "programmes CH-AVR, UK-VARRP\n"));
    assert_non_null(strstr(text, "sink mail: smtp smtps://mail.example.org, topics "
                                 "alert.overdue., to a@example.org, b@example.org\n"));
    free(text);
    /* the workers' packed rules do not carry the sinks */
    char *packed = packed_json(rules);
    assert_null(strstr(packed, "sink"));
    free(packed);
    /* a load without sinks has none again */
    assert_int_equal(cf_rules_load(rules, write_rules("[spike]\nratio = 3\n", 0)), 0);
    assert_int_equal(cf_rules_sink_count(rules), 0);
    cf_rules_destroy(&rules);
}

static void test_failed_reload_keeps_rules(void **state)
{
    (void) state;
    cf_rules_t *rules = cf_rules_new();
    assert_int_equal(cf_rules_load(rules, write_rules(s_full, 0)), 0);
    char *before = packed_json(rules);
    /* good sections before the bad line must not leak in */
    assert_int_equal(cf_rules_load(rules, write_rules(
        "[milestones]\nKS-RRP = 5\n[spike]\nratio = 9\n[overdue]\ndetained = 0s\n", 0)), -1);
    char *after = packed_json(rules);
    assert_string_equal(after, before);
    const cf_rules_mark_t *marks;
    assert_int_equal(cf_rules_milestones(rules, "KS-RRP", &marks), 3);      /* still * */
    free(after);
    /* a reload that works replaces everything: what the new file leaves out is default */
    assert_int_equal(cf_rules_load(rules, write_rules("[spike]\nratio = 9\n", 0)), 0);
    assert_int_equal(cf_rules_milestones(rules, "CH-AVR", &marks), 0);
    assert_spike(rules, "central_mediterranean", 9.0, 10);
    free(before);
    cf_rules_destroy(&rules);
}

/* The packed map's msgpack types: the ratio a float, the rest integers. */
static void test_packed_types(void **state)
{
    (void) state;
    cf_rules_t *rules = cf_rules_new();
    assert_int_equal(cf_rules_load(rules, write_rules(
        "[milestones]\nP1 = 3p\n[spike]\nratio = 2\n[spike.r1]\nmin_count = 7\n", 0)), 0);
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(rules, &packed);
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t offset = 0;
    assert_int_equal(msgpack_unpack_next(&result, packed.data, packed.size, &offset),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(offset, packed.size);                  /* one value, nothing after */
    msgpack_object root = result.data;
    assert_int_equal(root.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(root.via.map.size, 5);
    msgpack_object mark = root.via.map.ptr[0].val.via.map.ptr[0].val.via.array.ptr[0];
    assert_int_equal(mark.via.array.ptr[0].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(mark.via.array.ptr[0].via.u64, 3);
    assert_int_equal(mark.via.array.ptr[1].type, MSGPACK_OBJECT_STR);
    msgpack_object spike = root.via.map.ptr[1].val;
    assert_int_equal(spike.via.map.size, 2);
    msgpack_object route = spike.via.map.ptr[1].val;        /* r1: ratio merged from [spike] */
    assert_int_equal(route.via.array.ptr[0].type, MSGPACK_OBJECT_FLOAT64);
    assert_true(route.via.array.ptr[0].via.f64 == 2.0);
    assert_int_equal(route.via.array.ptr[1].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(route.via.array.ptr[1].via.u64, 7);
    assert_int_equal(root.via.map.ptr[4].val.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    msgpack_unpacked_destroy(&result);
    msgpack_sbuffer_destroy(&packed);
    assert_packed(rules,
        "{\"milestones\":{\"P1\":[[3,\"persons\"]]},\"spike\":{\"*\":[2.0,10],\"r1\":[2.0,7]},"
        "\"overdue\":{\"registered_departed\":5184000000,\"arrived_reintegrating\":2592000000,"
        "\"detained\":2592000000},\"vulnerable\":[\"vot\",\"uasc\",\"health\",\"risk_high\"],"
        "\"predeparture_ms\":259200000}");
    cf_rules_destroy(&rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_deploy_example),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_sinks),
        cmocka_unit_test(test_failed_reload_keeps_rules),
        cmocka_unit_test(test_packed_types),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
