/*  cf_test_notes: see cf_test_notes.h.                                     */
#include "cf_test_notes.h"

static cf_outbox_notes_t *s_reader;

cf_outbox_notes_t *cf_test_notes_reader(void)
{
    if (!s_reader)
        s_reader = cf_outbox_notes_new();
    return s_reader;
}

size_t cf_test_notes_count(const redisReply *fields)
{
    return cf_outbox_notes_read(cf_test_notes_reader(), fields);
}

cf_outbox_note_t cf_test_notes_get(const redisReply *fields, size_t k)
{
    cf_outbox_notes_read(cf_test_notes_reader(), fields);
    return cf_outbox_notes_get(cf_test_notes_reader(), k);
}

void cf_test_notes_release(void)
{
    cf_outbox_notes_destroy(&s_reader);
}
