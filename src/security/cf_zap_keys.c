/*  cf_zap's allow-lists: reading the files, swapping them whole under the
    mutex on reload (so the thread always sees one consistent set), finding
    a key in the roles a socket admits (the handshake) and in the role that
    admitted a connection (each message, cf_zap_current: a key removed on
    reload stops being served); see cf_zap.h. A list is a sorted array of
    canonical Z85 texts, the form User-Ids carry, so that the per-message
    check is a binary search with no decoding.                              */
#include "cf_zap_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int zap_compare(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(zap_text_t));
}

/* Reads the keys of path into *keys (*count of them, sorted, each in its
   canonical text: decoded, then encoded again). 0, or -1 with err. */
static int zap_read_file(const char *path, zap_text_t **keys, size_t *count, char *err,
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
        *keys = cf_grow(*keys, &capacity, *count + 1, sizeof **keys);
        zap_key_t key;
        char canonical[CF_CURVE_Z85_LEN + 1];
        if (strlen(text) != CF_CURVE_Z85_LEN || !zmq_z85_decode(key, text)
            || !zmq_z85_encode(canonical, key, sizeof key)) {
            snprintf(err, err_size, "allow-list %s, line %u: not a Z85 public key (%d "
                     "characters)", path, number, CF_CURVE_Z85_LEN);
            free(*keys);
            *keys = NULL;
            fclose(file);
            return -1;
        }
        memcpy((*keys)[(*count)++], canonical, sizeof(zap_text_t));
    }
    fclose(file);
    if (*count)
        qsort(*keys, *count, sizeof **keys, zap_compare);
    return 0;
}

int cf_zap_reload(cf_zap_t *self, char *err, size_t err_size)
{
    assert(self);
    zap_text_t *keys[ZAP_ROLES_MAX] = { 0 };
    size_t counts[ZAP_ROLES_MAX] = { 0 };
    for (size_t i = 0; i < self->list_count; i++)
        if (zap_read_file(self->lists[i].file, &keys[i], &counts[i], err, err_size) < 0) {
            while (i-- > 0)
                free(keys[i]);
            return -1;
        }
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->list_count; i++) {
        zap_text_t *old = self->lists[i].keys;
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

/* Whether list has key (CF_CURVE_Z85_LEN characters); under the lock. */
static bool zap_has(const zap_list_t *list, const char *key)
{
    return list->count && bsearch(key, list->keys, list->count, sizeof *list->keys, zap_compare);
}

const char *zap_admit(cf_zap_t *self, const char *domain, const char *key)
{
    const char *role = NULL;
    pthread_mutex_lock(&self->lock);
    for (const char *p = domain; *p && !role; p += strcspn(p, ","), p += *p == ',') {
        size_t len = strcspn(p, ",");
        for (size_t i = 0; i < self->list_count && !role; i++) {
            zap_list_t *list = &self->lists[i];
            if (strlen(list->role) == len && memcmp(list->role, p, len) == 0
                && zap_has(list, key))
                role = list->role;
        }
    }
    pthread_mutex_unlock(&self->lock);
    return role;
}

bool cf_zap_current(cf_zap_t *self, zmq_msg_t *msg)
{
    assert(self && msg);
    if (self->plain)
        return true;
    const char *user = zmq_msg_gets(msg, "User-Id");     /* "role/key" */
    const char *key = user ? strchr(user, '/') : NULL;
    if (!key || strlen(++key) != CF_CURVE_Z85_LEN)
        return false;
    size_t role_len = (size_t) (key - 1 - user);
    bool current = false;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->list_count && !current; i++) {
        const zap_list_t *list = &self->lists[i];
        current = strlen(list->role) == role_len && memcmp(list->role, user, role_len) == 0
                  && zap_has(list, key);
    }
    pthread_mutex_unlock(&self->lock);
    return current;
}

void zap_lists_free(cf_zap_t *self)
{
    for (size_t i = 0; i < self->list_count; i++) {
        free(self->lists[i].file);
        free(self->lists[i].keys);
    }
    self->list_count = 0;
}
