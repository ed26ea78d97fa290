/*  cf_rules_sink: the [sink.<name>] sections of a rules file, where
    caseflow-alert delivers notifications (docs/notifications.md, "Alert
    sinks"). A sink's keys may come in any order, so a key is checked on its
    own as it is read (its value, given once) and the section as a whole once
    the file is read: the type is given, every key the type needs is there,
    no key of another type is, and the URL's scheme fits the type. File in,
    data out, like the rest of cf_rules: no sockets, no secrets read.        */
#include "cf_rules_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define RULES_BACKOFF_DEFAULT_MS    (5 * 60 * 1000ULL)
#define RULES_BACKOFF_MIN_MS        1000ULL
#define RULES_BACKOFF_MAX_MS        (24 * 3600 * 1000ULL)
/* below the outboxes' hour of retention (CF_OUTBOX_RETENTION_MS), so that a
   sink held by one notification its receiver refuses moves on before the
   notifications behind it are trimmed */
#define RULES_GIVE_UP_DEFAULT_MS    (30 * 60 * 1000ULL)
#define RULES_GIVE_UP_MIN_MS        1000ULL
#define RULES_GIVE_UP_MAX_MS        (7 * 24 * 3600 * 1000ULL)
#define ALL_TYPES                   ((1u << CF_RULES_SINK_TYPES) - 1)
#define ONLY(type)                  (1u << (type))

static const char *s_type_names[CF_RULES_SINK_TYPES] = { "webhook", "slack", "smtp" };

/*  The keys: which types take each (bits of cf_rules_sink_type_t) and which
    need it.                                                                 */
static const struct {
    const char *name;
    unsigned types, required;
} s_keys[RULES_SINK_KEYS] = {
    [RULES_SINK_TYPE] = { "type", ALL_TYPES, ALL_TYPES },
    [RULES_SINK_URL] = { "url", ALL_TYPES, ALL_TYPES },
    [RULES_SINK_TOPICS] = { "topics", ALL_TYPES, ALL_TYPES },
    [RULES_SINK_PROGRAMMES] = { "programmes", ALL_TYPES, 0 },
    [RULES_SINK_BACKOFF_MAX] = { "backoff_max", ALL_TYPES, 0 },
    [RULES_SINK_SECRET_FILE] = { "secret_file", ONLY(CF_RULES_SINK_WEBHOOK),
                                 ONLY(CF_RULES_SINK_WEBHOOK) },
    [RULES_SINK_FROM] = { "from", ONLY(CF_RULES_SINK_SMTP), ONLY(CF_RULES_SINK_SMTP) },
    [RULES_SINK_TO] = { "to", ONLY(CF_RULES_SINK_SMTP), ONLY(CF_RULES_SINK_SMTP) },
    [RULES_SINK_USERNAME] = { "username", ONLY(CF_RULES_SINK_SMTP), 0 },
    [RULES_SINK_PASSWORD_FILE] = { "password_file", ONLY(CF_RULES_SINK_SMTP), 0 },
    [RULES_SINK_GIVE_UP_AFTER] = { "give_up_after", ALL_TYPES, 0 },
};

/*  The topic roots a prefix must lead to (docs/notifications.md, Topics);
    reject and stats never pass through the outboxes.                       */
static const char *s_roots[] = { "case.", "alert.", "milestone." };
#define S_ROOTS (sizeof s_roots / sizeof s_roots[0])

static rules_sink_t *sink_find(const rules_set_t *set, const char *name, size_t len)
{
    for (size_t i = 0; i < set->sinks_n; i++)
        if (strlen(set->sinks[i].sink.name) == len && !strncmp(set->sinks[i].sink.name, name, len))
            return &set->sinks[i];
    return NULL;
}

int rules_sink_open(rules_set_t *set, const char *name, size_t len, int line, char *why,
                    size_t n)
{
    if (!rules_name_ok(name, len, false))
        return rules_fail(why, n, "'%.*s' is not a sink name ([A-Za-z0-9_-], 1 to %d characters)",
                         (int) len, name, CF_RULES_NAME_MAX);
    if (sink_find(set, name, len))
        return 0;                       /* a section opened again */
    if (set->sinks_n == CF_RULES_SINKS_MAX)
        return rules_fail(why, n, "more than %d sinks", CF_RULES_SINKS_MAX);
    set->sinks = cf_grow(set->sinks, &set->sinks_cap, set->sinks_n + 1, sizeof *set->sinks);
    rules_sink_t *sink = &set->sinks[set->sinks_n++];
    memset(sink, 0, sizeof *sink);
    memcpy(sink->sink.name, name, len);
    sink->sink.backoff_max_ms = RULES_BACKOFF_DEFAULT_MS;
    sink->sink.give_up_after_ms = RULES_GIVE_UP_DEFAULT_MS;
    sink->line = line;
    return 0;
}

/*  Printable ASCII without white space: a URL, a file name, a login.        */
static bool sink_token_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s >= 0x7f)
            return false;
    return true;
}

/*  A mail address as SMTP's MAIL FROM and RCPT TO carry it: local@domain,
    printable, none of the characters that would end or quote it.           */
