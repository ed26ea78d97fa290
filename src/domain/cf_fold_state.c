/*  cf_fold_state: a case's and a route's state packed as Redis keeps them,
    small (the 200 bytes per open case): a format byte, then fixed
    bytes and LEB128 varints (signed ones zigzagged), strings as a length
    byte and their bytes, and only what is present. Lists are kept sorted so
    that the same facts pack to the same bytes whatever order the events
    came in. Decoding checks every byte and never reads past the end: any
    input is either a state or an error.

    Case, format 2:
      u8 2, u8 stage bits, u8 vulnerability flags,
      u8 registered | risk << 1 | fired limits << 3,
      u8 times present (rt dt at it) | limits in the deadline set << 4 | lists << 7,
      varint events applied (every new event changes the state: the commit's
      guard on it then also stands for the markers of the case's events),
      registered: str prog, varint persons, str origin, str host, str route,
      svarint per time present, svarint per deadline set,
      lists: varint n, n x (u8 kind, str country, svarint t),
             varint n, n x (u8 family, str rest, svarint value),
             u8 stages entered before the registration, per stage (svarint at, str event_id).
    Route, format 1:
      u8 1, u8 marked, svarint latest day, 35 x varint count (latest-34 .. latest). */
#include "cf_fold_internal.h"
#include "cf_event_internal.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fold_bytes_set(fold_bytes_t *b, const void *data, size_t len)
{
    b->data = cf_grow(b->data, &b->cap, len + 1, 1);
    if (len)
        memcpy(b->data, data, len);
    b->len = len;
}

void fold_bytes_free(fold_bytes_t *b)
{
    free(b->data);
    *b = (fold_bytes_t) { 0 };
}

void fold_case_clear(fold_case_t *c)
{
    fold_case_t keep = *c;
    memset(c, 0, offsetof(fold_case_t, times));
    c->times = keep.times, c->times_cap = keep.times_cap, c->times_n = 0;
    c->pending = keep.pending, c->pending_cap = keep.pending_cap, c->pending_n = 0;
    c->touched = false;
    c->before.len = c->after.len = 0;
}

void fold_route_clear(fold_route_t *r)
{
    fold_bytes_t before = r->before, after = r->after;
    memset(r, 0, sizeof *r);
    r->before = before, r->after = after;
    r->before.len = r->after.len = 0;
}

/* ---- lists ---------------------------------------------------------------------- */

static int time_cmp(const fold_time_t *a, int kind, const char *country, int64_t t)
{
    if (a->kind != kind)
        return a->kind < kind ? -1 : 1;
    int c = strcmp(a->country, country);
    if (c)
        return c;
    return a->t < t ? -1 : a->t > t;
}

void fold_case_add_time(fold_case_t *c, int kind, const char *country, int64_t t)
{
    c->times = cf_grow(c->times, &c->times_cap, c->times_n + 1, sizeof *c->times);
    size_t at = c->times_n;
    while (at > 0 && time_cmp(&c->times[at - 1], kind, country, t) > 0)
        at--;
    memmove(c->times + at + 1, c->times + at, (c->times_n - at) * sizeof *c->times);
    c->times[at] = (fold_time_t) { .t = t, .kind = (uint8_t) kind };
    snprintf(c->times[at].country, sizeof c->times[at].country, "%s", country);
    c->times_n++;
}

void fold_case_times(const fold_case_t *c, int kind, const char *country, size_t *first,
                     size_t *n)
{
    size_t i = 0;
    while (i < c->times_n && (c->times[i].kind < kind
                              || (c->times[i].kind == kind && strcmp(c->times[i].country, country) < 0)))
        i++;
    *first = i;
    while (i < c->times_n && c->times[i].kind == kind && !strcmp(c->times[i].country, country))
        i++;
    *n = i - *first;
}

int64_t *fold_case_pending(fold_case_t *c, int family, const char *rest)
{
    size_t at = 0;
    for (; at < c->pending_n; at++) {
        int cmp = c->pending[at].family != family ? (c->pending[at].family < family ? -1 : 1)
                                                  : strcmp(c->pending[at].rest, rest);
        if (cmp == 0)
            return &c->pending[at].value;
        if (cmp > 0)
            break;
    }
    c->pending = cf_grow(c->pending, &c->pending_cap, c->pending_n + 1, sizeof *c->pending);
    memmove(c->pending + at + 1, c->pending + at, (c->pending_n - at) * sizeof *c->pending);
    c->pending_n++;
    fold_pending_t *p = &c->pending[at];
    p->family = (uint8_t) family;
    p->value = 0;
    size_t len = strlen(rest);
    assert(len < sizeof p->rest);
    memcpy(p->rest, rest, len + 1);
    return &p->value;
}

/* ---- writing ---------------------------------------------------------------------- */

static void put_byte(fold_bytes_t *b, unsigned v)
{
    b->data = cf_grow(b->data, &b->cap, b->len + 1, 1);
    b->data[b->len++] = (uint8_t) v;
}

