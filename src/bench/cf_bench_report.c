/*  cf_bench: the report, as one JSON object or as text; see cf_bench.h.
    Figures are rounded to what the measurement can tell (three decimals at
    most), and what was not measured is null rather than 0, so that a
    reader never takes a missing figure for a fast one.                     */
#include "cf_bench_internal.h"

#include <assert.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cf_bench_set_peaks(cf_bench_t *self, long broker_kb, long worker_kb)
{
    assert(self);
    self->result.broker_peak_kb = broker_kb;
    self->result.worker_peak_kb = worker_kb;
}

static json_t *report_real(double value, double scale)
{
    return isfinite(value) ? json_real(round(value * scale) / scale) : json_null();
}

static void report_set(json_t *o, const char *key, json_t *value)
{
    json_object_set_new(o, key, value);
}

static void report_num(json_t *o, const char *key, double value, bool known)
{
    report_set(o, key, known ? report_real(value, 1000) : json_null());
}

static void report_int(json_t *o, const char *key, long long value, bool known)
{
    report_set(o, key, known ? json_integer(value) : json_null());
}

/* The CPU's model name from /proc/cpuinfo, "unknown" when there is none. */
static void report_cpu(char *out, size_t size)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(out, size, "unknown");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            snprintf(out, size, "%s", strchr(line, ':') + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
}

/* A loop's Redis commands per event by name, and Redis's time in them (µs
   per event), as <prefix>redis_commands_by_name and
   <prefix>redis_command_us_per_event_by_name. */
static void report_commands(json_t *o, const char *prefix, const cf_bench_rate_t *rates,
                            size_t count)
{
    char key[64];
    json_t *by = json_object();
    for (size_t i = 0; i < count; i++)
        report_set(by, rates[i].name, report_real(rates[i].per_event, 1000));
    snprintf(key, sizeof key, "%sredis_commands_by_name", prefix);
    report_set(o, key, by);
    json_t *us = json_object();         /* where Redis's time goes, by command */
    for (size_t i = 0; i < count; i++)
        report_set(us, rates[i].name, report_real(rates[i].us_per_event, 1000));
    snprintf(key, sizeof key, "%sredis_command_us_per_event_by_name", prefix);
    report_set(o, key, us);
}

static void report_loops(json_t *o, const cf_bench_config_t *c, const cf_bench_result_t *r)
{
    report_int(o, "events", (long long) r->events, true);
    report_num(o, "seconds", r->seconds, true);
    report_set(o, "events_per_s", report_real(r->events_per_s, 1));
    report_int(o, "accepted", (long long) r->accepted, true);
    report_int(o, "duplicate", (long long) r->duplicate, true);
    report_int(o, "rejected", (long long) r->rejected, true);
    report_int(o, "unacked", (long long) r->unacked, true);
    report_int(o, "busy", (long long) r->busy, true);
    report_int(o, "producers", c->producers, true);
    report_int(o, "batch", c->batch, true);
    report_int(o, "window", c->window, true);
    bool open = c->rate > 0;
    report_num(o, "open_rate", c->rate, open);
    report_int(o, "open_batch", c->open_batch, open);
    report_int(o, "open_events", (long long) r->open_events, open);
    report_int(o, "open_failed", (long long) r->open_failed, open);
    report_int(o, "open_busy", (long long) r->open_busy, open);
    report_num(o, "open_seconds", r->open_seconds, open);
    report_num(o, "open_events_per_s", r->open_events_per_s, open);
    report_num(o, "ack_latency_p50_ms", r->p50_ms, open);
    report_num(o, "ack_latency_p99_ms", r->p99_ms, open);
    report_num(o, "ack_latency_p999_ms", r->p999_ms, open);
    report_num(o, "ack_latency_max_ms", r->max_ms, open);
    report_num(o, "ack_latency_mean_ms", r->mean_ms, open);
    report_int(o, "open_window", CF_BENCH_OPEN_WINDOW, open);
    report_int(o, "open_in_flight_max", (long long) r->open_in_flight_max, open);
    report_set(o, "open_window_full", open ? json_boolean(r->open_window_full) : json_null());
    report_int(o, "open_redis_forks", (long long) r->open_redis_forks,
               open && r->open_redis_forks >= 0);
    /* what the small requests cost Redis: a check round per job shows
       here, not in the closed loop's figures */
    bool counted = open && r->open_redis_commands_per_event >= 0;
    report_num(o, "open_redis_commands_per_event", r->open_redis_commands_per_event, counted);
    report_num(o, "open_redis_cpu_us_per_event", r->open_redis_cpu_us_per_event, counted);
    if (counted)
        report_commands(o, "open_", r->open_commands, r->open_command_count);
    /* what held Redis's thread meanwhile: a disk that stalled shows here */
    bool monitored = open && r->open_latency_threshold_ms > 0;
    report_num(o, "open_redis_latency_threshold_ms", r->open_latency_threshold_ms, monitored);
    json_t *held = monitored ? json_object() : json_null();
    for (size_t i = 0; monitored && i < r->open_latency_count; i++)
        report_set(held, r->open_latency[i].name, report_real(r->open_latency[i].max_ms, 1));
    report_set(o, "open_redis_latency_ms", held);
    /* and which commands took that long: a command's own work, or small
       ones that lost the core */
    bool logged = open && r->open_slowlog_threshold_ms >= 0;
    report_num(o, "open_redis_slowlog_threshold_ms", r->open_slowlog_threshold_ms, logged);
    json_t *slow = logged ? json_object() : json_null();
    for (size_t i = 0; logged && i < r->open_slow_count; i++) {
        json_t *command = json_object();
        report_set(command, "count", json_integer(r->open_slow[i].count));
        report_set(command, "max_ms", report_real(r->open_slow[i].max_ms, 10));
        report_set(slow, r->open_slow[i].name, command);
    }
    report_set(o, "open_redis_slow_commands", slow);
}

