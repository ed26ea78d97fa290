/*  cf_config: a caseflow configuration file (deploy/caseflow.conf), read
    with libinih and checked whole against the rules it is made with: every
    [section] and every key one the rules know, every value good, no key
    twice. The rules are the settings table's (cf_settings_config_new:
    sections are programs or the shared [caseflow], keys their settings);
    this reader knows none of them. Unlike a parser that stops at the first
    problem, it collects every error, each as "FILE:LINE: key 'x': reason",
    so that caseflow-ctl config check can list them all; a program refuses
    to start on the first.                                                   */
#ifndef CF_CONFIG_H
#define CF_CONFIG_H

#include <stddef.h>

typedef struct _cf_config_t cf_config_t;

/*  What a file may hold. Each check returns 0, or -1 with the reason in why
    ("unknown section (caseflow, broker, ...)"), which the error quotes
    after "section 'x': " or "key 'x': ". A key outside any section is
    checked with section "". A key that passes `key` is kept even when its
    value fails, so that a second one is called a duplicate too.            */
typedef struct {
    int (*section)(const char *name, char *why, size_t size);
    int (*key)(const char *section, const char *key, char *why, size_t size);
    int (*value)(const char *section, const char *key, const char *value, char *why,
                 size_t size);
} cf_config_rules_t;

/*  A reader checking by rules, which it borrows.                           */
cf_config_t *cf_config_new(const cf_config_rules_t *rules);

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

/*  The index-th key read (0 .. cf_config_keys - 1), in file order: its
    value, with its section, key and line into those not NULL. For a reader
    whose keys are not known in advance (a form's mapping, cf_form_map).    */
const char *cf_config_entry(const cf_config_t *self, size_t index, const char **section,
                            const char **key, int *line);

/*  How many keys and how many sections with keys the file holds.            */
size_t cf_config_keys(const cf_config_t *self);
size_t cf_config_sections(const cf_config_t *self);

/*  The path given to cf_config_load ("" before).                            */
const char *cf_config_path(const cf_config_t *self);

#endif
