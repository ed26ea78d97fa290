/*  cf_push_summary: caseflow-push's summary, the counts and the lines that
    did not make it (rejected, here or by the broker, and unacked), each
    with its file, line, event_id and reason, printed in input order as text
    or as one JSON object, e.g.
        "6 events in 1.00 s: 0 accepted, 0 duplicate, 3 rejected, 3 unacked"
        "rejected:" / "in.jsonl:2 -: json: invalid token ..."
    Pure: it prints only to the FILE* it is given, so the summary is tested
    without a broker; caseflow-push fills it from cf_client's statuses.      */
#ifndef CF_PUSH_SUMMARY_H
#define CF_PUSH_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "caseflow/cf_json.h"

typedef enum {
    CF_PUSH_SUMMARY_REJECTED,       /* refused here (not JSON, not mapped) or by the broker */
    CF_PUSH_SUMMARY_UNACKED,        /* no final answer before the deadline */
    CF_PUSH_SUMMARY_LISTS
} cf_push_summary_list_t;

/*  A line that did not reach the broker or came back with a reason.        */
typedef struct {
    uint32_t file, line;            /* file: index into the names given to print */
    const char *event_id;           /* NULL when the line had none */
    const char *reason;             /* NULL prints as "" (text) or null (JSON) */
} cf_push_summary_entry_t;

/*  What the summary's first line (or the JSON object's counts) says besides
    the lists' sizes.                                                        */
typedef struct {
    size_t events;                  /* lines sent, and those rejected here */
    size_t accepted, duplicate;
    uint64_t busy, resent, failovers;
    const char *endpoint;           /* the intake endpoint in use at the end */
    double seconds;
} cf_push_summary_counts_t;

typedef struct _cf_push_summary_t cf_push_summary_t;

/*  An empty summary: both lists empty.                                      */
cf_push_summary_t *cf_push_summary_new(void);

/*  Frees the entries' strings, frees and nulls *self_p; accepts NULL.       */
void cf_push_summary_destroy(cf_push_summary_t **self_p);

/*  Adds a line to the list which, copying event_id and reason (either may
    be NULL).                                                                */
void cf_push_summary_add(cf_push_summary_t *self, cf_push_summary_list_t which, uint32_t file,
                         uint32_t line, const char *event_id, const char *reason);

/*  The number of lines in the list which.                                   */
size_t cf_push_summary_size(const cf_push_summary_t *self, cf_push_summary_list_t which);

/*  The index'th line of the list which (index < its size), in the order
    added until cf_push_summary_print sorts it; valid until the next add,
    print or destroy.                                                        */
const cf_push_summary_entry_t *cf_push_summary_entry(const cf_push_summary_t *self,
                                                     cf_push_summary_list_t which, size_t index);

/*  How a summary names file index file of files[0..count): "<stdin>" for
    "-", and for every index when count is 0 (caseflow-push read stdin).   */
const char *cf_push_summary_file_name(char *const *files, size_t count, uint32_t file);

/*  Sorts each list by file, then line, and prints the summary to out: as
    one line of JSON through json when json is not NULL, else as text (the
    counts line, "failed over N time(s), ending at ENDPOINT" when it did,
    then "rejected:" and "unacked:" with a "FILE:LINE EVENT_ID: REASON" line
    each, "-" for no event_id). Files are named from files[0..count) by
    cf_push_summary_file_name. Returns the exit status caseflow-push takes
    from it: 0 when both lists are empty, 1 when not, 2 when out cannot be
    flushed.                                                                 */
int cf_push_summary_print(cf_push_summary_t *self, const cf_push_summary_counts_t *counts,
                          char *const *files, size_t count, cf_json_t *json, FILE *out);

#endif
