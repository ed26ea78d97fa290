/*  cf_event: one case event, decoded from its msgpack wire form and validated
    against every rule of the domain contract (docs/domain.md).

    This module works on bytes only: no sockets, no Redis, no globals. A decode
    either fills a cf_event_t completely and returns 0, or returns -1 with a
    reason that names the offending field ("persons[2].sex: 'z' is not one of
    f, m, x, u"). Even on failure, event_id is filled when the map carried a
    valid one, so that the rejection can be acknowledged by id.

    The struct is a plain value (no heap), so a worker can keep an array of
    them per batch and reuse it.

    Each event type is one row of cf_event_types.c (its name, stage, fields,
    its payload for the store and the services it counts), each field one row
    of cf_event_rules.c: a new type is its enum value and members here, its
    row, and the rows of any new fields.                                     */
#ifndef CF_EVENT_H
#define CF_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caseflow/cf_vocab.h"

#define CF_EVENT_MAX_BYTES      65536   /* one encoded event, larger is rejected */
#define CF_EVENT_ID_MAX         64
#define CF_CASE_REF_MAX         128
#define CF_PROGRAMME_MAX        32
#define CF_ROUTE_MAX            32
#define CF_SOURCE_MAX           64
#define CF_NAME_MAX             64      /* donor, point, admin1, project_id */
#define CF_PERSONS_MAX          64
#define CF_TRANSIT_MAX          16
#define CF_PSEUDONYM_LEN        32      /* hex chars of the HMAC pseudonym */
#define CF_REASON_MAX           160
#define CF_AMOUNT_MAX           1e12    /* value: summed exactly in cents below 2^53 */
#define CF_HEADCOUNT_MAX        1000000000u     /* flow.observed count */

/*  The event types; each has its row in cf_event_types.c. Their numbers
    are not stored (docs/storage.md lists them with their payloads).       */
typedef enum {
    CF_EV_CASE_REGISTERED = 0,
    CF_EV_CASE_SCREENED,
    CF_EV_CASE_ASSISTED,
    CF_EV_CASE_DETAINED,
    CF_EV_CASE_RELEASED,
    CF_EV_CASE_DEPARTED,
    CF_EV_CASE_ARRIVED,
    CF_EV_CASE_REINTEGRATION,
    CF_EV_CASE_MONITORED,
    CF_EV_CASE_REUNIFIED,
    CF_EV_CASE_REFERRED,
    CF_EV_CASE_CLOSED,
    CF_EV_FUNDING_TRANSACTION,
    CF_EV_FLOW_OBSERVED,
    CF_EV_TYPE_COUNT
} cf_event_type_t;

/*  Every field name the schema knows (each with its row in cf_event_rules.c),
    in the order values are checked (the envelope first), so that the first
    failing field is the same whatever the order of the keys in the map. Bit
    i of a field mask is field i.                                            */
typedef enum {
    CF_F_EVENT_ID = 0, CF_F_EVENT_TYPE, CF_F_SCHEMA_VERSION, CF_F_OCCURRED_AT,
    CF_F_REPORTED_AT, CF_F_SOURCE_SYSTEM, CF_F_CASE_REF, CF_F_CASE_SEQ,
    CF_F_PROGRAMME, CF_F_PROGRAMME_TYPE, CF_F_HOST_COUNTRY, CF_F_ORIGIN_COUNTRY,
    CF_F_DESTINATION_COUNTRY, CF_F_ROUTE, CF_F_CATEGORY, CF_F_PERSONS,
    CF_F_VULNERABILITIES, CF_F_CONSENT, CF_F_PROJECT_ID,
    CF_F_SCREENING, CF_F_OUTCOME, CF_F_RISK,
    CF_F_ASSISTANCE, CF_F_VALUE, CF_F_CURRENCY,
    CF_F_COUNTRY,
    CF_F_DEPARTURE_COUNTRY, CF_F_MODE, CF_F_ESCORT, CF_F_TRANSIT,
    CF_F_ARRIVAL_COUNTRY, CF_F_ADMIN1,
    CF_F_DIMENSION, CF_F_MODALITY, CF_F_LEVEL,
    CF_F_ECONOMIC, CF_F_SOCIAL, CF_F_PSYCHOSOCIAL, CF_F_COMPOSITE,
    CF_F_SERVICE, CF_F_PROVIDER_TYPE, CF_F_URGENT,
    CF_F_REASON,
    CF_F_DONOR, CF_F_TRANSACTION_TYPE, CF_F_RECIPIENT_COUNTRY,
    CF_F_POINT, CF_F_FROM_COUNTRY, CF_F_TO_COUNTRY, CF_F_COUNT, CF_F_FEMALES,
    CF_F_MALES, CF_F_UASC,
    CF_F_COUNT_ALL
} cf_field_id_t;

#define CF_FIELD_BIT(id)    (UINT64_C(1) << (id))

