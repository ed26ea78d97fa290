/*  Event frames as a producer sends them (msgpack maps), for the tests that
    feed cf_apply or a worker frames rather than decoded events.           */
#ifndef CF_TEST_FRAMES_H
#define CF_TEST_FRAMES_H

#include <msgpack.h>

/*  A case.registered of one person (f, 18-59, principal), programme CH-AVR
    (avrr), host CHE, origin SRB, occurred_at 2019-04-01, with event_id and
    case_ref ref, appended to sbuf.                                         */
void cf_test_pack_registration(msgpack_sbuffer *sbuf, const char *event_id, const char *ref);

#endif
