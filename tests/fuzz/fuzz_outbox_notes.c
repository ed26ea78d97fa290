/*  libFuzzer harness: an outbox entry's value (cf_outbox_notes.h), as Redis
    would hand it back to the broker's outbox reader and caseflow-alert's
    sinks: any bytes, read as the packed layout (CF_OUTBOX_NOTES_FIELD) and
    as the compressed one (CF_OUTBOX_NOTES_LZ4_FIELD). Every note read lies
    inside the value, or inside what it decompressed to, NUL-terminated,
    and there are at most CF_OUTBOX_NOTES_MAX. Input: the value's bytes.  */
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

/* Reads value (size bytes) as the entry {field: value}. */
static void read_as(cf_outbox_notes_t *reader, const char *field, char *value, size_t size)
{
    redisReply name = { .type = REDIS_REPLY_STRING, .str = (char *) field, .len = strlen(field) };
    redisReply packed = { .type = REDIS_REPLY_STRING, .str = value, .len = size };
    redisReply *items[2] = { &name, &packed };
    redisReply fields = { .type = REDIS_REPLY_ARRAY, .elements = 2, .element = items };
    size_t count = cf_outbox_notes_read(reader, &fields);
    assert(count <= CF_OUTBOX_NOTES_MAX);
    bool compressed = strcmp(field, CF_OUTBOX_NOTES_LZ4_FIELD) == 0;
    for (size_t k = 0; k < count; k++) {
        cf_outbox_note_t note = cf_outbox_notes_get(reader, k);
        if (compressed) {       /* in the reader's memory: whole, and NUL-terminated */
            assert(note.topic[note.topic_len] == '\0' && note.body[note.body_len] == '\0');
            assert(note.topic_len + note.body_len <= CF_OUTBOX_NOTES_MAX_BYTES);
        } else {
            check_inside(note.topic, note.topic_len, value, size);
            check_inside(note.body, note.body_len, value, size);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = malloc(size + 1);     /* as hiredis keeps a string: its own, NUL after */
    assert(value);
    if (size)
        memcpy(value, data, size);
    value[size] = '\0';
    cf_outbox_notes_t *reader = cf_outbox_notes_new();
    read_as(reader, CF_OUTBOX_NOTES_FIELD, value, size);
    read_as(reader, CF_OUTBOX_NOTES_LZ4_FIELD, value, size);
    cf_outbox_notes_destroy(&reader);
    free(value);
    return 0;
}
