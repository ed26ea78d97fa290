/*  Tests of cf_metrics_http: real HTTP requests on a loopback port: GET
    /metrics answers 200 with the registry's text and the exposition format's
    content type, another path 404; a port in use and a bad host are refused
    with a reason; with CF_METRICS_HTTP_CONNECTIONS idle connections open,
    one more gets no answer, and is served once they close.                  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_metrics_http.h"

/* A TCP connection to 127.0.0.1:port whose reads give up after 2 s. */
static int http_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *) &addr, sizeof addr), 0);
    struct timeval timeout = { 2, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

/* Sends "GET path" to 127.0.0.1:port and reads the whole answer into buf
   ("" when none came). */
static void http_get(int port, const char *path, char *buf, size_t size)
{
    int fd = http_connect(port);
    char request[256];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(write(fd, request, (size_t) n), n);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < size && (r = read(fd, buf + got, size - 1 - got)) > 0)
        got += (size_t) r;
    buf[got] = '\0';
    close(fd);
}

static void test_serves_metrics(void **state)
{
    (void) state;
    cf_metrics_t *metrics = cf_metrics_new();
    cf_metric_add(cf_metrics_counter(metrics, "caseflow_test_total", "A test counter.",
                                     "kind=\"x\""), 5);
    char err[256];
    cf_metrics_http_t *http = cf_metrics_http_new(metrics, "127.0.0.1", 0, err, sizeof err);
    assert_non_null(http);
    int port = cf_metrics_http_port(http);
    assert_true(port > 0);
    char answer[8192];
    http_get(port, "/metrics", answer, sizeof answer);
    assert_non_null(strstr(answer, "HTTP/1.1 200"));
    assert_non_null(strcasestr(answer, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(answer, "\r\n\r\n# HELP caseflow_test_total A test counter.\n"
                                   "# TYPE caseflow_test_total counter\n"
                                   "caseflow_test_total{kind=\"x\"} 5\n"));
    http_get(port, "/", answer, sizeof answer);
    assert_non_null(strstr(answer, "HTTP/1.1 404"));
    http_get(port, "/metrics/x", answer, sizeof answer);
    assert_non_null(strstr(answer, "HTTP/1.1 404"));

    /* the same port again: in use */
    cf_metrics_http_t *again = cf_metrics_http_new(metrics, "127.0.0.1", port, err, sizeof err);
    assert_null(again);
    assert_non_null(strstr(err, "in use"));
    cf_metrics_http_destroy(&http);
    assert_null(http);
    cf_metrics_http_destroy(&http);
    cf_metrics_destroy(&metrics);
}

static void test_connection_limit(void **state)
{
    (void) state;
    cf_metrics_t *metrics = cf_metrics_new();
    char err[256], answer[8192];
    cf_metrics_http_t *http = cf_metrics_http_new(metrics, "127.0.0.1", 0, err, sizeof err);
    assert_non_null(http);
    int port = cf_metrics_http_port(http), idle[CF_METRICS_HTTP_CONNECTIONS];
    for (int i = 0; i < CF_METRICS_HTTP_CONNECTIONS; i++)
        idle[i] = http_connect(port);
    usleep(200 * 1000);         /* the server takes them */
    http_get(port, "/metrics", answer, sizeof answer);
    assert_null(strstr(answer, "HTTP/1.1 200"));
    for (int i = 0; i < CF_METRICS_HTTP_CONNECTIONS; i++)
        close(idle[i]);
    int tries = 0;
    do
        http_get(port, "/metrics", answer, sizeof answer);
    while (!strstr(answer, "HTTP/1.1 200") && ++tries < 10);
    assert_non_null(strstr(answer, "HTTP/1.1 200"));
    cf_metrics_http_destroy(&http);
    cf_metrics_destroy(&metrics);
}

static void test_bad_host(void **state)
{
    (void) state;
    cf_metrics_t *metrics = cf_metrics_new();
    char err[256];
    assert_null(cf_metrics_http_new(metrics, "no such host.invalid", 0, err, sizeof err));
    assert_non_null(strstr(err, "no such host.invalid"));
    cf_metrics_destroy(&metrics);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serves_metrics),
        cmocka_unit_test(test_bad_host),
        cmocka_unit_test(test_connection_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