static void put_varint(fold_bytes_t *b, uint64_t v)
{
    do {
        put_byte(b, (unsigned) (v & 0x7f) | (v > 0x7f ? 0x80u : 0));
        v >>= 7;
    } while (v);
}

static void put_svarint(fold_bytes_t *b, int64_t v)
{
    put_varint(b, ((uint64_t) v << 1) ^ (uint64_t) (v >> 63));
}

static void put_str(fold_bytes_t *b, const char *s)
{
    size_t len = strlen(s);
    assert(len <= 255);
    put_byte(b, (unsigned) len);
    b->data = cf_grow(b->data, &b->cap, b->len + len, 1);
    memcpy(b->data + b->len, s, len);
    b->len += len;
}

static bool case_empty(const fold_case_t *c)
{
    return !c->registered && !c->bits && !c->vulns && !c->risk && !c->has_time && !c->due_set
        && !c->fired && !c->waiting && !c->times_n && !c->pending_n && !c->applied;
}

void fold_case_encode(const fold_case_t *c, fold_bytes_t *out)
{
    out->len = 0;
    if (case_empty(c))
        return;
    bool lists = c->times_n || c->pending_n || c->waiting;
    put_byte(out, FOLD_CASE_V2);
    put_byte(out, c->bits);
    put_byte(out, c->vulns);
    put_byte(out, (unsigned) c->registered | (unsigned) c->risk << 1 | (unsigned) c->fired << 3);
    put_byte(out, c->has_time | (unsigned) c->due_set << 4 | (unsigned) lists << 7);
    put_varint(out, c->applied);
    if (c->registered) {
        put_str(out, c->prog);
        put_varint(out, c->n);
        put_str(out, c->org);
        put_str(out, c->host);
        put_str(out, c->route);
    }
    for (int t = 0; t < FOLD_TIMES; t++)
        if (c->has_time & (1u << t))
            put_svarint(out, c->time[t]);
    for (int l = 0; l < CF_LIMIT_COUNT; l++)
        if (c->due_set & (1u << l))
            put_svarint(out, c->due[l]);
    if (!lists)
        return;
    put_varint(out, c->times_n);
    for (size_t i = 0; i < c->times_n; i++) {
        put_byte(out, c->times[i].kind);
        put_str(out, c->times[i].country);
        put_svarint(out, c->times[i].t);
    }
    put_varint(out, c->pending_n);
    for (size_t i = 0; i < c->pending_n; i++) {
        put_byte(out, c->pending[i].family);
        put_str(out, c->pending[i].rest);
        put_svarint(out, c->pending[i].value);
    }
    put_byte(out, c->waiting);
    for (int s = 0; s < CF_STAGE_COUNT; s++)
        if (c->waiting & (1u << s)) {
            put_svarint(out, c->stage_at[s]);
            put_str(out, c->stage_by[s]);
        }
}

void fold_route_encode(const fold_route_t *r, fold_bytes_t *out)
{
    out->len = 0;
    put_byte(out, FOLD_STATE_V1);
    put_byte(out, r->marked);
    put_svarint(out, r->latest);
    for (int d = 0; d < FOLD_WINDOW; d++)
        put_varint(out, (uint64_t) r->count[d]);
}

/* ---- reading ---------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t len, at;
    const char *why;            /* the first failure */
} reader_t;

static unsigned get_byte(reader_t *r)
{
    if (r->at >= r->len) {
        r->why = r->why ? r->why : "cut short";
        return 0;
    }
    return r->p[r->at++];
}

