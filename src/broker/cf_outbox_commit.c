/*  cf_outbox_commit: the outbox reader's commit of a batch it has handed
    over (docs/notifications.md, "Milestones"; docs/storage.md, "The
    publisher's commit"), with plain commands as the workers' apply path
    commits (cf_store_commit.c): what is read is read under WATCH, the C code
    computes (cf_outbox_batch.c merges, cf_outbox_marks.c finds the
    milestones), and one MULTI/EXEC writes the cursors with everything they
    account for, so that the state is always exactly that of the
    notifications up to the saved cursors, and a reader that dies and reads
    a batch again counts it once. A refused EXEC (a watched key moved) reads
    again; the cursors moved by another reader give the batch up to it.

    Reads: cf:{pub}:cursor is watched from before the XREAD that read the
    batch (cf_outbox_cursor_watch, sent with the XREAD: no round trip of its
    own), so two readers never both save the same entries. The returns and
    the marks already announced are read only when the batch has returns
    of a programme with marks: every other batch is one round trip.        */
#include "cf_outbox_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMIT_TRIES        16      /* EXECs refused in a row before it gives up (-1) */
#define COMMIT_FLAG_MAX     (CF_PROGRAMME_MAX + 40)

/* The arguments of one command, argv form. */
typedef struct {
    const char **argv;
    size_t *argvlen;
    size_t count, capacity;
} commit_args_t;

static void args_add(commit_args_t *a, const char *s, size_t len)
{
    size_t capacity = a->capacity;
    a->argv = cf_grow(a->argv, &capacity, a->count + 1, sizeof *a->argv);
    a->argvlen = cf_grow(a->argvlen, &a->capacity, a->count + 1, sizeof *a->argvlen);
    a->argv[a->count] = s;
    a->argvlen[a->count++] = len;
}

static void args_str(commit_args_t *a, const char *s)
{
    args_add(a, s, strlen(s));
}

/* Appends the command a holds, if it has more than its first `bare`
   arguments; empties a. Returns the commands appended (0 or 1). */
static int args_send(redisContext *redis, commit_args_t *a, size_t bare)
{
    int sent = a->count > bare;
    if (sent)
        redisAppendCommandArgv(redis, (int) a->count, a->argv, a->argvlen);
    a->count = 0;
    return sent;
}

/* Reads n replies; 0 when none is an error, -1 otherwise or on I/O. */
static int commit_drain(redisContext *redis, int n)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        void *reply = NULL;
        if (redisGetReply(redis, &reply) != REDIS_OK || !reply)
            return -1;
        if (((redisReply *) reply)->type == REDIS_REPLY_ERROR)
            rc = -1;
        freeReplyObject(reply);
    }
    return rc;
}

void cf_outbox_cursor_watch(redisContext *redis)
{
    assert(redis);
    redisAppendCommand(redis, "WATCH %s", cf_keys_pub(CF_KEYS_PUB_CURSOR));
    redisAppendCommand(redis, "HGETALL %s", cf_keys_pub(CF_KEYS_PUB_CURSOR));
}