static bool sink_address_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (!sink_token_ok(s) || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return false;
    return strpbrk(s, "<>,;\"()[]\\") == NULL;
}

static bool sink_prefix_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > CF_RULES_PREFIX_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]))
            return false;
    for (size_t i = 0; i < S_ROOTS; i++) {
        size_t root = strlen(s_roots[i]);
        if (!strncmp(s, s_roots[i], len < root ? len : root))
            return true;
    }
    return false;
}

/*  A list value into items, each checked by ok; what names an item in the
    error ("a topic prefix ...").                                            */
static int sink_list(const char *value, char *items, size_t size, size_t *count,
                     bool (*ok)(const char *), const char *what, char *why, size_t n)
{
    if (rules_value_list(value, items, size, CF_RULES_LIST_MAX, count, why, n) < 0)
        return -1;
    for (size_t i = 0; i < *count; i++)
        if (!ok(items + i * size))
            return rules_fail(why, n, "'%s' is not %s", items + i * size, what);
    return 0;
}

static bool sink_programme_ok(const char *s)
{
    return rules_name_ok(s, strlen(s), false);
}

/*  A single value: a token, or a mail address.                              */
static int sink_text(const char *value, char out[CF_RULES_TEXT_MAX], bool (*ok)(const char *),
                     const char *what, char *why, size_t n)
{
    if (!ok(value) || strlen(value) >= CF_RULES_TEXT_MAX)
        return rules_fail(why, n, "'%s' is not %s", value, what);
    strcpy(out, value);
    return 0;
}

static int sink_value(cf_rules_sink_t *sink, rules_sink_key_t key, const char *value, char *why,
                      size_t n)
{
    switch (key) {
    case RULES_SINK_TYPE:
        for (int t = 0; t < CF_RULES_SINK_TYPES; t++)
            if (!strcmp(value, s_type_names[t])) {
                sink->type = (cf_rules_sink_type_t) t;
                return 0;
            }
        return rules_fail(why, n, "'%s' is not a sink type (webhook, slack, smtp)", value);
    case RULES_SINK_URL:
        return sink_text(value, sink->url, sink_token_ok, "a URL", why, n);
    case RULES_SINK_TOPICS:
        return sink_list(value, sink->topics[0], sizeof sink->topics[0], &sink->topics_n,
                         sink_prefix_ok, "a topic prefix (of case.<programme>.<stage>, "
                         "alert.<kind>... or milestone.<programme>; [A-Za-z0-9_.-], 1 to 64 "
                         "characters)", why, n);
    case RULES_SINK_PROGRAMMES:
        return sink_list(value, sink->programmes[0], sizeof sink->programmes[0],
                         &sink->programmes_n, sink_programme_ok, "a programme name "
                         "([A-Za-z0-9_-], 1 to 32 characters)", why, n);
    case RULES_SINK_BACKOFF_MAX:
        if (rules_value_duration(value, &sink->backoff_max_ms, why, n) < 0)
            return -1;
        if (sink->backoff_max_ms < RULES_BACKOFF_MIN_MS || sink->backoff_max_ms > RULES_BACKOFF_MAX_MS)
            return rules_fail(why, n, "'%s' is not from 1s to 1d", value);
        return 0;
    case RULES_SINK_GIVE_UP_AFTER:
        if (rules_value_duration(value, &sink->give_up_after_ms, why, n) < 0)
            return -1;
        if (sink->give_up_after_ms < RULES_GIVE_UP_MIN_MS
            || sink->give_up_after_ms > RULES_GIVE_UP_MAX_MS)
            return rules_fail(why, n, "'%s' is not from 1s to 7d (the age of a notification "
                              "its receiver refuses, past which the sink gives it up)", value);
        return 0;
    case RULES_SINK_SECRET_FILE:
        return sink_text(value, sink->secret_file, sink_token_ok, "a file name", why, n);
    case RULES_SINK_FROM:
        return sink_text(value, sink->from, sink_address_ok, "a mail address (local@domain)",
                         why, n);
    case RULES_SINK_TO:
        return sink_list(value, sink->to[0], sizeof sink->to[0], &sink->to_n, sink_address_ok,
                         "a mail address (local@domain)", why, n);
    case RULES_SINK_USERNAME:
        return sink_text(value, sink->username, sink_token_ok, "a login (no white space)", why,
                         n);
    case RULES_SINK_PASSWORD_FILE:
        return sink_text(value, sink->password_file, sink_token_ok, "a file name", why, n);
    default:
        assert(0);
        return -1;
    }
}

int rules_sink_key(rules_set_t *set, const char *name, const char *key, const char *value,
                   int line, char *why, size_t n)
{
    rules_sink_t *sink = sink_find(set, name, strlen(name));
    /* its heading opened it, unless the heading was one our line watch did
       not see as one (inih's, after a stray carriage return, say) */
    if (!sink && (rules_sink_open(set, name, strlen(name), line, why, n) < 0
                  || !(sink = sink_find(set, name, strlen(name)))))
        return -1;
    int id = 0;
    while (id < RULES_SINK_KEYS && strcmp(s_keys[id].name, key))
        id++;
    if (id == RULES_SINK_KEYS)
        return rules_fail(why, n, "unknown key (type, url, topics, programmes, backoff_max, "
                         "secret_file, from, to, username, password_file, give_up_after)");
    if (sink->key_lines[id])
        return rules_fail(why, n, "duplicate key (first on line %d)", sink->key_lines[id]);
    if (sink_value(&sink->sink, (rules_sink_key_t) id, value, why, n) < 0)
        return -1;
    sink->key_lines[id] = line;
    return 0;
}

