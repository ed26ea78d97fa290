/*  Tests of cf_web_feed without a broker: a snapshot cut to a scoped
    token's programmes keeps only their figures, returns, open alerts and
    milestones, and the cursors; a feed on an endpoint nobody binds starts,
    holds nothing, times out waiting and ends its waiters when closed.      */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include "cf_web_feed.h"

static bool sees_ch(const char *programme, void *arg)
{
    (void) arg;
    return !strcmp(programme, "CH-AVR");
}

static void test_scope_snapshot(void **state)
{
    (void) state;
    const char *json =
        "{\"cursors\":{\"s0\":\"1-0\"},"
        "\"figures\":{\"CH-AVR|registered|cases\":12,\"KS-RRP|registered|cases\":null},"
        "\"returns\":{\"CH-AVR|cases\":null,\"UK-VARRP|cases\":40},"
        "\"open_alerts\":[{\"programme\":\"KS-RRP\",\"case_id\":\"a\"},"
        "{\"programme\":\"CH-AVR\",\"case_id\":\"b\"},{\"case_id\":\"c\"}],"
        "\"last_milestones\":{\"CH-AVR\":{\"mark\":\"100\"},\"UK-VARRP\":{\"mark\":\"50\"}}}";
    char *cut = cf_web_feed_scope_snapshot(json, sees_ch, NULL);
    assert_string_equal(cut,
        "{\"cursors\":{\"s0\":\"1-0\"},\"figures\":{\"CH-AVR|registered|cases\":12},"
        "\"returns\":{\"CH-AVR|cases\":null},"
        "\"open_alerts\":[{\"programme\":\"CH-AVR\",\"case_id\":\"b\"}],"
        "\"last_milestones\":{\"CH-AVR\":{\"mark\":\"100\"}}}");
    free(cut);
    assert_null(cf_web_feed_scope_snapshot("[1]", sees_ch, NULL));
    assert_null(cf_web_feed_scope_snapshot("not json", sees_ch, NULL));
}

static void test_empty_feed(void **state)
{
    (void) state;
    char err[256];
    cf_web_feed_t *feed = cf_web_feed_new("tcp://127.0.0.1:1", "tcp://127.0.0.1:1", NULL, NULL,
                                          err, sizeof err);
    assert_non_null(feed);
    assert_int_equal(strlen(cf_web_feed_epoch(feed)), 16);
    assert_int_equal(cf_web_feed_head(feed), 0);
    assert_true(cf_web_feed_can_resume(feed, 0));
    assert_false(cf_web_feed_can_resume(feed, 1));      /* not yet given */
    cf_web_feed_entry_t e = { 0 };
    uint64_t woken = cf_web_feed_woken(feed);
    assert_int_equal(cf_web_feed_next(feed, 0, &woken, 50, &e), 0);
    assert_int_equal(cf_web_feed_next(feed, 5, &woken, 50, &e), -2);
    /* a wake since the stream last looked ends its next wait at once */
    cf_web_feed_wake(feed);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(cf_web_feed_next(feed, 0, &woken, 5000, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    assert_int_equal(woken, cf_web_feed_woken(feed));
    cf_web_feed_close(feed);
    assert_int_equal(cf_web_feed_next(feed, 0, &woken, 5000, &e), -1);
    cf_web_feed_destroy(&feed);
    assert_null(feed);
    assert_null(cf_web_feed_new("nonsense", "tcp://127.0.0.1:1", NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "notification endpoint 'nonsense'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope_snapshot),
        cmocka_unit_test(test_empty_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
