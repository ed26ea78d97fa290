/*  cf_web_forms: the form mappings caseflow-web serves, one per file NAME.ini
    of the forms folder (the forms setting), each answering
    POST /api/v1/forms/NAME (cf_web_intake_answer_form). Read at start-up,
    where a file that does not load stops the daemon with its FILE:LINE
    error, and again on SIGHUP, where it keeps the mappings it had. A set
    is counted: the server and each request answering a form hold it, so
    that a reload frees the old set only once the last request is done.    */
#ifndef CF_WEB_FORMS_H
#define CF_WEB_FORMS_H

#include <stddef.h>

#include "caseflow/cf_form_map.h"

#define CF_WEB_FORM_NAME_MAX    64      /* [A-Za-z0-9_-], the file's name without .ini */

typedef struct _cf_web_forms_t cf_web_forms_t;

/*  Loads every NAME.ini of dir (other files are skipped). NULL with the
    reason in err: dir cannot be read, a NAME is not [A-Za-z0-9_-] of at
    most CF_WEB_FORM_NAME_MAX, or a mapping does not load.                  */
cf_web_forms_t *cf_web_forms_load(const char *dir, char *err, size_t n);

/*  Takes one more reference to self (NULL: none) and returns it.          */
cf_web_forms_t *cf_web_forms_hold(cf_web_forms_t *self);

/*  Drops a reference; the last one frees. Accepts NULL; nulls *self_p.    */
void cf_web_forms_destroy(cf_web_forms_t **self_p);

/*  The mapping of name, or NULL; self may be NULL (no forms).              */
const cf_form_map_t *cf_web_forms_find(const cf_web_forms_t *self, const char *name);

/*  How many, and their names ("a, b"), for the log and a 404's reason.     */
size_t cf_web_forms_size(const cf_web_forms_t *self);
const char *cf_web_forms_names(const cf_web_forms_t *self);

#endif
