/*  cf_web_feed: the subscriber thread and ring of caseflow-web; see
    cf_web_feed.h. The ring is guarded by one mutex; the streams wait on one
    condition variable, broadcast at each notification and at close.        */
#include "cf_web_feed.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_endpoints.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_multipart.h"
#include "caseflow/cf_snapshot.h"
#include "caseflow/cf_unpack.h"
#include "caseflow/cf_zmq.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define FEED_POLL_MS 200        /* how often the thread looks at its stop flag */
#define FEED_RCVHWM 100000

struct _cf_web_feed_t {
    void *ctx, *socket;
    char *intake;
    const cf_curve_t *curve;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    pthread_mutex_t lock;
    pthread_cond_t moved;
    bool closed;                            /* under lock */
    cf_web_feed_entry_t ring[CF_WEB_FEED_RING];     /* entry n at n % CF_WEB_FEED_RING */
    uint64_t head;                          /* the last n kept, under lock */
    int64_t open_streams;                   /* under lock */
    uint64_t wakes;                         /* cf_web_feed_wake's calls, under lock */
    char epoch[17];
    cf_metric_t *received, *repeats, *missed, *streams;
};

void cf_web_feed_entry_clear(cf_web_feed_entry_t *entry)
{
    free(entry->topic);
    free(entry->programme);
    free(entry->outbox_id);
    free(entry->json);
    memset(entry, 0, sizeof *entry);
}

static char *feed_str(const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_STR ? cf_strndup(o->via.str.ptr, o->via.str.size)
                                              : NULL;
}

/*  Keeps one received notification: parsed, checked, in the ring.         */
static void feed_keep(cf_web_feed_t *self, cf_multipart_t *parts, msgpack_unpacked *body,
                      cf_seqcheck_t *seqs, cf_json_t *json)
{
    cf_msg_notice_t notice;
    if (cf_msg_parse_notice(parts, body, &notice) < 0)
        return;                 /* not a map: nothing a browser could use */
    if (notice.publisher && notice.has_seq)
        cf_metric_add(self->missed, cf_seqcheck_see(seqs, notice.publisher, notice.publisher_len,
                                                    notice.topic, notice.topic_len, notice.seq,
                                                    NULL));
    if (notice.id && cf_seqcheck_repeat(seqs, notice.id, notice.id_len)) {
        cf_metric_add(self->repeats, 1);
        return;
    }
    const char *text = cf_json_from_object(json, notice.body);
    if (!text)
        return;
    cf_web_feed_entry_t entry = {
        .topic = cf_strndup(notice.topic, notice.topic_len),
        .programme = feed_str(cf_unpack_get(notice.body, "programme")),
        .outbox_id = notice.id ? cf_strndup(notice.id, notice.id_len) : NULL,
        .json = cf_strdup(text),
    };
    pthread_mutex_lock(&self->lock);
    entry.n = ++self->head;
    cf_web_feed_entry_t *slot = &self->ring[entry.n % CF_WEB_FEED_RING];
    cf_web_feed_entry_clear(slot);
    *slot = entry;
    pthread_cond_broadcast(&self->moved);
    pthread_mutex_unlock(&self->lock);
    cf_metric_add(self->received, 1);
}

static void *feed_run(void *arg)
{
    cf_web_feed_t *self = arg;
    cf_multipart_t *parts = cf_multipart_new(4);
    cf_seqcheck_t *seqs = cf_seqcheck_new();
    cf_json_t *json = cf_json_new();
    msgpack_unpacked body;
    msgpack_unpacked_init(&body);
    while (!atomic_load(&self->stop)) {
        zmq_pollitem_t item = { self->socket, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, FEED_POLL_MS) <= 0)
            continue;
        while (cf_multipart_recv(parts, self->socket) == 0)
            feed_keep(self, parts, &body, seqs, json);
    }
    msgpack_unpacked_destroy(&body);
    cf_json_destroy(&json);
    cf_seqcheck_destroy(&seqs);
    cf_multipart_destroy(&parts);
    return NULL;
}

