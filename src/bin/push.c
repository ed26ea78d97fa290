/*  caseflow-push: sends events, one JSON object per line, to the broker's
    intake and says what became of each. A thin main over cf_json (each line
    to msgpack; a line that is not a JSON object is rejected here, with its
    line number, and not sent), cf_client (batches, window, resends,
    deadline) and cf_push_summary (the summary it prints). With --map FILE
    each line is a form's submission, made an event by cf_form_map first (a
    submission it refuses is rejected here, as a line that is not JSON is);
    --dry-run prints the events instead of sending them. --intake may list
    several brokers' endpoints: the client fails over from one to the next,
    and a line on stderr says so. Everything is read before anything is
    sent, so an unreadable file stops the run at once. The summary goes to
    stdout, as text or as one JSON object; a progress bar goes to stderr
    when it is a terminal. Exit 0 when every event was accepted or
    duplicate, 1 when one was rejected or unacked, 2 on a usage or I/O
    error.                                                                   */
#include "caseflow/cf_args.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_client.h"
#include "caseflow/cf_form_map.h"
#include "caseflow/cf_handshake.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_loop.h"
#include "caseflow/cf_progress.h"
#include "caseflow/cf_push_summary.h"
#include "caseflow/cf_settings.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s_usage =
    "Usage: caseflow-push [options] [FILE ...]\n"
    "Sends events (JSON lines; stdin when no FILE or FILE is -) to the broker.\n"
    "With --map, each line is a form's submission (KoboToolbox, ODK) that the\n"
    "mapping file makes an event (docs/forms.md).\n"
    "Each setting is a flag, an environment variable or a key of the --config\n"
    "file ([push], or [caseflow] for shared ones), in that order of precedence.\n"
    "\n"
    "Options:\n";

static const char *s_usage_end =
    "  --json                print the summary as one JSON object\n"
    "  --map FILE            read form submissions, mapped to events by FILE\n"
    "  --dry-run             print the events (one JSON line each) and send nothing\n"
    "  --quiet               no progress bar\n"
    "  --help                this text\n"
    "Exit status: 0 all accepted or duplicate, 1 some rejected or unacked,\n"
    "2 usage or I/O error.\n";

typedef struct {
    const char *intake;
    long long batch, window, timeout_ms, deadline_s, connect_ms;
    bool json, quiet, dry_run;
    const char *map;            /* --map FILE, or NULL */
    char **files;
    int file_count;
    cf_curve_t *curve;          /* NULL = plain */
} push_options_t;

typedef struct {
    uint32_t file, line;
} push_origin_t;

typedef struct {
    push_options_t options;
    cf_client_t *client;
    cf_json_t *json;
    cf_form_map_t *map;         /* --map: submissions to events */
    push_origin_t *origins;     /* per client index */
    size_t origin_size;
    cf_push_summary_t *summary; /* the lines rejected here, then the client's */
    size_t local;               /* how many were rejected here */
    int64_t started;
    int64_t sending;            /* when cf_client_run began: the bar's rate and ETA */
    bool bar;
    uint64_t failovers;         /* told so far */
    char endpoint[512];         /* the intake endpoint in use, as last told */
} push_t;

/* ---- options ---------------------------------------------------------- */

