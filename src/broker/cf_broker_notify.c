/*  cf_broker_notify: the broker's notification side. Entries of the shards'
    outboxes arrive from the cf_outbox thread and are published with their
    stable id; a worker's DONE may add rejects, checked first (a worker
    cannot forge the envelope or other topics); every stats_ms the broker publishes `stats`: what came in and
    was acked since the last one, queue depth, jobs in flight, workers,
    notifications published and lost to slow subscribers.                   */
#include "cf_broker_internal.h"
#include "caseflow/cf_fmt.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NOTIFY_DRAIN_MAX 1024       /* outbox entries per handler call, about (whole packs) */

static int notify_on_subscription(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop, (void) socket;
    cf_publisher_drain(arg);
    return 0;
}

/* Publishes one outbox entry with its stable id. */
static void notify_publish(cf_broker_t *self, const cf_outbox_entry_t *entry)
{
    char id[64];
    cf_fmt(id, sizeof id, "%.*s", (int) (entry->id_len < sizeof id ? entry->id_len : sizeof id - 1),
           entry->id);
    zmq_msg_t topic, body;      /* the pack's bytes as messages, not copied (no free function) */
    zmq_msg_init_data(&topic, (void *) entry->topic, entry->topic_len, NULL, NULL);
    zmq_msg_init_data(&body, (void *) entry->body, entry->body_len, NULL, NULL);
    if (cf_publisher_send(self->publisher, &topic, &body, id) < 0)
        CF_LOG(CF_LOG_WARN, "outbox entry not published",
               "id=%s reason=\"not a map, or a key of the stamp\"", CF_LOG_QUOTE(id));
    else
        cf_broker_metrics_published(self, &topic);
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
}

static int notify_on_outbox(cf_loop_t *loop, void *socket, void *arg)
{
    (void) loop;
    cf_broker_t *self = arg;
    cf_multipart_t *parts = self->outbox_parts;
    for (size_t n = 0; n < NOTIFY_DRAIN_MAX && cf_multipart_recv(parts, socket) == 0; n++) {
        if (cf_multipart_size(parts) == 4 && cf_multipart_equals(parts, 0, CF_OUTBOX_SNAPSHOT)) {
            cf_broker_snapshot_reply(self, parts);
            continue;
        }
        if (cf_multipart_size(parts) != 1)
            continue;
        cf_outbox_entry_t entry;
        size_t pos = 0;
        for (size_t e = 0; cf_outbox_entry_next(cf_multipart_data(parts, 0),
                                                cf_multipart_len(parts, 0), &pos, &entry) == 0;
             e++) {
            n += e > 0;         /* the drain's limit counts entries */
            notify_publish(self, &entry);
        }
    }
    return 0;
}

/* Counts a refused notification of member's DONE; a line when the last
   about that worker is BROKER_REFUSED_LOG_MS old, with its count so far. */
static void notify_refused(cf_broker_t *self, cf_member_t *member, const char *why)
{
    cf_metric_inc(self->metrics.notices_refused);
    member->notices_refused++;
    int64_t now = cf_clock_ms();
    if (member->refused_logged_at && now - member->refused_logged_at < BROKER_REFUSED_LOG_MS)
        return;
    member->refused_logged_at = now;
    CF_LOG(CF_LOG_WARN, "worker notification refused", "worker=%s id=%s reason=%s refused=%llu",
           CF_LOG_QUOTE(member->name), member->label, CF_LOG_QUOTE(why),
           (unsigned long long) member->notices_refused);
}

void cf_broker_notify_done(cf_broker_t *self, cf_member_t *member, cf_multipart_t *parts)
{
    assert(self && member && parts);
    size_t count = cf_multipart_size(parts);
    for (size_t i = 5; i < count; i += 2) {
        char reason[96];
        const char *why = i + 1 == count ? "a topic without a body"
            : cf_msg_check_worker_notice(cf_multipart_data(parts, i), cf_multipart_len(parts, i),
                                         cf_multipart_data(parts, i + 1),
                                         cf_multipart_len(parts, i + 1), reason, sizeof reason);
        if (why)
            notify_refused(self, member, why);
        else if (cf_publisher_send(self->publisher, cf_multipart_at(parts, i),
                                   cf_multipart_at(parts, i + 1), NULL) == 0)
            cf_broker_metrics_published(self, cf_multipart_at(parts, i));
    }
}

/* Hands the rules in force to the outbox reader (its milestones). */
static void notify_use_rules(cf_broker_t *self)
{
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    cf_rules_pack(self->rules, &packed);
    cf_outbox_set_rules(self->outbox, packed.data, packed.size);
    msgpack_sbuffer_destroy(&packed);
}

/* SIGHUP: the allow-lists and the rules file again; an invalid one
   changes nothing. */
static int notify_on_reload(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    cf_broker_t *self = arg;
    if (!self->reload || !*self->reload)
        return 0;
    *self->reload = 0;
    cf_broker_secure_reload(self);
    if (!self->rules_file)
        return 0;
    if (cf_rules_load(self->rules, self->rules_file) < 0)
        CF_LOG(CF_LOG_ERROR, "rules not reloaded", "error=%s",
               CF_LOG_QUOTE(cf_rules_error(self->rules)));
    else {
        notify_use_rules(self);
        CF_LOG(CF_LOG_INFO, "rules reloaded", "file=%s", self->rules_file);
    }
    return 0;
}

