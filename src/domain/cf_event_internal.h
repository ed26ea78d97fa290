/*  cf_event_internal: what the two halves of the event decoder share. The
    decode pipeline (cf_event.c: bytes, map, keys, envelope, which fields a type
    takes, from the type table of cf_event_types.c) drives the per-field rules
    (cf_event_rules.c: the field table, the value sets and one checker per
    kind of value). Not installed, not for other modules: they see only
    caseflow/cf_event.h.                                                     */
#ifndef CF_EVENT_INTERNAL_H
#define CF_EVENT_INTERNAL_H

#include "caseflow/cf_event.h"

#include <msgpack.h>

/*  One decode in progress: the event being filled and where its reason goes
    (reason may be NULL when a caller only probes, as the prefill does).     */
typedef struct {
    cf_event_t *event;
    char *reason;
    size_t reason_size;
} cf_decode_t;

/*  Echoed input (unknown keys, values outside a set) is cut to this many
    bytes, and anything but printable ASCII is written as \xNN, so a reason is
    always ASCII, one line, and safe to truncate anywhere.                   */
#define CF_ECHO_MAX         24
#define CF_ECHO_BUF         (CF_ECHO_MAX * 4 + 4)

/*  Writes the formatted reason and returns -1, so checks end in
    `return cf_event_fail(d, ...)`.                                          */
int cf_event_fail(cf_decode_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*  Copies at most CF_ECHO_MAX bytes of s into buf (CF_ECHO_BUF bytes) as
    printable ASCII, adding "..." when cut. Returns buf.                     */
const char *cf_event_echo(char *buf, const char *s, size_t len);

/*  "string", "integer", "float", "binary", ... for "expected X, got Y".     */
const char *cf_event_got(const msgpack_object *o);

/*  Times are Unix ms before the year 10000 (9999-12-31T23:59:59.999Z).     */
#define CF_EVENT_TIME_MAX   INT64_C(253402300799999)

/*  The value checks (cf_event_check.c). Each names path in its reason and
    returns -1 on failure; on success it returns 0 and hands the value back
    (cf_event_check_enum returns the index of the value in set).            */
int cf_event_check_type(cf_decode_t *d, const char *path, const char *expected,
                        const msgpack_object *o);
int cf_event_check_string(cf_decode_t *d, const char *path, const msgpack_object *o,
                          const char **s, size_t *len);
int cf_event_check_uint(cf_decode_t *d, const char *path, const msgpack_object *o, uint64_t *out);
int cf_event_check_time(cf_decode_t *d, const char *path, const msgpack_object *o, int64_t *out);
int cf_event_check_number(cf_decode_t *d, const char *path, const msgpack_object *o, double *out);
int cf_event_check_text(cf_decode_t *d, const char *path, const char *s, size_t len,
                        size_t min, size_t max);     /* UTF-8, no control characters */
int cf_event_check_id(cf_decode_t *d, const char *path, const char *s, size_t len,
                      size_t min, size_t max);       /* visible ASCII */
int cf_event_check_token(cf_decode_t *d, const char *path, const char *s, size_t len,
                         size_t min, size_t max);    /* [A-Za-z0-9_-] */
int cf_event_check_enum(cf_decode_t *d, const char *path, const char *const *set,
                        const msgpack_object *o);
int cf_event_check_code(cf_decode_t *d, const char *path, const msgpack_object *o,
                        bool currency, const char **s);   /* country or currency */

/*  Checks one field's value and stores it into d->event. Returns 0, or -1
    with a reason naming the field. Not for CF_F_EVENT_TYPE.                 */
int cf_event_field_check(cf_decode_t *d, cf_field_id_t id, const msgpack_object *value);

/*  The rules that tie fields together (currency with value, flow counts
    within count) and the defaults (destination_country); run after every
    field passed. values[id] is the value of field id, or NULL.             */
int cf_event_fields_finish(cf_decode_t *d, const msgpack_object *const *values);

#endif
