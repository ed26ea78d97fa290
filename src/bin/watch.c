/*  caseflow-watch: subscribes to the broker's notifications and prints each
    as one JSON line on stdout (the body map, which carries topic, publisher,
    seq and time), flushed line by line so that a pipe or a file sees it at
    once. A body that is not a msgpack map prints as {"topic", "error"}.
    cf_subscriber keeps the last seq per (publisher, topic), so it warns on
    stderr when some were missed, and drops a notification whose outbox id
    it has seen (a broker that restarted publishes its last batch again;
    with --subscribe a list of several brokers' endpoints, it is on each,
    and an id two of them publish is printed once);
    nothing else goes to stderr. A thin main: options, a cf_subscriber on a
    cf_loop, cf_json for the text. Exits 0 after
    --count notifications, --idle seconds without one, or SIGINT/SIGTERM; 2
    on a usage error.                                                         */
#include "caseflow/cf_args.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_subscriber.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define WATCH_TICK_MS   100         /* how often --idle and the handshake are checked */

static const char *s_usage =
    "Usage: caseflow-watch [options] [PREFIX ...]\n"
    "Prints the broker's notifications whose topic starts with a PREFIX (all\n"
    "when none is given) as JSON lines; warns on stderr about missed ones.\n"
    "Each setting is a flag, an environment variable or a key of the --config\n"
    "file ([watch], or [caseflow] for shared ones), in that order of precedence.\n"
    "\n"
    "Options:\n";

static const char *s_usage_end =
    "  --snapshot            first print the current state as one line\n"
    "                        {\"snapshot\": ...}, then only what came after it\n"
    "  --count N             exit after N notifications\n"
    "  --idle S              exit after S seconds without a notification\n"
    "  --help                this text\n";

typedef struct {
    const char *endpoint, *intake;
    cf_curve_t *curve;                  /* NULL = plain */
    bool snapshot;
    long long count, idle_s;            /* 0 = no limit */
    char **prefixes;
    int prefix_count;
} watch_options_t;

typedef struct {
    watch_options_t options;
    cf_subscriber_t *subscriber;
    bool refusal_told;                  /* on stderr, once */
    cf_json_t *json;
    long long seen;
    int64_t last_at;
    int status;
} watch_t;

/*  Fills o from argv and the settings s. 0, -1 with err set, 1 after --help. */
static int parse_options(int argc, char **argv, cf_settings_t *s, void *arg, char *err, size_t n)
{
    watch_options_t *o = arg;
    static const struct option options[] = {
        { "count", required_argument, 0, 'c' }, { "idle", required_argument, 0, 'i' },
        { "help", no_argument, 0, 'h' }, { "snapshot", no_argument, 0, 'S' }, { 0, 0, 0, 0 } };
    int opt, rc = 0;
    opterr = 0;
    while (rc == 0 && (opt = cf_settings_getopt(s, argc, argv, ":", options)) != -1) {
        switch (opt) {
        case 'S': o->snapshot = true; break;
        case 'c': rc = cf_args_number("--count", optarg, 1, INT64_MAX, &o->count, err, n); break;
        case 'i': rc = cf_args_number("--idle", optarg, 1, 86400 * 365, &o->idle_s, err, n); break;
        case 'h': fputs(cf_settings_usage(s, s_usage, s_usage_end), stdout); return 1;
        case ':': snprintf(err, n, "%s needs a value", argv[optind - 1]); return -1;
        default: snprintf(err, n, "unknown option '%s' (see --help)", argv[optind - 1]); return -1;
        }
    }
    if (rc < 0)
        return -1;
    if (cf_settings_resolve(s) < 0) {
        snprintf(err, n, "%s", cf_settings_error(s));
        return -1;
    }
    o->endpoint = cf_settings_text(s, "subscribe");
    if (!o->endpoint) {
        snprintf(err, n, "no notification endpoint: pass --subscribe, set CASEFLOW_SUBSCRIBE "
                 "or put subscribe in the --config file");
        return -1;
    }
    o->intake = cf_settings_text(s, "intake");
    if (o->snapshot && !o->intake) {
        snprintf(err, n, "--snapshot: no intake endpoint: pass --intake, set CASEFLOW_INTAKE "
                 "or put intake in the --config file");
        return -1;
    }
    if (cf_curve_client_new(cf_settings_text(s, "subscriber-key"),
                            cf_settings_text(s, "server-key"), &o->curve, err, n) < 0)
        return -1;
    o->prefixes = argv + optind;
    o->prefix_count = argc - optind;
    return 0;
}

/* The subscriber of the endpoint with the prefixes. 0, or -1 with err set. */
static int watch_connect(watch_t *w, char *err, size_t n)
{
    w->subscriber = cf_subscriber_new(w->options.endpoint);
    for (int i = 0; i < w->options.prefix_count; i++)
        cf_subscriber_add_prefix(w->subscriber, w->options.prefixes[i]);
    cf_subscriber_set_curve(w->subscriber, w->options.curve);
    if (cf_subscriber_connect(w->subscriber) < 0) {
        snprintf(err, n, "%s", cf_subscriber_error(w->subscriber));
        return -1;
    }
    return 0;
}

