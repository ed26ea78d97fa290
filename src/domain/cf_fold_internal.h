/*  cf_fold_internal: what the parts of cf_fold share: the fold object, a
    case's and a route's state as C values, and the functions across the
    seams (cf_fold.c: the batch; cf_fold_collect.c: sums, notifications,
    deadline changes, the error, cases and routes by name; cf_fold_rules.c:
    the rules; cf_fold_output.c: reading the output; cf_fold_state.c: the
    packed states; cf_fold_events.c: what each case event does;
    cf_fold_services.c: a case's per-event counters; cf_fold_flows.c:
    funding, flows and a route's spike; cf_fold_derive.c: the aggregates
    that are a function of a case's state, and its deadlines). Not for
    other modules: they see cf_fold.h.                                      */
#ifndef CF_FOLD_INTERNAL_H
#define CF_FOLD_INTERNAL_H

#include "caseflow/cf_fold.h"

#include <msgpack.h>
#include <stdbool.h>
#include <string.h>

#define FOLD_STATE_V1       1       /* the leading format byte of a route's packed state */
#define FOLD_CASE_V2        2       /* ... of a case's: format 1 and the events applied */
#define FOLD_WINDOW         35      /* days a route keeps for the spike rule */
#define FOLD_REST_MAX       96      /* a waiting counter's field after its family */
#define FOLD_FIELD_MAX      512     /* a counter's field */

/*  The case's times: registration, earliest departure, arrival and
    reintegration (the old hash's rt, dt, at, it).                         */
enum { FOLD_RT, FOLD_DT, FOLD_AT, FOLD_IT, FOLD_TIMES };

/*  A kept time of a case: a detention or release in a country, a medical
    screening (the predeparture rule).                                      */
enum { FOLD_DETAINED, FOLD_RELEASED, FOLD_MEDICAL, FOLD_KINDS };

typedef struct {
    int64_t t;
    uint8_t kind;
    char country[4];            /* "" for FOLD_MEDICAL */
} fold_time_t;

/*  A counter waiting for the case's registration (the old q|<family>|<rest>). */
typedef struct {
    uint8_t family;
    char rest[FOLD_REST_MAX];
    int64_t value;
} fold_pending_t;

/*  A growable array: items, count, capacity (cf_grow).                      */
#define FOLD_ARRAY(type, name)  type *name; size_t name##_n, name##_cap

typedef struct {
    uint8_t *data;
    size_t len, cap;
} fold_bytes_t;

/*  Whether two packed forms hold the same bytes. An empty one has no data
    (NULL), which memcmp may not be given even for a length of 0.          */
