/*  cf_zap's allow-lists: reading the files, swapping them whole under the
    mutex on reload (so the thread always sees one consistent set), and
    finding a key in the roles a socket admits; see cf_zap.h.                */
#include "cf_zap_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_curve.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        *keys = cf_grow(*keys, &capacity, *count + 1, sizeof **keys);
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

const char *zap_admit(cf_zap_t *self, const char *domain, const uint8_t *key)
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

void zap_lists_free(cf_zap_t *self)
{
    for (size_t i = 0; i < self->list_count; i++) {
        free(self->lists[i].file);
        free(self->lists[i].keys);
    }
    self->list_count = 0;
}
