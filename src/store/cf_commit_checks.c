/*  cf_commit_checks: the check round of a shard's commit (cf_commit.h):
    the commands that read what the commit needs to know before it may be
    written (counters' values, keys' types), what the owner's cache spares
    of them (cf_commit_cache.h), and their replies, taken back one by one,
    which refuse a commit Redis would fail halfway and give each counter's
    new value, worked out in 64-bit integers; after EXEC, what the commit
    wrote goes into the cache.                                              */
#include "cf_commit_internal.h"
#include "cf_commit_cache.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_tuple.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void commit_check_add(cf_commit_t *self, check_kind_t kind, size_t at, size_t n)
{
    self->checks = cf_grow(self->checks, &self->checks_cap, self->nchecks + 1,
                           sizeof *self->checks);
    self->checks[self->nchecks++] = (commit_check_t) { kind, at, n };
}

static int commit_take_counters(cf_commit_t *self, const commit_check_t *check,
                                const redisReply *reply, char *why, size_t size);

/* Marks the fields of the counter run at p (run items) that the cache
   knows: its values, or, when it holds every field of the hash (all),
   that the field is absent (unless it keeps the field with another width:
   Redis's value then refuses the commit, as it would without a cache).
   Returns how many distinct fields it does not know. */
static size_t commit_know(cf_commit_t *self, size_t p, size_t run, const cf_commit_cache_t *cache,
                          unsigned shard, bool all)
{
    const commit_str_t *key = &self->keys[commit_at(self, p)->key - 1].name;
    size_t unknown = 0;
    for (size_t q = p; cache && q < p + run; q++)
        if (!commit_same_field(self, q, p)) {
            commit_item_t *item = &self->items[self->order[q]];
            item->hint = cf_commit_cache_prefetch(cache, shard, commit_text(self, *key),
                                                  key->len, commit_text(self, item->a),
                                                  item->a.len);
        }
    for (size_t q = p; q < p + run; q++) {
        commit_item_t *item = &self->items[self->order[q]];
        item->known = false;
        if (commit_same_field(self, q, p))
            continue;
        cf_commit_field_t field = CF_COMMIT_FIELD_UNKNOWN;
        if (cache)
            field = cf_commit_cache_field(cache, shard, item->hint, commit_text(self, *key),
                                          key->len, commit_text(self, item->a), item->a.len,
                                          &self->vals[item->v], item->w, all, &item->ref);
        item->known = field == CF_COMMIT_FIELD_KNOWN;
        if (field == CF_COMMIT_FIELD_UNKNOWN && all) {
            memset(&self->vals[item->v], 0, item->w * sizeof *self->vals);
            item->known = true;     /* absent; item->ref 0: put after EXEC */
        }
        unknown += !item->known;
    }
    return unknown;
}

size_t cf_commit_checks(cf_commit_t *self, const cf_commit_cache_t *cache, unsigned shard,
                        cf_commit_emit_fn *emit, void *arg)
{
    assert(self && emit);
    cf_commit_sort(self);
    cf_commit_place(self);
    self->nchecks = self->next_check = 0;
    self->wrong_hash = 0;
    self->refusal[0] = '\0';
    self->nloaded = self->nloaded_vals = 0;
    for (size_t k = 0; k < self->nkeys; k++)
        self->keys[k].hash_next = -1;
    cf_commit_argv_reserve(self, 2 + self->nitems);
    size_t argc = 0, counters = 0;
    /* one WATCH of every counter hash, so that the values read below are
       those EXEC adds to, or EXEC refuses; none for an owner's shard (its
       owner record, watched by the caller, fences it: no one else writes
       its counters) */
    commit_arg(self, &argc, "WATCH", 5);
    for (size_t p = 0; !cache && p < self->nitems; p += commit_run(self, p))
        if (commit_at(self, p)->kind == OP_INCR)
            commit_arg_key(self, &argc, commit_at(self, p)->key), counters++;
    if (counters) {
        emit(arg, argc, self->argv, self->argvlen);
        commit_check_add(self, CHECK_WATCH, 0, 0);
    }
    for (size_t p = 0, run; p < self->nitems; p += run) {
        const commit_item_t *first = commit_at(self, p);
        const commit_str_t *key = &self->keys[first->key - 1].name;
        run = commit_run(self, p);
        argc = 0;
        cf_commit_hash_t hash = CF_COMMIT_HASH_SOME;
        if (first->kind == OP_INCR && cache)
            hash = cf_commit_cache_hash(cache, shard, commit_text(self, *key), key->len);
        if (first->kind == OP_INCR
            && !commit_know(self, p, run, cache, shard, hash == CF_COMMIT_HASH_ALL)) {
            /* every value known: worked out now, as a reply would be */
            commit_check_t known = { CHECK_HMGET, p, run };
            if (!self->refusal[0])
                commit_take_counters(self, &known, NULL, self->refusal, sizeof self->refusal);
            continue;
        } else if (first->kind == OP_INCR && hash == CF_COMMIT_HASH_SMALL) {
            /* small: read whole, so that the cache holds every field after */
            commit_arg(self, &argc, "HGETALL", 7);
            commit_arg_key(self, &argc, first->key);
            commit_check_add(self, CHECK_HGETALL, p, run);
        } else if (first->kind == OP_INCR) {
            commit_arg(self, &argc, "HMGET", 5);
            commit_arg_key(self, &argc, first->key);
            for (size_t q = p; q < p + run; q++)
                if (!commit_same_field(self, q, p) && !commit_at(self, q)->known)
                    commit_arg_str(self, &argc, commit_at(self, q)->a);
            commit_check_add(self, CHECK_HMGET, p, run);
            if (cache && hash == CF_COMMIT_HASH_SOME) {
                /* and its size: empty, the cache holds every field after
                   EXEC; small, it reads the hash whole next time */
                emit(arg, argc, self->argv, self->argvlen);
                argc = 0;
                commit_arg(self, &argc, "HLEN", 4);
                commit_arg_key(self, &argc, first->key);
                commit_check_add(self, CHECK_HLEN, p, run);
            }
        } else if (first->kind == OP_TYPE
                   && !(cache && !self->keys[first->key - 1].recheck
                        && cf_commit_cache_typed(cache, shard, commit_text(self, *key), key->len,
                                                 commit_text(self, first->a)))) {
            commit_arg(self, &argc, "TYPE", 4);
            commit_arg_key(self, &argc, first->key);
            commit_check_add(self, CHECK_TYPE, p, 1);
        } else
            continue;
        emit(arg, argc, self->argv, self->argvlen);
    }
    return self->nchecks;
}