static void feed_metrics(cf_web_feed_t *self, cf_metrics_t *m)
{
    self->received = cf_metrics_counter(m, "caseflow_web_feed_notifications_total",
                                        "notifications received for the live feed", NULL);
    self->repeats = cf_metrics_counter(m, "caseflow_web_feed_repeats_total",
                                       "republished outbox entries dropped", NULL);
    self->missed = cf_metrics_counter(m, "caseflow_web_feed_missed_total",
                                      "notifications missed (gaps in a topic's seq)", NULL);
    self->streams = cf_metrics_gauge(m, "caseflow_web_feed_streams",
                                     "event streams open (GET /api/v1/notifications)", NULL);
}

cf_web_feed_t *cf_web_feed_new(const char *subscribe, const char *intake, const cf_curve_t *curve,
                               cf_metrics_t *metrics, char *err, size_t n)
{
    assert(subscribe && intake);
    cf_web_feed_t *self = cf_calloc(1, sizeof *self);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->moved, NULL);
    self->intake = cf_strdup(intake);
    self->curve = curve;
    unsigned char random[8];
    randombytes_buf(random, sizeof random);
    sodium_bin2hex(self->epoch, sizeof self->epoch, random, sizeof random);
    feed_metrics(self, metrics);
    self->ctx = zmq_ctx_new();
    self->socket = zmq_socket(self->ctx, ZMQ_SUB);
    int hwm = FEED_RCVHWM, linger = 0;
    int64_t max_frame = CF_MSG_MAX_FRAME_BYTES;
    zmq_setsockopt(self->socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(self->socket, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    zmq_setsockopt(self->socket, ZMQ_SUBSCRIBE, "", 0);
    if (curve)
        cf_curve_client(curve, self->socket);
    /* with several brokers, on every one (each publishes a part): the
       repeats are dropped by id (cf_seqcheck) */
    cf_endpoints_t *list = cf_endpoints_new(subscribe, err, n);
    int rc = list ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < cf_endpoints_size(list); i++)
        if ((rc = zmq_connect(self->socket, cf_endpoints_at(list, i))) < 0)
            snprintf(err, n, "notification endpoint '%s': %s", cf_endpoints_at(list, i),
                     zmq_strerror(errno));
    cf_endpoints_destroy(&list);
    if (rc < 0) {
        cf_web_feed_destroy(&self);
        return NULL;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);     /* signals stay with the main thread */
    self->started = pthread_create(&self->thread, NULL, feed_run, self) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!self->started) {
        snprintf(err, n, "cannot start the feed's thread");
        cf_web_feed_destroy(&self);
    }
    return self;
}

void cf_web_feed_close(cf_web_feed_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    self->closed = true;
    pthread_cond_broadcast(&self->moved);
    pthread_mutex_unlock(&self->lock);
}

void cf_web_feed_wake(cf_web_feed_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    self->wakes++;
    pthread_cond_broadcast(&self->moved);
    pthread_mutex_unlock(&self->lock);
}

uint64_t cf_web_feed_woken(cf_web_feed_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    uint64_t wakes = self->wakes;
    pthread_mutex_unlock(&self->lock);
    return wakes;
}

void cf_web_feed_destroy(cf_web_feed_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_web_feed_t *self = *self_p;
    atomic_store(&self->stop, true);
    if (self->started)
        pthread_join(self->thread, NULL);
    zmq_close(self->socket);
    cf_zmq_ctx_term(&self->ctx);
    for (size_t i = 0; i < CF_WEB_FEED_RING; i++)
        cf_web_feed_entry_clear(&self->ring[i]);
    pthread_cond_destroy(&self->moved);
    pthread_mutex_destroy(&self->lock);
    free(self->intake);
    free(self);
    *self_p = NULL;
}

const char *cf_web_feed_epoch(const cf_web_feed_t *self)
{
    assert(self);
    return self->epoch;
}

uint64_t cf_web_feed_head(cf_web_feed_t *self)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    uint64_t head = self->head;
    pthread_mutex_unlock(&self->lock);
    return head;
}

/*  Under lock: whether the ring holds every notification after n.          */
static bool feed_holds_after(const cf_web_feed_t *self, uint64_t n)
{
    return n <= self->head && self->head - n <= CF_WEB_FEED_RING;
}

bool cf_web_feed_can_resume(cf_web_feed_t *self, uint64_t n)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    bool can = feed_holds_after(self, n);
    pthread_mutex_unlock(&self->lock);
    return can;
}

