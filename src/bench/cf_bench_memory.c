/*  cf_bench: Redis's memory per event id, per case and per open alert; see
    cf_bench_internal.h. Each figure is INFO used_memory before and after
    deleting exactly the ceiling's keys of one kind, divided by how many
    were there, so it holds every cost of the kind (Redis's dictionaries
    and expiry entries too) and nothing of the other phases' data.

    An event id is its field in its dedupe bucket (docs/storage.md): the
    ceiling's fields are removed from every bucket key there is, so that a
    bucket left empty goes with its key (and its share of the key's cost);
    a bucket that other phases' ids keep keeps its key's cost unweighed.

    A case is its hash and its deadlines (`<case_id>|<limit>` in its
    shard's `due` set, docs/storage.md). Its deadlines fire (the workers
    look every second; the bench's events are years old, so every limit is
    past) into overdue alerts, which the broker keeps in `cf:{pub}:open`
    while the case stays open: those are weighed apart, per alert, once the
    last deadlines have fired and been published (cf_bench_settle).       */
#include "cf_bench_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_redis_slot.h"
#include "caseflow/cf_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMORY_DEL_ITEMS    1000    /* keys, members or fields per command */

/* command [key] item... for every item, MEMORY_DEL_ITEMS at a time; without
   key, command item for each item (DEL: on a cluster the items are keys of
   many slots), MEMORY_DEL_ITEMS to a pipeline. Adds what the replies count
   (the items that were there) to *removed. The items are strings, or
   item_len bytes each when item_len is not 0. */
