/*  What the frame harnesses share: one fuzz input as a multipart message.
    Each frame is a 2-byte big-endian length and that many bytes; a length
    that runs past the end takes what is left. tests/fuzz/make-corpus writes
    seeds in this form. Header-only, for the harnesses alone.                */
#ifndef FUZZ_FRAMES_H
#define FUZZ_FRAMES_H

#include <stddef.h>
#include <stdint.h>
#include "caseflow/cf_multipart.h"

/* Fills parts (cleared first) with the frames of data. */
static inline void fuzz_frames_fill(cf_multipart_t *parts, const uint8_t *data, size_t size)
{
    cf_multipart_clear(parts);
    size_t pos = 0;
    while (pos + 2 <= size) {
        size_t len = (size_t) data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        cf_multipart_add(parts, data + pos, len);
        pos += len;
    }
}

#endif
