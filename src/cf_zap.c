/*  cf_zap: the ZAP handler thread and its allow-lists; see cf_zap.h. The
    lists are swapped whole under a mutex on reload, so the thread always
    sees one consistent set. A denied key is logged the first time only
    (a refused client retries every reconnect interval).                    */
#include "caseflow/cf_zap.h"
#include "caseflow/cf_curve.h"
#include "caseflow/cf_log.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_ROLES_MAX 8
#define ZAP_ROLE_LEN 32
#define ZAP_DENIED_MAX 256         /* keys remembered as logged already */
#define ZAP_FRAMES 7               /* version .. credentials, after REP's envelope */

typedef uint8_t zap_key_t[32];

typedef struct {
    char role[ZAP_ROLE_LEN];
    char *file;
    zap_key_t *keys;
    size_t count;
} zap_list_t;

struct _cf_zap_t {
    void *ctx, *handler, *pipe, *thread_pipe;
    pthread_t thread;
    bool running;
    pthread_mutex_t lock;           /* guards lists[].keys and .count */
    zap_list_t lists[ZAP_ROLES_MAX];
    size_t list_count;
    zap_key_t denied[ZAP_DENIED_MAX];    /* the thread's own */
    size_t denied_count;
};

/* ---- allow-lists ------------------------------------------------------ */

/* Reads the keys of path into *keys (*count of them). 0, or -1 with err. */
static int zap_read_file(const char *path, zap_key_t **keys, size_t *count, char *err,
                         size_t err_size)
{
    *keys = NULL;
    *count = 0;
    if (!path)
        return 0;
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(err, err_size, "allow-list %s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    size_t capacity = 0;
    for (unsigned number = 1; fgets(line, sizeof line, file); number++) {
        char *text = line + strspn(line, " \t");
        text[strcspn(text, " \t\r\n")] = '\0';
        if (!*text || *text == '#')
            continue;
        if (*count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            *keys = realloc(*keys, capacity * sizeof **keys);
            if (!*keys)
                abort();
        }
        if (strlen(text) != CF_CURVE_Z85_LEN || !zmq_z85_decode((*keys)[*count], text)) {
            snprintf(err, err_size, "allow-list %s, line %u: not a Z85 public key (%d "
                     "characters)", path, number, CF_CURVE_Z85_LEN);
            free(*keys);
            *keys = NULL;
            fclose(file);
            return -1;
        }
        (*count)++;
    }
    fclose(file);
    return 0;
}

int cf_zap_reload(cf_zap_t *self, char *err, size_t err_size)
{
    assert(self);
    zap_key_t *keys[ZAP_ROLES_MAX] = { 0 };
    size_t counts[ZAP_ROLES_MAX] = { 0 };
    for (size_t i = 0; i < self->list_count; i++)
        if (zap_read_file(self->lists[i].file, &keys[i], &counts[i], err, err_size) < 0) {
            while (i-- > 0)
                free(keys[i]);
            return -1;
        }
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->list_count; i++) {
        zap_key_t *old = self->lists[i].keys;
        self->lists[i].keys = keys[i];
        self->lists[i].count = counts[i];
        keys[i] = old;
    }
    pthread_mutex_unlock(&self->lock);
    for (size_t i = 0; i < self->list_count; i++)
        free(keys[i]);
    return 0;
}

size_t cf_zap_keys(cf_zap_t *self)
{
    assert(self);
    size_t keys = 0;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->list_count; i++)
        keys += self->lists[i].count;
    pthread_mutex_unlock(&self->lock);
    return keys;
}

/* The first role named in domain ("a,b") whose list has key, or NULL. */
static const char *zap_admit(cf_zap_t *self, const char *domain, const uint8_t *key)
{
    const char *role = NULL;
    pthread_mutex_lock(&self->lock);
    for (const char *p = domain; *p && !role; p += strcspn(p, ","), p += *p == ',') {
        size_t len = strcspn(p, ",");
        for (size_t i = 0; i < self->list_count && !role; i++) {
            zap_list_t *list = &self->lists[i];
            if (strlen(list->role) != len || memcmp(list->role, p, len) != 0)
                continue;
            for (size_t k = 0; k < list->count && !role; k++)
                if (memcmp(list->keys[k], key, sizeof list->keys[k]) == 0)
                    role = list->role;
        }
    }
    pthread_mutex_unlock(&self->lock);
    return role;
}

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

/* Answers one request: frames are version, request id, domain, address,
   routing id, mechanism, credentials (the client's 32-byte key). */
static void zap_answer(cf_zap_t *self, zmq_msg_t *frames, size_t count)
{
    char domain[256] = "", address[64] = "", mechanism[16] = "";
    const char *role = NULL, *status = "400", *text = "not allowed";
    if (count == ZAP_FRAMES) {
        zap_text(&frames[2], domain, sizeof domain);
        zap_text(&frames[3], address, sizeof address);
        zap_text(&frames[5], mechanism, sizeof mechanism);
    }
    if (count != ZAP_FRAMES || zmq_msg_size(&frames[0]) != 3
        || memcmp(zmq_msg_data(&frames[0]), "1.0", 3) != 0)
        text = "malformed ZAP request";
    else if (strcmp(mechanism, "CURVE") != 0 || zmq_msg_size(&frames[6]) != 32)
        text = "CURVE only";
    else if ((role = zap_admit(self, domain, zmq_msg_data(&frames[6]))) != NULL)
        status = "200", text = "OK";
    else
        zap_log_denied(self, zmq_msg_data(&frames[6]), domain, address);
    /* version, the request id echoed, status, text, User-Id, metadata */
    zmq_send(self->handler, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(self->handler, count > 1 ? zmq_msg_data(&frames[1]) : "",
             count > 1 ? zmq_msg_size(&frames[1]) : 0, ZMQ_SNDMORE);
    zmq_send(self->handler, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(self->handler, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(self->handler, role ? role : "", role ? strlen(role) : 0, ZMQ_SNDMORE);
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

static void *zap_run(void *arg)
{
    cf_zap_t *self = arg;
    zmq_pollitem_t items[] = { { self->handler, 0, ZMQ_POLLIN, 0 },
                               { self->thread_pipe, 0, ZMQ_POLLIN, 0 } };
    while (zmq_poll(items, 2, -1) >= 0 || zmq_errno() == EINTR) {
        if (items[1].revents & ZMQ_POLLIN)
            break;                  /* cf_zap_destroy */
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

cf_zap_t *cf_zap_new(void *ctx, const cf_zap_list_t *lists, size_t count, char *err,
                     size_t err_size)
{
    assert(ctx && (lists || count == 0) && count <= ZAP_ROLES_MAX);
    cf_zap_t *self = calloc(1, sizeof *self);
    if (!self)
        abort();
    self->ctx = ctx;
    pthread_mutex_init(&self->lock, NULL);
    for (size_t i = 0; i < count; i++) {
        assert(lists[i].role && strlen(lists[i].role) < ZAP_ROLE_LEN
               && !strchr(lists[i].role, ','));
        snprintf(self->lists[i].role, ZAP_ROLE_LEN, "%s", lists[i].role);
        if (lists[i].file && !(self->lists[i].file = strdup(lists[i].file)))
            abort();
    }
    self->list_count = count;
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
    for (size_t i = 0; i < self->list_count; i++) {
        free(self->lists[i].file);
        free(self->lists[i].keys);
    }
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

bool cf_zap_role_of(zmq_msg_t *msg, const char *role)
{
    assert(msg && role);
    const char *user = zmq_msg_gets(msg, "User-Id");
    return user && strcmp(user, role) == 0;
}