static void report_redis(json_t *o, const cf_bench_config_t *c, const cf_bench_result_t *r)
{
    report_num(o, "redis_commands_per_event", r->redis_commands_per_event, true);
    report_commands(o, "", r->commands, r->command_count);
    report_num(o, "redis_cpu_s", r->redis_cpu_s, true);
    report_int(o, "redis_forks", (long long) r->redis_forks, true);
    report_set(o, "aof_rewrite", c->aof_rewrite < 0 ? json_null() : json_boolean(c->aof_rewrite));
    report_num(o, "redis_cpu_us_per_event", r->events ? r->redis_cpu_s * 1e6 / (double) r->events
                                                      : NAN, r->events > 0);
    report_int(o, "broker_rss_peak_kb", r->broker_peak_kb, r->broker_peak_kb >= 0);
    report_int(o, "worker_rss_peak_kb", r->worker_peak_kb, r->worker_peak_kb >= 0);
    /* A weighing is the drop in used_memory when the keys go: on a running
       stack other writes land meanwhile, and a drop of 0 or less tells
       nothing. Such a figure is null, and memory_unknown says why. */
    bool open_ok = r->open_cases > 0 && r->bytes_per_open_case > 0;
    bool closed_ok = r->closed_cases > 0 && r->bytes_per_closed_case > 0;
    bool eid_ok = r->event_ids > 0 && r->bytes_per_event_id > 0;
    report_num(o, "redis_bytes_per_open_case", r->bytes_per_open_case, open_ok);
    report_num(o, "redis_bytes_per_closed_case", r->bytes_per_closed_case, closed_ok);
    report_num(o, "redis_bytes_per_event_id", r->bytes_per_event_id, eid_ok);
    report_num(o, "redis_eid_mb_per_million_events", r->bytes_per_event_id, eid_ok);
    bool unknown = (r->open_cases > 0 && !open_ok) || (r->closed_cases > 0 && !closed_ok)
                   || (r->event_ids > 0 && !eid_ok);
    report_set(o, "memory_unknown", unknown
               ? json_string("a weighing came out at 0 bytes or less: the store changed while "
                             "it was weighed (other writes on a running stack, or, in a small "
                             "run, Redis's own allocations for its clients' buffers); weigh "
                             "more events on the bench's own stack")
               : json_null());
    report_num(o, "redis_bytes_per_open_alert", r->bytes_per_open_alert, r->open_alerts > 0);
    report_int(o, "memory_open_cases", (long long) r->open_cases, true);
    report_int(o, "memory_open_deadlines", (long long) r->open_deadlines, true);
    report_int(o, "memory_open_alerts", (long long) r->open_alerts, true);
    report_int(o, "memory_closed_cases", (long long) r->closed_cases, true);
    report_int(o, "memory_event_ids", (long long) r->event_ids, true);
    report_int(o, "ceiling_events", (long long) r->ceiling_events, true);
    report_int(o, "ceiling_threads", c->ceiling_threads, true);
    report_num(o, "ceiling_seconds", r->ceiling_seconds, true);
    report_set(o, "ceiling_events_per_s", report_real(r->ceiling_events_per_s, 1));
    report_num(o, "ceiling_redis_cpu_s", r->ceiling_redis_cpu_s, true);
    report_num(o, "ceiling_redis_commands_per_event", r->ceiling_commands_per_event, true);
    report_num(o, "ratio", r->events_per_s / r->ceiling_events_per_s, r->ceiling_events_per_s > 0);
}