/*  Fills o from argv and the settings s. 0, -1 with err set, 1 after --help. */
static int parse_options(int argc, char **argv, cf_settings_t *s, void *arg, char *err, size_t n)
{
    push_options_t *o = arg;
    static const struct option options[] = {
        { "json", no_argument, 0, 'j' }, { "quiet", no_argument, 0, 'q' },
        { "map", required_argument, 0, 'm' }, { "dry-run", no_argument, 0, 'n' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    *o = (push_options_t) { 0 };
    int opt;
    opterr = 0;
    while ((opt = cf_settings_getopt(s, argc, argv, ":", options)) != -1) {
        switch (opt) {
        case 'j': o->json = true; break;
        case 'q': o->quiet = true; break;
        case 'm': o->map = optarg; break;
        case 'n': o->dry_run = true; break;
        case 'h': fputs(cf_settings_usage(s, s_usage, s_usage_end), stdout); return 1;
        case ':': snprintf(err, n, "%s needs a value", argv[optind - 1]); return -1;
        default: snprintf(err, n, "unknown option '%s' (see --help)", argv[optind - 1]); return -1;
        }
    }
    if (cf_settings_resolve(s) < 0) {
        snprintf(err, n, "%s", cf_settings_error(s));
        return -1;
    }
    o->intake = cf_settings_text(s, "intake");
    o->batch = cf_settings_number(s, "batch");
    o->window = cf_settings_number(s, "window");
    o->timeout_ms = cf_settings_number(s, "timeout");
    o->deadline_s = cf_settings_number(s, "deadline");
    o->connect_ms = cf_settings_number(s, "connect-timeout");
    if (o->dry_run && !o->map) {
        snprintf(err, n, "--dry-run shows what --map makes: give --map FILE");
        return -1;
    }
    if (!o->intake && !o->dry_run) {
        snprintf(err, n, "no intake endpoint: pass --intake, set CASEFLOW_INTAKE or put "
                 "intake in the --config file");
        return -1;
    }
    if (cf_curve_client_new(cf_settings_text(s, "producer-key"), cf_settings_text(s, "server-key"),
                            &o->curve, err, n) < 0)
        return -1;
    o->files = argv + optind;
    o->file_count = argc - optind;
    return 0;
}

/* ---- input ------------------------------------------------------------ */

static const char *file_name(const push_t *p, uint32_t file)
{
    return cf_push_summary_file_name(p->options.files, (size_t) p->options.file_count, file);
}

/* One event's text to the client; NULL, or why it was refused. */
static const char *push_event(push_t *p, const char *text, size_t len, int64_t *index)
{
    if (cf_json_to_msgpack(p->json, text, len, CF_JSON_OBJECT) < 0)
        return cf_json_error(p->json);
    size_t size;
    const void *data = cf_json_msgpack(p->json, &size);
    *index = cf_client_add(p->client, data, size, cf_json_member(p->json, "event_id"));
    return *index < 0 ? cf_client_error(p->client) : NULL;
}

/* One line (through the map, with --map): to the client, printed (with
   --dry-run), or to the local rejections. */
static void push_line(push_t *p, uint32_t file, uint32_t line, char *text, size_t len)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (strspn(text, " \t\r\n") >= len)
        return;                                 /* blank */
    char reason[512], *event = NULL;
    int64_t index = -1;
    const char *why = NULL;
    if (p->map && cf_form_map_apply(p->map, text, len, &event, reason, sizeof reason) < 0)
        why = reason;
    else if (p->options.dry_run)
        puts(event);
    else
        why = event ? push_event(p, event, strlen(event), &index)
                    : push_event(p, text, len, &index);
    free(event);
    if (why) {
        cf_push_summary_add(p->summary, CF_PUSH_SUMMARY_REJECTED, file, line, NULL, why);
        p->local++;
    } else if (index >= 0) {
        p->origins = cf_grow(p->origins, &p->origin_size, (size_t) index + 1,
                             sizeof *p->origins);
        p->origins[index] = (push_origin_t) { file, line };
    }
}

/* Reads every file (or stdin). 0, or -1 with err naming the file. */
static int push_read(push_t *p, char *err, size_t n)
{
    int count = p->options.file_count ? p->options.file_count : 1;
    char *text = NULL;
    size_t cap = 0;
    for (int f = 0; f < count; f++) {
        const char *name = p->options.file_count ? p->options.files[f] : "-";
        bool is_stdin = strcmp(name, "-") == 0;
        FILE *in = is_stdin ? stdin : fopen(name, "r");
        if (!in) {
            snprintf(err, n, "%s: %s", name, strerror(errno));
            free(text);
            return -1;
        }
        ssize_t len;
        uint32_t line = 0;
        while ((len = getline(&text, &cap, in)) >= 0)
            push_line(p, (uint32_t) f, ++line, text, (size_t) len);
        int failed = ferror(in) ? errno : 0;
        if (!is_stdin)
            fclose(in);
        if (failed) {
            snprintf(err, n, "%s: %s", file_name(p, (uint32_t) f), strerror(failed));
            free(text);
            return -1;
        }
    }
    free(text);
    return 0;
}

/* ---- progress and summary --------------------------------------------- */

/* With several brokers (--intake a list): a line on stderr when the client
   moved to the next one, whether or not the bar shows. */
static void tell_failover(push_t *p, const cf_client_stats_t *stats)
{
    if (stats->failovers == p->failovers)
        return;
    const char *now = cf_client_endpoint(p->client);
    fprintf(stderr, "%scaseflow-push: no answer from %s: failed over to %s, resending every "
            "request not acknowledged\n", p->bar ? "\r\033[K" : "", p->endpoint, now);
    snprintf(p->endpoint, sizeof p->endpoint, "%s", now);
    p->failovers = stats->failovers;
}

/* The bar (cf_progress), redrawn in place: \033[K clears what a longer
   line before it left. Only on a terminal (p->bar). */
static void on_progress(const cf_client_stats_t *stats, void *arg)
{
    push_t *p = arg;
    tell_failover(p, stats);
    if (!p->bar || stats->events == 0)
        return;
    char line[160];
    fprintf(stderr, "\r%s\033[K", cf_progress_line(line, sizeof line, stats,
                                                    (double) (cf_clock_ms() - p->sending) / 1000));
}

/* Adds the events the broker rejected or left unacked to the lines
   rejected here, prints the summary; returns the exit status it implies. */
static int push_summary(push_t *p)
{
    cf_client_stats_t stats;
    cf_client_stats(p->client, &stats);
    double seconds = (double) (cf_clock_ms() - p->started) / 1000;
    for (size_t i = 0; i < cf_client_size(p->client); i++) {
        const char *reason;
        cf_client_status_t status = cf_client_status(p->client, i, &reason);
        if (status == CF_CLIENT_REJECTED || status == CF_CLIENT_UNACKED)
            cf_push_summary_add(p->summary, status == CF_CLIENT_REJECTED
                                ? CF_PUSH_SUMMARY_REJECTED : CF_PUSH_SUMMARY_UNACKED,
                                p->origins[i].file, p->origins[i].line,
                                cf_client_event_id(p->client, i), reason);
    }
    cf_push_summary_counts_t counts = {
        .events = stats.events + p->local, .accepted = stats.accepted,
        .duplicate = stats.duplicate, .busy = stats.busy, .resent = stats.resent,
        .failovers = stats.failovers, .endpoint = cf_client_endpoint(p->client),
        .seconds = seconds };
    return cf_push_summary_print(p->summary, &counts, p->options.files,
                                 (size_t) p->options.file_count,
                                 p->options.json ? p->json : NULL, stdout);
}

/* --dry-run: the mapped events to stdout, the refused lines to stderr.
   0 when none was refused, 1 when one was, 2 on an I/O error. */
static int push_dry_run(push_t *p)
{
    char err[2048];
    if (push_read(p, err, sizeof err) < 0) {
        fprintf(stderr, "caseflow-push: %s\n", err);
        return 2;
    }
    for (size_t i = 0; i < p->local; i++) {
        const cf_push_summary_entry_t *e = cf_push_summary_entry(p->summary,
                                                                 CF_PUSH_SUMMARY_REJECTED, i);
        fprintf(stderr, "%s:%u: %s\n", file_name(p, e->file), e->line, e->reason);
    }
    return fflush(stdout) ? 2 : p->local ? 1 : 0;
}

/* Reads, sends and prints the summary; the exit status. */
static int push_send(push_t *p)
{
    char err[2048];
    int status = 2;
    p->client = cf_client_new(p->options.intake);
    p->json = cf_json_new();
    cf_client_set_batch(p->client, (unsigned) p->options.batch);
    cf_client_set_window(p->client, (unsigned) p->options.window);
    cf_client_set_timeout(p->client, (int) p->options.timeout_ms);
    cf_client_set_deadline(p->client, (int) (p->options.deadline_s * 1000));
    cf_client_set_connect_timeout(p->client, (int) p->options.connect_ms);
    if (p->options.curve)
        cf_client_set_curve(p->client, p->options.curve);
    if (cf_client_connect(p->client) < 0)
        fprintf(stderr, "caseflow-push: %s\n", cf_client_error(p->client));
    else if (push_read(p, err, sizeof err) < 0)
        fprintf(stderr, "caseflow-push: %s\n", err);
    else {
        cf_client_set_stop_flag(p->client, cf_args_trap_signals());
        p->bar = !p->options.quiet && isatty(STDERR_FILENO);
        p->sending = cf_clock_ms();
        snprintf(p->endpoint, sizeof p->endpoint, "%s", cf_client_endpoint(p->client));
        if (strchr(p->options.intake, ','))        /* several brokers: say which one */
            fprintf(stderr, "caseflow-push: sending to %s (of %s)\n", p->endpoint,
                    p->options.intake);
        int rc = cf_client_run(p->client, on_progress, p);
        if (p->bar)
            fputc('\n', stderr);
        status = push_summary(p);
        if (cf_client_refused(p->client))
            fprintf(stderr, "caseflow-push: %s\n", cf_handshake_explain(cf_client_refused(p->client)));
        if (rc < 0) {
            fprintf(stderr, "caseflow-push: %s\n", cf_client_error(p->client));
            status = 2;
        }
    }
    return status;
}

int main(int argc, char **argv)
{
    push_t p = { .started = cf_clock_ms() };
    char err[2048];
    int status;
    cf_settings_t *settings = cf_args_start("push", false, argc, argv, parse_options, &p.options,
                                            &status);
    if (!settings)
        return status;
    status = 2;
    p.summary = cf_push_summary_new();
    if (p.options.map && !(p.map = cf_form_map_load(p.options.map, err, sizeof err)))
        fprintf(stderr, "caseflow-push: %s\n", err);
    else if (p.options.dry_run)
        status = push_dry_run(&p);
    else
        status = push_send(&p);
    cf_client_destroy(&p.client);
    cf_form_map_destroy(&p.map);
    cf_curve_destroy(&p.options.curve);
    cf_json_destroy(&p.json);
    cf_settings_destroy(&settings);
    cf_push_summary_destroy(&p.summary);
    free(p.origins);
    return status;
}
