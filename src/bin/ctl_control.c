/*  caseflow-ctl status | workers | drain WORKER | pause | resume: the
    running broker, through its control endpoint (docs/protocol.md, section
    7). One request, one reply: the body (msgpack) is printed as JSON with
    --json (status: one object with a `workers` array) or as a short text
    and a table (cf_table); the request is cf_control's. A broker that does not answer within --control-timeout
    is a runtime error (exit 1), as is an ERROR reply; usage errors exit 2. */
#include "ctl.h"
#include "caseflow/cf_control.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_table.h"
#include "caseflow/cf_unpack.h"

#include <getopt.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_control_usage =
    "Usage: caseflow-ctl status|workers|pause|resume [options]\n"
    "       caseflow-ctl drain WORKER [options]\n"
    "  status                the broker: uptime, queue, in flight, rates, its workers\n"
    "  workers               the connected workers: id, host, pid, credit, jobs and\n"
    "                        events held, events done, last heartbeat, state\n"
    "  drain WORKER          send worker WORKER (an id such as w2) no more jobs; once\n"
    "                        it has finished what it holds it is told to exit\n"
    "  pause, resume         stop and start taking events: while paused every push\n"
    "                        is answered busy (producers send again later)\n"
    "  --json                the answer as JSON\n"
    "  --help                this text\n";

typedef struct {
    const char *command, *worker;
    bool json, help;
} control_args_t;

