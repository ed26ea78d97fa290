/*  libFuzzer harness: an outbox entry's packed value (cf_outbox_notes.h,
    CF_OUTBOX_NOTES_FIELD), as Redis would hand it back to the broker's
    outbox reader and caseflow-alert's sinks: any bytes. Every note read
    lies inside the value, NUL-terminated, and there are at most
    CF_OUTBOX_NOTES_MAX. Input: the value's bytes.                          */
#include "caseflow/cf_outbox_notes.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_inside(const char *s, size_t len, const char *value, size_t size)
{
    assert(s >= value && len <= size && (size_t) (s - value) <= size - len);
    assert(s[len] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = malloc(size + 1);     /* as hiredis keeps a string: its own, NUL after */
    assert(value);
    if (size)
        memcpy(value, data, size);
    value[size] = '\0';
    redisReply field = { .type = REDIS_REPLY_STRING, .str = (char *) CF_OUTBOX_NOTES_FIELD,
                         .len = strlen(CF_OUTBOX_NOTES_FIELD) };
    redisReply packed = { .type = REDIS_REPLY_STRING, .str = value, .len = size };
    redisReply *items[2] = { &field, &packed };
    redisReply fields = { .type = REDIS_REPLY_ARRAY, .elements = 2, .element = items };
    size_t count = cf_outbox_notes_count(&fields);
    assert(count <= CF_OUTBOX_NOTES_MAX);
    for (size_t k = 0; k < count; k++) {
        cf_outbox_note_t note = cf_outbox_notes_get(&fields, k);
        check_inside(note.topic, note.topic_len, value, size);
        check_inside(note.body, note.body_len, value, size);
    }
    free(value);
    return 0;
}
