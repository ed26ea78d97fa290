/*  cf_store_script: reading the store's Lua scripts from their directory:
    the apply script's four parts joined in order, and single scripts (the
    overdue timer's, the broker's publisher's). Files only, no Redis.       */
#include "caseflow/cf_store.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cf_store_script_parts[CF_STORE_SCRIPT_PARTS] = {
    "apply_input.lua", "apply_state.lua", "apply_events.lua", "apply_batch.lua"
};

/* Appends the file at path to *text (length *len, capacity *cap). */
static int store_append_file(const char *path, char **text, size_t *len, size_t *cap,
                             char *err, size_t err_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t got, start = *len;
    do {
        *text = cf_grow(*text, cap, *len + 1, 1);
        got = fread(*text + *len, 1, *cap - *len, file);
        *len += got;
    } while (got > 0);
    int failed = ferror(file);
    fclose(file);
    if (failed || *len == start) {
        snprintf(err, err_size, "%s: %s", path, failed ? "read error" : "empty file");
        return -1;
    }
    return 0;
}

int cf_store_script_read(const char *script_dir, char **text, size_t *len, char *err,
                         size_t err_size)
{
    return cf_store_read_script_files(script_dir, cf_store_script_parts, CF_STORE_SCRIPT_PARTS, text,
                               len, err, err_size);
}

int cf_store_read_script_files(const char *script_dir, const char *const *names, size_t count,
                        char **text, size_t *len, char *err, size_t err_size)
{
    assert(script_dir && names && text && len && err);
    char path[4096];
    size_t cap = 0;
    *text = NULL;
    *len = 0;
    for (size_t i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%s", script_dir, names[i]);
        if (store_append_file(path, text, len, &cap, err, err_size) < 0) {
            free(*text);
            *text = NULL;
            return -1;
        }
        *text = cf_grow(*text, &cap, *len + 1, 1);
        (*text)[(*len)++] = '\n';     /* a part may lack its last newline */
    }
    return 0;
}

