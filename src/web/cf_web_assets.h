/*  cf_web_assets: the dashboard's files (index.html, dashboard.css,
    dashboard.js, and Chart.js from Debian's libjs-chart.js), read once at
    start-up from the dashboard directory and served from memory. Only these
    names are served: no path from a request ever reaches the file system. */
#ifndef CF_WEB_ASSETS_H
#define CF_WEB_ASSETS_H

#include <stddef.h>

/*  Where Debian's libjs-chart.js puts Chart.js, used when the dashboard
    directory has no chart.js of its own.                                    */
#define CF_WEB_ASSETS_CHARTJS "/usr/share/javascript/chart.js/chart.min.js"

typedef struct _cf_web_assets_t cf_web_assets_t;

/*  Reads the files from dir; chart.js from dir, else from chartjs (a path;
    NULL: CF_WEB_ASSETS_CHARTJS), else none (the page then shows tables
    without charts). NULL with the reason in err when one of the page's own
    files cannot be read.                                                   */
cf_web_assets_t *cf_web_assets_load(const char *dir, const char *chartjs, char *err, size_t n);
void cf_web_assets_destroy(cf_web_assets_t **self_p);

/*  The file served at path ("/" is index.html), its length and Content-Type;
    NULL when none is. Lives as long as self.                                */
const char *cf_web_assets_find(const cf_web_assets_t *self, const char *path, size_t *len,
                               const char **type);

/*  Whether Chart.js was found.                                              */
int cf_web_assets_has_charts(const cf_web_assets_t *self);

#endif