int cf_outbox_cursor_check(redisContext *redis, unsigned streams, const char (*fields)[12],
                           char (*saved)[48])
{
    assert(redis && fields && saved);
    if (commit_drain(redis, 1) < 0)                 /* WATCH */
        return -1;
    redisReply *reply = NULL;
    if (redisGetReply(redis, (void **) &reply) != REDIS_OK || !reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_ARRAY ? 0 : -1;
    for (unsigned s = 0; rc >= 0 && s < streams; s++) {
        const char *stored = "0-0";                 /* a stream never saved */
        for (size_t i = 0; i + 1 < reply->elements; i += 2)
            if (!strcmp(reply->element[i]->str, fields[s]))
                stored = reply->element[i + 1]->str;
        if (strcmp(stored, saved[s])) {
            snprintf(saved[s], sizeof saved[s], "%s", stored);
            rc = 1;
        }
    }
    freeReplyObject(reply);
    return rc;
}

/* What the read round found: the values the batch adds to, and for its
   programmes with marks the marks already announced. */
typedef struct {
    const outbox_programme_marks_t *marks[OUTBOX_PROGRAMMES];   /* NULL: none */
    int64_t before[OUTBOX_PROGRAMMES][2];       /* returns before the batch */
    bool announced[OUTBOX_PROGRAMMES][CF_RULES_MAX_MARKS];
    int64_t (*figures)[2];                      /* each figure's cases, persons before it */
    size_t figures_cap;
    char *names;                                /* the figures' fields, NUL-ended */
    size_t names_cap;
    char (*numbers)[24];                        /* the values the commit writes */
    size_t numbers_cap;
    int replies[3];                             /* the HMGETs sent: figures, returns, marks */
} commit_read_t;

static void commit_read_free(commit_read_t *read)
{
    free(read->figures);
    free(read->names);
    free(read->numbers);
    free(read);
}

/* The figures' fields "<programme>|<stage>|cases" and "|persons" into
   read->names, in the batch's order, as arguments of a. */
static void commit_figure_fields(const outbox_batch_t *b, commit_read_t *read, commit_args_t *a)
{
    size_t need = 0;
    for (size_t i = 0; i < b->figures.count; i++)
        need += 2 * b->figures.items[i].key_len + sizeof "|cases" + sizeof "|persons";
    read->names = cf_grow(read->names, &read->names_cap, need, 1);
    char *at = read->names;
    for (size_t i = 0; i < b->figures.count; i++) {
        const outbox_item_t *f = &b->figures.items[i];
        for (int persons = 0; persons < 2; persons++) {
            int len = snprintf(at, need - (size_t) (at - read->names), "%.*s|%s",
                               (int) f->key_len, b->bytes + f->key, persons ? "persons" : "cases");
            args_add(a, at, (size_t) len);
            at += len + 1;
        }
    }
}

/* Appends WATCH and the reads of what the batch adds to: its figures and
   its programmes' returns, and the flags of the marks they may reach. The
   commit writes the sums, one HSET for each hash, where it sent two
   HINCRBY per figure and programme: a field read or written costs Redis a
   fraction of a command. Returns how many commands (0: none needed). */
static int commit_read_send(redisContext *redis, const outbox_batch_t *b, commit_read_t *read,
                            commit_args_t *a, char (*flags)[COMMIT_FLAG_MAX])
{
    size_t nflags = 2 * OUTBOX_PROGRAMMES;         /* after the returns' fields */
    if (b->figures.count == 0 && b->programmes == 0)
        return 0;
    redisAppendCommand(redis, "WATCH %s %s %s", cf_keys_pub(CF_KEYS_PUB_FIGURES),
                       cf_keys_pub(CF_KEYS_PUB_RETURNS), cf_keys_pub(CF_KEYS_PUB_MARKS));
    args_str(a, "HMGET");
    args_str(a, cf_keys_pub(CF_KEYS_PUB_FIGURES));
    commit_figure_fields(b, read, a);
    read->replies[0] = args_send(redis, a, 2);
    args_str(a, "HMGET");
    args_str(a, cf_keys_pub(CF_KEYS_PUB_RETURNS));
    for (size_t p = 0; p < b->programmes; p++) {
        snprintf(flags[2 * p], sizeof flags[0], "%s|cases", b->returns[p].name);
        snprintf(flags[2 * p + 1], sizeof flags[0], "%s|persons", b->returns[p].name);
        args_str(a, flags[2 * p]);
        args_str(a, flags[2 * p + 1]);
    }
    read->replies[1] = args_send(redis, a, 2);
    args_str(a, "HMGET");
    args_str(a, cf_keys_pub(CF_KEYS_PUB_MARKS));
    for (size_t p = 0; p < b->programmes; p++)
        for (size_t i = 0; read->marks[p] && i < read->marks[p]->count; i++) {
            cf_outbox_mark_flag(flags[nflags], sizeof flags[0], b->returns[p].name,
                                &read->marks[p]->marks[i]);
            args_str(a, flags[nflags++]);
        }
    read->replies[2] = args_send(redis, a, 2);
    return 1 + read->replies[0] + read->replies[1] + read->replies[2];
}

/* An HMGET reply's element i as a number (nil, or a field that holds no
   integer, which only a hand could put there: 0, as the snapshot reads it). */
static int64_t commit_number(const redisReply *hmget, size_t i)
{
    const redisReply *v = hmget->element[i];
    return v->type == REDIS_REPLY_STRING ? strtoll(v->str, NULL, 10) : 0;
}

/* Reads the replies of commit_read_send into read. 0 / -1. */
static int commit_read_recv(redisContext *redis, const outbox_batch_t *b, commit_read_t *read,
                            int sent)
{
    if (sent == 0)
        return 0;
    redisReply *replies[3] = { NULL, NULL, NULL };
    int rc = commit_drain(redis, 1);                /* WATCH */
    for (int i = 0; i < 3; i++)
        if (read->replies[i]
            && (redisGetReply(redis, (void **) &replies[i]) != REDIS_OK || !replies[i]))
            rc = -1;
    for (int i = 0; i < 3 && rc == 0; i++)
        if (replies[i] && replies[i]->type != REDIS_REPLY_ARRAY)
            rc = -1;
    read->figures = cf_grow(read->figures, &read->figures_cap, b->figures.count,
                            sizeof *read->figures);
    for (size_t i = 0; rc == 0 && i < b->figures.count; i++) {
        read->figures[i][0] = commit_number(replies[0], 2 * i);
        read->figures[i][1] = commit_number(replies[0], 2 * i + 1);
    }
    size_t f = 0;
    for (size_t p = 0; rc == 0 && p < b->programmes; p++) {
        read->before[p][0] = commit_number(replies[1], 2 * p);
        read->before[p][1] = commit_number(replies[1], 2 * p + 1);
        for (size_t i = 0; read->marks[p] && i < read->marks[p]->count; i++)
            read->announced[p][i] = replies[2]->element[f++]->type != REDIS_REPLY_NIL;
    }
    for (int i = 0; i < 3; i++)
        if (replies[i])
            freeReplyObject(replies[i]);
    return rc;
}

/* Appends the milestones of programme p (XADD, its flag, its last body) to
   the transaction; returns how many commands. */
static int commit_milestones(redisContext *redis, const outbox_batch_t *b, size_t p,
                             const commit_read_t *read, int *announced)
{
    const outbox_programme_marks_t *marks = read->marks[p];
    int64_t after[2] = { read->before[p][0] + b->returns[p].cases,
                         read->before[p][1] + b->returns[p].persons };
    size_t reached[CF_RULES_MAX_MARKS];
    size_t n = cf_outbox_marks_reached(marks, read->before[p], after, read->announced[p],
                                       reached);
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    int sent = 0;
    for (size_t i = 0; i < n; i++) {
        const cf_rules_mark_t *mark = &marks->marks[reached[i]];
        char flag[COMMIT_FLAG_MAX];
        cf_outbox_mark_flag(flag, sizeof flag, b->returns[p].name, mark);
        msgpack_sbuffer_clear(&body);
        cf_outbox_milestone_body(&body, b->returns[p].name, mark, after);
        redisAppendCommand(redis, "HSET %s %s 1", cf_keys_pub(CF_KEYS_PUB_MARKS), flag);
        redisAppendCommand(redis, "XADD %s * milestone.%s %b",     /* cf_outbox_notes.h */
                           cf_keys_pub(CF_KEYS_PUB_OUTBOX), b->returns[p].name, body.data,
                           body.size);
        sent += 2;
    }
    if (n) {        /* the programme's last milestone, for the snapshot */
        redisAppendCommand(redis, "HSET %s %s %b", cf_keys_pub(CF_KEYS_PUB_LAST),
                           b->returns[p].name, body.data, body.size);
        sent++;
    }
    msgpack_sbuffer_destroy(&body);
    *announced += (int) n;
    return sent;
}

/* Appends MULTI, the batch's writes and EXEC; returns how many commands.
   Only the cursors that moved are written (saved[] is what the hash holds):
   a round of a few entries moves a few of the shards' cursors, and writing
   the others again cost Redis more than the rest of such a commit. */
static int commit_write_send(redisContext *redis, unsigned streams, const char (*fields)[12],
                             const char (*cursor)[48], const char (*saved)[48],
                             const outbox_batch_t *b, commit_read_t *read,
                             char (*flags)[COMMIT_FLAG_MAX], commit_args_t *a, int *announced)
{
    int sent = 1;
    redisAppendCommand(redis, "MULTI");
    args_str(a, "HSET");
    args_str(a, cf_keys_pub(CF_KEYS_PUB_CURSOR));
    for (unsigned s = 0; s < streams; s++)
        if (strcmp(cursor[s], saved[s])) {
            args_str(a, fields[s]);
            args_str(a, cursor[s]);
        }
    sent += args_send(redis, a, 2);
    /* the figures' sums, cases and persons (even 0), in one HSET */
    read->numbers = cf_grow(read->numbers, &read->numbers_cap,
                            2 * (b->figures.count + b->programmes), sizeof *read->numbers);
    args_str(a, "HSET");
    args_str(a, cf_keys_pub(CF_KEYS_PUB_FIGURES));
    const char *field = read->names;
    for (size_t i = 0; i < b->figures.count; i++) {
        int64_t added[2] = { b->figures.items[i].cases, b->figures.items[i].persons };
        for (int k = 0; k < 2; k++) {
            char *number = read->numbers[2 * i + k];
            snprintf(number, sizeof read->numbers[0], "%lld",
                     (long long) (read->figures[i][k] + added[k]));
            args_str(a, field);
            args_str(a, number);
            field += strlen(field) + 1;
        }
    }
    sent += args_send(redis, a, 2);
    /* the alerts' last word: one HSET and one HDEL */
    for (int open = 1; open >= 0; open--) {
        args_str(a, open ? "HSET" : "HDEL");
        args_str(a, cf_keys_pub(CF_KEYS_PUB_OPEN));
        for (size_t i = 0; i < b->alerts.count; i++) {
            const outbox_item_t *alert = &b->alerts.items[i];
            if (alert->open != open)
                continue;
            args_add(a, b->bytes + alert->key, alert->key_len);
            if (open)
                args_add(a, b->bytes + alert->body, alert->body_len);
        }
        sent += args_send(redis, a, 2);
    }
    /* the programmes' returns, in one HSET (a 0 added is left out) */
    args_str(a, "HSET");
    args_str(a, cf_keys_pub(CF_KEYS_PUB_RETURNS));
    for (size_t p = 0; p < b->programmes; p++) {
        int64_t added[2] = { b->returns[p].cases, b->returns[p].persons };
        for (int k = 0; k < 2; k++)
            if (added[k]) {
                char *number = read->numbers[2 * (b->figures.count + p) + k];
                snprintf(number, sizeof read->numbers[0], "%lld",
                         (long long) (read->before[p][k] + added[k]));
                args_str(a, flags[2 * p + k]);
                args_str(a, number);
            }
    }
    sent += args_send(redis, a, 2);
    for (size_t p = 0; p < b->programmes; p++)
        if (read->marks[p])
            sent += commit_milestones(redis, b, p, read, announced);
    redisAppendCommand(redis, "EXEC");
    return sent + 1;
}

/* Reads the transaction's replies: 1 done, 0 EXEC refused (nil), -1 error. */
static int commit_write_recv(redisContext *redis, int sent)
{
    if (commit_drain(redis, sent - 1) < 0)      /* MULTI, QUEUED... */
        return -1;
    redisReply *exec = NULL;
    if (redisGetReply(redis, (void **) &exec) != REDIS_OK || !exec)
        return -1;
    int rc = exec->type == REDIS_REPLY_NIL ? 0 : exec->type == REDIS_REPLY_ARRAY ? 1 : -1;
    for (size_t i = 0; rc == 1 && i < exec->elements; i++)
        if (exec->element[i]->type == REDIS_REPLY_ERROR)
            rc = -1;
    freeReplyObject(exec);
    return rc;
}

int cf_outbox_commit(redisContext *redis, unsigned streams, const char (*fields)[12],
                     const char (*cursor)[48], char (*saved)[48], const outbox_batch_t *batch,
                     const outbox_marks_t *marks)
{
    assert(redis && fields && cursor && saved && batch && marks);
    commit_read_t *read = cf_calloc(1, sizeof *read);
    for (size_t p = 0; p < batch->programmes; p++) {
        read->marks[p] = cf_outbox_marks_of(marks, batch->returns[p].name);
        if (read->marks[p] && read->marks[p]->count == 0)
            read->marks[p] = NULL;
    }
    /* the returns' fields first (2 per programme), then the marks' */
    char (*flags)[COMMIT_FLAG_MAX] = cf_malloc((2 + CF_RULES_MAX_MARKS) * OUTBOX_PROGRAMMES
                                               * sizeof *flags);
    commit_args_t args = { 0 };
    int rc = -1, announced = 0;
    for (int attempt = 0; attempt < COMMIT_TRIES; attempt++) {
        if (attempt > 0)            /* EXEC unwatched all: the cursors again */
            cf_outbox_cursor_watch(redis);
        int reads = commit_read_send(redis, batch, read, &args, flags);
        int moved = attempt > 0 ? cf_outbox_cursor_check(redis, streams, fields, saved) : 0;
        if (moved == 1) {           /* another reader saved: the batch is its */
            commit_drain(redis, reads);
            redisReply *reply = redisCommand(redis, "UNWATCH");
            rc = reply ? -2 : -1;
            if (reply)
                freeReplyObject(reply);
            break;
        }
        if (moved < 0 || commit_read_recv(redis, batch, read, reads) < 0)
            break;
        announced = 0;
        int sent = commit_write_send(redis, streams, fields, cursor,
                                     (const char (*)[48]) saved, batch, read, flags, &args,
                                     &announced);
        int done = commit_write_recv(redis, sent);
        if (done != 0) {
            rc = done < 0 ? -1 : announced;
            break;
        }
    }
    if (rc >= 0)
        for (unsigned s = 0; s < streams; s++)
            memcpy(saved[s], cursor[s], sizeof saved[s]);
    free(args.argv);
    free(args.argvlen);
    free(flags);
    commit_read_free(read);
    return rc;
}
