/*  cf_push_summary: caseflow-push's summary; see cf_push_summary.h. The
    lists own copies of their strings, so that the summary outlives the
    client whose statuses filled it. The JSON form is built as msgpack and
    printed by cf_json, which repairs what is not UTF-8 (a file name, say). */
#include "caseflow/cf_push_summary.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cf_push_summary_entry_t *items;
    size_t count, size;
} summary_list_t;

struct _cf_push_summary_t {
    summary_list_t lists[CF_PUSH_SUMMARY_LISTS];
};

static const char *s_list_names[] = { "rejected", "unacked" };
_Static_assert(sizeof s_list_names / sizeof *s_list_names == CF_PUSH_SUMMARY_LISTS,
               "a name for each list");

cf_push_summary_t *cf_push_summary_new(void)
{
    return cf_calloc(1, sizeof(cf_push_summary_t));
}

void cf_push_summary_destroy(cf_push_summary_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_push_summary_t *self = *self_p;
    for (int l = 0; l < CF_PUSH_SUMMARY_LISTS; l++) {
        for (size_t i = 0; i < self->lists[l].count; i++) {
            free((char *) self->lists[l].items[i].event_id);
            free((char *) self->lists[l].items[i].reason);
        }
        free(self->lists[l].items);
    }
    free(self);
    *self_p = NULL;
}

void cf_push_summary_add(cf_push_summary_t *self, cf_push_summary_list_t which, uint32_t file,
                         uint32_t line, const char *event_id, const char *reason)
{
    assert(self);
    assert(which < CF_PUSH_SUMMARY_LISTS);
    summary_list_t *list = &self->lists[which];
    list->items = cf_grow(list->items, &list->size, list->count + 1, sizeof *list->items);
    list->items[list->count++] = (cf_push_summary_entry_t) {
        file, line, event_id ? cf_strdup(event_id) : NULL, reason ? cf_strdup(reason) : NULL };
}

size_t cf_push_summary_size(const cf_push_summary_t *self, cf_push_summary_list_t which)
{
    assert(self);
    assert(which < CF_PUSH_SUMMARY_LISTS);
    return self->lists[which].count;
}

const cf_push_summary_entry_t *cf_push_summary_entry(const cf_push_summary_t *self,
                                                     cf_push_summary_list_t which, size_t index)
{
    assert(self);
    assert(which < CF_PUSH_SUMMARY_LISTS);
    assert(index < self->lists[which].count);
    return &self->lists[which].items[index];
}

const char *cf_push_summary_file_name(char *const *files, size_t count, uint32_t file)
{
    const char *name = count ? files[file] : "-";
    return strcmp(name, "-") == 0 ? "<stdin>" : name;
}

static int entry_order(const void *a, const void *b)
{
    const cf_push_summary_entry_t *x = a, *y = b;
    return x->file != y->file ? (x->file < y->file ? -1 : 1)
         : x->line != y->line ? (x->line < y->line ? -1 : 1) : 0;
}

static void pack_entries(msgpack_packer *pk, const summary_list_t *list, char *const *files,
                         size_t count)
{
    msgpack_pack_array(pk, list->count);
    for (size_t i = 0; i < list->count; i++) {
        const cf_push_summary_entry_t *e = &list->items[i];
        msgpack_pack_map(pk, 4);
        cf_pack_str_or_nil(pk, "file");
        cf_pack_str_or_nil(pk, cf_push_summary_file_name(files, count, e->file));
        cf_pack_str_or_nil(pk, "line");      msgpack_pack_uint32(pk, e->line);
        cf_pack_str_or_nil(pk, "event_id");  cf_pack_str_or_nil(pk, e->event_id);
        cf_pack_str_or_nil(pk, "reason");    cf_pack_str_or_nil(pk, e->reason);
    }
}