static uint64_t get_varint(reader_t *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        unsigned b = get_byte(r);
        if (shift == 63 && b > 1)
            break;
        v |= (uint64_t) (b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->why = r->why ? r->why : "a number is too long";
    return 0;
}

static int64_t get_svarint(reader_t *r)
{
    uint64_t v = get_varint(r);
    return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

/* A time as events give them (0 .. CF_EVENT_TIME_MAX), so that sums of
   them cannot overflow. */
static int64_t get_time(reader_t *r)
{
    int64_t t = get_svarint(r);
    if (t < 0 || t > CF_EVENT_TIME_MAX)
        r->why = r->why ? r->why : "a time out of range";
    return t;
}

/* A string of 1..max bytes (min 0 allows ""), no NUL. */
static void get_str(reader_t *r, char *out, size_t max, size_t min)
{
    size_t len = get_byte(r);
    out[0] = '\0';
    if (r->why)
        return;
    if (len < min || len > max || len > r->len - r->at || memchr(r->p + r->at, 0, len)) {
        r->why = "a bad string";
        return;
    }
    memcpy(out, r->p + r->at, len);
    out[len] = '\0';
    r->at += len;
}

static void check(reader_t *r, bool ok, const char *why)
{
    if (!ok && !r->why)
        r->why = why;
}

static int reader_end(reader_t *r, char *why, size_t why_size)
{
    check(r, r->at == r->len, "bytes after the state");
    if (!r->why)
        return 0;
    snprintf(why, why_size, "not a packed state: %s at byte %zu", r->why, r->at);
    return -1;
}

static void decode_lists(reader_t *r, fold_case_t *c)
{
    uint64_t n = get_varint(r);
    check(r, n <= r->len - r->at, "too many times");
    for (uint64_t i = 0; i < n && !r->why; i++) {
        fold_time_t t = { .kind = (uint8_t) get_byte(r) };
        get_str(r, t.country, 3, 0);
        t.t = get_time(r);
        check(r, t.kind < FOLD_KINDS, "a bad kind of time");
        check(r, i == 0 || time_cmp(&c->times[i - 1], t.kind, t.country, t.t) <= 0,
              "times out of order");
        if (r->why)
            break;
        c->times = cf_grow(c->times, &c->times_cap, c->times_n + 1, sizeof *c->times);
        c->times[c->times_n++] = t;
    }
    n = get_varint(r);
    check(r, n <= r->len - r->at, "too many counters");
    for (uint64_t i = 0; i < n && !r->why; i++) {
        c->pending = cf_grow(c->pending, &c->pending_cap, c->pending_n + 1, sizeof *c->pending);
        fold_pending_t *p = &c->pending[c->pending_n];
        p->family = (uint8_t) get_byte(r);
        get_str(r, p->rest, FOLD_REST_MAX - 1, 1);
        p->value = get_svarint(r);
        check(r, p->family < CF_FAMILY_COUNT, "a bad family");
        check(r, i == 0 || p[-1].family < p->family
                 || (p[-1].family == p->family && strcmp(p[-1].rest, p->rest) < 0),
              "counters out of order");
        c->pending_n += !r->why;
    }
    c->waiting = (uint8_t) get_byte(r);
    check(r, c->waiting < (1u << CF_STAGE_COUNT), "bad waiting stages");
    for (int s = 0; s < CF_STAGE_COUNT && !r->why; s++)
        if (c->waiting & (1u << s)) {
            c->stage_at[s] = get_time(r);
            get_str(r, c->stage_by[s], CF_EVENT_ID_MAX, 1);
        }
}

int fold_case_decode(fold_case_t *c, const uint8_t *p, size_t len, char *why, size_t why_size)
{
    if (len == 0)
        return 0;               /* a case not seen before */
    reader_t r = { p, len, 0, NULL };
    check(&r, get_byte(&r) == FOLD_CASE_V2, "an unknown format");
    c->bits = (uint8_t) get_byte(&r);
    c->vulns = (uint8_t) get_byte(&r);
    unsigned flags = get_byte(&r), present = get_byte(&r);
    check(&r, c->bits < (1u << CF_STAGE_COUNT) && c->vulns < (1u << CF_VULN_COUNT),
          "bad stages or flags");
    check(&r, flags < (1u << (3 + CF_LIMIT_COUNT)), "bad flags");
    c->registered = flags & 1;
    c->risk = (uint8_t) (flags >> 1 & 3);
    c->fired = (uint8_t) (flags >> 3);
    c->has_time = (uint8_t) (present & 0x0f);
    c->applied = get_varint(&r);
    c->due_set = (uint8_t) (present >> 4 & 7);
    if (c->registered && !r.why) {
        get_str(&r, c->prog, CF_PROGRAMME_MAX, 1);
        uint64_t n = get_varint(&r);
        check(&r, n >= 1 && n <= 1000, "bad persons");
        c->n = (uint16_t) n;
        get_str(&r, c->org, 3, 1);
        get_str(&r, c->host, 3, 1);
        get_str(&r, c->route, CF_ROUTE_MAX, 1);
    }
    for (int t = 0; t < FOLD_TIMES && !r.why; t++)
        if (c->has_time & (1u << t))
            c->time[t] = get_time(&r);
    for (int l = 0; l < CF_LIMIT_COUNT && !r.why; l++)
        if (c->due_set & (1u << l))
            c->due[l] = get_svarint(&r);
    if ((present & 0x80) && !r.why)
        decode_lists(&r, c);
    return reader_end(&r, why, why_size);
}

int fold_route_decode(fold_route_t *rt, const uint8_t *p, size_t len, char *why, size_t why_size)
{
    if (len == 0)
        return 0;               /* a route not seen before */
    reader_t r = { p, len, 0, NULL };
    check(&r, get_byte(&r) == FOLD_STATE_V1, "an unknown format");
    unsigned marked = get_byte(&r);
    check(&r, marked <= 1, "bad mark");
    rt->marked = marked;
    rt->latest = get_svarint(&r);
    check(&r, rt->latest >= 0 && rt->latest <= CF_EVENT_TIME_MAX / 86400000, "a day out of range");
    for (int d = 0; d < FOLD_WINDOW && !r.why; d++) {
        uint64_t n = get_varint(&r);
        check(&r, n <= INT64_MAX, "a count too large");
        rt->count[d] = (int64_t) n;
    }
    return reader_end(&r, why, why_size);
}
