/*  Tests of cf_dlq_table without Redis: which ids name one stream entry
    (and so may be replayed one by one), and that a store that cannot be
    reached gives no table but a reason. The tables over a real stream are
    tested by integration.dlq (caseflow-ctl dlq) and integration.web
    (/api/v1/dlq).                                                          */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "caseflow/cf_dlq_table.h"

static void test_ids(void **state)
{
    (void) state;
    const char *good[] = { "0-0", "1700000000000-0", "1-12" };
    const char *bad[] = { "", "-", "+", "1", "1-", "-1", "1-0-0", "a-0", "1-b", " 1-0",
                          "1-0\n", "123456789012345678901234567890-12345678901234567890" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(cf_dlq_table_id_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(cf_dlq_table_id_valid(bad[i]));
}

static void test_unreachable(void **state)
{
    (void) state;
    cf_store_t *store = cf_store_new("127.0.0.1", 1, NULL);    /* nothing listens on port 1 */
    char err[256] = "";
    assert_null(cf_dlq_table_list(store, err, sizeof err));
    assert_true(strlen(err) > 0);
    bool missing = true;
    err[0] = 0;
    assert_null(cf_dlq_table_replay(store, "1-0", &missing, err, sizeof err));
    assert_false(missing);
    assert_true(strlen(err) > 0);
    cf_store_destroy(&store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
