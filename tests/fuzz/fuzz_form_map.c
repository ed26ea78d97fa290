/*  libFuzzer harness: a form's submission through a mapping
    (cf_form_map_apply, jansson underneath), the bytes a KoboToolbox or ODK
    webhook posts to caseflow-web. The mapping is deploy/forms'
    flow-monitoring.ini. A refusal must give a reason; an event must be a
    JSON object whose event_id the template made.                           */
#include "caseflow/cf_form_map.h"

#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_form_map_t *s_map;
    char err[512] = "";
    if (!s_map && !(s_map = cf_form_map_load(CF_SOURCE_DIR "/deploy/forms/flow-monitoring.ini",
                                             err, sizeof err)))
        abort();
    char *event = NULL;
    if (cf_form_map_apply(s_map, (const char *) data, size, &event, err, sizeof err) < 0) {
        assert(!event && err[0]);
        return 0;
    }
    json_t *json = json_loads(event, 0, NULL);
    const char *id = json_string_value(json_object_get(json, "event_id"));
    assert(id && !strncmp(id, "kobo-fm-", 8));
    json_decref(json);
    free(event);
    return 0;
}
