/*  cf_rules: the object, its getters, the msgpack form for the workers' fold
    and the operator's summary; the file is read by cf_rules_parse.c. The
    rules live in one rules_set_t that a load replaces whole, so a failed
    load leaves the old set in place and a getter never sees half a file.  */
#include "cf_rules_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_HOUR_MS   3600000ULL
#define RULES_DAY_MS    (24 * RULES_HOUR_MS)

struct _cf_rules_t {
    rules_set_t *set;
    char error[1024];
};

/*  The domain contract's defaults (docs/domain.md, Notifications): the
    spike's minimum is the publication threshold.                           */
rules_set_t *rules_set_new(void)
{
    rules_set_t *set = cf_calloc(1, sizeof *set);
    set->ratio = 1.5;
    set->min_count = 10;
    for (int limit = 0; limit < CF_LIMIT_COUNT; limit++)
        set->overdue_ms[limit] = cf_vocab_limit_default_days((cf_limit_t) limit) * RULES_DAY_MS;
    set->vulnerable = 1u << CF_VULN_VOT | 1u << CF_VULN_UASC | 1u << CF_VULN_HEALTH
                    | 1u << CF_VULN_COUNT;      /* the last alert flag: risk_high */
    set->predeparture_ms = 72 * RULES_HOUR_MS;
    return set;
}

void rules_set_free(rules_set_t *set)
{
    if (!set)
        return;
    free(set->programmes);
    free(set->routes);
    free(set->sinks);
    free(set);
}

cf_rules_t *cf_rules_new(void)
{
    cf_rules_t *self = cf_calloc(1, sizeof *self);
    self->set = rules_set_new();
    return self;
}

void cf_rules_destroy(cf_rules_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rules_set_free((*self_p)->set);
    free(*self_p);
    *self_p = NULL;
}

int cf_rules_load(cf_rules_t *self, const char *path)
{
    assert(self && path);
    rules_set_t *set = rules_set_new();
    if (rules_parse(set, path, self->error, sizeof self->error) < 0) {
        rules_set_free(set);
        return -1;
    }
    rules_set_free(self->set);
    self->set = set;
    self->error[0] = '\0';
    return 0;
}

/* The set the object holds now. */
static const rules_set_t *rules_set_of(const cf_rules_t *self)
{
    assert(self);
    return self->set;
}

const char *cf_rules_error(const cf_rules_t *self)
{
    assert(self);
    return self->error;
}

size_t cf_rules_sink_count(const cf_rules_t *self)
{
    return rules_set_of(self)->sinks_n;
}

const cf_rules_sink_t *cf_rules_sink(const cf_rules_t *self, size_t i)
{
    const rules_set_t *set = rules_set_of(self);
    return i < set->sinks_n ? &set->sinks[i].sink : NULL;
}

static const rules_programme_t *rules_programme(const rules_set_t *set, const char *name)
{
    for (size_t i = 0; i < set->programmes_n; i++)
        if (!strcmp(set->programmes[i].name, name))
            return &set->programmes[i];
    return NULL;
}

size_t cf_rules_milestones(const cf_rules_t *self, const char *programme,
                           const cf_rules_mark_t **marks)
{
    assert(self && programme && marks);
    const rules_programme_t *found = rules_programme(self->set, programme);
    if (!found)
        found = rules_programme(self->set, "*");
    *marks = found ? found->marks : NULL;
    return found ? found->count : 0;
}

/*  A route's rule merged with the defaults.                                 */
static void rules_route(const rules_set_t *set, const rules_route_t *route, double *ratio,
                        uint64_t *min_count)
{
    *ratio = route && route->ratio_line ? route->ratio : set->ratio;
    *min_count = route && route->min_count_line ? route->min_count : set->min_count;
}

void cf_rules_spike(const cf_rules_t *self, const char *route, double *ratio,
                    uint64_t *min_count)
{
    assert(self && ratio && min_count);
    const rules_route_t *found = NULL;
    for (size_t i = 0; route && i < self->set->routes_n && !found; i++)
        if (!strcmp(self->set->routes[i].name, route))
            found = &self->set->routes[i];
    rules_route(self->set, found, ratio, min_count);
}

uint64_t cf_rules_overdue_ms(const cf_rules_t *self, cf_limit_t limit)
{
    assert(self && limit >= 0 && limit < CF_LIMIT_COUNT);
    return self->set->overdue_ms[limit];
}

bool cf_rules_vulnerable(const cf_rules_t *self, const char *flag)
{
    assert(self && flag);
    for (int i = 0; i < CF_VOCAB_ALERT_FLAGS; i++)
        if (!strcmp(flag, cf_vocab_alert_flag_name(i)))
            return self->set->vulnerable & (1u << i);
    return false;
}

uint64_t cf_rules_predeparture_ms(const cf_rules_t *self)
{
    assert(self);
    return self->set->predeparture_ms;
}

