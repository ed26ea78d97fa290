/*  Shared by cf_rules.c (the object, getters, pack), cf_rules_parse.c (the
    INI file), cf_rules_value.c (its values) and cf_rules_sink.c (the
    [sink.<name>] sections): one complete set of rules.
    A load parses into a fresh set and swaps it in only when the whole file
    is good.                                                                 */
#ifndef CF_RULES_INTERNAL_H
#define CF_RULES_INTERNAL_H

#include "caseflow/cf_rules.h"

#include <stdio.h>


typedef struct {
    char name[CF_RULES_NAME_MAX + 1];   /* or "*" */
    int line;                           /* where the file set it */
    size_t count;
    cf_rules_mark_t marks[CF_RULES_MAX_MARKS];
} rules_programme_t;

typedef struct {
    char name[CF_RULES_NAME_MAX + 1];
    double ratio;
    uint64_t min_count;
    int ratio_line, min_count_line;     /* 0 = not given: the [spike] value */
} rules_route_t;

/*  The keys of the fixed sections, for duplicate checks.                    */
typedef enum {
    RULES_KEY_RATIO, RULES_KEY_MIN_COUNT,
    RULES_KEY_OVERDUE,                  /* + cf_limit_t */
    RULES_KEY_FLAGS = RULES_KEY_OVERDUE + CF_LIMIT_COUNT,
    RULES_KEY_WINDOW,
    RULES_KEYS
} rules_key_t;

/*  A sink's keys, for duplicate and type checks (cf_rules_sink.c).          */
typedef enum {
    RULES_SINK_TYPE, RULES_SINK_URL, RULES_SINK_TOPICS, RULES_SINK_PROGRAMMES,
    RULES_SINK_BACKOFF_MAX, RULES_SINK_SECRET_FILE, RULES_SINK_FROM, RULES_SINK_TO,
    RULES_SINK_USERNAME, RULES_SINK_PASSWORD_FILE, RULES_SINK_GIVE_UP_AFTER,
    RULES_SINK_KEYS
} rules_sink_key_t;

typedef struct {
    cf_rules_sink_t sink;
    int line;                           /* of its first heading */
    int key_lines[RULES_SINK_KEYS];     /* where the file set each; 0 = not */
} rules_sink_t;

typedef struct {
    rules_programme_t *programmes;      /* file order */
    size_t programmes_n, programmes_cap;
    rules_route_t *routes;              /* file order */
    size_t routes_n, routes_cap;
    double ratio;
    uint64_t min_count;
    uint64_t overdue_ms[CF_LIMIT_COUNT];
    unsigned vulnerable;                /* bit i: cf_vocab_alert_flag_name(i) alerts */
    uint64_t predeparture_ms;
    int key_lines[RULES_KEYS];          /* where the file set each; 0 = not */
    rules_sink_t *sinks;                /* file order */
    size_t sinks_n, sinks_cap;
} rules_set_t;

/*  A set with the defaults; rules_set_free accepts NULL.                    */
rules_set_t *rules_set_new(void);
void rules_set_free(rules_set_t *set);

/*  Reads the file at path into set. 0, or -1 with the message in err
    (cf_rules_parse.c).                                                      */
int rules_parse(rules_set_t *set, const char *path, char *err, size_t n);

/*  The values of the file (cf_rules_value.c): 0, or -1 with the reason in
    why ("'fast' is not a number above 0"). On -1 *out may be half-written. */
/*  Writes the reason (printf-style) into why and returns -1.              */
int rules_fail(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool rules_name_ok(const char *s, size_t len, bool star);  /* [A-Za-z0-9_-]{1,32}, or * */
int rules_value_count(const char *value, uint64_t *out, char *why, size_t n);
int rules_value_ratio(const char *value, double *out, char *why, size_t n);
int rules_value_duration(const char *value, uint64_t *out, char *why, size_t n);
int rules_value_flags(const char *value, unsigned *out, char *why, size_t n);
int rules_value_marks(const char *value, cf_rules_mark_t marks[CF_RULES_MAX_MARKS],
                      size_t *count, char *why, size_t n);

/*  The sinks (cf_rules_sink.c). rules_sink_open finds or adds the sink of
    a [sink.<name>] heading on line; rules_sink_key reads one of its keys.
    Both 0, or -1 with the reason in why. rules_sinks_check runs after the
    whole file is read: 0, or -1 with "PATH:LINE: sink.<name>[.key]: reason"
    in err.                                                                  */
int rules_sink_open(rules_set_t *set, const char *name, size_t len, int line, char *why,
                    size_t n);
int rules_sink_key(rules_set_t *set, const char *name, const char *key, const char *value,
                   int line, char *why, size_t n);
int rules_sinks_check(const rules_set_t *set, const char *path, char *err, size_t n);
/*  One line per sink for cf_rules_describe.                                 */
void rules_sinks_describe(FILE *out, const rules_set_t *set);

/*  The items of a comma-separated list value into items (count at most
    max, each under size bytes): 0, or -1 with the reason in why. Empty
    items, too many or too long ones are errors (cf_rules_value.c).        */
int rules_value_list(const char *value, char *items, size_t size, size_t max, size_t *count,
                     char *why, size_t n);

#endif
