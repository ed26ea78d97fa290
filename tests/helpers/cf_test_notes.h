/*  cf_test_notes: the notifications of an outbox entry, for tests, by the
    entry's fields alone: one reader (cf_outbox_notes_t) for the program,
    whose decompressed notes stay until cf_test_notes_release.              */
#ifndef CF_TEST_NOTES_H
#define CF_TEST_NOTES_H

#include <stddef.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_outbox_notes.h"

/*  The reader the functions below use, made at the first call.             */
cf_outbox_notes_t *cf_test_notes_reader(void);

/*  How many notifications entry `fields` holds (cf_outbox_notes_read).     */
size_t cf_test_notes_count(const redisReply *fields);

/*  Notification k of entry `fields`, read again.                           */
cf_outbox_note_t cf_test_notes_get(const redisReply *fields, size_t k);

/*  Frees what the reads decompressed, and the reader (the next call makes
    another).                                                                */
void cf_test_notes_release(void);

#endif