typedef struct {
    char sex;                   /* 'f', 'm', 'x' or 'u' */
    uint8_t age_band;           /* index into cf_vocab_age_bands() */
    bool principal;             /* role: principal (true) or dependant */
} cf_person_t;

typedef struct {
    /* Envelope */
    char event_id[CF_EVENT_ID_MAX + 1];
    cf_event_type_t type;
    int64_t occurred_at;        /* Unix ms, UTC */
    bool has_reported_at;
    int64_t reported_at;
    char source_system[CF_SOURCE_MAX + 1];      /* "" when absent */
    char case_ref[CF_CASE_REF_MAX + 1];         /* raw; the worker replaces it */
    bool has_case_seq;
    uint64_t case_seq;
    uint64_t shard_hash;        /* FNV-1a of the raw shard key (cf_shard): set
                                   before case_ref is pseudonymised */

    /* Filled by the worker, never by the decoder */
    char case_id[CF_PSEUDONYM_LEN + 1];         /* HMAC pseudonym of case_ref */

    /* case.registered */
    char programme[CF_PROGRAMME_MAX + 1];
    char programme_type[24];
    char host_country[4];
    char origin_country[4];
    char destination_country[4];                /* defaults to origin */
    char route[CF_ROUTE_MAX + 1];               /* "" when absent */
    char category[24];                          /* "" when absent */
    uint32_t vulnerabilities;                   /* mask of cf_vuln_t bits */
    bool has_consent, consent;
    char project_id[CF_NAME_MAX + 1];           /* also funding.transaction */
    uint8_t person_count;
    cf_person_t persons[CF_PERSONS_MAX];

    /* case.screened (vulnerabilities above are the ones it adds) */
    char screening[16];
    char outcome[16];
    char risk[8];                               /* "" when absent */

    /* case.assisted, case.reintegration, funding.transaction */
    char assistance[16];
    bool has_value;
    double value;
    char currency[4];                           /* "" when absent */

    /* case.detained, case.released, case.reunified, case.referred, flow.observed */
    char country[4];

    /* case.departed */
    char departure_country[4];
    char mode[12];
    bool has_escort, escort;
    uint8_t transit_count;
    char transit[CF_TRANSIT_MAX][4];

    /* case.arrived */
    char arrival_country[4];
    char admin1[CF_NAME_MAX + 1];

    /* case.reintegration */
    char dimension[16];
    char modality[12];
    char level[12];

    /* case.monitored */
    double economic, social, psychosocial;
    bool has_composite;
    double composite;

    /* case.referred (and country) */
    char service[20];
    char provider_type[12];
    bool has_urgent, urgent;

    /* case.closed */
    char reason[12];

    /* funding.transaction */
    char donor[CF_NAME_MAX + 1];
    uint8_t transaction_type;                   /* IATI 1, 2, 3, 4 or 11 */
    char recipient_country[4];                  /* "" when absent */

    /* flow.observed */
    char point[CF_NAME_MAX + 1];
    char from_country[4];
    char to_country[4];
    uint64_t count;
    bool has_females, has_males, has_uasc;
    uint64_t females, males, uasc;
} cf_event_t;

/*  Decodes one msgpack-encoded event and validates it. Returns 0 and fills
    *event, or returns -1 and writes a reason naming the field into reason
    (at most reason_size bytes, always terminated, printable ASCII; reason
    may be NULL). On failure every field is zero except event_id and
    source_system, kept when the map holds each once and valid (never for an
    oversized message, which is not parsed). Never allocates beyond the call,
    never aborts on any input.                                                */
int cf_event_decode(cf_event_t *event, const void *data, size_t size,
                    char *reason, size_t reason_size);

/* ---- the event types (cf_event_types.c) ------------------------------------- */

/*  How a type's row names one payload element: the member and the form it
    is counted in (docs/storage.md, "Semantics", the event types), read by
    cf_fold; in brackets the kind the Lua apply script took it as before
    issue 14. The members named by an element are fixed where none is
    given.                                                                  */
typedef enum {
    CF_PAY_END = 0,
    CF_PAY_TEXT,                /* a string member ['string', not empty] */
    CF_PAY_TEXT_OR_DASH,        /* a string member, "-" when empty ['string'] */
    CF_PAY_ESCAPED,             /* a free string, '%' and '|' as %25 and %7C ['string'] */
    CF_PAY_CODE,                /* a uint8_t member in decimal ['string'] */
    CF_PAY_UINT,                /* a uint64_t member, -1 when not given ['int'] */
    CF_PAY_BOOL,                /* a bool member, 1 when given and true, else 0 ['int'] */
    CF_PAY_SCORE,               /* a double member x 10 000, rounded, -1 when not given ['int'] */
    CF_PAY_MONEY,               /* two elements: currency ("-" without value) ['string'],
                                   then value in cents (0 without) ['int'] */
    CF_PAY_CENTS,               /* value in cents ['int'] */
    CF_PAY_TIME,                /* occurred_at, ms ['int'] */
    CF_PAY_DAY,                 /* "day:YYYY-MM-DD" of occurred_at (UTC) ['string'] */
    CF_PAY_DAY_NUMBER,          /* occurred_at's UTC day number ['int'] */
    CF_PAY_RISK,                /* risk: 0 none, 1 low .. 3 high ['int'] */
    CF_PAY_PERSONS,             /* person_count ['int'] */
    CF_PAY_VULNS,               /* the vulnerability flags' names ['strings'] */
    CF_PAY_DEMO,                /* persons by sex and age band: "<sex>|<band>", count, ...
                                   ['pairs'] */
    CF_PAY_KINDS
} cf_pay_t;

