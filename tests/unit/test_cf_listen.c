/*  Tests of cf_listen: a loopback-only socket binds 127.0.0.1 and ::1 (when
    the host has IPv6) and refuses a wildcard or other address before
    binding anything; a port in use is refused with the reason.              */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "caseflow/cf_listen.h"

static void test_loopback_binds(void **state)
{
    (void) state;
    char err[256];
    int fd = cf_listen_tcp("web", "127.0.0.1", 0, true, err, sizeof err);
    assert_true(fd >= 0);
    int port = cf_listen_port(fd);
    assert_true(port > 0);
    /* the same port again: in use, said with the server's name */
    assert_int_equal(cf_listen_tcp("web", "127.0.0.1", port, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot listen for web on 127.0.0.1:"));
    close(fd);
    fd = cf_listen_tcp("web", "localhost", 0, true, err, sizeof err);
    assert_true(fd >= 0);
    close(fd);
}

static void test_other_addresses_refused(void **state)
{
    (void) state;
    char err[256];
    assert_int_equal(cf_listen_tcp("web", "0.0.0.0", 0, true, err, sizeof err), -1);
    assert_string_equal(err, "web address 0.0.0.0:0 is not a loopback address");
    assert_int_equal(cf_listen_tcp("web", "::", 0, true, err, sizeof err), -1);
    assert_int_equal(cf_listen_tcp("web", "10.1.2.3", 8080, true, err, sizeof err), -1);
    assert_string_equal(err, "web address 10.1.2.3:8080 is not a loopback address");
    /* without loopback_only the wildcard binds */
    int fd = cf_listen_tcp("web", "0.0.0.0", 0, false, err, sizeof err);
    assert_true(fd >= 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_binds),
        cmocka_unit_test(test_other_addresses_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
