/*  cf_settings_value: whether a text is a good value of a setting's type
    (cf_settings_check). Only the syntax is checked here: whether a file
    exists or an endpoint can be bound is for the program that uses it, which
    says so when it starts.                                                  */
#include "caseflow/cf_args.h"
#include "caseflow/cf_endpoints.h"
#include "caseflow/cf_settings.h"

#include <stdio.h>
#include <string.h>

/*  ZeroMQ's transports; tcp and udp need a port after the last colon.       */
static const char *s_transports[] = { "tcp", "udp", "ipc", "inproc", "pgm", "epgm", "ws", "wss",
                                      "tipc", "vmci", "norm" };

static int check_endpoint(const char *text, char *why, size_t n)
{
    const char *sep = strstr(text, "://");
    size_t len = sep ? (size_t) (sep - text) : 0;
    bool known = false;
    for (size_t i = 0; sep && i < sizeof s_transports / sizeof *s_transports; i++)
        known |= strlen(s_transports[i]) == len && !strncmp(text, s_transports[i], len);
    const char *address = sep ? sep + 3 : "";
    bool ok = known && *address;
    if (ok && (!strncmp(text, "tcp", len) || !strncmp(text, "udp", len))) {
        const char *colon = strrchr(address, ':');
        long long port;
        char ignored[8];
        ok = colon && colon > address
             && (!strcmp(colon + 1, "*")
                 || cf_args_number("", colon + 1, 1, 65535, &port, ignored, sizeof ignored) == 0);
    }
    if (!ok)
        snprintf(why, n, "'%s' is not a ZeroMQ endpoint (tcp://HOST:PORT, ipc://PATH, ...)", text);
    return ok ? 0 : -1;
}

/*  A client's list: its shape (cf_endpoints), then each endpoint.           */
static int check_endpoints(const char *text, char *why, size_t n)
{
    cf_endpoints_t *list = cf_endpoints_new(text, why, n);
    int rc = list ? 0 : -1;
    for (size_t i = 0; list && rc == 0 && i < cf_endpoints_size(list); i++)
        rc = check_endpoint(cf_endpoints_at(list, i), why, n);
    cf_endpoints_destroy(&list);
    return rc;
}

int cf_settings_yes(const char *text, bool *out)
{
    static const char *const yes[] = { "1", "yes", "true", "on" }, *const no[] = { "0", "no",
                                                                                 "false", "off" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!strcmp(text, yes[i]) || !strcmp(text, no[i])) {
            *out = !strcmp(text, yes[i]);
            return 0;
        }
    }
    return -1;
}

int cf_settings_check(const cf_setting_t *row, const char *text, char *why, size_t n)
{
    bool secret = row->flags & CF_SETTING_SECRET;
    if (!text || !*text) {
        snprintf(why, n, "empty value (leave the setting out for its default)");
        return -1;
    }
    if (strpbrk(text, "\r\n")) {
        snprintf(why, n, "a line break in the value");
        return -1;
    }
    char host[CF_SETTINGS_HOST_MAX], reason[256];
    long long number;
    int port, rc = 0;
    switch (row->type) {
    case CF_SETTING_NUMBER:
        rc = cf_args_number("", text, row->min, row->max, &number, reason, sizeof reason);
        break;
    case CF_SETTING_HOST_PORT:
        rc = cf_args_host_port("", text, host, sizeof host, &port, reason, sizeof reason);
        break;
    case CF_SETTING_LOG_LEVEL:
        rc = cf_args_log_level(text, &(cf_log_level_t) { CF_LOG_INFO }, reason, sizeof reason);
        break;
    case CF_SETTING_ENDPOINT:
        if (strchr(text, ',')) {        /* a client's list reaching the broker ([caseflow]) */
            snprintf(why, n, "'%s' is a list: this program binds one endpoint (a list of "
                     "brokers is for the clients)", text);
            return -1;
        }
        return check_endpoint(text, why, n);
    case CF_SETTING_ENDPOINTS:
        return check_endpoints(text, why, n);
    case CF_SETTING_BOOL:
        if (cf_settings_yes(text, &(bool) { false }) == 0)
            return 0;
        snprintf(why, n, "'%s' is not yes or no (1, yes, true, on; 0, no, false, off)", text);
        return -1;
    case CF_SETTING_TEXT:
    case CF_SETTING_PATH:
        return 0;
    }
    if (rc < 0) {
        /* cf_args names a flag first ("--log-level: 'x' is ..."): keep the reason */
        const char *colon = strstr(reason, ": ");
        const char *what = colon ? colon + 2 : reason;
        if (secret)
            snprintf(why, n, "the value is not good (not shown: it is secret)");
        else
            snprintf(why, n, "%s", what);
    }
    return rc;
}
