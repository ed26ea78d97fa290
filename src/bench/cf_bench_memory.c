/*  cf_bench: Redis's memory per event id, per case and per open alert; see
    cf_bench_internal.h. Each figure is INFO used_memory before and after
    deleting exactly the ceiling's keys of one kind, divided by how many
    were there, so it holds every cost of the kind (Redis's dictionaries
    and expiry entries too) and nothing of the other phases' data.

    A case is its hash and its deadlines (`<case_id>|<limit>` in its
    shard's `due` set, docs/storage.md). Its deadlines fire (the workers
    look every second; the bench's events are years old, so every limit is
    past) into overdue alerts, which the broker keeps in `cf:{pub}:open`
    while the case stays open: those are weighed apart, per alert, once the
    last deadlines have fired and been published (cf_bench_settle).       */
#include "cf_bench_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMORY_DEL_ITEMS    1000    /* keys, members or fields per command */

/* command [key] item... for every item, MEMORY_DEL_ITEMS at a time; adds
   what the replies count (the items that were there) to *removed. */
static int memory_delete(cf_bench_t *self, const char *command, const char *key, char **items,
                         size_t n, size_t *removed)
{
    const char *argv[MEMORY_DEL_ITEMS + 2] = { command, key };
    size_t head = key ? 2 : 1;
    for (size_t at = 0; at < n; at += MEMORY_DEL_ITEMS) {
        size_t m = n - at < MEMORY_DEL_ITEMS ? n - at : MEMORY_DEL_ITEMS;
        memcpy(argv + head, items + at, m * sizeof *items);
        if (cf_bench_redis(self, NULL, "PING") < 0)     /* connects when needed */
            return -1;
        redisReply *r = redisCommandArgv(self->redis, (int) (m + head), argv, NULL);
        if (!r || r->type != REDIS_REPLY_INTEGER) {
            if (r)
                freeReplyObject(r);
            return cf_bench_fail(self, "redis: %s failed", command);
        }
        *removed += (size_t) r->integer;
        freeReplyObject(r);
    }
    return 0;
}

static int memory_case_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The members of a list reply (ZRANGE, HKEYS) that are `<case_id>|...` of
   one of the n sorted ids, as new strings into out (*found of them). */
static void memory_of_cases(const redisReply *reply, const char **ids, size_t n, char ***out,
                            size_t *found)
{
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        char id[CF_PSEUDONYM_LEN + 1];
        if (e->type != REDIS_REPLY_STRING || sscanf(e->str, "%32[^|]|", id) != 1)
            continue;
        const char *key = id;
        if (!bsearch(&key, ids, n, sizeof *ids, memory_case_order))
            continue;
        *out = cf_realloc(*out, (*found + 1) * sizeof **out);
        (*out)[(*found)++] = cf_strdup(e->str);
    }
}

static void memory_free(char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i]);
}

/* Deletes the deadlines of the n sorted case ids from every shard's due
   set; *removed counts them. */
static int memory_delete_deadlines(cf_bench_t *self, const char **ids, size_t n, size_t *removed)
{
    int rc = 0;
    for (unsigned s = 0; s < CF_STORE_SHARDS && rc == 0; s++) {
        char key[CF_KEYS_MAX], **members = NULL;
        size_t found = 0;
        redisReply *r;
        cf_keys_fixed(key, sizeof key, s, CF_KEYS_DUE);
        if ((rc = cf_bench_redis(self, &r, "ZRANGE %s 0 -1", key)) < 0)
            break;
        memory_of_cases(r, ids, n, &members, &found);
        freeReplyObject(r);
        rc = memory_delete(self, "ZREM", key, members, found, removed);
        memory_free(members, found);
        free(members);
    }
    return rc;
}

/* A new copy of the eid key (case false) or the case key of id. */
static char *memory_key(unsigned shard, bool is_case, const char *id)
{
    char *key = cf_malloc(CF_KEYS_MAX);
    if (is_case)
        cf_keys_case(key, CF_KEYS_MAX, shard, id, strlen(id));
    else
        cf_keys_eid(key, CF_KEYS_MAX, shard, id);
    return key;
}