static char *feed_dup(const char *text)
{
    return text ? cf_strdup(text) : NULL;
}

int cf_web_feed_next(cf_web_feed_t *self, uint64_t after, uint64_t *woken, int timeout_ms,
                     cf_web_feed_entry_t *out)
{
    assert(self && woken && out);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&self->lock);
    while (!self->closed && self->head == after && self->wakes == *woken
           && pthread_cond_timedwait(&self->moved, &self->lock, &until) == 0)
        ;
    *woken = self->wakes;
    if (self->closed)
        rc = -1;
    else if (!feed_holds_after(self, after))
        rc = -2;
    else if (self->head > after) {
        const cf_web_feed_entry_t *e = &self->ring[(after + 1) % CF_WEB_FEED_RING];
        *out = (cf_web_feed_entry_t) { .n = e->n, .topic = feed_dup(e->topic),
                                       .programme = feed_dup(e->programme),
                                       .outbox_id = feed_dup(e->outbox_id),
                                       .json = feed_dup(e->json) };
        rc = 1;
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

int cf_web_feed_snapshot(cf_web_feed_t *self, cf_seqcheck_t *seqs, char **json, char *err,
                         size_t n)
{
    assert(self && seqs && json);
    *json = NULL;
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    msgpack_unpacked map;
    msgpack_unpacked_init(&map);
    int rc = cf_snapshot_fetch(self->ctx, self->intake, self->curve, CF_WEB_FEED_SNAPSHOT_MS,
                               &body, err, n);
    if (rc == 0 && (cf_unpack(&map, body.data, body.size) < 0
                    || cf_snapshot_prime(seqs, &map.data) < 0)) {
        snprintf(err, n, "the broker's snapshot is not a snapshot map");
        rc = -1;
    }
    if (rc == 0) {
        cf_json_t *conv = cf_json_new();
        const char *text = cf_json_from_object(conv, &map.data);
        if (text)
            *json = cf_strdup(text);
        else
            snprintf(err, n, "the snapshot: %s", cf_json_error(conv));
        rc = text ? 0 : -1;
        cf_json_destroy(&conv);
    }
    msgpack_unpacked_destroy(&map);
    msgpack_sbuffer_destroy(&body);
    return rc;
}

/*  Drops the keys of obj whose "<programme>|" prefix (or, with whole, the
    key itself) is a programme sees() refuses.                              */
static void feed_scope_keys(json_t *obj, bool whole, bool (*sees)(const char *, void *),
                            void *arg)
{
    const char *key;
    json_t *value;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, value) {
        char programme[128];
        size_t len = whole ? strlen(key) : strcspn(key, "|");
        snprintf(programme, sizeof programme, "%.*s", (int) len, key);
        if (!sees(programme, arg))
            json_object_del(obj, key);
    }
}

char *cf_web_feed_scope_snapshot(const char *json, bool (*sees)(const char *programme, void *arg),
                                 void *arg)
{
    assert(json && sees);
    json_t *root = json_loads(json, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    json_t *figures = json_object_get(root, "figures"), *returns = json_object_get(root, "returns");
    json_t *alerts = json_object_get(root, "open_alerts");
    json_t *milestones = json_object_get(root, "last_milestones");
    if (json_is_object(figures))
        feed_scope_keys(figures, false, sees, arg);
    if (json_is_object(returns))
        feed_scope_keys(returns, false, sees, arg);
    if (json_is_object(milestones))
        feed_scope_keys(milestones, true, sees, arg);
    for (size_t i = json_is_array(alerts) ? json_array_size(alerts) : 0; i-- > 0;) {
        const char *programme = json_string_value(json_object_get(json_array_get(alerts, i),
                                                                  "programme"));
        if (!programme || !sees(programme, arg))
            json_array_remove(alerts, i);
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        abort();                /* jansson fails here on memory only */
    char *copy = cf_strdup(text);
    free(text);
    return copy;
}

void cf_web_feed_stream_count(cf_web_feed_t *self, int delta)
{
    assert(self);
    pthread_mutex_lock(&self->lock);
    self->open_streams += delta;
    cf_metric_set(self->streams, self->open_streams);
    pthread_mutex_unlock(&self->lock);
}
