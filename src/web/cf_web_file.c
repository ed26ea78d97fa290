/*  cf_web_file: reads a file whole; see cf_web_file.h.                     */
#include "cf_web_file.h"
#include "caseflow/cf_alloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cf_web_file_read(const char *path, size_t *len, char *err, size_t n)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(err, n, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t size = 4096, used = 0, got;
    char *text = cf_malloc(size);
    while ((got = fread(text + used, 1, size - used - 1, file)) > 0) {
        used += got;
        if (used > CF_WEB_FILE_MAX)
            break;
        if (size - used < 2)
            text = cf_realloc(text, size *= 2);
    }
    bool failed = ferror(file) != 0;
    fclose(file);
    if (failed || used > CF_WEB_FILE_MAX) {
        snprintf(err, n, "%s: %s", path, failed ? "cannot read it" : "too big");
        free(text);
        return NULL;
    }
    text[used] = 0;
    if (len)
        *len = used;
    return text;
}
