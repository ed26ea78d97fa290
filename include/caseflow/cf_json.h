/*  cf_json: JSON text <-> msgpack, generic, for the tools that read and print
    events and notifications (caseflow-push, caseflow-watch).

    JSON to msgpack (jansson underneath): objects become maps with their keys
    in input order, arrays arrays, strings str, integers int, reals float64,
    true/false bool, null nil; a duplicate key, NUL in a string, a number out
    of range or a syntax error is rejected with a reason that gives jansson's
    column. msgpack to JSON is for printing: bin becomes a base64 string,
    invalid UTF-8 is replaced by U+FFFD, non-string map keys become strings
    (their JSON text), floats are written with the fewest digits that read
    back exactly, NaN and infinities as the strings "NaN", "Infinity" and
    "-Infinity", and integers exactly (all of uint64). Both directions stop
    at CF_JSON_MAX_DEPTH levels of nesting. One object is reused line after
    line; results stay valid until its next conversion. Never prints.        */
#ifndef CF_JSON_H
#define CF_JSON_H

#include <stddef.h>
#include <msgpack.h>

#include "caseflow/cf_unpack.h"

#define CF_JSON_MAX_DEPTH   CF_UNPACK_MAX_DEPTH     /* nested arrays and maps: what a peer may send */
#define CF_JSON_OBJECT      1       /* flag: the top-level value must be an object */
#define CF_JSON_MAX_TEXT    (1 << 20)   /* bytes of one JSON text (a line of caseflow-push) */

typedef enum {
    CF_JSON_OK = 0,
    CF_JSON_ERR_SYNTAX,         /* not JSON (reason has jansson's text and column) */
    CF_JSON_ERR_TYPE,           /* valid JSON, but not the object CF_JSON_OBJECT asked for */
    CF_JSON_ERR_DEPTH,          /* nested deeper than CF_JSON_MAX_DEPTH */
    CF_JSON_ERR_MSGPACK,        /* bytes that are not exactly one msgpack value */
    CF_JSON_ERR_SIZE            /* text longer than CF_JSON_MAX_TEXT */
} cf_json_err_t;

typedef struct _cf_json_t cf_json_t;

cf_json_t *cf_json_new(void);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_json_destroy(cf_json_t **self_p);

/*  Converts len bytes of JSON text (one value, surrounding white space
    allowed) to msgpack. flags: 0 or CF_JSON_OBJECT. Returns 0, or -1 with
    the error on the object ("json: ... at column N").                       */
int cf_json_to_msgpack(cf_json_t *self, const char *text, size_t len, int flags);

/*  The msgpack bytes of the last successful cf_json_to_msgpack.              */
const void *cf_json_msgpack(const cf_json_t *self, size_t *size);

/*  The string member key of the last value cf_json_to_msgpack converted,
    when that value is an object and the member a string without NUL bytes;
    else NULL.                                                               */
const char *cf_json_member(const cf_json_t *self, const char *key);

/*  Renders size bytes of msgpack (exactly one value) as compact one-line
    JSON text, NUL-terminated. NULL with the error on the object.           */
const char *cf_json_from_msgpack(cf_json_t *self, const void *data, size_t size);

/*  The same for an already decoded object.                                  */
const char *cf_json_from_object(cf_json_t *self, const msgpack_object *object);

/*  The last error's message ("" when none) and code.                        */
const char *cf_json_error(const cf_json_t *self);
cf_json_err_t cf_json_error_code(const cf_json_t *self);

#endif