const char *cf_commit_refusal(const cf_commit_t *self)
{
    assert(self);
    return self->refusal[0] ? self->refusal : NULL;
}

/* Puts in the cache the fields key's HGETALL gave that the commit did not
   write. -1 at the cache's bound. */
static int commit_remember_loaded(const cf_commit_t *self, cf_commit_cache_t *cache,
                                  unsigned shard, size_t key)
{
    const commit_str_t *name = &self->keys[key - 1].name;
    for (size_t i = 0; i < self->nloaded; i++) {
        const commit_loaded_t *l = &self->loaded[i];
        if (l->key == key
            && cf_commit_cache_put_values(cache, shard, commit_text(self, *name), name->len,
                                          commit_text(self, l->field), l->field.len,
                                          &self->loaded_vals[l->v], l->w) < 0)
            return -1;
    }
    return 0;
}

void cf_commit_remember(const cf_commit_t *self, cf_commit_cache_t *cache, unsigned shard)
{
    assert(self && cache && self->sorted);
    for (size_t p = 0, run; p < self->nitems; p += run) {
        run = commit_run(self, p);
        const commit_key_t *k = &self->keys[commit_at(self, p)->key - 1];
        const commit_str_t *key = &k->name;
        /* a counter hash written is a hash: the read round probes it; the
           other fields its HGETALL gave, and what is known of them */
        if (commit_at(self, p)->kind == OP_INCR
            && (commit_remember_loaded(self, cache, shard, commit_at(self, p)->key) < 0
                || (k->hash_next < 0
                    ? cf_commit_cache_put_type(cache, shard, commit_text(self, *key), key->len,
                                               "hash")
                    : cf_commit_cache_put_hash(cache, shard, commit_text(self, *key), key->len,
                                               (cf_commit_hash_t) k->hash_next)) < 0))
            return;
        for (size_t q = p; commit_at(self, p)->kind == OP_INCR && q < p + run; q++) {
            const commit_item_t *item = commit_at(self, q);
            const int64_t *values = &self->vals[item->v];
            if (commit_same_field(self, q, p))
                continue;           /* a field's first item: the entry found */
            if (item->known && cf_commit_cache_set(cache, shard, item->ref, values, item->w))
                continue;
            if (cf_commit_cache_put_values(cache, shard, commit_text(self, *key), key->len,
                                           commit_text(self, item->a), item->a.len, values,
                                           item->w) < 0)
                return;             /* at the bound: the shard's cache is dropped */
        }
    }
}

void cf_commit_wrong_type(char *why, size_t size, const char *key, const char *held,
                          const char *want)
{
    snprintf(why, size, "WRONGTYPE commit: %s holds a %s, not a %s", key, held, want);
}

