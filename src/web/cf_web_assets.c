/*  cf_web_assets: the dashboard's files in memory; see cf_web_assets.h.    */
#include "cf_web_assets.h"
#include "caseflow/cf_alloc.h"
#include "cf_web_file.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path, *file, *type;
} asset_def_t;

static const asset_def_t s_assets[] = {
    { "/index.html", "index.html", "text/html; charset=utf-8" },
    { "/dashboard.css", "dashboard.css", "text/css; charset=utf-8" },
    { "/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8" },
    { "/chart.js", "chart.js", "text/javascript; charset=utf-8" },     /* last: optional */
};
#define ASSETS (sizeof s_assets / sizeof s_assets[0])

struct _cf_web_assets_t {
    char *body[ASSETS];
    size_t len[ASSETS];
};

cf_web_assets_t *cf_web_assets_load(const char *dir, const char *chartjs, char *err, size_t n)
{
    assert(dir);
    cf_web_assets_t *self = cf_calloc(1, sizeof *self);
    for (size_t i = 0; i < ASSETS; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, s_assets[i].file);
        self->body[i] = cf_web_file_read(path, &self->len[i], err, n);
        if (!self->body[i] && i == ASSETS - 1)
            self->body[i] = cf_web_file_read(chartjs ? chartjs : CF_WEB_ASSETS_CHARTJS,
                                             &self->len[i], err, n);
        if (!self->body[i] && i < ASSETS - 1) {
            snprintf(err + strlen(err), n - strlen(err), " (the dashboard directory)");
            cf_web_assets_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void cf_web_assets_destroy(cf_web_assets_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (size_t i = 0; i < ASSETS; i++)
        free((*self_p)->body[i]);
    free(*self_p);
    *self_p = NULL;
}

const char *cf_web_assets_find(const cf_web_assets_t *self, const char *path, size_t *len,
                               const char **type)
{
    assert(self && path && len && type);
    if (!strcmp(path, "/"))
        path = "/index.html";
    for (size_t i = 0; i < ASSETS; i++)
        if (!strcmp(path, s_assets[i].path) && self->body[i]) {
            *len = self->len[i];
            *type = s_assets[i].type;
            return self->body[i];
        }
    return NULL;
}

int cf_web_assets_has_charts(const cf_web_assets_t *self)
{
    assert(self);
    return self->body[ASSETS - 1] != NULL;
}
