/*  cf_outbox: the outbox reader, as the broker's loop sees it (see
    cf_outbox.h): its start-up checks, its end of the pair, the rules'
    milestones and the lease's name it sets, its error count. The thread
    that reads is cf_outbox_reader.c; they share the object
    (cf_outbox_internal.h), guarded by its lock, and the stop flag and
    counters as atomics.                                                    */
#include "cf_outbox.h"
#include "caseflow/cf_alloc.h"
#include "cf_outbox_internal.h"
#include "caseflow/cf_shard.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include <zmq.h>

cf_outbox_t *cf_outbox_new(void *zmq_ctx, const char *host, int port, const cf_redis_auth_t *auth,
                           unsigned shards, const char *endpoint, const char *script_dir,
                           char *err, size_t err_size)
{
    assert(zmq_ctx && host && endpoint && script_dir && shards >= 1 && shards <= CF_SHARD_MAX);
    cf_outbox_t *self = cf_calloc(1, sizeof *self);
    self->shards = shards;
    self->host = cf_strdup(host);
    self->endpoint = cf_strdup(endpoint);
    pthread_mutex_init(&self->lock, NULL);
    char hostname[64] = "";
    gethostname(hostname, sizeof hostname - 1);
    snprintf(self->reader, sizeof self->reader, "%s:%ld", hostname, (long) getpid());
    self->marks = cf_outbox_marks_new("\x80", 1);
    if (cf_store_script_library(script_dir, &self->library, &self->library_len, self->version,
                                err, err_size) < 0) {
        cf_outbox_destroy(&self);
        return NULL;
    }
    self->ctx = zmq_ctx;
    self->port = port;
    self->auth = cf_redis_auth_dup(auth);
    /* refused credentials, a missing library or another shard count stop
       the broker at start-up;
       a Redis not up yet is waited for by the thread */
    char why[600];
    bool answered = false;
    cf_redis_cluster_t *cluster = NULL;
    redisContext *c = cf_outbox_open(self, &cluster, why, sizeof why, &answered);
    cf_redis_cluster_destroy(&cluster);
    if (c)
        redisFree(c);
    else if (answered) {
        snprintf(err, err_size, "redis %s:%d: %s", host, port, why);
        cf_outbox_destroy(&self);
        return NULL;
    }
    self->pair = zmq_socket(zmq_ctx, ZMQ_PAIR);
    int linger = 0, hwm = OUTBOX_PAIR_HWM;
    zmq_setsockopt(self->pair, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(self->pair, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(self->pair, endpoint) < 0) {
        snprintf(err, err_size, "outbox: cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        cf_outbox_destroy(&self);
        return NULL;
    }
    if (pthread_create(&self->thread, NULL, cf_outbox_reader_run, self) != 0)
        abort();
    self->started = true;
    return self;
}

void cf_outbox_destroy(cf_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_outbox_t *self = *self_p;
    if (self->started) {
        atomic_store(&self->stop, 1);
        pthread_join(self->thread, NULL);
    }
    if (self->pair)
        zmq_close(self->pair);
    pthread_mutex_destroy(&self->lock);
    free(self->library);
    cf_outbox_marks_destroy(&self->marks);
    cf_redis_auth_destroy(&self->auth);
    free(self->host);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

void cf_outbox_set_rules(cf_outbox_t *self, const void *packed, size_t len)
{
    assert(self && packed && len > 0);
    outbox_marks_t *marks = cf_outbox_marks_new(packed, len);
    pthread_mutex_lock(&self->lock);
    outbox_marks_t *old = self->marks;
    self->marks = marks;
    pthread_mutex_unlock(&self->lock);
    cf_outbox_marks_destroy(&old);
}

void *cf_outbox_socket(cf_outbox_t *self)
{
    assert(self);
    return self->pair;
}

void cf_outbox_set_reader(cf_outbox_t *self, const char *name)
{
    assert(self && name);
    pthread_mutex_lock(&self->lock);
    snprintf(self->reader, sizeof self->reader, "%s", name);
    pthread_mutex_unlock(&self->lock);
}

uint64_t cf_outbox_errors(const cf_outbox_t *self)
{
    assert(self);
    return atomic_load(&((cf_outbox_t *) self)->errors);
}