const char *cf_commit_wrong_hash(const cf_commit_t *self)
{
    assert(self);
    return self->wrong_hash ? commit_text(self, self->keys[self->wrong_hash - 1].name) : NULL;
}

/* A counter field's width values as Redis holds them: NULL (absent) is
   zeros; anything cf_tuple_parse does not take is not one. */
static bool commit_parse(const redisReply *v, int64_t *values, size_t width)
{
    if (!v || v->type == REDIS_REPLY_NIL) {
        memset(values, 0, width * sizeof *values);
        return true;
    }
    return v->type == REDIS_REPLY_STRING
        && cf_tuple_parse(v->str, v->len, values, width) == 0;
}

/* The new values of one hash's counters: values[e] is Redis's value of
   the e-th field the cache does not know (NULL or nil: absent); values
   NULL when it knows them all. */
static int commit_sum_counters(cf_commit_t *self, const commit_check_t *check,
                               redisReply *const *values, char *why, size_t size)
{
    const commit_item_t *first = commit_at(self, check->at);
    const char *key = commit_text(self, self->keys[first->key - 1].name);
    size_t e = 0;
    for (size_t p = check->at; p < check->at + check->n; p++) {
        commit_item_t *item = &self->items[self->order[p]];
        const char *field = commit_text(self, item->a);
        int64_t *now = &self->vals[item->v + item->m], sum;
        if (!item->known && !commit_same_field(self, p, check->at)
            && !commit_parse(values[e++], &self->vals[item->v], item->w)) {
            if (item->w == 1)
                snprintf(why, size, "counter is not an integer: %s %.*s", key,
                         (int) item->a.len, field);
            else
                snprintf(why, size, "counter is not an integer: %s %.*s (not %u integers "
                         "joined by ',')", key, (int) item->a.len, field, item->w);
            return -1;
        }
        if (__builtin_add_overflow(*now, item->n, &sum)) {
            snprintf(why, size, "counter would overflow: %s %.*s (%" PRId64 " + %" PRId64 ")",
                     key, (int) item->whole, field, *now, item->n);
            return -1;
        }
        *now = sum;
    }
    return 0;
}

/* The fields of a counter run the cache does not know, 0 with a reply of
   Redis's that is not a hash's (its error into why). */
static size_t commit_unknown(cf_commit_t *self, const commit_check_t *check,
                             const redisReply *reply, const char *command, char *why, size_t size)
{
    const commit_item_t *first = commit_at(self, check->at);
    const char *key = commit_text(self, self->keys[first->key - 1].name);
    size_t fields = 0;
    for (size_t p = check->at; p < check->at + check->n; p++)
        fields += !commit_same_field(self, p, check->at) && !commit_at(self, p)->known;
    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "WRONGTYPE", 9) == 0) {
        self->wrong_hash = first->key;
        cf_commit_wrong_type(why, size, key, "value of another type", "hash");
        return 0;
    }
    if (reply->type != REDIS_REPLY_ARRAY) {
        snprintf(why, size, "%s %s: %s", command, key,
                 reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        return 0;
    }
    return fields;
}

/* From its HMGET's reply (NULL: every value known). */
static int commit_take_counters(cf_commit_t *self, const commit_check_t *check,
                                const redisReply *reply, char *why, size_t size)
{
    if (!reply)
        return commit_sum_counters(self, check, NULL, why, size);
    size_t fields = commit_unknown(self, check, reply, "HMGET", why, size);
    if (!fields || reply->elements != fields) {
        if (fields)
            snprintf(why, size, "HMGET %s: unexpected reply",
                     commit_text(self, self->keys[commit_at(self, check->at)->key - 1].name));
        return -1;
    }
    return commit_sum_counters(self, check, reply->element, why, size);
}

/* Whether the item at order position p adds to field (its row's name). */
static bool commit_field_is(const cf_commit_t *self, size_t p, const char *field, size_t len)
{
    commit_str_t a = commit_at(self, p)->a;
    return a.len == len && memcmp(commit_text(self, a), field, len) == 0;
}

/* The first order position of check's run whose field is (field, len),
   or the run's end: the run is sorted by field (cf_commit_sort). */
static size_t commit_run_field(const cf_commit_t *self, const commit_check_t *check,
                               const char *field, size_t len)
{
    size_t lo = check->at, hi = check->at + check->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        commit_str_t a = commit_at(self, mid)->a;
        int c = memcmp(commit_text(self, a), field, a.len < len ? a.len : len);
        if (c < 0 || (c == 0 && a.len < len))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < check->at + check->n && commit_field_is(self, lo, field, len) ? lo
                                                                             : check->at + check->n;
}

/* From its HGETALL's reply, in one pass: the values of the fields the
   cache does not know, and every other field the hash holds, for the
   cache to keep after EXEC (commit_loaded_t). A value that is not a
   counter's leaves the cache as it was (LARGE: not read whole again). */