/* CPU seconds scaled by k: per event (k = 1e6 / events) or cores (k = 1 /
   seconds); null for what is unknown. */
static json_t *report_scaled(double seconds, double k)
{
    return seconds >= 0 && isfinite(k) ? report_real(seconds * k, 1000) : json_null();
}

/* A phase's CPU: the processes' (cf_bench_cpu), Redis's masters' and
   replicas' (< 0 unknown). */
typedef struct {
    const cf_bench_cpu_t *cpu;
    double redis_s, replicas_s;
} report_phase_t;

static report_phase_t report_closed(const cf_bench_result_t *r)
{
    return (report_phase_t) { &r->cpu, r->redis_cpu_drained_s, r->redis_replicas_cpu_s };
}

static report_phase_t report_open(const cf_bench_result_t *r)
{
    return (report_phase_t) { &r->open_cpu, r->open_redis_cpu_s, r->open_redis_replicas_cpu_s };
}

/* {"producer", "broker", "workers": [...], "redis", "total"}: each
   process's CPU over the phase (the brokers' together), scaled by k. */
static json_t *report_processes(report_phase_t phase, double k)
{
    const cf_bench_cpu_t *cpu = phase.cpu;
    bool known = cpu->measured && !cpu->unknown[0];
    json_t *o = json_object(), *workers = known ? json_array() : json_null();
    report_set(o, "producer", report_scaled(cpu->measured ? cpu->self_s : -1, k));
    /* every broker together, as one tier (scripts/up --brokers N) */
    report_set(o, "broker", known ? report_scaled(cf_bench_cpu_brokers(cpu), k) : json_null());
    for (size_t i = 0; known && i < cpu->count; i++)
        if (!cf_bench_cpu_is_broker(&cpu->procs[i]))
            json_array_append_new(workers, report_scaled(cpu->procs[i].cpu_s, k));
    report_set(o, "workers", workers);
    report_set(o, "redis", report_scaled(cpu->measured ? phase.redis_s : -1, k));
    report_set(o, "redis_replicas", report_scaled(cpu->measured ? phase.replicas_s : -1, k));
    report_set(o, "total", report_scaled(cpu->measured ? cf_bench_cpu_total(cpu, phase.redis_s)
                                                       : -1, k));
    return o;
}

/* [{port, role, cpu_us_per_event, commands_per_event}]: each node of a
   cluster over the closed loop and its drain; null on one server. */
static json_t *report_nodes(const cf_bench_result_t *r)
{
    if (!r->redis_cluster || !r->cpu.measured)
        return json_null();
    json_t *nodes = json_array();
    double k = r->events ? 1e6 / (double) r->events : NAN;
    for (size_t i = 0; i < r->redis_node_count; i++) {
        const cf_bench_node_t *n = &r->redis_nodes[i];
        json_t *node = json_object();
        report_set(node, "port", json_integer(n->port));
        report_set(node, "role", json_string(n->replica ? "replica" : "master"));
        report_set(node, "cpu_us_per_event", report_scaled(n->cpu_s, k));
        report_set(node, "commands_per_event", report_scaled(n->calls, k / 1e6));
        json_array_append_new(nodes, node);
    }
    return nodes;
}

static void report_cpu_per_process(json_t *o, const cf_bench_config_t *c,
                                   const cf_bench_result_t *r)
{
    const cf_bench_cpu_t *cpu = &r->cpu;
    report_set(o, "cpu_us_per_event", report_processes(report_closed(r), r->events
                                                       ? 1e6 / (double) r->events : NAN));
    double wall = r->seconds + r->drain_seconds;
    report_set(o, "cpu_cores", report_processes(report_closed(r), wall > 0 ? 1 / wall : NAN));
    report_set(o, "cpu_busiest", cpu->measured
                                 ? json_string(cf_bench_cpu_busiest(cpu, r->redis_cpu_drained_s))
                                 : json_null());
    report_num(o, "drain_seconds", r->drain_seconds, cpu->measured);
    report_set(o, "redis_nodes", report_nodes(r));
    report_set(o, "cpu_unknown", cpu->unknown[0] ? json_string(cpu->unknown)
                                 : cpu->measured ? json_null()
                                                 : json_string("the closed loop did not run"));
    /* the open loop's: how busy each process was while requests waited */
    bool open = c->rate > 0 && r->open_cpu.measured && r->open_events;
    report_set(o, "open_cpu_us_per_event",
               open ? report_processes(report_open(r), 1e6 / (double) r->open_events)
                    : json_null());
    report_set(o, "open_cpu_cores",
               open && r->open_cpu_wall_s > 0
               ? report_processes(report_open(r), 1 / r->open_cpu_wall_s) : json_null());
    report_set(o, "open_cpu_busiest",
               open ? json_string(cf_bench_cpu_busiest(&r->open_cpu, r->open_redis_cpu_s))
                    : json_null());
}

