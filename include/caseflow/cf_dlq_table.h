/*  cf_dlq_table: the dead letters as tables (cf_table), one implementation
    for caseflow-ctl dlq and caseflow-web's /api/v1/dlq: the listing of the
    stream (cf_store_dlq_read) and the outcomes of a replay (cf_dlq_replay),
    each a cf_table that the caller renders as text, JSON or CSV. No
    printing; errors on the caller's buffer.                                 */
#ifndef CF_DLQ_TABLE_H
#define CF_DLQ_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "caseflow/cf_store.h"
#include "caseflow/cf_table.h"

/*  Every dead letter, oldest first: id, time (UTC, ISO 8601), event_id,
    type, tries, error. NULL with err set when Redis cannot be read.         */
cf_table_t *cf_dlq_table_list(cf_store_t *store, char *err, size_t err_size);

/*  Replays entry id (every entry when NULL; the store must have its
    scripts): id, event_id, outcome, error, a row per entry. NULL with err
    set when it could not run; *missing (may be NULL) is then true when the
    reason is only that no entry has this id.                                */
cf_table_t *cf_dlq_table_replay(cf_store_t *store, const char *id, bool *missing, char *err,
                                size_t err_size);

/*  Whether id has the form of a stream entry's id, MS-SEQ (digits), so
    that it names one entry and never a range ("-", "+").                   */
bool cf_dlq_table_id_valid(const char *id);

#endif
