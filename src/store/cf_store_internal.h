/*  cf_store internals shared by cf_store.c (connection, round trips, replies),
    cf_store_pack.c (building one shard's script call) and cf_store_counters.c
    (the plain counter commands). Not installed.                            */
#ifndef CF_STORE_INTERNAL_H
#define CF_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_event.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"


/*  The argument vector of one FCALL of the apply script, reused from call
    to call: FCALL caseflow_apply numkeys KEYS... version blob ttl case_ttl
    times rules request digests ids generation. argv points into keys, blob,
    times, ids, digests, the store's rules and the small buffers here; all
    stay valid until the next build.                                         */
typedef struct {
    const char **argv;
    size_t *argvlen;
    size_t argc;
    char (*keys)[CF_KEYS_MAX];
    size_t capacity;                /* events the arrays can hold */
    msgpack_sbuffer blob;
    msgpack_sbuffer times;          /* ARGV[4]: the events' occurred_at */
    msgpack_sbuffer ids;            /* ARGV[8]: the events' event_id */
    unsigned char *digests;         /* ARGV[7]: their marker fields */
    char numkeys[16];
    char generation[24];            /* ARGV[9] */
    char ttl[16];
    char case_ttl[16];
} store_call_t;

/*  The store object (cf_store.c, cf_store_counters.c). */
struct _cf_store_t {
    char *host;
    int port;
    char *script_dir;
    uint32_t eid_ttl;
    uint32_t case_ttl;
    redisContext *ctx;
    cf_redis_auth_t *auth;          /* sent on every (re)connect; NULL: none */
    char *library;                  /* the function library's body, made once */
    size_t library_len;
    char version[CF_STORE_VERSION_LEN + 1];     /* its version, the first argument of each FCALL */
    bool library_ok;                /* Redis holds it (checked on this connection) */
    store_call_t call;
    size_t *order;                  /* event indexes grouped by shard */
    unsigned *shard;                /* each event's shard */
    size_t order_capacity;
    size_t start[CF_STORE_SHARDS + 1];
    redisReply *replies[CF_STORE_SHARDS];
    char *rules;                    /* ARGV[5]: the packed notification rules */
    size_t rules_len;
    char request[16];               /* ARGV[6]: the request's tag, "" for none */
    size_t request_len;
    long long eid_generation;       /* the markers' generation, as Redis last said; -1 */
    cf_store_err_t err;
    char errstr[256];
    cf_metric_t *latency, *errors;  /* NULL: not counted */
};

/*  Sets the error (code and message) and returns -1.                       */
int cf_store_fail(cf_store_t *self, cf_store_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*  Sets an I/O error from the context, drops the connection, returns -1.   */
int cf_store_fail_io(cf_store_t *self, const char *what);

void cf_store_clear_error(cf_store_t *self);


/*  Reconnects when there is no usable connection, and when need_library
    (the plain commands do not need it) makes sure Redis holds the function
    library (cf_store_library_ensure). 0 / -1.                              */
int cf_store_ensure(cf_store_t *self, int need_library);

/*  Sets the error for an error reply to a call of a library function
    (what): when the library is gone (cf_store_library_gone) it is checked
    again on the next call and the error is CF_STORE_ERR_IO, an outage
    until someone loads it; else CF_STORE_ERR_REDIS. Returns -1.            */
int cf_store_fail_call(cf_store_t *self, const char *what, const char *error_reply);

void cf_store_call_init(store_call_t *call);
void cf_store_call_free(store_call_t *call);

/*  Builds the call for the n events events[idx[0..n)] of one shard, with the
    store's event_id and closed-case time limits. The events must have passed
    cf_store_check_events.                                                   */
void cf_store_call_build(store_call_t *call, const cf_store_t *store, unsigned shard,
                         const cf_event_t *events, const size_t *idx, size_t n);

/*  Appends event e as the script reads it, {type, stage, case_key,
    payload...}, with case_key its case hash's index in KEYS (0: none) and
    the payload its type's row says (cf_event_type_info).                   */
void cf_store_pack_event(msgpack_packer *pk, const cf_event_t *e, size_t case_key);

/*  Checks what the store relies on: known type, an event_id of 1..64 bytes,
    and for case events a 32-char lower-case hex case_id, a programme and
    1..64 persons on a registration. Returns 0, or -1 with why in err.      */
int cf_store_check_events(const cf_event_t *events, size_t count, char *err, size_t err_size);

#endif
