/*  cf_fold_rules: the notification rules as the fold reads them, from the
    msgpack map cf_rules_pack makes (docs/notifications.md): the overdue
    limits in ms, the flags that alert, the predeparture window and the
    spike rule of each route ("*" the default). A key left out turns its
    rule off, as it did for the apply script. A map that cannot be read
    changes nothing.                                                         */
#include "cf_fold_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static bool rules_int(const msgpack_object *o, int64_t *out)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *out = (int64_t) o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = o->via.i64;
    else
        return false;
    return true;
}

static bool rules_number(const msgpack_object *o, double *out)
{
    int64_t i;
    if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
        *out = o->via.f64;
    else if (rules_int(o, &i))
        *out = (double) i;
    else
        return false;
    return true;
}

static int rules_spikes(cf_fold_t *self, fold_rules_t *r, const msgpack_object *spike)
{
    if (spike->type != MSGPACK_OBJECT_MAP)
        return fold_fail(self, "rules: spike is not a map"), -1;
    for (uint32_t i = 0; i < spike->via.map.size; i++) {
        const msgpack_object *k = &spike->via.map.ptr[i].key, *v = &spike->via.map.ptr[i].val;
        r->spikes = cf_grow(r->spikes, &r->spikes_cap, r->spikes_n + 1, sizeof *r->spikes);
        fold_spike_rule_t *rule = &r->spikes[r->spikes_n];
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0
            || k->via.str.size > CF_ROUTE_MAX || memchr(k->via.str.ptr, 0, k->via.str.size)
            || v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size != 2
            || !rules_number(&v->via.array.ptr[0], &rule->ratio)
            || !rules_int(&v->via.array.ptr[1], &rule->min_count))
            return fold_fail(self, "rules: spike rule %u is not route: [ratio, min_count]", i), -1;
        memcpy(rule->route, k->via.str.ptr, k->via.str.size);
        rule->route[k->via.str.size] = '\0';
        r->spikes_n++;
    }
    return 0;
}

static int rules_read(cf_fold_t *self, fold_rules_t *r, const msgpack_object *map)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return fold_fail(self, "rules: not a msgpack map"), -1;
    const msgpack_object *overdue = cf_unpack_get(map, "overdue");
    if (overdue && overdue->type != MSGPACK_OBJECT_MAP)
        return fold_fail(self, "rules: overdue is not a map"), -1;
    for (int l = 0; overdue && l < CF_LIMIT_COUNT; l++) {
        const msgpack_object *ms = cf_unpack_get(overdue, cf_vocab_limit_name(l));
        if (ms && !rules_int(ms, &r->overdue_ms[l]))
            return fold_fail(self, "rules: overdue.%s is not an integer", cf_vocab_limit_name(l)), -1;
        r->has_overdue[l] = ms != NULL;
    }
    const msgpack_object *vulnerable = cf_unpack_get(map, "vulnerable");
    if (vulnerable && vulnerable->type != MSGPACK_OBJECT_ARRAY)
        return fold_fail(self, "rules: vulnerable is not an array"), -1;
    for (uint32_t i = 0; vulnerable && i < vulnerable->via.array.size; i++)
        for (int flag = 0; flag < CF_VOCAB_ALERT_FLAGS; flag++)
            if (cf_unpack_str_equals(&vulnerable->via.array.ptr[i], cf_vocab_alert_flag_name(flag)))
                r->vulnerable |= 1u << flag;
    const msgpack_object *window = cf_unpack_get(map, "predeparture_ms");
    if (window && !rules_int(window, &r->predeparture_ms))
        return fold_fail(self, "rules: predeparture_ms is not an integer"), -1;
    r->has_predeparture = window != NULL;
    const msgpack_object *spike = cf_unpack_get(map, "spike");
    return spike ? rules_spikes(self, r, spike) : 0;
}

int cf_fold_set_rules(cf_fold_t *self, const void *packed, size_t len)
{
    assert(self && (packed || len == 0));
    self->error[0] = '\0';
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    fold_rules_t r = { 0 };
    int rc = -1;
    if (cf_unpack(&result, packed, len) < 0)
        fold_fail(self, "rules: not msgpack");
    else
        rc = rules_read(self, &r, &result.data);
    msgpack_unpacked_destroy(&result);
    if (rc < 0) {
        free(r.spikes);
        return -1;
    }
    free(self->rules.spikes);
    self->rules = r;
    return 0;
}
