/*  Tests of cf_config, with the settings table's rules
    (cf_settings_config_new): a whole file checked, every error found in one
    reading with its line (unknown sections and keys, keys twice or in the
    wrong section, bad values, syntax), and the values of a good file.      */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "caseflow/cf_config.h"
#include "caseflow/cf_settings.h"
#include "cf_test_files.h"

static void test_file_errors(void **unused)
{
    (void) unused;
    const char *path = cf_test_file_write("queue = 1\n"                     /* 1: outside a section */
                                  "[brokr]\n"                       /* 2: unknown section */
                                  "queue = 1\n"                     /* 3: skipped with it */
                                  "[broker]\n"
                                  "queu = 4\n"                      /* 5: unknown key */
                                  "  queue = 4 ; a comment\n"       /* 6: good */
                                  "queue = 5\n"                     /* 7: twice */
                                  "[caseflow]\n"
                                  "queue = 5\n"                     /* 9: not shared */
                                  "key_file = x\n"                  /* 10: near miss */
                                  "redis =\n"                       /* 11: empty */
                                  "just words\n"                    /* 12: syntax */
                                  "[worker\n"                       /* 13: syntax */
                                  "[push]\n"
                                  "batch = 1001\n"                  /* 15: out of range */
                                  "[broker]\n"
                                  "publish = tcp://*:1\n");         /* 17: the flag's old name */
    cf_config_t *c = cf_settings_config_new();
    assert_int_equal(cf_config_load(c, path), -1);
    static const struct { int line; const char *says; } want[] = {
        { 1, "key 'queue': outside a section" }, { 2, "section 'brokr': unknown section" },
        { 5, "key 'queu': unknown key" }, { 7, "key 'queue': given twice in [broker] (first on line 6)" },
        { 9, "key 'queue': not a key of [caseflow] (it belongs in [broker])" },
        { 10, "key 'key_file': unknown key (did you mean 'key-file'?)" },
        { 11, "key 'redis': empty value" }, { 12, "syntax error" }, { 13, "syntax error" },
        { 15, "key 'batch': '1001' is not a number from 1 to 1000" },
        { 17, "key 'publish': --publish is an older name of --subscribe: the key is 'subscribe'" } };
    assert_int_equal(cf_config_errors(c), sizeof want / sizeof *want);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%s:%d: ", path, want[i].line);
        assert_int_equal(cf_config_error_line(c, i), want[i].line);
        const char *text = cf_config_error(c, i);
        if (strncmp(text, prefix, strlen(prefix)) || !strstr(text, want[i].says))
            fail_msg("error %zu is '%s', not %s%s", i, text, prefix, want[i].says);
    }
    cf_config_destroy(&c);
    assert_null(c);

    path = cf_test_file_write("\xEF\xBB\xBF[caseflow]\n# a comment\n; another\n\nredis = h:1\n[ctl]\nredis = h:2\n");
    c = cf_settings_config_new();
    assert_int_equal(cf_config_load(c, path), 0);
    int line;
    assert_string_equal(cf_config_value(c, "ctl", "redis", &line), "h:2");
    assert_int_equal(line, 7);
    assert_int_equal(cf_config_keys(c), 2);
    assert_int_equal(cf_config_sections(c), 2);
    assert_null(cf_config_value(c, "broker", "redis", NULL));
    const char *section, *key;      /* the keys in file order */
    assert_string_equal(cf_config_entry(c, 0, &section, &key, &line), "h:1");
    assert_string_equal(section, "caseflow");
    assert_string_equal(key, "redis");
    assert_int_equal(line, 5);
    assert_string_equal(cf_config_entry(c, 1, &section, NULL, NULL), "h:2");
    assert_string_equal(section, "ctl");
    cf_config_destroy(&c);
}

static void test_cannot_open(void **unused)
{
    (void) unused;
    cf_config_t *c = cf_settings_config_new();
    assert_int_equal(cf_config_load(c, "/nonexistent/caseflow.conf"), -1);
    assert_int_equal(cf_config_errors(c), 1);
    assert_int_equal(cf_config_error_line(c, 0), 0);
    assert_string_equal(cf_config_error(c, 0),
                        "/nonexistent/caseflow.conf: cannot open: No such file or directory");
    cf_config_destroy(&c);
    cf_config_destroy(&c);                      /* NULL is fine */
}

static void test_long_line(void **unused)
{
    (void) unused;
    char text[400];
    snprintf(text, sizeof text, "[broker]\nqueue = 1%0250d\nheartbeat = 100\n", 0);
    const char *path = cf_test_file_write(text);
    cf_config_t *c = cf_settings_config_new();
    assert_int_equal(cf_config_load(c, path), -1);
    assert_int_equal(cf_config_errors(c), 1);
    assert_int_equal(cf_config_error_line(c, 0), 2);
    assert_non_null(strstr(cf_config_error(c, 0), "line longer than"));
    assert_non_null(cf_config_value(c, "broker", "heartbeat", NULL));   /* read on after it */
    cf_config_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_file_errors, cf_test_file_teardown),
        cmocka_unit_test(test_cannot_open),
        cmocka_unit_test_teardown(test_long_line, cf_test_file_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