static void pack_spike(msgpack_packer *pk, const rules_set_t *set, const rules_route_t *route)
{
    double ratio;
    uint64_t min_count;
    rules_route(set, route, &ratio, &min_count);
    cf_pack_str(pk, route ? route->name : "*");
    msgpack_pack_array(pk, 2);
    msgpack_pack_double(pk, ratio);
    msgpack_pack_uint64(pk, min_count);
}

void cf_rules_pack(const cf_rules_t *self, msgpack_sbuffer *out)
{
    assert(self && out);
    const rules_set_t *set = self->set;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    cf_pack_str(&pk, "milestones");
    msgpack_pack_map(&pk, set->programmes_n);
    for (size_t i = 0; i < set->programmes_n; i++) {
        const rules_programme_t *programme = &set->programmes[i];
        cf_pack_str(&pk, programme->name);
        msgpack_pack_array(&pk, programme->count);
        for (size_t j = 0; j < programme->count; j++) {
            msgpack_pack_array(&pk, 2);
            msgpack_pack_uint64(&pk, programme->marks[j].mark);
            cf_pack_str(&pk, programme->marks[j].persons ? "persons" : "cases");
        }
    }
    cf_pack_str(&pk, "spike");
    msgpack_pack_map(&pk, 1 + set->routes_n);
    pack_spike(&pk, set, NULL);
    for (size_t i = 0; i < set->routes_n; i++)
        pack_spike(&pk, set, &set->routes[i]);
    cf_pack_str(&pk, "overdue");
    msgpack_pack_map(&pk, CF_LIMIT_COUNT);
    for (int i = 0; i < CF_LIMIT_COUNT; i++) {
        cf_pack_str(&pk, cf_vocab_limit_name(i));
        msgpack_pack_uint64(&pk, set->overdue_ms[i]);
    }
    cf_pack_str(&pk, "vulnerable");
    msgpack_pack_array(&pk, (size_t) __builtin_popcount(set->vulnerable));
    for (int i = 0; i < CF_VOCAB_ALERT_FLAGS; i++)
        if (set->vulnerable & (1u << i))
            cf_pack_str(&pk, cf_vocab_alert_flag_name(i));
    cf_pack_str(&pk, "predeparture_ms");
    msgpack_pack_uint64(&pk, set->predeparture_ms);
}

/*  A duration in the largest unit that divides it, as the file writes it.   */
static void describe_duration(FILE *out, uint64_t ms)
{
    static const struct { uint64_t ms; char unit; } units[] = {
        { RULES_DAY_MS, 'd' }, { RULES_HOUR_MS, 'h' }, { 60000, 'm' }, { 1000, 's' } };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms % units[i].ms == 0) {
            fprintf(out, "%llu%c", (unsigned long long) (ms / units[i].ms), units[i].unit);
            return;
        }
    fprintf(out, "%llums", (unsigned long long) ms);
}

static void describe_spike(FILE *out, const rules_set_t *set, const rules_route_t *route)
{
    double ratio;
    uint64_t min_count;
    rules_route(set, route, &ratio, &min_count);
    fprintf(out, "%s%s%sratio %g, min_count %llu", route ? "; " : "", route ? route->name : "",
            route ? " " : "", ratio, (unsigned long long) min_count);
}

char *cf_rules_describe(const cf_rules_t *self)
{
    assert(self);
    const rules_set_t *set = self->set;
    char *text = NULL;
    size_t size = 0;
    FILE *out = cf_memstream_open(&text, &size);
    fputs("milestones:", out);
    for (size_t i = 0; i < set->programmes_n; i++) {
        const rules_programme_t *programme = &set->programmes[i];
        fprintf(out, "%s %s %s", i ? ";" : "", programme->name, programme->count ? "" : "none");
        for (size_t j = 0; j < programme->count; j++)
            fprintf(out, "%s%llu%s", j ? ", " : "", (unsigned long long) programme->marks[j].mark,
                    programme->marks[j].persons ? "p" : "");
    }
    fputs(set->programmes_n ? "\nspike: " : " none\nspike: ", out);
    describe_spike(out, set, NULL);
    for (size_t i = 0; i < set->routes_n; i++)
        describe_spike(out, set, &set->routes[i]);
    fputs("\noverdue:", out);
    for (int i = 0; i < CF_LIMIT_COUNT; i++) {
        fprintf(out, "%s %s ", i ? "," : "", cf_vocab_limit_name(i));
        describe_duration(out, set->overdue_ms[i]);
    }
    fputs("\nvulnerable:", out);
    for (int i = 0, first = 1; i < CF_VOCAB_ALERT_FLAGS; i++)
        if (set->vulnerable & (1u << i)) {
            fprintf(out, "%s %s", first ? "" : ",", cf_vocab_alert_flag_name(i));
            first = 0;
        }
    fputs(set->vulnerable ? "\npredeparture: window " : " none\npredeparture: window ", out);
    describe_duration(out, set->predeparture_ms);
    fputs("\n", out);
    rules_sinks_describe(out, set);
    cf_memstream_close(out);
    return text;
}
