/*  cf_json internals shared by cf_json.c (JSON to msgpack, the object) and
    cf_json_print.c (msgpack to JSON). Not part of the public API.           */
#ifndef CF_JSON_INTERNAL_H
#define CF_JSON_INTERNAL_H

#include "caseflow/cf_json.h"

#include <jansson.h>
#include <stdbool.h>

/*  A growing NUL-terminated text buffer.                                    */
typedef struct {
    char *data;
    size_t len, cap;
} json_text_t;

struct _cf_json_t {
    msgpack_sbuffer packed;     /* output of cf_json_to_msgpack */
    json_t *root;               /* its parsed input, for cf_json_member */
    json_text_t text;           /* output of cf_json_from_msgpack/object */
    msgpack_unpacked unpacked;  /* decoded input of cf_json_from_msgpack */
    cf_json_err_t code;
    char error[256];
};

/*  Records an error on self and returns -1.                                 */
int cf_json_fail(cf_json_t *self, cf_json_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void cf_json_text_append(json_text_t *text, const void *data, size_t len);

#endif
