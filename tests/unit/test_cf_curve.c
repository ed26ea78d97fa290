/*  Tests of cf_curve: a pair saved and loaded again is the same pair, the
    secret file is 0600 and a looser one is refused, files are never
    overwritten, client settings need both files, loopback endpoints.      */
#include "cf_test_files.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "caseflow/cf_curve.h"

static char s_dir[] = "/tmp/cf_curve_XXXXXX";

static void path_of(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", s_dir, name);
}

static void test_save_load(void **unused)
{
    (void) unused;
    char err[256] = "", path[512];
    cf_curve_t *pair = cf_curve_new();
    assert_non_null(pair);
    assert_int_equal(strlen(cf_curve_public(pair)), CF_CURVE_Z85_LEN);
    assert_int_equal(cf_curve_save(pair, s_dir, "alice", err, sizeof err), 0);
    path_of(path, sizeof path, "alice.key");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    cf_curve_t *loaded = cf_curve_load(path, err, sizeof err);
    assert_non_null(loaded);
    assert_string_equal(cf_curve_public(loaded), cf_curve_public(pair));
    char z85[CF_CURVE_Z85_LEN + 1];
    path_of(path, sizeof path, "alice.pub");
    assert_int_equal(cf_curve_read_public(path, z85, err, sizeof err), 0);
    assert_string_equal(z85, cf_curve_public(pair));
    /* never overwritten */
    assert_int_equal(cf_curve_save(pair, s_dir, "alice", err, sizeof err), -1);
    assert_non_null(strstr(err, "alice.key"));
    assert_int_equal(cf_curve_save(pair, s_dir, "a/b", err, sizeof err), -1);
    cf_curve_destroy(&loaded);
    cf_curve_destroy(&pair);
    assert_null(pair);
    cf_curve_destroy(&pair);
}

static void test_loose_mode_refused(void **unused)
{
    (void) unused;
    char err[256], path[512];
    cf_curve_t *pair = cf_curve_new();
    assert_int_equal(cf_curve_save(pair, s_dir, "bob", err, sizeof err), 0);
    path_of(path, sizeof path, "bob.key");
    assert_int_equal(chmod(path, 0644), 0);
    assert_null(cf_curve_load(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "mode 0644"));
    assert_int_equal(chmod(path, 0660), 0);        /* a group that may write: never */
    assert_null(cf_curve_load(path, err, sizeof err));
    assert_non_null(strstr(err, "mode 0660"));
    /* group-readable only when root owns the file (PostgreSQL's rule) */
    assert_int_equal(chmod(path, 0640), 0);
    cf_curve_t *loaded = cf_curve_load(path, err, sizeof err);
    if (geteuid() == 0)
        assert_non_null(loaded);
    else
        assert_null(loaded);
    cf_curve_destroy(&loaded);
    assert_int_equal(chmod(path, 0400), 0);
    loaded = cf_curve_load(path, err, sizeof err);
    assert_non_null(loaded);
    cf_curve_destroy(&loaded);
    cf_curve_destroy(&pair);
}

static void test_bad_files(void **unused)
{
    (void) unused;
    char err[256], path[512], z85[CF_CURVE_Z85_LEN + 1];
    path_of(path, sizeof path, "missing.key");
    assert_null(cf_curve_load(path, err, sizeof err));
    assert_non_null(strstr(err, "missing.key"));
    path_of(path, sizeof path, "junk.pub");
    FILE *file = fopen(path, "w");
    fputs("not a key\n", file);
    fclose(file);
    assert_int_equal(cf_curve_read_public(path, z85, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a key file"));
}

static void test_client_settings(void **unused)
{
    (void) unused;
    char err[256], key[512], pub[512];
    cf_curve_t *pair = cf_curve_new(), *client = NULL;
    assert_int_equal(cf_curve_save(pair, s_dir, "carol", err, sizeof err), 0);
    path_of(key, sizeof key, "carol.key");
    path_of(pub, sizeof pub, "carol.pub");
    assert_int_equal(cf_curve_client_new(NULL, NULL, &client, err, sizeof err), 0);
    assert_null(client);
    assert_int_equal(cf_curve_client_new(key, NULL, &client, err, sizeof err), -1);
    assert_non_null(strstr(err, "--server-key"));
    assert_int_equal(cf_curve_client_new(NULL, pub, &client, err, sizeof err), -1);
    assert_non_null(strstr(err, "--curve-key"));
    assert_int_equal(cf_curve_client_new(key, pub, &client, err, sizeof err), 0);
    assert_non_null(client);
    cf_curve_destroy(&client);
    cf_curve_destroy(&pair);
}

static void test_loopback(void **unused)
{
    (void) unused;
    assert_true(cf_curve_is_loopback("tcp://127.0.0.1:5570"));
    assert_true(cf_curve_is_loopback("tcp://127.1.2.3:1"));
    assert_true(cf_curve_is_loopback("tcp://localhost:5570"));
    assert_true(cf_curve_is_loopback("tcp://[::1]:5570"));
    assert_true(cf_curve_is_loopback("ipc:///tmp/x"));
    assert_true(cf_curve_is_loopback("inproc://x"));
    assert_false(cf_curve_is_loopback("tcp://0.0.0.0:5570"));
    assert_false(cf_curve_is_loopback("tcp://*:5570"));
    assert_false(cf_curve_is_loopback("tcp://10.0.0.1:5570"));
    assert_false(cf_curve_is_loopback("tcp://127.0.0.1.example.org:5570"));
    assert_false(cf_curve_is_loopback("tcp://localhost.example.org:5570"));
    assert_false(cf_curve_is_loopback("tcp://eth0;127.0.0.1:5570"));
    assert_false(cf_curve_is_loopback(NULL));
}

int main(void)
{
    if (!mkdtemp(s_dir))
        return 1;
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_save_load),
                                        cmocka_unit_test(test_loose_mode_refused),
                                        cmocka_unit_test(test_bad_files),
                                        cmocka_unit_test(test_client_settings),
                                        cmocka_unit_test(test_loopback) };
    return cf_test_dir_remove(s_dir, cmocka_run_group_tests(tests, NULL, NULL));
}
