/*  cf_web_forms: the folder of form mappings; see cf_web_forms.h. The
    files are read in name order, so that the log and errors are the same
    from one start to the next.                                              */
#include "cf_web_forms.h"
#include "caseflow/cf_alloc.h"

#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;
    cf_form_map_t *map;
} forms_entry_t;

struct _cf_web_forms_t {
    atomic_size_t refs;
    forms_entry_t *entries;
    size_t count, size;
    char *names;
};

/*  The form's name of file name ("x.ini": "x") into name, or false.       */
static bool forms_name(const char *file, char *name, size_t size)
{
    size_t len = strlen(file);
    if (len < 5 || strcmp(file + len - 4, ".ini") || len - 4 >= size)
        return false;
    memcpy(name, file, len - 4);
    name[len - 4] = 0;
    return true;
}

static int forms_sort(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

cf_web_forms_t *cf_web_forms_load(const char *dir, char *err, size_t n)
{
    struct dirent **list;
    int files = scandir(dir, &list, NULL, forms_sort);
    if (files < 0) {
        snprintf(err, n, "forms %s: %s", dir, strerror(errno));
        return NULL;
    }
    cf_web_forms_t *self = cf_calloc(1, sizeof *self);
    atomic_init(&self->refs, 1);
    size_t names = 1;
    for (int i = 0; i < files; i++) {
        char name[256], path[4096];
        const char *file = list[i]->d_name;
        if (self && file[0] != '.' && forms_name(file, name, sizeof name)) {
            snprintf(path, sizeof path, "%s/%s", dir, file);
            size_t len = strlen(name);
            cf_form_map_t *map = NULL;
            if (len > CF_WEB_FORM_NAME_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
                snprintf(err, n, "%s: a form's name (the file's, without .ini) is "
                         "[A-Za-z0-9_-], 1 to %d characters", path, CF_WEB_FORM_NAME_MAX);
            else
                map = cf_form_map_load(path, err, n);
            if (!map)
                cf_web_forms_destroy(&self);
            else {
                self->entries = cf_grow(self->entries, &self->size, self->count + 1,
                                        sizeof *self->entries);
                self->entries[self->count++] = (forms_entry_t) { cf_strdup(name), map };
                names += len + 2;
            }
        }
        free(list[i]);
    }
    free(list);
    if (self) {
        self->names = cf_calloc(1, names);
        for (size_t i = 0; i < self->count; i++)
            strcat(strcat(self->names, i ? ", " : ""), self->entries[i].name);
    }
    return self;
}

cf_web_forms_t *cf_web_forms_hold(cf_web_forms_t *self)
{
    if (self)
        atomic_fetch_add(&self->refs, 1);
    return self;
}

void cf_web_forms_destroy(cf_web_forms_t **self_p)
{
    cf_web_forms_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    *self_p = NULL;
    if (atomic_fetch_sub(&self->refs, 1) != 1)
        return;
    for (size_t i = 0; i < self->count; i++) {
        free(self->entries[i].name);
        cf_form_map_destroy(&self->entries[i].map);
    }
    free(self->entries);
    free(self->names);
    free(self);
}

const cf_form_map_t *cf_web_forms_find(const cf_web_forms_t *self, const char *name)
{
    for (size_t i = 0; self && i < self->count; i++)
        if (!strcmp(self->entries[i].name, name))
            return self->entries[i].map;
    return NULL;
}

size_t cf_web_forms_size(const cf_web_forms_t *self)
{
    return self ? self->count : 0;
}

const char *cf_web_forms_names(const cf_web_forms_t *self)
{
    return self && self->count ? self->names : "none";
}
