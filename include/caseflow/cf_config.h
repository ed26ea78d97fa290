/*  cf_config: a caseflow configuration file (deploy/caseflow.conf), read
    with libinih and checked whole: every [section] is a program's (broker,
    worker, push, watch, ctl, bench) or the shared [caseflow], every key one
    of that section's settings (cf_settings_table.c), every value good for
    its type, no key twice. Unlike a parser that stops at the first problem,
    it collects every error, each as "FILE:LINE: key 'x': reason", so that
    caseflow-ctl config check can list them all; a program refuses to start
    on the first.                                                            */
#ifndef CF_CONFIG_H
#define CF_CONFIG_H

#include <stddef.h>

typedef struct _cf_config_t cf_config_t;

cf_config_t *cf_config_new(void);

/*  Frees *self_p and sets it to NULL; accepts NULL.                        */
void cf_config_destroy(cf_config_t **self_p);

/*  Reads and checks the file at path (once per object). 0 when it is good;
    -1 when it cannot be read or has errors (cf_config_errors > 0).         */
int cf_config_load(cf_config_t *self, const char *path);

/*  The errors, in line order of discovery: "FILE:LINE: ..." (or "FILE:
    cannot open: ..." with line 0).                                          */
size_t cf_config_errors(const cf_config_t *self);
const char *cf_config_error(const cf_config_t *self, size_t index);
int cf_config_error_line(const cf_config_t *self, size_t index);

/*  The value of key in section, or NULL; *line (may be NULL) gets its line. */
const char *cf_config_value(const cf_config_t *self, const char *section, const char *key,
                            int *line);

/*  How many keys and how many sections with keys the file holds.            */
size_t cf_config_keys(const cf_config_t *self);
size_t cf_config_sections(const cf_config_t *self);

/*  The path given to cf_config_load ("" before).                            */
const char *cf_config_path(const cf_config_t *self);

#endif
