/*  libFuzzer harness: cf_fold's packed states, as read back from Redis. The
    input is one case's state, or (first byte odd) a route's. A state that
    loads must survive events and pack again; one that does not must say
    why. The first byte's second bit applies the events as resends (not
    fresh), which leaves an empty state empty. Never a crash, a leak, a read
    past the input or undefined behaviour.                                 */
#include "caseflow/cf_fold.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_fold_t *s_fold;
    if (!s_fold)
        s_fold = cf_fold_new();         /* reused, as a worker does */
    if (size == 0)
        return 0;
    bool route = data[0] & 1;
    bool fresh = !(data[0] & 2);
    cf_fold_reset(s_fold);
    int rc = route ? cf_fold_load_route(s_fold, "r", data + 1, size - 1)
                   : cf_fold_load_case(s_fold, "c", data + 1, size - 1);
    if (rc < 0) {
        assert(cf_fold_error(s_fold));
        return 0;
    }
    static const cf_event_type_t types[] = { CF_EV_CASE_REGISTERED, CF_EV_CASE_DETAINED,
                                             CF_EV_CASE_DEPARTED, CF_EV_CASE_MONITORED };
    cf_event_t ev;
    memset(&ev, 0, sizeof ev);
    strcpy(ev.event_id, "e");
    strcpy(ev.case_id, "c");
    strcpy(ev.programme, "P");
    strcpy(ev.country, "LBY");
    strcpy(ev.route, "r");
    ev.person_count = 1;
    ev.persons[0].sex = 'f';
    ev.occurred_at = 1709251200000;
    if (route) {
        ev.type = CF_EV_FLOW_OBSERVED;
        ev.count = size;
        cf_fold_apply(s_fold, &ev, fresh);
    } else {
        for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
            ev.type = types[(i + size) % 4];
            cf_fold_apply(s_fold, &ev, fresh);
        }
        cf_fold_fire(s_fold, "c", 0, 0, INT64_MAX);
    }
    cf_fold_finish(s_fold);
    return 0;
}
