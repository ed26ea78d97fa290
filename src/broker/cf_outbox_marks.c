/*  cf_outbox_marks: the milestones the outbox reader announces, computed in
    C (issue 14: workers and the broker compute, Redis commits): the marks of
    the rules in force, which of them a batch's returns reach, and the
    notification's body. Pure functions over data, no Redis: the commit
    (cf_outbox_commit.c) reads the totals and the marks already announced,
    and writes what these say.                                              */
#include "cf_outbox_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One programme's [[mark, kind]...] into p; entries of another shape are
   skipped, as the script skipped them. */
static void marks_read(outbox_programme_marks_t *p, const msgpack_object *list)
{
    for (uint32_t i = 0; i < list->via.array.size && p->count < CF_RULES_MAX_MARKS; i++) {
        const msgpack_object *m = &list->via.array.ptr[i];
        if (m->type != MSGPACK_OBJECT_ARRAY || m->via.array.size != 2
            || m->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            continue;
        const msgpack_object *kind = &m->via.array.ptr[1];
        bool persons = cf_unpack_str_equals(kind, "persons");
        if (!persons && !cf_unpack_str_equals(kind, "cases"))
            continue;
        p->marks[p->count].mark = m->via.array.ptr[0].via.u64;
        p->marks[p->count++].persons = persons;
    }
}

outbox_marks_t *cf_outbox_marks_new(const void *packed, size_t len)
{
    assert(packed || len == 0);
    outbox_marks_t *self = cf_calloc(1, sizeof *self);
    msgpack_unpacked rules;
    msgpack_unpacked_init(&rules);
    const msgpack_object *milestones = cf_unpack(&rules, packed, len) == 0
                                     ? cf_unpack_get(&rules.data, "milestones") : NULL;
    if (milestones && milestones->type == MSGPACK_OBJECT_MAP && milestones->via.map.size) {
        self->programmes = cf_calloc(milestones->via.map.size, sizeof *self->programmes);
        for (uint32_t i = 0; i < milestones->via.map.size; i++) {
            const msgpack_object_kv *kv = &milestones->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size > CF_RULES_NAME_MAX
                || kv->val.type != MSGPACK_OBJECT_ARRAY)
                continue;
            outbox_programme_marks_t *p = &self->programmes[self->count++];
            memcpy(p->name, kv->key.via.str.ptr, kv->key.via.str.size);
            marks_read(p, &kv->val);
        }
    }
    msgpack_unpacked_destroy(&rules);
    return self;
}

void cf_outbox_marks_destroy(outbox_marks_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->programmes);
    free(*self_p);
    *self_p = NULL;
}

const outbox_programme_marks_t *cf_outbox_marks_of(const outbox_marks_t *self,
                                                   const char *programme)
{
    assert(self && programme);
    const outbox_programme_marks_t *any = NULL;
    for (size_t i = 0; i < self->count; i++) {
        if (!strcmp(self->programmes[i].name, programme))
            return &self->programmes[i];
        if (!strcmp(self->programmes[i].name, "*"))
            any = &self->programmes[i];
    }
    return any;
}

void cf_outbox_mark_flag(char *out, size_t size, const char *programme,
                         const cf_rules_mark_t *mark)
{
    assert(out && programme && mark);
    /* marks are at most 2^53 - 1 (cf_rules), exact as a double */
    snprintf(out, size, "%s|%s|%.14g", programme, mark->persons ? "persons" : "cases",
             (double) mark->mark);
}

size_t cf_outbox_marks_reached(const outbox_programme_marks_t *marks, const int64_t before[2],
                               const int64_t after[2], const bool *announced, size_t *reached)
{
    assert(marks && before && after && reached);
    size_t n = 0;
    for (size_t i = 0; i < marks->count; i++) {
        int64_t mark = (int64_t) marks->marks[i].mark;
        int kind = marks->marks[i].persons;
        if (before[kind] < mark && after[kind] >= mark && !(announced && announced[i]))
            reached[n++] = i;
    }
    return n;
}

void cf_outbox_milestone_body(msgpack_sbuffer *out, const char *programme,
                              const cf_rules_mark_t *mark, const int64_t after[2])
{
    assert(out && programme && mark && after);
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    /* the order of Lua 5.1's table { programme, mark, kind, returned_cases,
       returned_persons } as cmsgpack walked it; integers in their shortest
       form, as both packers write them */
    msgpack_pack_map(&pk, 5);
    cf_pack_str(&pk, "programme");
    cf_pack_str(&pk, programme);
    cf_pack_str(&pk, "returned_cases");
    msgpack_pack_int64(&pk, after[0]);
    cf_pack_str(&pk, "mark");
    msgpack_pack_uint64(&pk, mark->mark);
    cf_pack_str(&pk, "kind");
    cf_pack_str(&pk, mark->persons ? "persons" : "cases");
    cf_pack_str(&pk, "returned_persons");
    msgpack_pack_int64(&pk, after[1]);
}
