/*  cf_form_map: a data-collection form's submission (KoboToolbox, ODK
    Central: one flat JSON object, keys like "group_x/field_y", "_uuid",
    "meta/instanceID", select_one codes as strings, select_multiple as
    space-separated codes) into one caseflow event, by a mapping file
    (docs/forms.md; deploy/forms/flow-monitoring.ini is one).

    The file is INI, read by cf_config (so every error is "FILE:LINE: ..."
    naming the key): [fields] (event field = submission path, then filters:
    int, number, bool, date, list, upper, lower, code NAME), [constants]
    (event field = a JSON string, number or boolean), [templates] (event
    field = text with {path} replaced, e.g. event_id = kobo-{_uuid}, so that
    a webhook's retry is the same event), [codes.NAME] (a form's code =
    caseflow's value) and [form] ignore = the submission's fields dropped
    unread. A mapping writes only fields caseflow's events have (checked at
    load, with the event type's own fields when it is a constant), and a
    submission with a field the mapping neither reads nor ignores is
    refused, as an event with an unknown field is: a question added to a
    form (a name, a phone number) cannot slip through. What the mapping
    makes is then checked by the broker as any event is.

    Used by caseflow-web (POST /api/v1/forms/NAME) and caseflow-push
    (--map FILE). Reads its file at load; applying is pure.                 */
#ifndef CF_FORM_MAP_H
#define CF_FORM_MAP_H

#include <stddef.h>

typedef struct _cf_form_map_t cf_form_map_t;

/*  Reads and checks the mapping file at path. NULL with the first error in
    err ("FILE:LINE: [section] key 'x': reason", and how many more).        */
cf_form_map_t *cf_form_map_load(const char *path, char *err, size_t n);

/*  Frees *self_p and sets it to NULL; accepts NULL.                        */
void cf_form_map_destroy(cf_form_map_t **self_p);

/*  Maps one submission (len bytes of JSON text: an object; nested objects
    are read as "outer/inner" paths, and null or "" as no answer) to one
    event: a new compact JSON object text in *event, for the caller to free.
    0, or -1 with the reason in err: "PATH: problem", PATH the submission's
    field at fault (or the event's, when the event cannot be made).         */
int cf_form_map_apply(const cf_form_map_t *self, const char *text, size_t len, char **event,
                      char *err, size_t n);

#endif
