/*  cf_dlq: the operator's view of the dead-letter stream (cf_store_dlq):
    its entries as a table, and their replay. A replay decodes the entry's
    payload (whose case_ref already holds the pseudonym, so it is not
    pseudonymised again), applies it through the same store code as a
    worker, and removes the entry once Redis has taken it (accepted, or a
    duplicate when it had been applied meanwhile); an entry that fails
    again stays. Notifications of a replayed event are not published: the
    tool is not connected to the broker. No printing; errors on the caller's
    buffer.                                                                  */
#ifndef CF_DLQ_H
#define CF_DLQ_H

#include <stddef.h>
#include "caseflow/cf_store.h"
#include "caseflow/cf_table.h"

/*  Every dead letter as a table: id, time (UTC, ISO 8601), event_id, type,
    tries, error. NULL with err set when Redis cannot be read.              */
cf_table_t *cf_dlq_table(cf_store_t *store, char *err, size_t err_size);

/*  Replays the entry with this id, or every entry when id is NULL; the
    store must have its scripts (a store made with a script_dir). Returns a
    table of what happened (id, event_id, outcome: accepted, duplicate or
    failed, and the error of a failure), or NULL with err set when Redis
    cannot be read at all.                                                   */
cf_table_t *cf_dlq_replay(cf_store_t *store, const char *id, char *err, size_t err_size);

#endif
