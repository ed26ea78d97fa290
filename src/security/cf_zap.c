/*  cf_zap: the ZAP handler thread, its answers and its life cycle; see
    cf_zap.h. The allow-lists are in cf_zap_keys.c, the connection limits
    in cf_zap_limit.c. A denied key is logged the first time only (a
    refused client may come back, on a new connection, again and again).    */
#include "cf_zap_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES_NULL 6          /* version .. mechanism, after REP's envelope */
#define ZAP_FRAMES 7               /* ... and CURVE's credentials */

/* ---- the handler thread ----------------------------------------------- */

/* Logs a refused key once: its fingerprint, never more of it. */
static void zap_log_denied(cf_zap_t *self, const uint8_t *key, const char *domain,
                           const char *address)
{
    for (size_t i = 0; i < self->denied_count; i++)
        if (memcmp(self->denied[i], key, sizeof self->denied[i]) == 0)
            return;
    if (self->denied_count < ZAP_DENIED_MAX)
        memcpy(self->denied[self->denied_count++], key, sizeof self->denied[0]);
    char z85[CF_CURVE_Z85_LEN + 1];
    zmq_z85_encode(z85, key, 32);
    CF_LOG(CF_LOG_WARN, "client refused: key not in the allow-list",
           "key=\"%.8s\" roles=%s address=%s", z85, domain, address);
}

static void zap_text(zmq_msg_t *frame, char *out, size_t size)
{
    size_t len = zmq_msg_size(frame) < size - 1 ? zmq_msg_size(frame) : size - 1;
    memcpy(out, zmq_msg_data(frame), len);
    out[len] = '\0';
}

/* The verdict on a request whose frames have been checked: the User-Id
   ("role/key", empty for plain) in user, or the refusal's text. */
static bool zap_judge(cf_zap_t *self, zmq_msg_t *frames, size_t count, const char *domain,
                      const char *address, char *user, size_t user_size, const char **text)
{
    const char *role = NULL;
    char key[CF_CURVE_Z85_LEN + 1];
    char mechanism[16] = "";
    zap_text(&frames[5], mechanism, sizeof mechanism);
    if (self->plain) {
        if (strcmp(mechanism, "NULL") != 0) {
            *text = "plain broker: NULL mechanism only";
            return false;
        }
    } else if (strcmp(mechanism, "CURVE") != 0 || count != ZAP_FRAMES
               || zmq_msg_size(&frames[6]) != 32) {
        *text = "CURVE only";
        return false;
    } else if (!zmq_z85_encode(key, zmq_msg_data(&frames[6]), 32)
               || !(role = zap_admit(self, domain, key))) {
        zap_log_denied(self, zmq_msg_data(&frames[6]), domain, address);
        *text = "not allowed";
        return false;
    }
    if (zap_limit_exceeded(self, domain, address)) {
        *text = "too many connections";
        return false;
    }
    if (role)
        snprintf(user, user_size, "%s/%s", role, key);
    return true;
}

/* Answers one request: frames are version, request id, domain, address,
   routing id, mechanism, then CURVE's credentials (the client's 32-byte
   key); NULL has none. */
