/*  libFuzzer harness: caseflow-push's JSON reader (cf_json_to_msgpack, one
    line of an events file), then the printer on what it produced: the
    round trip must succeed, since the reader only makes msgpack the
    printer can render.                                                    */
#include "caseflow/cf_json.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_json_t *json, *printer;
    if (!json) {
        json = cf_json_new();
        printer = cf_json_new();
    }
    if (cf_json_to_msgpack(json, (const char *) data, size, size & 1 ? CF_JSON_OBJECT : 0) < 0)
        return 0;
    size_t packed_size;
    const void *packed = cf_json_msgpack(json, &packed_size);
    const char *text = cf_json_from_msgpack(printer, packed, packed_size);
    if (!text)
        fprintf(stderr, "printer refused the reader's msgpack: %s\n", cf_json_error(printer));
    assert(text);
    return 0;
}
