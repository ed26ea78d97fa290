/*  cf_curve: key pairs in Z85 files and the CURVE socket options; see
    cf_curve.h.                                                              */
#include "caseflow/cf_curve.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

struct _cf_curve_t {
    char public_key[CF_CURVE_Z85_LEN + 1];
    char secret_key[CF_CURVE_Z85_LEN + 1];
    char server_key[CF_CURVE_Z85_LEN + 1];      /* "" until set */
};

static cf_curve_t *curve_alloc(void)
{
    cf_curve_t *self = cf_calloc(1, sizeof *self);
    return self;
}

cf_curve_t *cf_curve_new(void)
{
    cf_curve_t *self = curve_alloc();
    if (zmq_curve_keypair(self->public_key, self->secret_key) < 0)
        cf_curve_destroy(&self);
    return self;
}

void cf_curve_destroy(cf_curve_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero(*self_p, sizeof **self_p);
    free(*self_p);
    *self_p = NULL;
}

/* Reads the one Z85 line of path into z85; the bytes read are wiped from
   the stack buffer (they may be a secret). */
static int curve_read_line(const char *path, char *z85, char *err, size_t err_size)
{
    char line[CF_CURVE_Z85_LEN + 8];
    FILE *file = fopen(path, "r");
    if (!file) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t got = fread(line, 1, sizeof line - 1, file);
    fclose(file);
    line[got] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    uint8_t raw[32];
    int ok = strlen(line) == CF_CURVE_Z85_LEN && zmq_z85_decode(raw, line) != NULL;
    if (ok)
        memcpy(z85, line, CF_CURVE_Z85_LEN + 1);
    sodium_memzero(line, sizeof line);
    sodium_memzero(raw, sizeof raw);
    if (!ok)
        snprintf(err, err_size, "%s: not a key file (one line of %d Z85 characters)", path,
                 CF_CURVE_Z85_LEN);
    return ok ? 0 : -1;
}

cf_curve_t *cf_curve_load(const char *key_file, char *err, size_t err_size)
{
    assert(key_file);
    struct stat st;
    if (stat(key_file, &st) < 0) {
        snprintf(err, err_size, "%s: %s", key_file, strerror(errno));
        return NULL;
    }
    /* PostgreSQL's rule for its server key: nobody else may read it; a
       root-owned file may also be read by its group (a Kubernetes secret
       volume, or a file root keeps for the service's group). */
    mode_t too_open = st.st_uid == 0 ? (S_IWGRP | S_IXGRP | S_IRWXO) : (S_IRWXG | S_IRWXO);
    if (st.st_mode & too_open) {
        snprintf(err, err_size, "%s: mode %04o is too open for a secret key: it must be 0600 "
                 "or stricter (0640 when root owns it; chmod 600 %s)", key_file,
                 (unsigned) (st.st_mode & 07777), key_file);
        return NULL;
    }
    cf_curve_t *self = curve_alloc();
    if (curve_read_line(key_file, self->secret_key, err, err_size) < 0)
        cf_curve_destroy(&self);
    else if (zmq_curve_public(self->public_key, self->secret_key) < 0) {
        snprintf(err, err_size, "%s: cannot derive the public key", key_file);
        cf_curve_destroy(&self);
    }
    return self;
}

/* Writes text and a newline to path, created with mode, never replacing. */
static int curve_write(const char *path, const char *text, mode_t mode, char *err,
                       size_t err_size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t) len && write(fd, "\n", 1) == 1
             && fchmod(fd, mode) == 0 ? 0 : -1;
    if (close(fd) < 0 || rc < 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int cf_curve_save(const cf_curve_t *self, const char *dir, const char *name, char *err,
                  size_t err_size)
{
    assert(self && dir && name);
    char path[PATH_MAX];
    if (!*name || strchr(name, '/')) {
        snprintf(err, err_size, "key name '%s': must be a file name without '/'", name);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    if (curve_write(path, self->secret_key, 0600, err, err_size) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    return curve_write(path, self->public_key, 0644, err, err_size);
}

const char *cf_curve_public(const cf_curve_t *self)
{
    assert(self);
    return self->public_key;
}

int cf_curve_read_public(const char *pub_file, char *z85, char *err, size_t err_size)
{
    assert(pub_file && z85);
    return curve_read_line(pub_file, z85, err, err_size);
}

int cf_curve_set_server(cf_curve_t *self, const char *pub_file, char *err, size_t err_size)
{
    assert(self);
    return cf_curve_read_public(pub_file, self->server_key, err, err_size);
}

int cf_curve_server(const cf_curve_t *self, void *socket, const char *domain)
{
    assert(self && socket && domain);
    int on = 1;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &on, sizeof on) < 0
        || zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, self->secret_key, CF_CURVE_Z85_LEN) < 0
        || zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) < 0)
        return -1;
    return 0;
}

int cf_curve_client(const cf_curve_t *self, void *socket)
{
    assert(self && socket && *self->server_key);
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, self->server_key, CF_CURVE_Z85_LEN) < 0
        || zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, self->public_key, CF_CURVE_Z85_LEN) < 0
        || zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, self->secret_key, CF_CURVE_Z85_LEN) < 0)
        return -1;
    return 0;
}

int cf_curve_client_new(const char *key_file, const char *server_file, cf_curve_t **out,
                        char *err, size_t err_size)
{
    assert(out);
    *out = NULL;
    if (!key_file && !server_file)
        return 0;
    if (!key_file || !server_file) {
        snprintf(err, err_size, "%s given without %s: CURVE needs both the client's secret key "
                 "and the broker's public key", key_file ? "--curve-key" : "--server-key",
                 key_file ? "--server-key" : "--curve-key");
        return -1;
    }
    cf_curve_t *self = cf_curve_load(key_file, err, err_size);
    if (!self || cf_curve_set_server(self, server_file, err, err_size) < 0) {
        cf_curve_destroy(&self);
        return -1;
    }
    *out = self;
    return 0;
}

bool cf_curve_is_loopback(const char *endpoint)
{
    if (!endpoint)
        return false;
    if (strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    if (strncmp(host, "localhost:", 10) == 0 || strncmp(host, "[::1]:", 6) == 0)
        return true;
    unsigned b, c, d;
    char colon;
    /* 127.x.y.z then the port: "127.0.0.1.example.org:1" does not pass */
    return sscanf(host, "127.%u.%u.%u%c", &b, &c, &d, &colon) == 4 && colon == ':'
           && b < 256 && c < 256 && d < 256;
}