/*  The keys a type needs, as "type, url, topics, secret_file".               */
static void sink_needs(cf_rules_sink_type_t type, char *out, size_t size)
{
    *out = '\0';
    for (int k = 0; k < RULES_SINK_KEYS; k++)
        if (s_keys[k].required & ONLY(type))
            snprintf(out + strlen(out), size - strlen(out), "%s%s", *out ? ", " : "",
                     s_keys[k].name);
}

/*  One sink's whole-section checks; 0, or -1 with the error in err.         */
static int sink_check(const rules_sink_t *s, const char *path, char *err, size_t n)
{
    const cf_rules_sink_t *sink = &s->sink;
    if (!s->key_lines[RULES_SINK_TYPE]) {
        snprintf(err, n, "%s:%d: sink.%s: missing key type (webhook, slack or smtp)", path,
                 s->line, sink->name);
        return -1;
    }
    const char *type = s_type_names[sink->type];
    for (int k = 0; k < RULES_SINK_KEYS; k++)
        if (s->key_lines[k] && !(s_keys[k].types & ONLY(sink->type))) {
            snprintf(err, n, "%s:%d: sink.%s.%s: not a key of a %s sink", path, s->key_lines[k],
                     sink->name, s_keys[k].name, type);
            return -1;
        }
    char needs[128];
    sink_needs(sink->type, needs, sizeof needs);
    for (int k = 0; k < RULES_SINK_KEYS; k++)
        if (!s->key_lines[k] && (s_keys[k].required & ONLY(sink->type))) {
            snprintf(err, n, "%s:%d: sink.%s: missing key %s (a %s sink needs %s)", path,
                     s->line, sink->name, s_keys[k].name, type, needs);
            return -1;
        }
    bool mail = sink->type == CF_RULES_SINK_SMTP;
    if (mail ? strncmp(sink->url, "smtp://", 7) && strncmp(sink->url, "smtps://", 8)
             : strncmp(sink->url, "http://", 7) && strncmp(sink->url, "https://", 8)) {
        snprintf(err, n, "%s:%d: sink.%s.url: '%s' is not a %s URL of a %s sink", path,
                 s->key_lines[RULES_SINK_URL], sink->name, sink->url,
                 mail ? "smtp:// or smtps://" : "http:// or https://", type);
        return -1;
    }
    if (!s->key_lines[RULES_SINK_USERNAME] != !s->key_lines[RULES_SINK_PASSWORD_FILE]) {
        int line = s->key_lines[RULES_SINK_USERNAME] + s->key_lines[RULES_SINK_PASSWORD_FILE];
        snprintf(err, n, "%s:%d: sink.%s: username and password_file go together", path, line,
                 sink->name);
        return -1;
    }
    return 0;
}

int rules_sinks_check(const rules_set_t *set, const char *path, char *err, size_t n)
{
    for (size_t i = 0; i < set->sinks_n; i++)
        if (sink_check(&set->sinks[i], path, err, n) < 0)
            return -1;
    return 0;
}

void rules_sinks_describe(FILE *out, const rules_set_t *set)
{
    for (size_t i = 0; i < set->sinks_n; i++) {
        const cf_rules_sink_t *sink = &set->sinks[i].sink;
        fprintf(out, "sink %s: %s %s, topics", sink->name, s_type_names[sink->type], sink->url);
        for (size_t t = 0; t < sink->topics_n; t++)
            fprintf(out, "%s %s", t ? "," : "", sink->topics[t]);
        if (sink->programmes_n)
            fputs(", programmes", out);
        for (size_t p = 0; p < sink->programmes_n; p++)
            fprintf(out, "%s %s", p ? "," : "", sink->programmes[p]);
        for (size_t t = 0; t < sink->to_n; t++)
            fprintf(out, "%s %s", t ? "," : ", to", sink->to[t]);
        fputs("\n", out);
    }
}

const char *cf_rules_sink_type_name(cf_rules_sink_type_t type)
{
    assert(type >= 0 && type < CF_RULES_SINK_TYPES);
    return s_type_names[type];
}

bool cf_rules_sink_selects(const cf_rules_sink_t *sink, const char *topic,
                           const char *programme)
{
    assert(sink && topic);
    bool topic_ok = false;
    for (size_t i = 0; i < sink->topics_n && !topic_ok; i++)
        topic_ok = !strncmp(topic, sink->topics[i], strlen(sink->topics[i]));
    if (!topic_ok || !sink->programmes_n)
        return topic_ok;
    for (size_t i = 0; programme && i < sink->programmes_n; i++)
        if (!strcmp(programme, sink->programmes[i]))
            return true;
    return false;
}