static void print_json(const cf_push_summary_t *self, const cf_push_summary_counts_t *c,
                       char *const *files, size_t count, cf_json_t *json, FILE *out)
{
    const summary_list_t *rejected = &self->lists[CF_PUSH_SUMMARY_REJECTED];
    const summary_list_t *unacked = &self->lists[CF_PUSH_SUMMARY_UNACKED];
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    /* counts under the statuses' names, as caseflow-bench and caseflow-web's
       intake give them; the events behind the failed ones in *_events */
    msgpack_pack_map(&pk, 12);
    cf_pack_str_or_nil(&pk, "events");       msgpack_pack_uint64(&pk, c->events);
    cf_pack_str_or_nil(&pk, "accepted");     msgpack_pack_uint64(&pk, c->accepted);
    cf_pack_str_or_nil(&pk, "duplicate");    msgpack_pack_uint64(&pk, c->duplicate);
    cf_pack_str_or_nil(&pk, "rejected");     msgpack_pack_uint64(&pk, rejected->count);
    cf_pack_str_or_nil(&pk, "unacked");      msgpack_pack_uint64(&pk, unacked->count);
    cf_pack_str_or_nil(&pk, "busy");         msgpack_pack_uint64(&pk, c->busy);      /* acks, then resent */
    cf_pack_str_or_nil(&pk, "resent");       msgpack_pack_uint64(&pk, c->resent);
    cf_pack_str_or_nil(&pk, "failovers");    msgpack_pack_uint64(&pk, c->failovers);
    cf_pack_str_or_nil(&pk, "endpoint");     cf_pack_str_or_nil(&pk, c->endpoint);
    cf_pack_str_or_nil(&pk, "seconds");      msgpack_pack_double(&pk, round(c->seconds * 1000) / 1000);
    cf_pack_str_or_nil(&pk, "rejected_events");  pack_entries(&pk, rejected, files, count);
    cf_pack_str_or_nil(&pk, "unacked_events");   pack_entries(&pk, unacked, files, count);
    const char *text = cf_json_from_msgpack(json, sbuf.data, sbuf.size);
    fprintf(out, "%s\n", text ? text : "{}");
    msgpack_sbuffer_destroy(&sbuf);
}

static void print_text(const cf_push_summary_t *self, const cf_push_summary_counts_t *c,
                       char *const *files, size_t count, FILE *out)
{
    fprintf(out, "%zu events in %.2f s: %zu accepted, %zu duplicate, %zu rejected, %zu unacked\n",
            c->events, c->seconds, c->accepted, c->duplicate,
            self->lists[CF_PUSH_SUMMARY_REJECTED].count, self->lists[CF_PUSH_SUMMARY_UNACKED].count);
    if (c->failovers)
        fprintf(out, "failed over %" PRIu64 " time%s, ending at %s\n", c->failovers,
                c->failovers == 1 ? "" : "s", c->endpoint);
    for (int l = 0; l < CF_PUSH_SUMMARY_LISTS; l++) {
        const summary_list_t *list = &self->lists[l];
        if (list->count)
            fprintf(out, "%s:\n", s_list_names[l]);
        for (size_t i = 0; i < list->count; i++) {
            const cf_push_summary_entry_t *e = &list->items[i];
            fprintf(out, "%s:%u %s: %s\n", cf_push_summary_file_name(files, count, e->file),
                    e->line, e->event_id ? e->event_id : "-", e->reason ? e->reason : "");
        }
    }
}

int cf_push_summary_print(cf_push_summary_t *self, const cf_push_summary_counts_t *counts,
                          char *const *files, size_t count, cf_json_t *json, FILE *out)
{
    assert(self);
    assert(counts);
    assert(out);
    int status = 0;
    for (int l = 0; l < CF_PUSH_SUMMARY_LISTS; l++) {
        summary_list_t *list = &self->lists[l];
        if (list->count > 1)        /* items is NULL when empty */
            qsort(list->items, list->count, sizeof *list->items, entry_order);
        if (list->count)
            status = 1;
    }
    if (json)
        print_json(self, counts, files, count, json, out);
    else
        print_text(self, counts, files, count, out);
    return fflush(out) == 0 ? status : 2;
}
