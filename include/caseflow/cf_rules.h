/*  cf_rules: the notification rules, read from an INI file (deploy/rules.ini,
    docs/notifications.md).

    Milestone marks per programme, spike ratio and minimum count per route,
    overdue limits per stage, which vulnerability flags alert, and the
    pre-departure screening window, and the alert sinks caseflow-alert
    delivers notifications to ([sink.<name>] sections). A new object holds the defaults of the
    domain contract; cf_rules_load replaces them with a file's rules (keys the
    file leaves out keep their defaults) or, on any error, changes nothing, so
    that a reload that fails keeps the rules in force. The error says where
    and why ("rules.ini:7: spike.ratio: 'fast' is not a number above 0").
    cf_rules_pack writes the rules as one msgpack map for the Redis apply
    script. File in, data out: no sockets, no Redis, never prints.          */
#ifndef CF_RULES_H
#define CF_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#include "caseflow/cf_vocab.h"

#define CF_RULES_MAX_MARKS  64      /* milestone marks per programme */
#define CF_RULES_NAME_MAX   32      /* a programme's or a route's name, as in events */
#define CF_RULES_SINKS_MAX  16      /* [sink.<name>] sections */
#define CF_RULES_LIST_MAX   16      /* a sink's topics, programmes or recipients */
#define CF_RULES_TEXT_MAX   200     /* a sink's value, with its NUL: at most a line */
#define CF_RULES_PREFIX_MAX 64      /* a topic prefix */

typedef struct _cf_rules_t cf_rules_t;

/*  One milestone mark: crossed when the programme's cumulative returns reach
    mark cases (persons false) or mark persons.                               */
typedef struct {
    uint64_t mark;
    bool persons;
} cf_rules_mark_t;

/*  How a sink delivers (docs/notifications.md, "Alert sinks").             */
typedef enum {
    CF_RULES_SINK_WEBHOOK,          /* POST of the notification as JSON, HMAC-signed */
    CF_RULES_SINK_SLACK,            /* POST of {"text": summary}: Slack, Mattermost */
    CF_RULES_SINK_SMTP,             /* a mail over SMTP */
    CF_RULES_SINK_TYPES
} cf_rules_sink_type_t;

/*  One [sink.<name>] section, checked whole: the keys its type needs are
    there and no key of another type is. Lists are in file order.           */
typedef struct {
    char name[CF_RULES_NAME_MAX + 1];
    cf_rules_sink_type_t type;
    char url[CF_RULES_TEXT_MAX];                /* http(s):// or smtp(s):// */
    char topics[CF_RULES_LIST_MAX][CF_RULES_PREFIX_MAX + 1];    /* prefixes, at least one */
    size_t topics_n;
    char programmes[CF_RULES_LIST_MAX][CF_RULES_NAME_MAX + 1];  /* none: every programme */
    size_t programmes_n;
    uint64_t backoff_max_ms;                    /* the longest wait between tries */
    uint64_t give_up_after_ms;                  /* the age past which a refused one is dropped */
    char secret_file[CF_RULES_TEXT_MAX];        /* webhook: the HMAC key's file */
    char from[CF_RULES_TEXT_MAX];               /* smtp: the sender */
    char to[CF_RULES_LIST_MAX][CF_RULES_TEXT_MAX];              /* smtp: the recipients */
    size_t to_n;
    char username[CF_RULES_TEXT_MAX];           /* smtp: "" or the login */
    char password_file[CF_RULES_TEXT_MAX];      /* smtp: "" or the login's password file */
} cf_rules_sink_t;

/*  The defaults: spike ratio 1.5 and min_count 10, overdue 60d/30d/30d,
    vulnerable vot uasc health risk_high, predeparture 72h, no milestones.   */
cf_rules_t *cf_rules_new(void);

/*  Frees and nulls *self_p; accepts NULL.                                   */
void cf_rules_destroy(cf_rules_t **self_p);

/*  Replaces the rules with those of the INI file at path (absent keys take
    the defaults). Returns 0, or -1 with the rules unchanged and the reason
    in cf_rules_error: "PATH:LINE: section.key: reason", or "PATH: cannot
    open: <OS reason>".                                                       */
int cf_rules_load(cf_rules_t *self, const char *path);

/*  The last load's error, "" when it succeeded or none was tried.           */
const char *cf_rules_error(const cf_rules_t *self);

/*  The marks of programme (its own line, else the "*" line, else none), in
    file order. Returns their count and points *marks at them; valid until
    the next successful load or destroy.                                     */
size_t cf_rules_milestones(const cf_rules_t *self, const char *programme,
                           const cf_rules_mark_t **marks);

/*  The spike rule of route (NULL: the default): its [spike.<route>] values
    where given, the [spike] ones otherwise.                                 */
void cf_rules_spike(const cf_rules_t *self, const char *route, double *ratio,
                    uint64_t *min_count);

/*  An overdue limit (cf_vocab.h) in milliseconds.                           */
uint64_t cf_rules_overdue_ms(const cf_rules_t *self, cf_limit_t limit);

/*  Whether a case registered or screened with flag alerts (flag is one of
    vot uasc health disability elderly pregnant single_parent risk_high).    */
bool cf_rules_vulnerable(const cf_rules_t *self, const char *flag);

/*  The window before a departure in which a medical screening must have
    happened, in milliseconds.                                               */
uint64_t cf_rules_predeparture_ms(const cf_rules_t *self);

/*  The sinks of the file, in file order: their count, and the i-th (NULL
    past the last); valid until the next successful load or destroy.       */
size_t cf_rules_sink_count(const cf_rules_t *self);
const cf_rules_sink_t *cf_rules_sink(const cf_rules_t *self, size_t i);

/*  "webhook", "slack" or "smtp".                                            */
const char *cf_rules_sink_type_name(cf_rules_sink_type_t type);

/*  Whether sink takes a notification of topic whose body names programme
    (NULL when it names none): the topic starts with one of its prefixes
    and, when it lists programmes, the programme is one of them.            */
bool cf_rules_sink_selects(const cf_rules_sink_t *sink, const char *topic,
                           const char *programme);

/*  Appends the rules to out as one msgpack map (shape in
    docs/notifications.md).                                                  */
void cf_rules_pack(const cf_rules_t *self, msgpack_sbuffer *out);

/*  The rules as a few lines of text for an operator, one per section (and
    one per sink); the caller frees it.                                                         */
char *cf_rules_describe(const cf_rules_t *self);

#endif
