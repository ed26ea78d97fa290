/*  Tests of cf_pseudo: the key file rules and the HMAC-SHA-256 pseudonym
    (checked against a value computed independently with Python's hmac:
    HMAC-SHA-256(key = 32 x 'k', "BEL-2019-000123"), first 16 bytes, hex).   */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "caseflow/cf_pseudo.h"

#define CF_PSEUDO_EXPECTED "1a75ba782c69c616effad62ef0c836e5"

static char s_path[64];

static void write_key(const char *bytes, size_t len)
{
    snprintf(s_path, sizeof s_path, "/tmp/cf_pseudo_test_%d.key", (int) getpid());
    FILE *file = fopen(s_path, "wb");
    assert_non_null(file);
    fwrite(bytes, 1, len, file);
    fclose(file);
}

static void test_key_rules(void **state)
{
    (void) state;
    char err[256];
    assert_null(cf_pseudo_new("/nonexistent/key", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/key"));
    write_key("short\n", 6);
    assert_null(cf_pseudo_new(s_path, err, sizeof err));
    assert_non_null(strstr(err, "5 bytes"));
    unlink(s_path);
}

static void test_pseudonym(void **state)
{
    (void) state;
    char err[256], out[33], again[33], other[33];
    write_key("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\n", 33);   /* newline is not key */
    cf_pseudo_t *pseudo = cf_pseudo_new(s_path, err, sizeof err);
    assert_non_null(pseudo);
    cf_pseudo_apply(pseudo, "BEL-2019-000123", 15, out);
    assert_string_equal(out, CF_PSEUDO_EXPECTED);
    cf_pseudo_apply(pseudo, "BEL-2019-000123", 15, again);
    assert_string_equal(out, again);
    cf_pseudo_apply(pseudo, "BEL-2019-000124", 15, other);
    assert_string_not_equal(out, other);
    cf_pseudo_destroy(&pseudo);
    assert_null(pseudo);
    unlink(s_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_key_rules),
                                        cmocka_unit_test(test_pseudonym) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
