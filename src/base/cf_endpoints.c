/*  cf_endpoints: the list split in place in one copy of it; see
    cf_endpoints.h.                                                          */
#include "caseflow/cf_endpoints.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define ENDPOINTS_MAX_TEXT STR(CF_ENDPOINTS_MAX)

struct _cf_endpoints_t {
    char *text;                         /* the list, its commas made NULs */
    const char *at[CF_ENDPOINTS_MAX];
    size_t size;
};

void cf_endpoints_destroy(cf_endpoints_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->text);
    free(*self_p);
    *self_p = NULL;
}

/* The element that starts at text, up to a comma or the end, trimmed and
   NUL-terminated in place; *next gets where the next one starts, or NULL. */
static char *endpoints_cut(char *text, char **next)
{
    char *comma = strchr(text, ',');
    *next = comma ? comma + 1 : NULL;
    if (comma)
        *comma = '\0';
    text += strspn(text, " \t");
    size_t len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        text[--len] = '\0';
    return text;
}

cf_endpoints_t *cf_endpoints_new(const char *list, char *err, size_t err_size)
{
    assert(err && err_size);
    cf_endpoints_t *self = cf_calloc(1, sizeof *self);
    self->text = cf_strdup(list ? list : "");
    for (char *next = self->text; next;) {
        char *endpoint = endpoints_cut(next, &next);
        const char *why = NULL;
        if (!*endpoint)
            why = "an empty endpoint in the list";
        else if (self->size == CF_ENDPOINTS_MAX)
            why = "more endpoints than a client takes (" ENDPOINTS_MAX_TEXT ")";
        for (size_t i = 0; !why && i < self->size; i++)
            if (!strcmp(self->at[i], endpoint))
                why = "an endpoint listed twice";
        if (why) {
            snprintf(err, err_size, "'%s': %s", list ? list : "", why);
            cf_endpoints_destroy(&self);
            return NULL;
        }
        self->at[self->size++] = endpoint;
    }
    return self;
}

size_t cf_endpoints_size(const cf_endpoints_t *self)
{
    assert(self);
    return self->size;
}

const char *cf_endpoints_at(const cf_endpoints_t *self, size_t i)
{
    assert(self && i < self->size);
    return self->at[i];
}