/* Warns when the notification's seq skipped some on its (publisher, topic). */
static void watch_check_seq(const cf_notification_t *n)
{
    if (n->missed)
        fprintf(stderr, "caseflow-watch: missed %" PRIu64 " on %.*s (publisher %.*s): "
                "seq %" PRIu64 " after %" PRIu64 "\n", n->missed, (int) n->topic_len, n->topic,
                (int) n->publisher_len, n->publisher, n->seq, n->last);
}

/* {"topic": topic, "error": reason} as JSON text. */
static const char *watch_error_line(watch_t *w, const char *topic, size_t topic_len,
                                    const char *reason)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "topic", 5);
    msgpack_pack_str_with_body(&pk, topic, topic_len);
    msgpack_pack_str_with_body(&pk, "error", 5);
    msgpack_pack_str_with_body(&pk, reason, strlen(reason));
    const char *text = cf_json_from_msgpack(w->json, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
    return text;
}

/* Prints one notification. -1 when stdout failed (status set). */
static int watch_print(watch_t *w, const cf_notification_t *n)
{
    const char *text = NULL;
    if (!n->malformed) {
        watch_check_seq(n);
        text = cf_json_from_msgpack(w->json, n->body, n->body_size);
        if (!text)
            text = watch_error_line(w, n->topic, n->topic_len, cf_json_error(w->json));
    } else {
        text = watch_error_line(w, n->topic, n->topic_len, "body is not a msgpack map");
    }
    if (fputs(text, stdout) < 0 || fputc('\n', stdout) < 0 || fflush(stdout) != 0) {
        if (errno != EPIPE) {
            fprintf(stderr, "caseflow-watch: stdout: %s\n", strerror(errno));
            w->status = 1;
        }
        return -1;
    }
    return 0;
}

static int watch_on_readable(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    (void) socket;
    watch_t *w = arg;
    cf_notification_t n;
    while (cf_subscriber_recv(w->subscriber, 0, &n) == 1) {
        w->last_at = cf_clock_ms();
        if (watch_print(w, &n) < 0 || ++w->seen == w->options.count)
            return -1;
    }
    return 0;       /* nothing more waiting (or EINTR: the stop flag decides) */
}

static int watch_on_tick(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    watch_t *w = arg;
    int refused = cf_subscriber_refused(w->subscriber);
    if (refused && !w->refusal_told)
        fprintf(stderr, "caseflow-watch: %s; trying again\n", cf_handshake_explain(refused));
    w->refusal_told = w->refusal_told || refused;
    return w->options.idle_s && cf_clock_ms() - w->last_at >= w->options.idle_s * 1000 ? -1 : 0;
}

/* Subscribed already: prints the snapshot; the subscriber then drops
   what it holds, so that only what came after it is printed. */
static int watch_snapshot(watch_t *w, char *err, size_t n)
{
    const void *data;
    size_t size;
    if (cf_subscriber_snapshot(w->subscriber, w->options.intake, 10000, &data, &size) < 0) {
        snprintf(err, n, "%s", cf_subscriber_error(w->subscriber));
        return -1;
    }
    const char *text = cf_json_from_msgpack(w->json, data, size);
    if (!text) {
        snprintf(err, n, "snapshot: %s", cf_json_error(w->json));
        return -1;
    }
    printf("{\"snapshot\":%s}\n", text);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    watch_t w = { .status = 0 };
    char err[2048];
    int status;
    cf_settings_t *settings = cf_args_start("watch", false, argc, argv, parse_options, &w.options,
                                            &status);
    if (!settings)
        return status;
    if (watch_connect(&w, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-watch: %s\n", err);
        w.status = 2;
    } else {
        w.json = cf_json_new();
        w.last_at = cf_clock_ms();
        if (w.options.snapshot && watch_snapshot(&w, err, sizeof err) < 0) {
            fprintf(stderr, "caseflow-watch: %s\n", err);
            w.status = 1;
        }
        cf_loop_t *loop = cf_loop_new();
        for (size_t i = 0; i < cf_subscriber_socket_count(w.subscriber); i++)   /* a broker each */
            cf_loop_add_socket(loop, cf_subscriber_socket_at(w.subscriber, i), watch_on_readable,
                               &w);
        cf_loop_add_timer(loop, WATCH_TICK_MS, watch_on_tick, &w);
        cf_loop_set_stop_flag(loop, cf_args_trap_signals());
        if (w.status == 0 && cf_loop_run(loop) < 0) {
            fprintf(stderr, "caseflow-watch: poll: %s\n", zmq_strerror(errno));
            w.status = 1;
        }
        cf_loop_destroy(&loop);
        cf_json_destroy(&w.json);
    }
    cf_subscriber_destroy(&w.subscriber);
    cf_settings_destroy(&settings);
    cf_curve_destroy(&w.options.curve);
    return w.status;
}