static int commit_take_hash(cf_commit_t *self, const commit_check_t *check,
                            const redisReply *reply, char *why, size_t size)
{
    if (!commit_unknown(self, check, reply, "HGETALL", why, size))
        return -1;
    size_t end = check->at + check->n, first = self->nloaded, first_vals = self->nloaded_vals;
    /* found[p - at]: the value of the field at run position p, NULL absent */
    self->found = cf_grow(self->found, &self->found_cap, check->n, sizeof *self->found);
    memset(self->found, 0, check->n * sizeof *self->found);
    bool whole = true;
    for (size_t r = 0; r + 1 < reply->elements; r += 2) {
        const redisReply *f = reply->element[r], *v = reply->element[r + 1];
        size_t p = f->type == REDIS_REPLY_STRING ? commit_run_field(self, check, f->str, f->len)
                                                 : end;
        if (p < end) {              /* written: every width of the field gets its value */
            for (size_t q = p; q < end && commit_field_is(self, q, f->str, f->len); q++)
                self->found[q - check->at] = v;
            continue;
        }
        if (!whole)
            continue;
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            whole = false;
            continue;
        }
        unsigned w = 1;
        for (size_t i = 0; i < v->len; i++)
            w += v->str[i] == ',';
        self->loaded_vals = cf_grow(self->loaded_vals, &self->loaded_vals_cap,
                                    self->nloaded_vals + w, sizeof *self->loaded_vals);
        if (cf_tuple_parse(v->str, v->len, &self->loaded_vals[self->nloaded_vals], w) < 0) {
            whole = false;          /* not a counter: never read whole */
            continue;
        }
        self->loaded = cf_grow(self->loaded, &self->loaded_cap, self->nloaded + 1,
                               sizeof *self->loaded);
        self->loaded[self->nloaded++] = (commit_loaded_t) {
            commit_at(self, check->at)->key, cf_commit_copy(self, f->str, f->len),
            self->nloaded_vals, w };
        self->nloaded_vals += w;
    }
    /* the values of the fields the cache does not know, in their order */
    size_t e = 0;
    for (size_t p = check->at; p < end; p++)
        if (!commit_at(self, p)->known && !commit_same_field(self, p, check->at))
            self->found[e++] = self->found[p - check->at];
    int rc = commit_sum_counters(self, check, (redisReply *const *) self->found, why, size);
    if (rc < 0 || !whole) {         /* nothing of the hash kept after EXEC */
        self->nloaded = first;
        self->nloaded_vals = first_vals;
    }
    if (rc < 0)
        return -1;
    self->keys[commit_at(self, check->at)->key - 1].hash_next = whole ? CF_COMMIT_HASH_ALL
                                                                      : CF_COMMIT_HASH_LARGE;
    return 0;
}

int cf_commit_check(cf_commit_t *self, const redisReply *reply, char *why, size_t size)
{
    assert(self && reply && why && self->next_check < self->nchecks);
    const commit_check_t *check = &self->checks[self->next_check++];
    if (check->kind == CHECK_HMGET)
        return commit_take_counters(self, check, reply, why, size);
    if (check->kind == CHECK_HGETALL)
        return commit_take_hash(self, check, reply, why, size);
    if (check->kind == CHECK_HLEN && reply->type == REDIS_REPLY_INTEGER) {
        self->keys[commit_at(self, check->at)->key - 1].hash_next =
            reply->integer == 0 ? CF_COMMIT_HASH_ALL
            : reply->integer <= CF_COMMIT_HASH_READ_MOST ? CF_COMMIT_HASH_SMALL
            : CF_COMMIT_HASH_LARGE;
        return 0;
    }
    if (check->kind == CHECK_HLEN && reply->type != REDIS_REPLY_ERROR) {
        snprintf(why, size, "HLEN: unexpected reply");
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(why, size, "%s: %s", check->kind == CHECK_WATCH ? "WATCH"
                 : check->kind == CHECK_HLEN ? "HLEN" : "TYPE", reply->str);
        return -1;
    }
    if (check->kind == CHECK_WATCH)
        return 0;
    const commit_item_t *item = commit_at(self, check->at);
    const char *want = commit_text(self, item->a);
    if (reply->type != REDIS_REPLY_STATUS && reply->type != REDIS_REPLY_STRING) {
        snprintf(why, size, "TYPE: unexpected reply");
        return -1;
    }
    if (strcmp(reply->str, "none") == 0 || strcmp(reply->str, want) == 0)
        return 0;
    cf_commit_wrong_type(why, size, commit_text(self, self->keys[item->key - 1].name), reply->str,
                         want);
    return -1;
}
