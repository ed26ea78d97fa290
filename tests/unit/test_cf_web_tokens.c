/*  Tests of cf_web_tokens: a token file's lines (hash, role, programmes;
    a producer, which reads nothing and takes no programmes;
    comments and blank lines skipped) are found by the token's SHA-256 only;
    every malformed line is refused with FILE:LINE and a reason; a replaced
    set leads its holders to their token in the new one, or to none.         */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "cf_web_tokens.h"

static void test_find_by_hash(void **state)
{
    (void) state;
    char a[CF_WEB_TOKEN_HASH_HEX], b[CF_WEB_TOKEN_HASH_HEX], text[512], err[256];
    cf_web_tokens_hash("alpha", a);
    /* sha256("alpha"), as sha256sum prints it */
    assert_string_equal(a, "8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8");
    cf_web_tokens_hash("beta", b);
    snprintf(text, sizeof text, "# who may sign in\n\n%s viewer\r\n  %s exact CH-AVR,UK-VARRP\n",
             a, b);
    cf_web_tokens_t *t = cf_web_tokens_parse(text, "tokens", err, sizeof err);
    assert_non_null(t);
    assert_int_equal(cf_web_tokens_size(t), 2);
    const cf_web_token_t *alpha = cf_web_tokens_find(t, "alpha");
    assert_non_null(alpha);
    assert_int_equal(cf_web_token_role(alpha), CF_WEB_VIEWER);
    assert_int_equal(cf_web_token_programmes(alpha), 0);
    assert_true(cf_web_token_sees(alpha, "ANY"));
    const cf_web_token_t *beta = cf_web_tokens_find(t, "beta");
    assert_int_equal(cf_web_token_role(beta), CF_WEB_EXACT);
    assert_int_equal(cf_web_token_programmes(beta), 2);
    assert_string_equal(cf_web_token_programme(beta, 1), "UK-VARRP");
    assert_true(cf_web_token_sees(beta, "CH-AVR"));
    assert_false(cf_web_token_sees(beta, "KS-RRP"));
    assert_null(cf_web_tokens_find(t, "gamma"));
    assert_null(cf_web_tokens_find(t, a));      /* the hash is not the token */
    assert_string_equal(cf_web_role_name(CF_WEB_OPERATOR), "operator");
    assert_true(cf_web_token_reads(alpha));
    cf_web_tokens_destroy(&t);
    /* a producer posts events and reads nothing */
    snprintf(text, sizeof text, "%s producer\n", a);
    t = cf_web_tokens_parse(text, "tokens", err, sizeof err);
    assert_non_null(t);
    assert_int_equal(cf_web_token_role(cf_web_tokens_find(t, "alpha")), CF_WEB_PRODUCER);
    assert_false(cf_web_token_reads(cf_web_tokens_find(t, "alpha")));
    assert_string_equal(cf_web_role_name(CF_WEB_PRODUCER), "producer");
    cf_web_tokens_destroy(&t);
    assert_null(t);
    cf_web_tokens_destroy(&t);
}

static void test_bad_lines(void **state)
{
    (void) state;
    char h[CF_WEB_TOKEN_HASH_HEX], text[512], err[256];
    cf_web_tokens_hash("alpha", h);
    struct { const char *line, *why; } cases[] = {
        { "abc viewer", "tokens:2: the hash is not 64 hex digits (the SHA-256 of the token)" },
        { "%s", "tokens:2: a line is HASH ROLE [PROGRAMMES]" },
        { "%s admin", "tokens:2: role 'admin' is not viewer, exact, operator or producer" },
        { "%s producer CH-AVR", "tokens:2: a producer token takes no programmes" },
        { "%s viewer A B", "tokens:2: a line is HASH ROLE [PROGRAMMES]; programmes are "
                           "comma-separated" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, cases[i].line, h);
        snprintf(text, sizeof text, "# first\n%s\n", line);
        assert_null(cf_web_tokens_parse(text, "tokens", err, sizeof err));
        assert_string_equal(err, cases[i].why);
    }
    assert_null(cf_web_tokens_load("/nonexistent/tokens", err, sizeof err));
    assert_string_equal(err, "/nonexistent/tokens: No such file or directory");
}

/*  A set replaced by a newer one: a holder follows its token into it, or
    learns it was removed; references keep each set alive until the last
    holder drops it (ASan finds a leak or a use after free).                 */
static void test_replace(void **state)
{
    (void) state;
    char a[CF_WEB_TOKEN_HASH_HEX], b[CF_WEB_TOKEN_HASH_HEX], text[512], err[256];
    cf_web_tokens_hash("alpha", a);
    cf_web_tokens_hash("beta", b);
    snprintf(text, sizeof text, "%s viewer\n%s viewer\n", a, b);
    cf_web_tokens_t *old = cf_web_tokens_parse(text, "old", err, sizeof err);
    snprintf(text, sizeof text, "%s operator CH-AVR\n", a);
    cf_web_tokens_t *fresh = cf_web_tokens_parse(text, "new", err, sizeof err);
    assert_non_null(old);
    assert_non_null(fresh);
    /* two streams, one of each token, hold the old set */
    cf_web_tokens_t *held_a = cf_web_tokens_hold(old), *held_b = cf_web_tokens_hold(old);
    const cf_web_token_t *ta = cf_web_tokens_find(held_a, "alpha");
    const cf_web_token_t *tb = cf_web_tokens_find(held_b, "beta");
    assert_ptr_equal(cf_web_tokens_renew(&held_a, ta), ta);     /* not replaced yet */
    assert_ptr_equal(held_a, old);
    cf_web_tokens_replace(old, fresh);
    cf_web_tokens_destroy(&old);            /* the server's reference */
    cf_web_tokens_destroy(&fresh);          /* the main's: old holds fresh */
    ta = cf_web_tokens_renew(&held_a, ta);
    assert_non_null(ta);
    assert_int_equal(cf_web_token_role(ta), CF_WEB_OPERATOR);  /* the new line */
    assert_int_equal(cf_web_token_programmes(ta), 1);
    assert_ptr_equal(ta, cf_web_tokens_find(held_a, "alpha"));
    assert_null(cf_web_tokens_renew(&held_b, tb));              /* beta was removed */
    assert_ptr_equal(held_a, held_b);       /* both moved to the new set */
    cf_web_tokens_destroy(&held_b);
    assert_null(held_b);
    assert_int_equal(cf_web_tokens_size(held_a), 1);
    cf_web_tokens_destroy(&held_a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_by_hash),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