static int notify_on_stats(cf_loop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    cf_broker_t *self = arg;
    int64_t now = cf_clock_ms();
    double seconds = (double) (now - self->stats_at) / 1000.0;
    msgpack_sbuffer_clear(&self->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 11);
    cf_pack_key_uint(&pk, "events_in", self->events_in - self->stats_in);
    cf_pack_key_uint(&pk, "events_acked", self->events_acked - self->stats_acked);
    cf_pack_key_real(&pk, "seconds", seconds);
    cf_pack_key_real(&pk, "events_per_s", seconds > 0 ? (double) (self->events_acked
                                                                   - self->stats_acked) / seconds
                                                      : 0);
    cf_pack_key_uint(&pk, "queue_events", cf_broker_queued(self, cf_jobq_events));
    cf_pack_key_uint(&pk, "queue_jobs", cf_broker_queued(self, cf_jobq_jobs));
    cf_pack_key_uint(&pk, "inflight_jobs", cf_roster_inflight(self->roster));
    cf_pack_key_uint(&pk, "workers", cf_roster_size(self->roster));
    cf_pack_key_uint(&pk, "published", cf_publisher_sent(self->publisher));
    cf_pack_key_uint(&pk, "dropped", cf_publisher_dropped(self->publisher));
    cf_pack_key_uint(&pk, "outbox_errors", cf_outbox_errors(self->outbox));
    zmq_msg_t topic, body;
    zmq_msg_init_size(&topic, 5);
    memcpy(zmq_msg_data(&topic), "stats", 5);
    zmq_msg_init_size(&body, self->sbuf.size);
    memcpy(zmq_msg_data(&body), self->sbuf.data, self->sbuf.size);
    cf_publisher_send(self->publisher, &topic, &body, NULL);
    cf_broker_metrics_published(self, &topic);
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    self->stats_in = self->events_in;
    self->stats_acked = self->events_acked;
    self->stats_at = now;
    return 0;
}

int cf_broker_notify_rules(cf_broker_t *self, const cf_broker_config_t *config, char *err,
                           size_t err_size)
{
    assert(self && config);
    self->rules = cf_rules_new();
    self->rules_file = config->rules_file;
    self->reload = config->reload;
    if (config->rules_file && cf_rules_load(self->rules, config->rules_file) < 0) {
        snprintf(err, err_size, "%s", cf_rules_error(self->rules));
        return -1;
    }
    return 0;
}

/* The publisher's socket admits subscribers, as many as the limit. What a
   subscriber sends it is subscriptions, which libzmq keeps in a trie of its
   own (a node per byte of topic) until the subscriber leaves, even with
   ZMQ_XPUB_MANUAL: only the frame limit keeps a long topic out of it. */
static int notify_prepare(void *arg, void *socket, const char *endpoint, char *err,
                          size_t err_size)
{
    int64_t max_frame = CF_MSG_MAX_SUBSCRIPTION_FRAME;
    int rcvhwm = BROKER_PUBLISH_RCVHWM;
    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    zmq_setsockopt(socket, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    return cf_broker_secure_socket(arg, socket, endpoint, CF_ZAP_SUBSCRIBERS, err, err_size);
}

int cf_broker_notify_start(cf_broker_t *self, const cf_broker_config_t *config, char *err,
                           size_t err_size)
{
    assert(self && config);
    self->publisher = cf_publisher_new_prepared(self->ctx, config->publish_endpoint,
                                                notify_prepare, self, err, err_size);
    if (!self->publisher)
        return -1;
    self->outbox = cf_outbox_new(self->ctx, config->redis_host ? config->redis_host : "127.0.0.1",
                                 config->redis_port ? config->redis_port : 6379,
                                 config->redis_auth,
                                 config->shards ? config->shards : CF_SHARD_DEFAULT,
                                 CF_OUTBOX_ENDPOINT, config->script_dir ? config->script_dir
                                 : cf_store_default_scripts(), err, err_size);
    if (!self->outbox)
        return -1;
    /* its lease's name: a broker restarted in its place takes the lease back
       at once, another broker's waits for it to lapse */
    char host[64] = "", reader[160];
    gethostname(host, sizeof host - 1);
    snprintf(reader, sizeof reader, "%s %s", host, config->publish_endpoint);
    cf_outbox_set_reader(self->outbox, reader);
    notify_use_rules(self);
    self->outbox_parts = cf_multipart_new(5);
    self->stats_ms = config->stats_ms > 0 ? config->stats_ms : CF_SETTINGS_STATS_DEFAULT;
    self->stats_at = cf_clock_ms();
    cf_loop_add_socket(self->loop, cf_publisher_socket(self->publisher), notify_on_subscription,
                       self->publisher);
    cf_loop_add_socket(self->loop, cf_outbox_socket(self->outbox), notify_on_outbox, self);
    cf_loop_add_timer(self->loop, self->stats_ms, notify_on_stats, self);
    cf_loop_add_timer(self->loop, 250, notify_on_reload, self);
    return 0;
}

void cf_broker_notify_stop(cf_broker_t *self)
{
    assert(self);
    cf_outbox_destroy(&self->outbox);
    cf_rules_destroy(&self->rules);
    cf_multipart_destroy(&self->outbox_parts);
    cf_publisher_destroy(&self->publisher);
}