static inline bool fold_bytes_same(const fold_bytes_t *a, const fold_bytes_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/*  A case: its state (what the packed form holds) and its batch. Kept in a
    slot that is reused from batch to batch, with its arrays' room.        */
typedef struct {
    char id[CF_PSEUDONYM_LEN + 1];
    /* the state */
    bool registered;
    char prog[CF_PROGRAMME_MAX + 1], org[4], host[4], route[CF_ROUTE_MAX + 1];
    uint16_t n;                                 /* persons */
    uint8_t bits;                               /* stages entered */
    uint8_t vulns;                              /* cf_vuln_t flags seen */
    uint8_t risk;                               /* highest screening risk 0..3 */
    uint8_t has_time;                           /* bit per FOLD_RT.. */
    int64_t time[FOLD_TIMES];
    uint8_t due_set;                            /* bit per limit: in the deadline set */
    int64_t due[CF_LIMIT_COUNT];
    uint8_t fired;                              /* bit per limit: it fired, never again */
    uint8_t waiting;                            /* bit per stage entered unregistered */
    uint64_t applied;                           /* events applied to it, ever: every new
                                                   event changes the packed state, so that
                                                   a commit's guard on the state sees it */
    int64_t stage_at[CF_STAGE_COUNT];
    char stage_by[CF_STAGE_COUNT][CF_EVENT_ID_MAX + 1];
    FOLD_ARRAY(fold_time_t, times);             /* sorted by kind, country, t */
    FOLD_ARRAY(fold_pending_t, pending);        /* sorted by family, rest */
    /* the batch */
    bool touched;                               /* derived contribution taken off */
    fold_bytes_t before, after;                 /* packed as loaded, as left */
} fold_case_t;

typedef struct {
    char name[CF_ROUTE_MAX + 1];
    int64_t latest;                             /* the latest day number seen */
    int64_t count[FOLD_WINDOW];                 /* flows of days latest-34 .. latest */
    bool marked;                                /* in a spike */
    bool flowed;                                /* a flow applied in this batch */
    fold_bytes_t before, after;
} fold_route_t;

/*  Sums keyed by (family, field), merged through an open-addressing index. */
typedef struct {
    uint64_t hash;
    uint32_t off, len;                          /* the field in text */
    int family;
    int64_t value;
} fold_sum_entry_t;

typedef struct {
    FOLD_ARRAY(fold_sum_entry_t, entries);
    uint32_t *slots;                            /* entry index + 1, 0 empty */
    size_t slots_n;                             /* a power of two */
    FOLD_ARRAY(char, text);
} fold_sums_t;

/*  Names to slots (cases, routes): open addressing over indexes.          */
typedef struct {
    uint32_t *slots;
    size_t slots_n;
} fold_index_t;

typedef struct {
    size_t topic_off, topic_len, body_off, body_len;
} fold_note_t;

typedef struct {
    size_t member_off, member_len;
    int64_t due;
} fold_deadline_t;

/*  The rules the fold reads (cf_rules_pack's map).                         */
typedef struct {
    char route[CF_ROUTE_MAX + 1];               /* "*": the default */
    double ratio;
    int64_t min_count;
} fold_spike_rule_t;

typedef struct {
    bool has_overdue[CF_LIMIT_COUNT];
    int64_t overdue_ms[CF_LIMIT_COUNT];
    uint32_t vulnerable;                        /* bit per cf_vocab alert flag */
    bool has_predeparture;
    int64_t predeparture_ms;
    FOLD_ARRAY(fold_spike_rule_t, spikes);
} fold_rules_t;

struct _cf_fold_t {
    fold_rules_t rules;
    FOLD_ARRAY(fold_case_t, cases);             /* slots; cases_n in use */
    FOLD_ARRAY(fold_route_t, routes);
    fold_index_t case_index, route_index;
    fold_sums_t counters, route_days;
    msgpack_sbuffer notes_buf;                  /* topics and bodies */
    FOLD_ARRAY(fold_note_t, notes);
    FOLD_ARRAY(char, members);
    FOLD_ARRAY(fold_deadline_t, deadlines);
    FOLD_ARRAY(size_t, changed_cases);
    FOLD_ARRAY(size_t, changed_routes);
    int64_t clock_ms;                           /* cf_fold_set_clock's; -1: none */
    size_t overdue_fired;                       /* overdue alerts queued in this batch */
    bool finished;
    char error[256];
};

/* ---- cf_fold_collect.c ------------------------------------------------------ */

/*  Adds d to the counter (family, field): merged, overflow an error.      */
void fold_add(cf_fold_t *self, int family, const char *field, size_t len, int64_t d);
void fold_addf(cf_fold_t *self, int family, int64_t d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/*  The same for a route_day counter.                                        */
void fold_add_route_day(cf_fold_t *self, const char *route, int64_t day, int64_t d);

/*  Records the batch's first error (cf_fold_error).                         */
void fold_fail(cf_fold_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*  A body member: a string, an integer or a Lua number (cmsgpack's packing:
    a whole number as an integer).                                          */
typedef struct {
    const char *key;
    char kind;                  /* 's', 'i', 'n' */
    const char *s;
    int64_t i;
    double x;
} fold_kv_t;

/*  Queues a notification: topic and a map of the members.                 */
void fold_note(cf_fold_t *self, const char *topic, const fold_kv_t *kv, size_t n);

/*  Queues a deadline change of the case (due -1: removed).                  */
void fold_deadline(cf_fold_t *self, const fold_case_t *c, int limit, int64_t due);

/*  Fires the case's limit, due at due_ms, at now_ms: marks it fired (never
    again) and queues its alert.overdue.<stage>. The caller has taken it out
    of the deadline set, or never put it there.                             */
void fold_fire(cf_fold_t *self, fold_case_t *c, int limit, int64_t due_ms, int64_t now_ms);

fold_case_t *fold_find_case(cf_fold_t *self, const char *case_id);
fold_route_t *fold_find_route(cf_fold_t *self, const char *route);

/*  Frees a sums' buffers; empties them, keeping their room (cf_fold.c's
    object life and batch).                                                  */
void fold_sums_free(fold_sums_t *s);
void fold_sums_reset(fold_sums_t *s);

/*  The slot of name in the index (its entry or the empty slot where it
    goes); makes the index hold need items, rehashing the first need - 1
    (every item starts with its name).                                       */
uint32_t *fold_index_slot(fold_index_t *x, const char *name, const void *items, size_t size);
void fold_index_room(fold_index_t *x, size_t need, const void *items, size_t size);

/* ---- cf_fold_state.c ----------------------------------------------------------- */

/*  Empties a case's or route's state (keeps the arrays' room).             */
void fold_case_clear(fold_case_t *c);
void fold_route_clear(fold_route_t *r);

/*  Reads a packed state into *c / *r; 0, or -1 with the reason in why.    */
int fold_case_decode(fold_case_t *c, const uint8_t *p, size_t len, char *why, size_t why_size);
int fold_route_decode(fold_route_t *r, const uint8_t *p, size_t len, char *why, size_t why_size);

/*  Packs the state into out (emptied first); an empty case packs to 0 bytes. */
void fold_case_encode(const fold_case_t *c, fold_bytes_t *out);
void fold_route_encode(const fold_route_t *r, fold_bytes_t *out);

/*  Keeps a time, in order; a pending counter's value (created at 0).       */
void fold_case_add_time(fold_case_t *c, int kind, const char *country, int64_t t);
int64_t *fold_case_pending(fold_case_t *c, int family, const char *rest);

void fold_bytes_set(fold_bytes_t *b, const void *data, size_t len);
void fold_bytes_free(fold_bytes_t *b);

/* ---- cf_fold_events.c ------------------------------------------------------------ */

void fold_apply_case(cf_fold_t *self, fold_case_t *c, const cf_event_t *e);

/* ---- cf_fold_services.c ---------------------------------------------------------- */

/*  Adds d to a per-event counter of a case: at once when it is registered,
    else kept on the case; fold_flush_pending (its registration) counts
    and empties what was kept.                                              */
void fold_emit(cf_fold_t *self, fold_case_t *c, int family, const char *rest, int64_t d);
void fold_flush_pending(cf_fold_t *self, fold_case_t *c);

/*  A service counted once per event, with its value in cents if any (currency
    "-": none); an event's currency ("-" without a value) and cents.        */
void fold_service(cf_fold_t *self, fold_case_t *c, int family, const char *rest,
                  const char *currency, int64_t cents);
const char *fold_money_currency(const cf_event_t *e);
int64_t fold_money_cents(const cf_event_t *e);

/*  The services of the event's type's row (cf_event_types.c).              */
void fold_count_services(cf_fold_t *self, fold_case_t *c, const cf_event_t *e);

/* ---- cf_fold_flows.c ------------------------------------------------------------- */

void fold_apply_funding(cf_fold_t *self, const cf_event_t *e);
void fold_apply_flow(cf_fold_t *self, const cf_event_t *e);

/*  The route's spike rule at the end of a batch.                           */
void fold_settle_spike(cf_fold_t *self, fold_route_t *r);

/* ---- cf_fold_derive.c ------------------------------------------------------------ */

/*  Adds sign x what the case adds to the derived families now.             */
void fold_derive(cf_fold_t *self, const fold_case_t *c, int sign);

/*  Takes the case's derived contribution off before its first change in the
    batch (it is added back as it ends, by fold_settle_case).              */
void fold_touch(cf_fold_t *self, fold_case_t *c);

/*  At the end of a batch: derived aggregates and deadlines in line.        */
void fold_settle_case(cf_fold_t *self, fold_case_t *c);

/*  The detentions of country kind kind in c->times: [*first, *first + *n). */
void fold_case_times(const fold_case_t *c, int kind, const char *country, size_t *first,
                     size_t *n);

#endif
