/*  cf_vocab: the plain lists of the domain (docs/domain.md), each kept in one
    table in cf_vocab.c: the stages, the vulnerability flags and screening
    risk levels, a person's sexes and age bands, the counter families and the
    overdue limits. Everything else that needs one of them (the validator,
    the store, the Lua prelude, the reports, the rules, the broker's
    publisher) reads it from here, and tests/unit/test_cf_vocab.c checks the
    consumers that cannot (docs, Lua, the test model) against these tables.
    The event types, whose rows say more, are in cf_event.h.

    Stage and family numbers are kept in Redis (a case's stage bits, its
    waiting q|<family>|... counters): add at the end, never renumber. Pure
    data: no I/O, no allocation, no state.                                  */
#ifndef CF_VOCAB_H
#define CF_VOCAB_H

#include <stdbool.h>
#include <stddef.h>

/*  Case stages, in their order; a case never moves back.                   */
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

/*  Vulnerability flags, as a bit mask (bit = 1 << index).                  */
typedef enum {
    CF_VULN_VOT = 0, CF_VULN_UASC, CF_VULN_HEALTH, CF_VULN_DISABILITY,
    CF_VULN_ELDERLY, CF_VULN_PREGNANT, CF_VULN_SINGLE_PARENT, CF_VULN_COUNT
} cf_vuln_t;

#define CF_RISK_LEVELS      3       /* a screening's risk: 1 low, 2 medium, 3 high */
#define CF_SEXES            4       /* f, m, x, u */
#define CF_AGE_BANDS        5       /* 0-4 ... 60+ */

/*  The counter families: one Redis hash per shard each (cf_keys). Their
    numbers are kept in packed case states (waiting counters): add at the
    end.                                                                     */
typedef enum {
    CF_FAMILY_STAGE = 0, CF_FAMILY_RETURNS, CF_FAMILY_VULN, CF_FAMILY_DEMO,
    CF_FAMILY_QUALITY, CF_FAMILY_DUR, CF_FAMILY_DETENTION, CF_FAMILY_REINT,
    CF_FAMILY_MONITOR, CF_FAMILY_SERVICES, CF_FAMILY_FUNDING, CF_FAMILY_FLOWS,
    CF_FAMILY_COUNT
} cf_family_t;

/*  The measures of a family's rows (docs/storage.md, "Counter fields"): a
    field <row>|<measure> whose measure is one of its family's is kept in
    the hash field <row>, every measure of the row in one value, in this
    order (cf_tuple). NULL for a family whose fields are scalars only (vuln,
    demo, quality); a family's other fields (dur's buckets) stay scalars.
    Kept in Redis: never reorder, never add to a family that has a list.  */
#define CF_VOCAB_MEASURES_MAX   6
const char *const *cf_vocab_family_measures(int family);
/*  How many measures a family's rows have: 0 for a family without.        */
size_t cf_vocab_family_width(int family);

/*  The overdue limits, one per state a case can be stuck in
    (docs/notifications.md, "Overdue").                                     */
typedef enum {
    CF_LIMIT_REGISTERED_DEPARTED = 0,   /* registered, not yet departed */
    CF_LIMIT_ARRIVED_REINTEGRATING,     /* arrived, no reintegration service yet */
    CF_LIMIT_DETAINED,                  /* detained, not yet released */
    CF_LIMIT_COUNT
} cf_limit_t;

/*  The names, NULL when out of range: "registered" ... "closed"; "vot" ...
    "single_parent"; risk level 1..3 "low" ... "high"; "f" "m" "x" "u";
    "0-4" ... "60+"; "stage" ... "flows"; "registered_departed" ...        */
const char *cf_vocab_stage_name(int stage);
const char *cf_vocab_vuln_name(int flag);
const char *cf_vocab_risk_name(int level);
const char *cf_vocab_sex_name(int sex);
const char *cf_vocab_age_band_name(int band);
const char *cf_vocab_family_name(int family);
const char *cf_vocab_limit_name(int limit);

/*  The same lists as NULL-terminated arrays of their names in enum order
    (risk levels from low), for value sets and sort orders; and the flags
    whose published cells have the higher threshold (vot, uasc, health).   */
extern const char *const cf_vocab_stages[];
extern const char *const cf_vocab_vulns[];
extern const char *const cf_vocab_vulns_sensitive[];
extern const char *const cf_vocab_risks[];
extern const char *const cf_vocab_sexes[];
extern const char *const cf_vocab_age_bands[];

/*  The index of the len bytes at name in the list, or -1.                  */
int cf_vocab_stage_find(const char *name, size_t len);
int cf_vocab_family_find(const char *name, size_t len);
int cf_vocab_limit_find(const char *name, size_t len);
int cf_vocab_sex_find(const char *name, size_t len);

/*  The flags an alert.vulnerable.<flag> can name: the vulnerability flags,
    then CF_VOCAB_RISK_ALERT for a screening's high risk.                   */
#define CF_VOCAB_ALERT_FLAGS    (CF_VULN_COUNT + 1)
#define CF_VOCAB_RISK_ALERT     "risk_high"
const char *cf_vocab_alert_flag_name(int flag);

/*  Limit limit: the word of its alert's topic (alert.overdue.<word>:
    "registered", "arrived", "detained"), its default in days, and whether
    a case entering stage ends it (its open alert closes: departed and
    closed end registered_departed and detained, reintegrating and closed
    end arrived_reintegrating).                                              */
const char *cf_vocab_limit_alert(cf_limit_t limit);
unsigned cf_vocab_limit_default_days(cf_limit_t limit);
bool cf_vocab_limit_ended_by(cf_limit_t limit, cf_stage_t stage);

#endif