static void zap_answer(cf_zap_t *self, zmq_msg_t *frames, size_t count)
{
    char domain[ZAP_DOMAIN_LEN] = "", address[64] = "";
    char user[ZAP_ROLE_LEN + 1 + CF_CURVE_Z85_LEN + 1] = "";
    const char *status = "400", *text = "malformed ZAP request";
    if (count >= ZAP_FRAMES_NULL && count <= ZAP_FRAMES && zmq_msg_size(&frames[0]) == 3
        && memcmp(zmq_msg_data(&frames[0]), "1.0", 3) == 0) {
        zap_text(&frames[2], domain, sizeof domain);
        zap_text(&frames[3], address, sizeof address);
        if (zap_judge(self, frames, count, domain, address, user, sizeof user, &text))
            status = "200", text = "OK";
    }
    /* version, the request id echoed, status, text, User-Id, metadata */
    zmq_send(self->handler, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(self->handler, count > 1 ? zmq_msg_data(&frames[1]) : "",
             count > 1 ? zmq_msg_size(&frames[1]) : 0, ZMQ_SNDMORE);
    zmq_send(self->handler, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(self->handler, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(self->handler, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(self->handler, "", 0, 0);
}

static void zap_on_request(cf_zap_t *self)
{
    zmq_msg_t frames[ZAP_FRAMES + 1];
    size_t count = 0;
    int more = 1;
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, self->handler, 0) < 0) {
            zmq_msg_close(&frame);
            break;
        }
        more = zmq_msg_more(&frame);
        if (count < ZAP_FRAMES + 1)
            frames[count++] = frame;
        else
            zmq_msg_close(&frame);
    }
    zap_answer(self, frames, count);
    for (size_t i = 0; i < count; i++)
        zmq_msg_close(&frames[i]);
}

/* A command from the owning thread on the pipe: "LIMIT" and an index
   (cf_zap_limit), answered OK or NO; anything else stops the thread. */
static bool zap_on_command(cf_zap_t *self)
{
    char command[8] = "";
    uint32_t index = 0;
    int len = zmq_recv(self->thread_pipe, command, sizeof command, 0);
    int more = 0;
    size_t more_size = sizeof more;
    zmq_getsockopt(self->thread_pipe, ZMQ_RCVMORE, &more, &more_size);
    if (len != 5 || memcmp(command, "LIMIT", 5) != 0 || !more)
        return false;
    bool ok = zmq_recv(self->thread_pipe, &index, sizeof index, 0) == sizeof index
              && index < ZAP_LIMITS_MAX && zap_limit_connect(self, index) == 0;
    zmq_send(self->thread_pipe, ok ? "OK" : "NO", 2, 0);
    return true;
}

static void *zap_run(void *arg)
{
    cf_zap_t *self = arg;
    zmq_pollitem_t items[2 + ZAP_LIMITS_MAX];
    for (;;) {
        items[0] = (zmq_pollitem_t) { self->handler, 0, ZMQ_POLLIN, 0 };
        items[1] = (zmq_pollitem_t) { self->thread_pipe, 0, ZMQ_POLLIN, 0 };
        for (size_t i = 0; i < self->limit_active; i++)
            items[2 + i] = (zmq_pollitem_t) { self->limits[i].monitor, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(items, 2 + (int) self->limit_active, -1) < 0 && zmq_errno() != EINTR)
            break;
        if ((items[1].revents & ZMQ_POLLIN) && !zap_on_command(self))
            break;                  /* cf_zap_destroy */
        zap_limits_drain(self);     /* the counts first, then the request */
        if (items[0].revents & ZMQ_POLLIN)
            zap_on_request(self);
    }
    return NULL;
}

/* ---- life cycle ------------------------------------------------------- */

static int zap_open(cf_zap_t *self, char *err, size_t err_size)
{
    char pipe[64];
    snprintf(pipe, sizeof pipe, "inproc://cf-zap-pipe-%p", (void *) self);
    int linger = 0;
    self->handler = zmq_socket(self->ctx, ZMQ_REP);
    self->pipe = zmq_socket(self->ctx, ZMQ_PAIR);
    self->thread_pipe = zmq_socket(self->ctx, ZMQ_PAIR);
    zmq_setsockopt(self->handler, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(self->pipe, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(self->thread_pipe, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(self->handler, ZAP_ENDPOINT) < 0) {
        snprintf(err, err_size, "ZAP handler: cannot bind %s: %s", ZAP_ENDPOINT,
                 zmq_strerror(zmq_errno()));
        return -1;
    }
    if (zmq_bind(self->thread_pipe, pipe) < 0 || zmq_connect(self->pipe, pipe) < 0) {
        snprintf(err, err_size, "ZAP handler: pipe: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

/* Opens the sockets and starts the thread; destroys self on failure. */
static cf_zap_t *zap_start(cf_zap_t *self, char *err, size_t err_size)
{
    if (cf_zap_reload(self, err, err_size) < 0 || zap_open(self, err, err_size) < 0) {
        cf_zap_destroy(&self);
        return NULL;
    }
    if (pthread_create(&self->thread, NULL, zap_run, self) != 0) {
        snprintf(err, err_size, "ZAP handler: cannot start its thread");
        cf_zap_destroy(&self);
        return NULL;
    }
    self->running = true;
    return self;
}

static cf_zap_t *zap_alloc(void *ctx)
{
    cf_zap_t *self = cf_calloc(1, sizeof *self);
    self->ctx = ctx;
    pthread_mutex_init(&self->lock, NULL);
    return self;
}

cf_zap_t *cf_zap_new(void *ctx, const cf_zap_list_t *lists, size_t count, char *err,
                     size_t err_size)
{
    assert(ctx && (lists || count == 0) && count <= ZAP_ROLES_MAX);
    cf_zap_t *self = zap_alloc(ctx);
    for (size_t i = 0; i < count; i++) {
        assert(lists[i].role && strlen(lists[i].role) < ZAP_ROLE_LEN
               && !strchr(lists[i].role, ','));
        snprintf(self->lists[i].role, ZAP_ROLE_LEN, "%s", lists[i].role);
        if (lists[i].file)
            self->lists[i].file = cf_strdup(lists[i].file);
    }
    self->list_count = count;
    return zap_start(self, err, err_size);
}

cf_zap_t *cf_zap_new_plain(void *ctx, char *err, size_t err_size)
{
    assert(ctx);
    cf_zap_t *self = zap_alloc(ctx);
    self->plain = true;
    return zap_start(self, err, err_size);
}

void cf_zap_destroy(cf_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_zap_t *self = *self_p;
    if (self->running) {
        zmq_send(self->pipe, "", 0, 0);
        pthread_join(self->thread, NULL);
    }
    if (self->handler)
        zmq_close(self->handler);
    if (self->pipe)
        zmq_close(self->pipe);
    if (self->thread_pipe)
        zmq_close(self->thread_pipe);
    zap_limits_close(self);
    zap_lists_free(self);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

bool cf_zap_role_of(zmq_msg_t *msg, const char *role)
{
    assert(msg && role);
    const char *user = zmq_msg_gets(msg, "User-Id");
    size_t len = strlen(role);
    return user && strncmp(user, role, len) == 0 && user[len] == '/';
}

const char *cf_zap_key_of(zmq_msg_t *msg)
{
    assert(msg);
    const char *user = zmq_msg_gets(msg, "User-Id");
    const char *key = user ? strchr(user, '/') : NULL;
    return key && strlen(key + 1) == CF_CURVE_Z85_LEN ? key + 1 : NULL;
}
