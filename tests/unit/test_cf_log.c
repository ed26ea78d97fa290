/*  Tests of cf_log: a peer's string becomes one logfmt value, whatever its
    bytes (issue 15, item 4: a worker's host with a newline forged a line),
    and a whole line is one line.                                           */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "caseflow/cf_log.h"

static void expect_quote(const char *text, size_t len, const char *want)
{
    char out[CF_LOG_QUOTE_MAX];
    assert_string_equal(cf_log_quote(out, sizeof out, text, len), want);
}

static void test_quote(void **unused)
{
    (void) unused;
    expect_quote("host-1:42", 9, "host-1:42");          /* plain: as it is */
    expect_quote("", 0, "\"\"");
    expect_quote("two words", 9, "\"two words\"");
    expect_quote("a=b", 3, "\"a=b\"");
    expect_quote("say \"hi\" \\o/", 12, "\"say \\\"hi\\\" \\\\o/\"");
    expect_quote("h\nts=1 level=error msg=\"forged\"", 31,
                 "\"h\\nts=1 level=error msg=\\\"forged\\\"\"");
    expect_quote("\r\t\x1b\x7f\xc3\xa9", 6, "\"\\r\\t\\x1b\\x7f\\xc3\\xa9\"");
    expect_quote("a\0b", 3, "\"a\\x00b\"");
    assert_string_equal(CF_LOG_QUOTE("x y"), "\"x y\"");
}

/* A value longer than the buffer is cut at an escape's end, with "..." and
   its closing quote; nothing is written past size. */
static void test_quote_cut(void **unused)
{
    (void) unused;
    char out[16];
    memset(out, '#', sizeof out);
    cf_log_quote(out, 12, "abcdefghijklmnop", 16);      /* plain but too long */
    assert_string_equal(out, "\"abcdef...\"");
    assert_int_equal(out[12], '#');
    cf_log_quote(out, 12, "ab\n\n\n\n\n", 7);
    assert_string_equal(out, "\"ab\\n\\n...\"");
    cf_log_quote(out, 8, "\n\n\n\n", 4);
    assert_string_equal(out, "\"\\n...\"");
    char big[CF_LOG_QUOTE_MAX * 2];
    memset(big, '\n', sizeof big);
    char quoted[CF_LOG_QUOTE_MAX];
    cf_log_quote(quoted, sizeof quoted, big, sizeof big);
    assert_true(strlen(quoted) < sizeof quoted);
    assert_null(strchr(quoted, '\n'));
}

/* The line a forged host makes: exactly one, the newline escaped. */
static void test_one_line(void **unused)
{
    (void) unused;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fds[1], 2);
    cf_log_init("test", CF_LOG_INFO);
    CF_LOG(CF_LOG_INFO, "worker joined", "worker=%s",
           CF_LOG_QUOTE("evil\nts=x level=error msg=\"forged\":1"));
    CF_LOG(CF_LOG_DEBUG, "not written", "worker=%s", CF_LOG_QUOTE("x"));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    char buf[1024];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, " msg=\"worker joined\" worker=\"evil\\nts=x level=error "
                                "msg=\\\"forged\\\":1\"\n"));
    assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);  /* one line */
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_quote),
                                        cmocka_unit_test(test_quote_cut),
                                        cmocka_unit_test(test_one_line) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