/* Weighs the open (closed = 0) or closed cases: hashes and deadlines. */
static int memory_cases(cf_bench_t *self, const bench_case_t *cases, size_t n, int closed,
                        double *bytes)
{
    char **keys = cf_calloc(n + 1, sizeof *keys);
    const char **ids = cf_calloc(n + 1, sizeof *ids);
    size_t m = 0, found = 0, deadlines = 0;
    for (size_t i = 0; i < n; i++)
        if (cases[i].closed == closed) {
            ids[m] = cases[i].case_id;
            keys[m++] = memory_key(cases[i].shard, true, cases[i].case_id);
        }
    qsort(ids, m, sizeof *ids, memory_case_order);
    bench_snapshot_t *snap = cf_calloc(2, sizeof *snap);
    /* the deadlines first: a deadline firing meanwhile would write into a
       case hash deleted before it */
    int rc = cf_bench_snapshot(self, snap);
    if (rc == 0)
        rc = memory_delete_deadlines(self, ids, m, &deadlines);
    if (rc == 0)
        rc = memory_delete(self, "DEL", NULL, keys, m, &found);
    if (rc == 0)
        rc = cf_bench_snapshot(self, snap + 1);
    *bytes = rc == 0 && found ? (snap[0].used_memory - snap[1].used_memory) / (double) found : 0;
    if (!closed)
        self->result.open_deadlines = deadlines;
    free(snap);
    memory_free(keys, m);
    free(keys);
    free(ids);
    return rc;
}

/* Weighs the open alerts of the ceiling's cases. */
static int memory_alerts(cf_bench_t *self, const bench_case_t *cases, size_t n)
{
    cf_bench_result_t *r = &self->result;
    const char **ids = cf_calloc(n + 1, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = cases[i].case_id;
    qsort(ids, n, sizeof *ids, memory_case_order);
    bench_snapshot_t *snap = cf_calloc(2, sizeof *snap);
    redisReply *reply = NULL;
    char **fields = NULL;
    size_t found = 0;
    r->open_alerts = 0;
    int rc = cf_bench_redis(self, &reply, "HKEYS %s", cf_keys_pub(CF_KEYS_PUB_OPEN));
    if (rc == 0) {
        memory_of_cases(reply, ids, n, &fields, &found);
        freeReplyObject(reply);
        rc = cf_bench_snapshot(self, snap);
    }
    if (rc == 0)
        rc = memory_delete(self, "HDEL", cf_keys_pub(CF_KEYS_PUB_OPEN), fields, found, &r->open_alerts);
    if (rc == 0)
        rc = cf_bench_snapshot(self, snap + 1);
    r->bytes_per_open_alert = rc == 0 && r->open_alerts
                            ? (snap[0].used_memory - snap[1].used_memory) / (double) r->open_alerts
                            : 0;
    memory_free(fields, found);
    free(fields);
    free(snap);
    free(ids);
    return rc;
}

int cf_bench_memory(cf_bench_t *self, const cf_event_t *events, const bench_case_t *cases)
{
    cf_bench_result_t *r = &self->result;
    size_t n = self->config->events, cases_n = r->open_cases + r->closed_cases;
    if (cf_bench_settle(self, NULL) < 0)    /* the last deadlines fired and published */
        return -1;
    char **keys = cf_calloc(n, sizeof *keys);
    for (size_t i = 0; i < n; i++)
        keys[i] = memory_key(cf_store_shard_of(&events[i]), false, events[i].event_id);
    bench_snapshot_t *snap = cf_calloc(2, sizeof *snap);
    r->event_ids = 0;
    int rc = cf_bench_snapshot(self, snap);
    if (rc == 0)
        rc = memory_delete(self, "DEL", NULL, keys, n, &r->event_ids);
    if (rc == 0)
        rc = cf_bench_snapshot(self, snap + 1);
    r->bytes_per_event_id = rc == 0 && r->event_ids
                          ? (snap[0].used_memory - snap[1].used_memory) / (double) r->event_ids : 0;
    free(snap);
    memory_free(keys, n);
    free(keys);
    /* the cases before their alerts: with its deadlines gone, no case
       fires an alert that the weighing would miss */
    if (rc == 0)
        rc = memory_cases(self, cases, cases_n, 0, &r->bytes_per_open_case);
    if (rc == 0)
        rc = memory_cases(self, cases, cases_n, 1, &r->bytes_per_closed_case);
    if (rc == 0)
        rc = memory_alerts(self, cases, cases_n);
    return rc;
}