static int memory_delete_items(cf_bench_t *self, const char *command, const char *key,
                               char **items, size_t item_len, size_t n, size_t *removed)
{
    const char *argv[MEMORY_DEL_ITEMS + 2] = { command, key };
    size_t argvlen[MEMORY_DEL_ITEMS + 2];
    cf_redis_cluster_t *redis = cf_bench_cluster(self);
    if (!redis)
        return -1;
    for (size_t at = 0; at < n; at += MEMORY_DEL_ITEMS) {
        size_t m = n - at < MEMORY_DEL_ITEMS ? n - at : MEMORY_DEL_ITEMS, commands = key ? 1 : m;
        argvlen[0] = strlen(command);
        for (size_t j = 0; j < m; j++) {
            const char **one = key ? argv + 2 + j : argv + 1;
            size_t *len = key ? argvlen + 2 + j : argvlen + 1;
            *one = items[at + j];
            *len = item_len ? item_len : strlen(*one);
            if (!key)
                cf_redis_cluster_append_argv(redis, 1, 2, argv, argvlen);
        }
        if (key) {
            argvlen[1] = strlen(key);
            cf_redis_cluster_append_argv(redis, 1, (int) m + 2, argv, argvlen);
        }
        int rc = 0;
        for (size_t j = 0; j < commands; j++) {
            redisReply *r;
            if (cf_bench_reply(self, &r) < 0) {
                rc = -1;
                continue;
            }
            if (r->type == REDIS_REPLY_INTEGER)
                *removed += (size_t) r->integer;
            else if (rc == 0)
                rc = cf_bench_fail(self, "redis: %s: not a count", command);
            freeReplyObject(r);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int memory_delete(cf_bench_t *self, const char *command, const char *key, char **items,
                         size_t n, size_t *removed)
{
    return memory_delete_items(self, command, key, items, 0, n, removed);
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
    for (unsigned s = 0; s < BENCH_SHARDS(self->config) && rc == 0; s++) {
        char key[CF_KEYS_MAX], **members = NULL;
        size_t found = 0;
        redisReply *r;
        cf_keys_fixed(key, sizeof key, s, CF_KEYS_DUE);
        if ((rc = cf_bench_redis(self, &r, key, "ZRANGE %s 0 -1", key)) < 0)
            break;
        memory_of_cases(r, ids, n, &members, &found);
        freeReplyObject(r);
        rc = memory_delete(self, "ZREM", key, members, found, removed);
        memory_free(members, found);
        free(members);
    }
    return rc;
}

/* A new copy of the case key of id. */
static char *memory_key(unsigned shard, const char *id)
{
    char *key = cf_malloc(CF_KEYS_MAX);
    cf_keys_case(key, CF_KEYS_MAX, shard, id, strlen(id));
    return key;
}

/* The dedupe markers of the n events, by bucket: each event's digest in
   digests, its bucket's (shard * CF_KEYS_EID_BUCKETS + bucket) events
   from first[slot] to first[slot + 1] of by_slot. */
typedef struct {
    unsigned char (*digests)[CF_KEYS_EID_DIGEST];
    char **by_slot;
    size_t *first;              /* shards * CF_KEYS_EID_BUCKETS + 1 */
    unsigned shards;
} memory_marks_t;

static memory_marks_t *memory_marks_new(const cf_event_t *events, size_t n, unsigned shards)
{
    memory_marks_t *m = cf_calloc(1, sizeof *m);
    size_t slots = (size_t) shards * CF_KEYS_EID_BUCKETS;
    m->shards = shards;
    m->digests = cf_calloc(n + 1, sizeof *m->digests);
    m->by_slot = cf_calloc(n + 1, sizeof *m->by_slot);
    m->first = cf_calloc(slots + 1, sizeof *m->first);
    size_t *slot = cf_calloc(n + 1, sizeof *slot), *fill = cf_calloc(slots, sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        slot[i] = cf_shard_pick(events[i].shard_hash, shards) * CF_KEYS_EID_BUCKETS
                + cf_store_eid_digest(&events[i], m->digests[i]);
        m->first[slot[i] + 1]++;
    }
    for (size_t s = 0; s < slots; s++) {
        m->first[s + 1] += m->first[s];
        fill[s] = m->first[s];
    }
    for (size_t i = 0; i < n; i++)
        m->by_slot[fill[slot[i]]++] = (char *) m->digests[i];
    free(slot);
    free(fill);
    return m;
}

static void memory_marks_destroy(memory_marks_t **m_p)
{
    if (!*m_p)
        return;
    free((*m_p)->digests);
    free((*m_p)->by_slot);
    free((*m_p)->first);
    free(*m_p);
    *m_p = NULL;
}

/* Every dedupe bucket key in Redis, whatever its generation: SCAN on every
   master, all of them at once, each until its cursor is back at 0. */
static int memory_eid_keys(cf_bench_t *self, char ***keys, size_t *count)
{
    int slots[BENCH_NODES_MAX];
    int n = cf_bench_masters(self, slots, BENCH_NODES_MAX);
    if (n < 0)
        return -1;
    char (*cursor)[32] = cf_calloc((size_t) n, sizeof *cursor);
    for (int i = 0; i < n; i++)
        strcpy(cursor[i], "0");
    int rc = 0, scanning = n;
    for (bool first = true; rc == 0 && scanning > 0; first = false) {
        int asked[BENCH_NODES_MAX], k = 0;
        for (int i = 0; i < n; i++) {
            if (!first && strcmp(cursor[i], "0") == 0)
                continue;
            const char *argv[] = { "SCAN", cursor[i], "MATCH", "cf:*:eid:*", "COUNT", "1000" };
            cf_redis_cluster_append_slot(self->redis, slots[i], 6, argv, NULL);
            asked[k++] = i;
        }
        for (int j = 0; j < k; j++) {
            redisReply *r;
            if (cf_bench_reply(self, &r) < 0) {
                rc = -1;
                continue;
            }
            if (rc == 0 && (r->type != REDIS_REPLY_ARRAY || r->elements != 2
                            || r->element[0]->type != REDIS_REPLY_STRING
                            || r->element[1]->type != REDIS_REPLY_ARRAY))
                rc = cf_bench_fail(self, "redis: SCAN: unexpected reply");
            if (rc == 0) {
                snprintf(cursor[asked[j]], sizeof *cursor, "%s", r->element[0]->str);
                const redisReply *found = r->element[1];
                *keys = cf_realloc(*keys, (*count + found->elements + 1) * sizeof **keys);
                for (size_t e = 0; e < found->elements; e++)
                    (*keys)[(*count)++] = cf_strdup(found->element[e]->str);
            }
            freeReplyObject(r);
        }
        scanning = 0;
        for (int i = 0; i < n; i++)
            scanning += strcmp(cursor[i], "0") != 0;
    }
    free(cursor);
    return rc;
}

/* Removes the n events' markers (each bucket in every generation there is);
   *removed counts them. */
static int memory_delete_marks(cf_bench_t *self, const cf_event_t *events, size_t n,
                               size_t *removed)
{
    char **keys = NULL;
    size_t count = 0;
    int rc = memory_eid_keys(self, &keys, &count);
    memory_marks_t *m = memory_marks_new(events, n, BENCH_SHARDS(self->config));
    for (size_t k = 0; k < count && rc == 0; k++) {
        unsigned shard, bucket;
        char rest;                  /* a key of an earlier layout (eid:<generation>:<bucket>) */
        if (sscanf(keys[k], "cf:{s%u}:eid:%u%c", &shard, &bucket, &rest) != 2
            || shard >= m->shards || bucket >= CF_KEYS_EID_BUCKETS)
            continue;
        size_t slot = shard * CF_KEYS_EID_BUCKETS + bucket;
        rc = memory_delete_items(self, "HDEL", keys[k], m->by_slot + m->first[slot],
                                 CF_KEYS_EID_DIGEST, m->first[slot + 1] - m->first[slot],
                                 removed);
    }
    memory_marks_destroy(&m);
    memory_free(keys, count);
    free(keys);
    return rc;
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
            keys[m++] = memory_key(cases[i].shard, cases[i].case_id);
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
    const char *open = cf_keys_pub(CF_KEYS_PUB_OPEN);
    int rc = cf_bench_redis(self, &reply, open, "HKEYS %s", open);
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

/* A hash tag whose slot is served by the node of slot (a master's), into
   tag (size bytes). */
static int memory_tag_of(cf_bench_t *self, int slot, char *tag, size_t size)
{
    int node = cf_redis_cluster_slot_node(self->redis, slot);
    for (unsigned t = 0; node >= 0 && t < 1000000; t++) {
        int len = snprintf(tag, size, "bench-%u", t);
        if (cf_redis_cluster_slot_node(self->redis, (int) cf_redis_slot(tag, (size_t) len)) == node)
            return 0;
    }
    return cf_bench_fail(self, "redis: no hash tag on the node of slot %d", slot);
}

/* Sets and deletes MEMORY_DEL_ITEMS scratch keys on every master, each in
   one command, so that what Redis allocates once and keeps on its first
   large deletion (about 16 KB on 7.0: measured, 149 hashes deleted in one
   DEL weighed 107 bytes less than nothing without it, 224 bytes each with
   it) is not weighed with the first kind measured after it. */
static int memory_warm_up(cf_bench_t *self)
{
    int slots[BENCH_NODES_MAX];
    int masters = cf_bench_masters(self, slots, BENCH_NODES_MAX), rc = masters < 0 ? -1 : 0;
    char **keys = cf_calloc(MEMORY_DEL_ITEMS, sizeof *keys);
    const char **argv = cf_calloc(2 * MEMORY_DEL_ITEMS + 1, sizeof *argv);
    argv[0] = "MSET";
    for (size_t i = 0; i < MEMORY_DEL_ITEMS; i++)
        keys[i] = cf_malloc(48);
    for (int m = 0; rc == 0 && m < masters; m++) {
        char tag[24];
        if ((rc = memory_tag_of(self, slots[m], tag, sizeof tag)) < 0)
            break;
        for (size_t i = 0; i < MEMORY_DEL_ITEMS; i++) {
            snprintf(keys[i], 48, "cf:{%s}:warm-up:%zu", tag, i);
            argv[1 + 2 * i] = keys[i];
            argv[2 + 2 * i] = "1";
        }
        redisReply *r;
        cf_redis_cluster_append_argv(self->redis, 1, 2 * MEMORY_DEL_ITEMS + 1, argv, NULL);
        if ((rc = cf_bench_reply(self, &r)) == 0)
            freeReplyObject(r);
        size_t removed = 0;
        if (rc == 0)
            rc = memory_delete(self, "DEL", NULL, keys, MEMORY_DEL_ITEMS, &removed);
    }
    memory_free(keys, MEMORY_DEL_ITEMS);
    free(keys);
    free(argv);
    return rc;
}

int cf_bench_memory(cf_bench_t *self, const cf_event_t *events, const bench_case_t *cases)
{
    cf_bench_result_t *r = &self->result;
    size_t n = self->config->events, cases_n = r->open_cases + r->closed_cases;
    if (cf_bench_settle(self, NULL) < 0     /* the last deadlines fired and published */
        || memory_warm_up(self) < 0)
        return -1;
    bench_snapshot_t *snap = cf_calloc(2, sizeof *snap);
    r->event_ids = 0;
    int rc = cf_bench_snapshot(self, snap);
    if (rc == 0)
        rc = memory_delete_marks(self, events, n, &r->event_ids);
    if (rc == 0)
        rc = cf_bench_snapshot(self, snap + 1);
    r->bytes_per_event_id = rc == 0 && r->event_ids
                          ? (snap[0].used_memory - snap[1].used_memory) / (double) r->event_ids : 0;
    free(snap);
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