char *cf_bench_json(const cf_bench_t *self)
{
    assert(self);
    const cf_bench_result_t *r = &self->result;
    json_t *o = json_object();
    report_loops(o, self->config, r);
    report_redis(o, self->config, r);
    report_cpu_per_process(o, self->config, r);
    report_set(o, "persistence", json_string(r->durability[0] ? r->durability : "unknown"));
    report_set(o, "ack_replicas", json_integer(self->config->ack_replicas));
    char cpu[256];
    report_cpu(cpu, sizeof cpu);
    json_t *machine = json_object();
    report_set(machine, "nproc", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    report_set(machine, "cpu", json_string(cpu));
    report_set(machine, "redis_version", json_string(r->redis_version));
    report_num(machine, "cpu_ms_before", r->speed[0].cpu_ms, r->speed[0].cpu_ms > 0);
    report_num(machine, "cpu_ms_after", r->speed[1].cpu_ms, r->speed[1].cpu_ms > 0);
    report_num(machine, "memory_ns_before", r->speed[0].memory_ns, r->speed[0].memory_ns > 0);
    report_num(machine, "memory_ns_after", r->speed[1].memory_ns, r->speed[1].memory_ns > 0);
    report_set(o, "machine", machine);
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (!text)
        abort();
    return text;
}

/* One line: each process's CPU per event over a phase of events and wall
   seconds, and its share of a core; what opens it says which phase. */
static void report_print_phase(report_phase_t phase, size_t events, double wall,
                               const char *phase_name, FILE *out)
{
    const cf_bench_cpu_t *cpu = phase.cpu;
    double redis = phase.redis_s;
    if (!cpu->measured || !events || wall <= 0)
        return;
    double per = 1e6 / (double) events;
    fprintf(out, "CPU per event (%s): producer %.1f us (%.2f cores)", phase_name,
            cpu->self_s * per, cpu->self_s / wall);
    for (size_t i = 0; !cpu->unknown[0] && i < cpu->count; i++)
        if (cpu->procs[i].cpu_s >= 0)
            fprintf(out, ", %s %.1f us (%.2f)", cpu->procs[i].name, cpu->procs[i].cpu_s * per,
                    cpu->procs[i].cpu_s / wall);
        else
            fprintf(out, ", %s unknown", cpu->procs[i].name);
    if (redis >= 0)
        fprintf(out, ", redis %.1f us (%.2f)", redis * per, redis / wall);
    if (phase.replicas_s > 0)
        fprintf(out, ", redis replicas %.1f us (%.2f)", phase.replicas_s * per,
                phase.replicas_s / wall);
    double total = cf_bench_cpu_total(cpu, redis);
    if (total >= 0)
        fprintf(out, "; total %.1f us", total * per);
    fprintf(out, "; busiest %s\n", cf_bench_cpu_busiest(cpu, redis));
}

/* The closed loop's line (and the nodes of a cluster), then the open loop's. */
static void report_print_processes(const cf_bench_config_t *c, const cf_bench_result_t *r,
                                   FILE *out)
{
    const cf_bench_cpu_t *cpu = &r->cpu;
    double wall = r->seconds + r->drain_seconds;
    bool closed = cpu->measured && r->events && wall > 0;
    char name[64];
    snprintf(name, sizeof name, "closed loop and %.2f s of drain", r->drain_seconds);
    report_print_phase(report_closed(r), r->events, wall, name, out);
    if (closed && cpu->unknown[0])
        fprintf(out, "CPU of the broker and workers unknown: %s\n", cpu->unknown);
    double per = closed ? 1e6 / (double) r->events : 0;
    for (size_t i = 0; closed && r->redis_cluster && i < r->redis_node_count; i++)
        fprintf(out, "%s redis :%d %s %.1f us, %.2f commands per event\n", i ? "   " : "nodes:",
                r->redis_nodes[i].port, r->redis_nodes[i].replica ? "replica" : "master",
                r->redis_nodes[i].cpu_s * per, r->redis_nodes[i].calls / (double) r->events);
    snprintf(name, sizeof name, "open loop, %.2f s", r->open_cpu_wall_s);
    if (c->rate > 0)
        report_print_phase(report_open(r), r->open_events, r->open_cpu_wall_s, name, out);
}

void cf_bench_print(const cf_bench_t *self, FILE *out)
{
    assert(self && out);
    const cf_bench_config_t *c = self->config;
    const cf_bench_result_t *r = &self->result;
    fprintf(out, "closed loop: %zu events in %.2f s, %.0f events/s (%u producers, batch %u, "
            "window %u; %zu accepted, %zu duplicate, %zu rejected, %zu unacked; %zu busy "
            "acks)\n", r->events, r->seconds, r->events_per_s, c->producers, c->batch, c->window,
            r->accepted, r->duplicate, r->rejected, r->unacked, r->busy);
    fprintf(out, "ceiling: %.0f events/s (cf_store_apply, %u threads); ratio %.2f\n",
            r->ceiling_events_per_s, c->ceiling_threads,
            r->ceiling_events_per_s > 0 ? r->events_per_s / r->ceiling_events_per_s : 0.0);
    if (c->rate > 0)
        fprintf(out, "open loop at %.0f events/s (batch %u): %zu events, %.0f/s done, ack latency "
                "p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; %zu requests in flight at "
                "most%s; %zu not accepted\n", c->rate, c->open_batch, r->open_events,
                r->open_events_per_s, r->p50_ms, r->p99_ms, r->p999_ms, r->max_ms,
                r->open_in_flight_max, r->open_window_full
                ? " (the window was full: some requests waited, the loop was not open then)" : "",
                r->open_failed);
    if (c->rate > 0 && r->open_redis_commands_per_event >= 0)
        fprintf(out, "open loop's redis: %.2f commands/event, %.1f us/event\n",
                r->open_redis_commands_per_event, r->open_redis_cpu_us_per_event);
    if (c->rate > 0 && r->open_latency_threshold_ms > 0) {
        /* a disk that stalled Redis's thread shows here (aof-fsync-always) */
        fprintf(out, "open loop's redis latency monitor (%.0f ms and over):",
                r->open_latency_threshold_ms);
        for (size_t i = 0; i < r->open_latency_count; i++)
            fprintf(out, "%s %s %.0f ms", i ? "," : "", r->open_latency[i].name,
                    r->open_latency[i].max_ms);
        fputs(r->open_latency_count ? "\n" : " nothing\n", out);
    }
    if (c->rate > 0 && r->open_slowlog_threshold_ms >= 0) {
        fprintf(out, "open loop's redis slow log (%.0f ms and over):",
                r->open_slowlog_threshold_ms);
        for (size_t i = 0; i < r->open_slow_count; i++)
            fprintf(out, "%s %s %u (%.1f ms at most)", i ? "," : "", r->open_slow[i].name,
                    r->open_slow[i].count, r->open_slow[i].max_ms);
        fputs(r->open_slow_count ? "\n" : " nothing\n", out);
    }
    fprintf(out, "redis (%s, %s): %.2f commands/event, %.2f s CPU (%.1f us/event)\n",
            r->redis_version, r->durability, r->redis_commands_per_event, r->redis_cpu_s,
            r->events ? r->redis_cpu_s * 1e6 / (double) r->events : 0.0);
    if (r->redis_forks > 0 || r->open_redis_forks > 0)
        fprintf(out, "redis forked (an AOF rewrite, a save or a replica's sync) %.0f times in "
                "the closed loop and its drain and %.0f in the open loop: their figures "
                "include it\n",
                r->redis_forks, r->open_redis_forks > 0 ? r->open_redis_forks : 0.0);
    fprintf(out, "redis memory: %.0f bytes per open case, %.0f per closed case, %.0f per "
            "event id (%.0f MB per million events); %zu open alerts of %zu open cases, %.0f "
            "bytes each\n", r->bytes_per_open_case, r->bytes_per_closed_case,
            r->bytes_per_event_id, r->bytes_per_event_id, r->open_alerts, r->open_cases,
            r->bytes_per_open_alert);
    report_print_processes(c, r, out);
    fprintf(out, "peak RSS: broker %ld kB, worker %ld kB (-1: unknown)\n", r->broker_peak_kb,
            r->worker_peak_kb);
    if (r->speed[0].cpu_ms > 0 && r->speed[1].cpu_ms > 0)
        fprintf(out, "machine speed before and after the loops: a core's fixed work %.1f and "
                "%.1f ms, a memory access %.0f and %.0f ns (the larger, the slower this machine "
                "ran: docs/performance.md)\n", r->speed[0].cpu_ms, r->speed[1].cpu_ms,
                r->speed[0].memory_ns, r->speed[1].memory_ns);
}