static int control_parse(int argc, char **argv, cf_settings_t *settings, control_args_t *a,
                         char *err, size_t n)
{
    static const struct option options[] = {
        { "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    int opt;
    opterr = 0;
    optind = 1;
    a->command = argv[0];
    while ((opt = cf_settings_getopt(settings, argc, argv, ":h", options)) != -1) {
        switch (opt) {
        case 'j': a->json = true; break;
        case 'h': a->help = true; break;
        case ':': snprintf(err, n, "%s needs a value", argv[optind - 1]); return -1;
        default:
            snprintf(err, n, "unknown option '%s' (see caseflow-ctl %s --help)", argv[optind - 1],
                     a->command);
            return -1;
        }
    }
    bool drain = strcmp(a->command, "drain") == 0;
    if (drain && optind < argc)
        a->worker = argv[optind++];
    if (optind < argc) {
        snprintf(err, n, "unexpected argument '%s' (see caseflow-ctl %s --help)", argv[optind],
                 a->command);
        return -1;
    }
    if (drain && !a->worker && !a->help) {
        snprintf(err, n, "which worker? give its id, such as w2 (caseflow-ctl workers lists them)");
        return -1;
    }
    if (!a->help && cf_settings_resolve(settings) < 0) {
        snprintf(err, n, "%s", cf_settings_error(settings));
        return -1;
    }
    if (!a->help && !cf_settings_text(settings, "control")) {
        snprintf(err, n, "no control endpoint: give --control or set CASEFLOW_CONTROL (or "
                 "control in the --config file)");
        return -1;
    }
    return 0;
}

/* ---- the reply -------------------------------------------------------- */

static int print_workers(const msgpack_object *workers)
{
    static const struct { const char *name; bool text; } columns[] = {
        { "id", true }, { "host", true }, { "pid", false }, { "state", true },
        { "credit", false }, { "jobs_held", false }, { "events_held", false },
        { "events_done", false }, { "heartbeat_age_ms", false } };
    size_t ncolumns = sizeof columns / sizeof columns[0];
    cf_table_t *table = cf_table_new();
    for (size_t i = 0; i < ncolumns; i++)
        cf_table_add_column(table, columns[i].name, columns[i].text ? CF_TABLE_TEXT : CF_TABLE_INT);
    for (uint32_t r = 0; workers && r < workers->via.array.size; r++) {
        cf_msg_worker_t w;
        cf_msg_read_worker(&workers->via.array.ptr[r], &w);
        const char *texts[] = { w.id, w.host, NULL, w.draining ? "draining" : "active" };
        uint64_t ints[] = { 0, 0, w.pid, 0, w.credit, w.jobs_held, w.events_held, w.events_done,
                            w.heartbeat_age_ms };
        size_t row = cf_table_add_row(table);
        for (size_t i = 0; i < ncolumns; i++)
            if (columns[i].text)
                cf_table_set_text(table, row, i, texts[i]);
            else
                cf_table_set_int(table, row, i, (int64_t) ints[i]);
    }
    char *text = cf_table_render(table, CF_TABLE_PLAIN);
    int rc = fputs(text, stdout) < 0 ? -1 : 0;
    free(text);
    cf_table_destroy(&table);
    return rc;
}

static int print_status(const msgpack_object *body)
{
    cf_msg_status_t s;
    const msgpack_object *workers = cf_msg_read_status(body, &s);
    long long uptime = (long long) (s.uptime_ms / 1000);
    printf("uptime     %lldh %02lldm %02llds\n", uptime / 3600, uptime / 60 % 60, uptime % 60);
    printf("intake     %s\n", s.paused ? "paused (pushes answered busy)" : "taking events");
    printf("queue      %lld events in %lld jobs\n", (long long) s.queue_events,
           (long long) s.queue_jobs);
    printf("in flight  %lld events in %lld jobs\n", (long long) s.inflight_events,
           (long long) s.inflight_jobs);
    printf("events     %lld in, %lld acked, %lld answered busy since start\n",
           (long long) s.events_in, (long long) s.events_acked, (long long) s.events_busy);
    printf("rates      %.1f in/s, %.1f acked/s (over the last %.1f s)\n", s.in_per_s,
           s.acked_per_s, s.rate_seconds);
    printf("workers    %zu\n\n", s.workers);
    return print_workers(workers);
}

static int print_reply(const control_args_t *a, const msgpack_object *body)
{
    if (!strcmp(a->command, "status"))
        return print_status(body);
    if (!strcmp(a->command, "workers"))
        return print_workers(body && body->type == MSGPACK_OBJECT_ARRAY ? body : NULL);
    if (!strcmp(a->command, "drain")) {
        cf_msg_worker_t w;
        cf_msg_read_worker(body, &w);
        return printf("%s %s: it holds %lld jobs and exits once they are done\n", w.id,
                      w.draining ? "draining" : "", (long long) w.jobs_held) < 0 ? -1 : 0;
    }
    return printf("intake %s\n", cf_msg_read_paused(body) ? "paused" : "resumed") < 0 ? -1 : 0;
}

/* Prints the reply (or, for ERROR, puts its reason in err). 0 or -1. */
static int control_show(const control_args_t *a, const cf_msg_control_reply_t *reply, char *err,
                        size_t n)
{
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    int rc = -1;
    cf_json_t *json = cf_json_new();
    if (cf_unpack(&result, reply->body, reply->body_len) != 0)
        snprintf(err, n, "the broker's reply body is not msgpack");
    else if (!reply->ok) {
        char reason[512];
        cf_msg_read_control_error(&result.data, reason, sizeof reason);
        snprintf(err, n, "the broker says: %s", reason);
    } else if (a->json) {
        const char *text = cf_json_from_object(json, &result.data);
        json_t *value = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        rc = value && ctl_print_json(value) == 0 ? 0 : -1;
    } else
        rc = print_reply(a, &result.data);
    if (rc < 0 && !*err)
        snprintf(err, n, "cannot write the answer to standard output");
    cf_json_destroy(&json);
    msgpack_unpacked_destroy(&result);
    return rc;
}

/*  The command, with the settings it reads. Exit status.                    */
static int control_run(int argc, char **argv, cf_settings_t *settings)
{
    static const struct { const char *name; cf_msg_command_t command; } commands[] = {
        { "status", CF_MSG_STATUS }, { "workers", CF_MSG_WORKERS }, { "drain", CF_MSG_DRAIN },
        { "pause", CF_MSG_PAUSE }, { "resume", CF_MSG_RESUME } };
    control_args_t a = { 0 };
    char err[2048] = "";
    if (control_parse(argc, argv, settings, &a, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-ctl: %s: %s\n", argv[0], err);
        return 2;
    }
    if (a.help) {
        ctl_help(s_control_usage, settings);
        return 0;
    }
    cf_msg_command_t command = CF_MSG_NONE;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(a.command, commands[i].name))
            command = commands[i].command;
    const char *endpoint = cf_settings_text(settings, "control");
    cf_curve_t *curve = NULL;
    if (cf_curve_client_new(cf_settings_text(settings, "operator-key"),
                            cf_settings_text(settings, "server-key"), &curve, err,
                            sizeof err) < 0) {
        fprintf(stderr, "caseflow-ctl: %s: %s\n", a.command, err);
        return 2;
    }
    cf_multipart_t *parts = cf_multipart_new(CF_CONTROL_REPLY_PARTS);
    cf_msg_control_reply_t reply;
    int rc = cf_control_ask(endpoint, (int) cf_settings_number(settings, "control-timeout"),
                            curve, command, a.worker, parts, &reply, err, sizeof err);
    if (rc == 0)
        rc = control_show(&a, &reply, err, sizeof err);
    cf_multipart_destroy(&parts);
    cf_curve_destroy(&curve);
    if (rc < 0)
        fprintf(stderr, "caseflow-ctl: %s: %s\n", a.command, err);
    return rc < 0 ? 1 : 0;
}

int ctl_control(int argc, char **argv)
{
    cf_settings_t *settings = cf_settings_new("ctl");
    int rc = control_run(argc, argv, settings);
    cf_settings_destroy(&settings);
    return rc;
}
