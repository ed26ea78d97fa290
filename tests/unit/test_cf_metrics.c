/*  Tests of cf_metrics: the text exposition format (# HELP and # TYPE once
    per name, labels, a histogram's cumulative buckets, +Inf, sum and count),
    a NULL registry and NULL series doing nothing, and updates from another
    thread while rendering.                                                  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "caseflow/cf_metrics.h"

/* How many times needle occurs in text. */
static int occurrences(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_counters_and_gauges(void **state)
{
    (void) state;
    cf_metrics_t *metrics = cf_metrics_new();
    cf_metric_t *accepted = cf_metrics_counter(metrics, "cf_events_total", "Events by outcome.",
                                               "outcome=\"accepted\"");
    cf_metric_t *depth = cf_metrics_gauge(metrics, "cf_queue", "Queue depth.", NULL);
    cf_metric_t *busy = cf_metrics_counter(metrics, "cf_events_total", "Events by outcome.",
                                           "outcome=\"busy\"");
    cf_metric_add(accepted, 41);
    cf_metric_inc(accepted);
    cf_metric_set(depth, 7);
    cf_metric_set(depth, 3);
    assert_int_equal(cf_metric_value(accepted), 42);
    assert_int_equal(cf_metric_value(busy), 0);
    size_t len;
    char *text = cf_metrics_render(metrics, &len);
    assert_int_equal(len, strlen(text));
    const char *expected =
        "# HELP cf_events_total Events by outcome.\n"
        "# TYPE cf_events_total counter\n"
        "cf_events_total{outcome=\"accepted\"} 42\n"
        "cf_events_total{outcome=\"busy\"} 0\n"
        "# HELP cf_queue Queue depth.\n"
        "# TYPE cf_queue gauge\n"
        "cf_queue 3\n";
    assert_string_equal(text, expected);
    free(text);
    cf_metrics_destroy(&metrics);
    assert_null(metrics);
    cf_metrics_destroy(&metrics);
}

static void test_histogram(void **state)
{
    (void) state;
    cf_metrics_t *metrics = cf_metrics_new();
    const double bounds[] = { 0.001, 0.01, 0.1 };
    cf_metric_t *h = cf_metrics_histogram(metrics, "cf_seconds", "Latency.", "call=\"apply\"",
                                          bounds, 3);
    cf_metric_t *plain = cf_metrics_histogram(metrics, "cf_plain", "No labels.", NULL, bounds, 3);
    cf_metric_observe(h, 0.0005);
    cf_metric_observe(h, 0.001);        /* le is inclusive */
    cf_metric_observe(h, 0.05);
    cf_metric_observe(h, 2.0);
    cf_metric_observe(plain, 0.5);
    assert_int_equal(cf_metric_value(h), 4);
    size_t len;
    char *text = cf_metrics_render(metrics, &len);
    assert_non_null(strstr(text, "# TYPE cf_seconds histogram\n"
                                 "cf_seconds_bucket{call=\"apply\",le=\"0.001\"} 2\n"
                                 "cf_seconds_bucket{call=\"apply\",le=\"0.01\"} 2\n"
                                 "cf_seconds_bucket{call=\"apply\",le=\"0.1\"} 3\n"
                                 "cf_seconds_bucket{call=\"apply\",le=\"+Inf\"} 4\n"
                                 "cf_seconds_sum{call=\"apply\"} 2.0515\n"
                                 "cf_seconds_count{call=\"apply\"} 4\n"));
    assert_non_null(strstr(text, "cf_plain_bucket{le=\"0.1\"} 0\n"
                                 "cf_plain_bucket{le=\"+Inf\"} 1\n"
                                 "cf_plain_sum 0.5\n"
                                 "cf_plain_count 1\n"));
    assert_int_equal(occurrences(text, "# HELP"), 2);
    free(text);
    cf_metrics_destroy(&metrics);
}

static void test_null_registry(void **state)
{
    (void) state;
    assert_null(cf_metrics_counter(NULL, "x_total", "x", NULL));
    assert_null(cf_metrics_gauge(NULL, "x", "x", NULL));
    assert_null(cf_metrics_histogram(NULL, "x", "x", NULL, NULL, 0));
    cf_metric_inc(NULL);
    cf_metric_set(NULL, 1);
    cf_metric_observe(NULL, 1.0);
}

typedef struct {
    cf_metric_t *counter, *histogram;
} writer_t;

static void *writer(void *arg)
{
    writer_t *w = arg;
    for (int i = 0; i < 100000; i++) {
        cf_metric_inc(w->counter);
        cf_metric_observe(w->histogram, 0.5);
    }
    return NULL;
}

/* Renders while another thread updates: every render is well formed (each
   histogram's +Inf bucket equals its count) and the final figures are exact. */
static void test_concurrent_updates(void **state)
{
    (void) state;
    cf_metrics_t *metrics = cf_metrics_new();
    const double bounds[] = { 1 };
    writer_t w = { cf_metrics_counter(metrics, "n_total", "n", NULL),
                   cf_metrics_histogram(metrics, "h", "h", NULL, bounds, 1) };
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, writer, &w), 0);
    for (int i = 0; i < 200; i++) {
        size_t len;
        char *text = cf_metrics_render(metrics, &len);
        unsigned long long inf = 0, count = 0;
        const char *p = strstr(text, "h_bucket{le=\"+Inf\"} ");
        assert_non_null(p);
        inf = strtoull(p + strlen("h_bucket{le=\"+Inf\"} "), NULL, 10);
        p = strstr(text, "h_count ");
        assert_non_null(p);
        count = strtoull(p + strlen("h_count "), NULL, 10);
        assert_int_equal(inf, count);
        free(text);
    }
    pthread_join(thread, NULL);
    assert_int_equal(cf_metric_value(w.counter), 100000);
    assert_int_equal(cf_metric_value(w.histogram), 100000);
    cf_metrics_destroy(&metrics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_and_gauges),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_null_registry),
        cmocka_unit_test(test_concurrent_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
