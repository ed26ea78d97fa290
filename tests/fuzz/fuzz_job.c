/*  libFuzzer harness: the worker's JOB and REDO frames, as cf_worker_jobs.c
    reads them (cf_msg_parse_job), then the decoder on the first event
    frames as cf_apply would. Input: frames as in fuzz_frames.h.           */
#include "fuzz_frames.h"
#include "caseflow/cf_event.h"
#include "caseflow/cf_msg.h"

#include <assert.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_multipart_t *parts;
    if (!parts)
        parts = cf_multipart_new(CF_MSG_JOB_FIRST_EVENT + CF_MSG_MAX_JOB_EVENTS + 1);   /* as the
                                                                                 worker's */
    fuzz_frames_fill(parts, data, size);
    static cf_msg_job_t job;
    if (cf_msg_parse_job(parts, &job) < 0)
        return 0;
    size_t events = job.events;
    assert(events >= 1 && events <= CF_MSG_MAX_JOB_EVENTS && job.fences <= events
           && CF_MSG_JOB_FIRST_EVENT + events == cf_multipart_size(parts));
    for (size_t i = 0; i < events && i < 4; i++) {
        cf_event_t event;
        char reason[CF_REASON_MAX];
        cf_event_decode(&event, cf_multipart_data(parts, CF_MSG_JOB_FIRST_EVENT + i),
                        cf_multipart_len(parts, CF_MSG_JOB_FIRST_EVENT + i), reason,
                        sizeof reason);
    }
    return 0;
}