#define CF_PAY_MAX          10          /* elements of one payload (flow.observed's) */
#define CF_PAY_ALWAYS       SIZE_MAX    /* an element without a has_ flag */

/*  One payload element: how, and which member (offsets in cf_event_t).     */
typedef struct {
    cf_pay_t how;
    size_t at;                  /* the member, for TEXT .. SCORE */
    size_t has;                 /* its has_ flag, or CF_PAY_ALWAYS */
} cf_pay_element_t;

/*  A service the type counts in the services family, once per event:
    <programme>|<kind>|<detail>|<currency>|events (and |value in cents).
    Members are offsets in cf_event_t of payload elements; 0 is none (the
    offset of event_id, which no payload carries).                           */
typedef struct {
    const char *kind;           /* "screening", ...; NULL ends the list */
    size_t detail[2];           /* the detail, the second joined with ':' */
    size_t when;                /* a CF_PAY_BOOL member that must be 1, or 0 */
    bool money;                 /* with the payload's CF_PAY_MONEY value */
} cf_event_service_t;

#define CF_EVENT_SERVICES_MAX   2

/*  Everything caseflow knows of one event type: validated by cf_event,
    folded by cf_fold (its payload and the services it counts).             */
typedef struct {
    const char *name;           /* "case.registered" ... "flow.observed" */
    bool is_case;               /* carries case_ref and case_seq, lives in a case */
    cf_stage_t stage;           /* the stage it moves a case to, or CF_STAGE_NONE */
    uint64_t required;          /* CF_FIELD_BITs beyond the envelope */
    uint64_t optional;
    cf_pay_element_t payload[CF_PAY_MAX + 1];      /* ends with CF_PAY_END */
    cf_event_service_t services[CF_EVENT_SERVICES_MAX + 1];    /* ends with kind NULL */
} cf_event_type_info_t;

/*  The row of type; NULL for an out-of-range type.                          */
const cf_event_type_info_t *cf_event_type_info(cf_event_type_t type);

/*  "case.registered" ... "flow.observed"; NULL for an out-of-range type.     */
const char *cf_event_type_name(cf_event_type_t type);

/*  The type of the len bytes at name, or -1.                                */
int cf_event_type_find(const char *name, size_t len);

/*  The field named by the len bytes at name, or -1 for a name the schema
    does not know; and the fields a type requires, and those it also allows,
    envelope included (CF_FIELD_BITs of its row in cf_event_types.c); a
    field's name (for reasons). What
    a form's mapping may write is checked with them (cf_form_map).         */
int cf_event_field_find(const char *name, size_t len);
const char *cf_event_field_name(cf_field_id_t id);
uint64_t cf_event_fields_required(cf_event_type_t type);
uint64_t cf_event_fields_allowed(cf_event_type_t type);

/*  The stage an event type moves a case to, or CF_STAGE_NONE.              */
cf_stage_t cf_event_stage(cf_event_type_t type);

/*  True for every type that carries a case_ref (case.*).                     */
bool cf_event_is_case_event(cf_event_type_t type);

/* ---- the counted forms of values (cf_event_values.c) ------------------------ */

#define CF_EVENT_DAY_SIZE       32      /* room for "day:YYYY-MM-DD" of any time */

/*  The UTC day number of a time in ms (days since 1970-01-01, floored).      */
int64_t cf_event_day_number(int64_t ms);

/*  "day:YYYY-MM-DD" of a UTC ms time into buf (size >= CF_EVENT_DAY_SIZE):
    the one period the counters keep.                                         */
void cf_event_day(int64_t ms, char *buf, size_t size);

/*  A free string as a part of a '|'-joined field: '%' and '|' as %25 and
    %7C, cut to fit size (terminated). Returns the length written.            */
size_t cf_event_escape(const char *s, char *buf, size_t size);

/*  A score in ten-thousandths and a value in cents, rounded: integers that
    sum exactly.                                                              */
int64_t cf_event_score(double x);
int64_t cf_event_cents(double value);

/*  A screening's risk: 1 low .. 3 high, 0 when the screening gave none.     */
int cf_event_risk_level(const char *risk);

/*  The persons by sex x age band (cf_vocab's orders) into counts; returns
    how many cells are not 0.                                                 */
unsigned cf_event_demo(const cf_event_t *e, unsigned counts[CF_SEXES][CF_AGE_BANDS]);

#endif
