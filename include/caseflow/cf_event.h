/*  cf_event: one case event, decoded from its msgpack wire form and validated
    against every rule of the domain contract (docs/domain.md).

    This module works on bytes only: no sockets, no Redis, no globals. A decode
    either fills a cf_event_t completely and returns 0, or returns -1 with a
    reason that names the offending field ("persons[2].sex: 'z' is not one of
    f, m, x, u"). Even on failure, event_id is filled when the map carried a
    valid one, so that the rejection can be acknowledged by id.

    The struct is a plain value (no heap), so a worker can keep an array of
    them per batch and reuse it.                                              */
#ifndef CF_EVENT_H
#define CF_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    CF_EV_CASE_CLOSED,
    CF_EV_FUNDING_TRANSACTION,
    CF_EV_FLOW_OBSERVED,
    CF_EV_TYPE_COUNT
} cf_event_type_t;

/*  Case stages, in their order; a case never moves back.                     */
typedef enum {
    CF_STAGE_NONE = -1,           /* the event does not move the stage */
    CF_STAGE_REGISTERED = 0,
    CF_STAGE_SCREENED,
    CF_STAGE_ASSISTED,
    CF_STAGE_DEPARTED,
    CF_STAGE_ARRIVED,
    CF_STAGE_REINTEGRATING,
    CF_STAGE_CLOSED,
    CF_STAGE_COUNT
} cf_stage_t;

/*  Vulnerability flags, as a bit mask (bit = 1 << index).                    */
typedef enum {
    CF_VULN_VOT = 0, CF_VULN_UASC, CF_VULN_HEALTH, CF_VULN_DISABILITY,
    CF_VULN_ELDERLY, CF_VULN_PREGNANT, CF_VULN_SINGLE_PARENT, CF_VULN_COUNT
} cf_vuln_t;

typedef struct {
    char sex;                   /* 'f', 'm', 'x' or 'u' */
    uint8_t age_band;           /* index into cf_event_age_band_name() */
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

    /* case.detained, case.released, case.reunified, flow.observed: country */
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

/*  "case.registered" ... "flow.observed"; NULL for an out-of-range type.     */
const char *cf_event_type_name(cf_event_type_t type);

/*  The stage an event type moves a case to, or CF_STAGE_NONE.              */
cf_stage_t cf_event_stage(cf_event_type_t type);

/*  "registered" ... "closed"; NULL for an out-of-range stage.                */
const char *cf_stage_name(cf_stage_t stage);

/*  "0-4", "5-11", "12-17", "18-59", "60+"; NULL when out of range.          */
const char *cf_event_age_band_name(unsigned band);

/*  "vot", "uasc", ...; NULL when out of range.                               */
const char *cf_vuln_name(unsigned flag);

/*  True for every type that carries a case_ref (case.*).                     */
bool cf_event_is_case_event(cf_event_type_t type);

#endif
