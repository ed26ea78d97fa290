/*  cf_zap internals shared by cf_zap.c (the handler thread and its answers),
    cf_zap_keys.c (the allow-lists) and cf_zap_limit.c (the connection
    limits). Not installed.                                                  */
#ifndef CF_ZAP_INTERNAL_H
#define CF_ZAP_INTERNAL_H

#include "caseflow/cf_curve.h"
#include "caseflow/cf_zap.h"

#include <pthread.h>
#include <stdint.h>

#define ZAP_ROLES_MAX 8
#define ZAP_ROLE_LEN 32
#define ZAP_DOMAIN_LEN 256
#define ZAP_DENIED_MAX 256         /* keys remembered as logged already */
#define ZAP_LIMITS_MAX 8           /* limited sockets */
#define ZAP_LIMIT_LOG_MS 10000     /* at most one "too many" line per socket this often */

typedef uint8_t zap_key_t[32];
/* A key as its canonical Z85 text, as User-Ids carry it (no NUL): the lists
   hold this form, sorted, so that a message's key is found by bsearch
   without decoding it. */
typedef char zap_text_t[CF_CURVE_Z85_LEN];

typedef struct {
    char role[ZAP_ROLE_LEN];
    char *file;
    zap_text_t *keys;               /* sorted (memcmp) */
    size_t count;
} zap_list_t;

/* One limited socket: its monitor (read by the thread) and its counts. */
typedef struct {
    char domain[ZAP_DOMAIN_LEN];
    char endpoint[64];              /* the monitor's inproc endpoint */
    void *monitor;                  /* the thread's PAIR; NULL until connected */
    size_t max, open;               /* open: accepted and not yet ended */
    uint64_t refused;               /* handshakes refused for the limit */
    uint64_t refused_logged;        /* refused when the last line was logged */
    int64_t logged_at;
} zap_limit_t;

struct _cf_zap_t {
    void *ctx, *handler, *pipe, *thread_pipe;
    pthread_t thread;
    bool running;
    bool plain;                     /* admits NULL-mechanism clients, no lists */
    pthread_mutex_t lock;           /* guards lists[].keys, .count and limits[] counts */
    zap_list_t lists[ZAP_ROLES_MAX];
    size_t list_count;
    zap_key_t denied[ZAP_DENIED_MAX];    /* the thread's own */
    size_t denied_count;
    zap_limit_t limits[ZAP_LIMITS_MAX];
    size_t limit_count;             /* the caller's: limits[] it has filled in */
    size_t limit_active;            /* the thread's: readers connected */
};

/*  The first role named in domain ("a,b") whose list has key (Z85 text),
    or NULL (cf_zap_keys.c).                                                 */
const char *zap_admit(cf_zap_t *self, const char *domain, const char *key);

/*  Frees the lists' keys and file names (cf_zap_keys.c).                   */
void zap_lists_free(cf_zap_t *self);

/*  The thread's side of cf_zap_limit: connects the reader of limit index
    to its monitor (cf_zap_limit.c). 0 or -1.                                */
int zap_limit_connect(cf_zap_t *self, size_t index);

/*  Reads every monitor's pending events, never blocking, so that the
    counts are current before a request is answered (cf_zap_limit.c).       */
void zap_limits_drain(cf_zap_t *self);

/*  Whether a handshake on the socket of domain is over its limit; if so it
    is counted, and logged at most once per ZAP_LIMIT_LOG_MS (cf_zap_limit.c). */
bool zap_limit_exceeded(cf_zap_t *self, const char *domain, const char *address);

/*  Closes the readers (cf_zap_limit.c), when the thread has stopped.       */
void zap_limits_close(cf_zap_t *self);

#endif
