/*  cf_commit_emit: the writes of a shard's commit as Redis commands
    (cf_commit.h), for the store to send between MULTI and EXEC once every
    check passed: one command per run of the sorted items (cf_commit.c),
    HSET of each counter field's exact new value (a row's measures as one
    cf_tuple text), SET with its TTL, HSET, ZADD, ZREM, and one XADD whose
    notifications are packed and compressed into one field
    (cf_outbox_notes.h). The arguments point into the builder's arena and
    into number, text and notification buffers reused from command to
    command, which is why a command is valid during the callback only; the
    check round (cf_commit_checks.c) emits through the same argv.          */
#include "cf_commit.h"
#include "cf_commit_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_fmt.h"
#include "caseflow/cf_outbox_notes.h"
#include "caseflow/cf_tuple.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void cf_commit_argv_reserve(cf_commit_t *self, size_t n)
{
    if (n <= self->argv_cap)
        return;
    self->argv = cf_grow(self->argv, &self->argv_cap, n, sizeof *self->argv);
    self->argvlen = cf_realloc(self->argvlen, self->argv_cap * sizeof *self->argvlen);
    self->nums = cf_grow(self->nums, &self->nums_cap, n, sizeof *self->nums);
}

/* A number, written into the command's own slot (argument argc), by
   cf_fmt_i64: a commit writes several per event (counters, scores). */
static void commit_arg_int(cf_commit_t *self, size_t *argc, int64_t n)
{
    _Static_assert(sizeof *self->nums >= CF_FMT_INT_MAX, "a number's slot holds any int64_t");
    commit_arg(self, argc, self->nums[*argc], cf_fmt_i64(self->nums[*argc], n));
}

/* The XADD's arguments after its key for the run of p's notifications:
   "*", then all of them packed and compressed into the value of
   CF_OUTBOX_NOTES_LZ4_FIELD. One field, not a topic and a body each:
   Redis's XADD and XREAD cost per field; compressed, because every byte
   of it goes through the AOF's fdatasync that the commit waits for
   (cf_outbox_notes.h). */
static void commit_arg_notes(cf_commit_t *self, size_t *argc, size_t p, size_t run)
{
    size_t len = 0;
    for (size_t q = p; q < p + run; q++)
        len += cf_outbox_notes_packed_len(commit_at(self, q)->a.len, commit_at(self, q)->b.len);
    self->packed = cf_grow(self->packed, &self->packed_cap, len, 1);
    size_t at = 0;
    for (size_t q = p; q < p + run; q++) {
        const commit_item_t *it = commit_at(self, q);
        at += cf_outbox_notes_pack(self->packed + at, commit_text(self, it->a), it->a.len,
                                   commit_text(self, it->b), it->b.len);
    }
    self->compressed = cf_grow(self->compressed, &self->compressed_cap,
                               cf_outbox_notes_compress_bound(at), 1);
    commit_arg(self, argc, "*", 1);
    commit_arg(self, argc, CF_OUTBOX_NOTES_LZ4_FIELD, strlen(CF_OUTBOX_NOTES_LZ4_FIELD));
    commit_arg(self, argc, self->compressed,
               cf_outbox_notes_compress(self->compressed, self->packed, at));
}

/* Emits the command of the run at order position p (run items); returns
   whether it is one (the checks' kinds are not). */
static bool commit_emit_write(cf_commit_t *self, size_t p, size_t run, cf_commit_emit_fn *emit,
                              void *arg)
{
    const commit_item_t *first = commit_at(self, p);
    static const char *const names[OP_KINDS] = {
        [OP_INCR] = "HSET", [OP_SET] = "SET", [OP_HSET] = "HSET",
        [OP_ZADD] = "ZADD", [OP_ZREM] = "ZREM", [OP_XADD] = "XADD" };
    if (first->kind == OP_TYPE)
        return false;
    if (first->kind == OP_INCR)
        self->texts = cf_grow(self->texts, &self->texts_cap, run * CF_TUPLE_TEXT_MAX, 1);
    size_t argc = 0;
    commit_arg(self, &argc, names[first->kind], strlen(names[first->kind]));
    commit_arg_key(self, &argc, first->key);
    for (size_t q = p; q < p + run; q++) {
        const commit_item_t *it = commit_at(self, q);
        switch (it->kind) {
        case OP_INCR:           /* once per field, every value of it */
            if (commit_same_field(self, q, p))
                break;
            commit_arg_str(self, &argc, it->a);
            if (it->w == 1)
                commit_arg_int(self, &argc, self->vals[it->v]);
            else {
                char *text = self->texts + (size_t) (q - p) * CF_TUPLE_TEXT_MAX;
                commit_arg(self, &argc, text, cf_tuple_format(text, &self->vals[it->v], it->w));
            }
            break;
        case OP_SET:
            commit_arg_str(self, &argc, it->a);
            if (it->n > 0) {
                commit_arg(self, &argc, "EX", 2);
                commit_arg_int(self, &argc, it->n);
            }
            break;
        case OP_HSET:
            commit_arg_str(self, &argc, it->a);
            commit_arg_str(self, &argc, it->b);
            break;
        case OP_ZADD:
            commit_arg_int(self, &argc, it->n);
            commit_arg_str(self, &argc, it->a);
            break;
        case OP_ZREM:
            commit_arg_str(self, &argc, it->a);
            break;
        case OP_XADD:           /* one entry, its notifications one field */
            if (q == p)
                commit_arg_notes(self, &argc, p, run);
            break;
        default:
            assert(!"a check's kind among the writes");
        }
    }
    emit(arg, argc, self->argv, self->argvlen);
    return true;
}

size_t cf_commit_emit_writes(cf_commit_t *self, cf_commit_emit_fn *emit, void *arg)
{
    assert(self && emit);
    cf_commit_sort(self);
    cf_commit_argv_reserve(self, 2 + 2 * self->nitems + 6);
    size_t commands = 0;
    for (size_t p = 0, run; p < self->nitems; p += run) {
        run = commit_run(self, p);
        commands += commit_emit_write(self, p, run, emit, arg);
    }
    return commands;
}

/* cf_commit_describe's callback: keeps command `want`'s first two
   arguments. */
typedef struct {
    size_t want, seen;
    char *buf;
    size_t size;
} commit_describe_t;

static void commit_describe_one(void *arg, size_t argc, const char **argv, const size_t *argvlen)
{
    commit_describe_t *d = arg;
    if (d->seen++ == d->want)
        snprintf(d->buf, d->size, "%.*s %.*s", (int) argvlen[0], argv[0],
                 argc > 1 ? (int) argvlen[1] : 0, argc > 1 ? argv[1] : "");
}

void cf_commit_describe(cf_commit_t *self, size_t i, char *buf, size_t size)
{
    assert(self && buf && size);
    commit_describe_t d = { i, 0, buf, size };
    buf[0] = '\0';
    cf_commit_emit_writes(self, commit_describe_one, &d);
}
