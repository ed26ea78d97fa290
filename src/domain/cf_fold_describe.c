/*  cf_fold_describe: a packed case state as text, field=value pairs in the
    grammar the case hash had before states were packed (docs/storage.md,
    "Case state"), so that a person (or a test) can read what Redis holds
    for a case without knowing the byte layout. No I/O.                      */
#include "cf_fold_internal.h"
#include "caseflow/cf_alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **items;
    size_t n, cap;
} describe_list_t;

static void describe_add(describe_list_t *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void describe_add(describe_list_t *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = cf_malloc((size_t) len + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t) len + 1, fmt, ap);
    va_end(ap);
    l->items = cf_grow(l->items, &l->cap, l->n + 1, sizeof *l->items);
    l->items[l->n++] = s;
}

/* The times of one kind and country, comma-separated, as one pair. */
static void describe_times(describe_list_t *l, const fold_case_t *c, int kind, const char *name,
                           const char *country)
{
    size_t first, count;
    fold_case_times(c, kind, country, &first, &count);
    if (!count)
        return;
    size_t cap = 24 * count + 1, len = 0;
    char *list = cf_malloc(cap);
    for (size_t i = 0; i < count; i++)
        len += (size_t) snprintf(list + len, cap - len, "%s%" PRId64, i ? "," : "",
                                 c->times[first + i].t);
    if (country[0])
        describe_add(l, "%s|%s=%s", name, country, list);
    else
        describe_add(l, "%s=%s", name, list);
    free(list);
}

static int describe_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

char *cf_fold_describe_case(const void *state, size_t len)
{
    fold_case_t c;
    memset(&c, 0, sizeof c);
    char why[128];
    if (fold_case_decode(&c, state, len, why, sizeof why) < 0) {
        free(c.times), free(c.pending);
        return NULL;
    }
    describe_list_t l = { NULL, 0, 0 };
    describe_add(&l, "bits=%u", c.bits);
    describe_add(&l, "applied=%" PRIu64, c.applied);
    if (c.registered) {
        describe_add(&l, "prog=%s", c.prog);
        describe_add(&l, "n=%u", c.n);
        describe_add(&l, "org=%s", c.org);
        describe_add(&l, "host=%s", c.host);
        describe_add(&l, "route=%s", c.route);
    }
    static const char *const time_names[FOLD_TIMES] = { "rt", "dt", "at", "it" };
    for (int t = 0; t < FOLD_TIMES; t++)
        if (c.has_time & (1u << t))
            describe_add(&l, "%s=%" PRId64, time_names[t], c.time[t]);
    if (c.has_time & (1u << FOLD_AT)) {
        char day[CF_EVENT_DAY_SIZE];
        cf_event_day(c.time[FOLD_AT], day, sizeof day);
        describe_add(&l, "ad=%s", day);
    }
    if (c.risk)
        describe_add(&l, "risk=%u", c.risk);
    for (int f = 0; f < CF_VULN_COUNT; f++)
        if (c.vulns & (1u << f))
            describe_add(&l, "v|%s=1", cf_vocab_vuln_name(f));
    for (size_t i = 0; i < c.times_n; i++) {
        const fold_time_t *t = &c.times[i];
        if (i && t->kind == c.times[i - 1].kind && !strcmp(t->country, c.times[i - 1].country))
            continue;
        static const char *const kinds[FOLD_KINDS] = { "d", "r", "sm" };
        describe_times(&l, &c, t->kind, kinds[t->kind], t->country);
    }
    for (size_t i = 0; i < c.pending_n; i++)
        describe_add(&l, "q|%u|%s=%" PRId64, c.pending[i].family, c.pending[i].rest,
                     c.pending[i].value);
    for (int s = 0; s < CF_STAGE_COUNT; s++)
        if (c.waiting & (1u << s)) {
            describe_add(&l, "st|%d=%" PRId64, s, c.stage_at[s]);
            describe_add(&l, "se|%d=%s", s, c.stage_by[s]);
        }
    for (int lim = 0; lim < CF_LIMIT_COUNT; lim++) {
        if (c.due_set & (1u << lim))
            describe_add(&l, "u|%s=%" PRId64, cf_vocab_limit_name(lim), c.due[lim]);
        if (c.fired & (1u << lim))
            describe_add(&l, "o|%s=1", cf_vocab_limit_name(lim));
    }
    free(c.times), free(c.pending);
    qsort(l.items, l.n, sizeof *l.items, describe_compare);
    size_t total = 1;
    for (size_t i = 0; i < l.n; i++)
        total += strlen(l.items[i]) + 1;
    char *text = cf_malloc(total), *p = text;
    for (size_t i = 0; i < l.n; i++) {
        p += sprintf(p, "%s ", l.items[i]);
        free(l.items[i]);
    }
    *p = '\0';
    free(l.items);
    return text;
}
