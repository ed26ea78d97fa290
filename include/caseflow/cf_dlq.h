/*  cf_dlq: the replay of dead letters (cf_store_dlq). A replay decodes the
    entry's payload (whose case_ref already holds the pseudonym, so it is
    not pseudonymised again), applies it through the same store code as a
    worker, and removes the entry once Redis has taken it (accepted, or a
    duplicate when it had been applied meanwhile); an entry that fails
    again stays. Notifications of a replayed event are not published: the
    tool is not connected to the broker. The outcomes are handed back as
    data, one call each, for the caller to show (caseflow-ctl dlq renders
    them with cf_table); listing the stream is cf_store_dlq_read. No
    printing; errors on the caller's buffer.                                 */
#ifndef CF_DLQ_H
#define CF_DLQ_H

#include <stddef.h>
#include "caseflow/cf_store.h"

/*  What became of one entry; the strings are valid during the call.       */
typedef struct {
    const char *id;                     /* the stream entry's id */
    const char *event_id;
    const char *outcome;                /* accepted, duplicate or failed */
    const char *error;                  /* why it failed, or why it stays; "" when none */
} cf_dlq_outcome_t;

typedef void (cf_dlq_outcome_fn)(void *arg, const cf_dlq_outcome_t *outcome);

/*  Replays the entry with this id, or every entry when id is NULL; the
    store must have its scripts (a store made with a script_dir). Calls fn
    with the outcome of each entry, oldest first. 0, or -1 with err set when
    Redis cannot be read at all or there is no entry with this id.           */
int cf_dlq_replay(cf_store_t *store, const char *id, cf_dlq_outcome_fn *fn, void *arg,
                  char *err, size_t err_size);

#endif
