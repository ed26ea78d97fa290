/*  cf_web_tokens: the token file of caseflow-web; see cf_web_tokens.h.     */
#include "cf_web_tokens.h"
#include "caseflow/cf_alloc.h"
#include "cf_web_file.h"

#include <assert.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_LINE_MAX 4096
#define TOKENS_PROGRAMMES_MAX 64

struct _cf_web_token_t {
    unsigned char hash[crypto_hash_sha256_BYTES];
    cf_web_role_t role;
    char **programmes;
    size_t nprogrammes;
};

struct _cf_web_tokens_t {
    cf_web_token_t *tokens;
    size_t size;
    atomic_size_t refs;
    _Atomic(cf_web_tokens_t *) successor;  /* the set that replaced this one; NULL: none */
};

static const char *s_roles[] = { "viewer", "exact", "operator", "producer" };
_Static_assert(sizeof s_roles / sizeof s_roles[0] == CF_WEB_PRODUCER + 1, "a name per role");

const char *cf_web_role_name(cf_web_role_t role)
{
    assert(role <= CF_WEB_PRODUCER);
    return s_roles[role];
}

void cf_web_tokens_destroy(cf_web_tokens_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_web_tokens_t *self = *self_p;
    *self_p = NULL;
    /* a loop, not recursion: freeing a set drops its successor's reference,
       and a chain of replaced sets may be long */
    while (self && atomic_fetch_sub(&self->refs, 1) == 1) {
        cf_web_tokens_t *next = atomic_load(&self->successor);
        for (size_t i = 0; i < self->size; i++) {
            for (size_t p = 0; p < self->tokens[i].nprogrammes; p++)
                free(self->tokens[i].programmes[p]);
            free(self->tokens[i].programmes);
        }
        free(self->tokens);
        free(self);
        self = next;
    }
}

cf_web_tokens_t *cf_web_tokens_hold(cf_web_tokens_t *self)
{
    assert(self);
    atomic_fetch_add(&self->refs, 1);
    return self;
}

void cf_web_tokens_replace(cf_web_tokens_t *self, cf_web_tokens_t *successor)
{
    assert(self && successor && self != successor);
    cf_web_tokens_t *none = NULL;
    cf_web_tokens_hold(successor);
    bool first = atomic_compare_exchange_strong(&self->successor, &none, successor);
    assert(first);              /* a set is replaced once */
    (void) first;
}

/*  The entry of set whose hash is hash, or NULL.                           */
static const cf_web_token_t *tokens_find_hash(const cf_web_tokens_t *set,
                                              const unsigned char *hash)
{
    for (size_t i = 0; i < set->size; i++)
        if (!memcmp(set->tokens[i].hash, hash, crypto_hash_sha256_BYTES))
            return &set->tokens[i];
    return NULL;
}

const cf_web_token_t *cf_web_tokens_renew(cf_web_tokens_t **set_p, const cf_web_token_t *token)
{
    assert(set_p && *set_p && token);
    cf_web_tokens_t *next;
    while (token && (next = atomic_load(&(*set_p)->successor))) {
        token = tokens_find_hash(next, token->hash);
        cf_web_tokens_hold(next);
        cf_web_tokens_destroy(set_p);
        *set_p = next;
    }
    return token;
}

/*  Parses one line's fields into entry. 0, or -1 with the reason in why.   */
static int tokens_entry(char *line, cf_web_token_t *entry, char *why, size_t n)
{
    char *save = NULL;
    char *hash = strtok_r(line, " \t", &save);
    char *role = strtok_r(NULL, " \t", &save);
    char *programmes = strtok_r(NULL, " \t", &save);
    if (!role) {
        snprintf(why, n, "a line is HASH ROLE [PROGRAMMES]");
        return -1;
    }
    size_t len = 0;
    if (strlen(hash) != 64
        || sodium_hex2bin(entry->hash, sizeof entry->hash, hash, 64, NULL, &len, NULL) < 0
        || len != sizeof entry->hash) {
        snprintf(why, n, "the hash is not 64 hex digits (the SHA-256 of the token)");
        return -1;
    }
    size_t r = 0;
    while (r < sizeof s_roles / sizeof s_roles[0] && strcmp(s_roles[r], role))
        r++;
    if (r == sizeof s_roles / sizeof s_roles[0]) {
        snprintf(why, n, "role '%.32s' is not viewer, exact, operator or producer", role);
        return -1;
    }
    entry->role = (cf_web_role_t) r;
    if (strtok_r(NULL, " \t", &save)) {
        snprintf(why, n, "a line is HASH ROLE [PROGRAMMES]; programmes are comma-separated");
        return -1;
    }
    if (programmes && entry->role == CF_WEB_PRODUCER) {
        /* what a producer may post is the broker's to check, per event */
        snprintf(why, n, "a producer token takes no programmes");
        return -1;
    }
    for (char *p = programmes ? strtok_r(programmes, ",", &save) : NULL; p;
         p = strtok_r(NULL, ",", &save)) {
        if (entry->nprogrammes == TOKENS_PROGRAMMES_MAX) {
            snprintf(why, n, "more than %d programmes", TOKENS_PROGRAMMES_MAX);
            return -1;
        }
        entry->programmes = cf_realloc(entry->programmes,
                                       (entry->nprogrammes + 1) * sizeof *entry->programmes);
        entry->programmes[entry->nprogrammes++] = cf_strdup(p);
    }
    return 0;
}

cf_web_tokens_t *cf_web_tokens_parse(const char *text, const char *origin, char *err, size_t n)
{
    assert(text && origin);
    cf_web_tokens_t *self = cf_calloc(1, sizeof *self);
    atomic_init(&self->refs, 1);
    atomic_init(&self->successor, NULL);
    size_t lineno = 0;
    for (const char *at = text; *at;) {
        const char *end = strchr(at, '\n');
        size_t len = end ? (size_t) (end - at) : strlen(at);
        lineno++;
        char line[TOKENS_LINE_MAX], why[160];
        if (len >= sizeof line) {
            snprintf(err, n, "%s:%zu: line too long", origin, lineno);
            cf_web_tokens_destroy(&self);
            return NULL;
        }
        memcpy(line, at, len);
        line[len] = 0;
        if (len && line[len - 1] == '\r')
            line[len - 1] = 0;
        at += len + (end ? 1 : 0);
        size_t skip = strspn(line, " \t");
        if (!line[skip] || line[skip] == '#')
            continue;
        self->tokens = cf_realloc(self->tokens, (self->size + 1) * sizeof *self->tokens);
        cf_web_token_t *entry = &self->tokens[self->size++];
        memset(entry, 0, sizeof *entry);
        if (tokens_entry(line + skip, entry, why, sizeof why) < 0) {
            snprintf(err, n, "%s:%zu: %s", origin, lineno, why);
            cf_web_tokens_destroy(&self);
            return NULL;
        }
    }
    return self;
}

cf_web_tokens_t *cf_web_tokens_load(const char *path, char *err, size_t n)
{
    assert(path);
    size_t len;
    char *text = cf_web_file_read(path, &len, err, n);
    if (!text)
        return NULL;
    cf_web_tokens_t *self = NULL;
    if (strlen(text) != len)
        snprintf(err, n, "%s: a NUL byte: not a token file", path);
    else
        self = cf_web_tokens_parse(text, path, err, n);
    free(text);
    return self;
}

size_t cf_web_tokens_size(const cf_web_tokens_t *self)
{
    assert(self);
    return self->size;
}

const cf_web_token_t *cf_web_tokens_find(const cf_web_tokens_t *self, const char *token)
{
    assert(self && token);
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *) token, strlen(token));
    const cf_web_token_t *found = NULL;
    for (size_t i = 0; i < self->size; i++)
        if (sodium_memcmp(hash, self->tokens[i].hash, sizeof hash) == 0 && !found)
            found = &self->tokens[i];
    return found;
}

void cf_web_tokens_hash(const char *token, char out[CF_WEB_TOKEN_HASH_HEX])
{
    assert(token);
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *) token, strlen(token));
    sodium_bin2hex(out, CF_WEB_TOKEN_HASH_HEX, hash, sizeof hash);
}

cf_web_role_t cf_web_token_role(const cf_web_token_t *token)
{
    assert(token);
    return token->role;
}

bool cf_web_token_reads(const cf_web_token_t *token)
{
    assert(token);
    return token->role != CF_WEB_PRODUCER;
}

bool cf_web_token_sees(const cf_web_token_t *token, const char *programme)
{
    assert(token && programme);
    if (token->nprogrammes == 0)
        return true;
    for (size_t i = 0; i < token->nprogrammes; i++)
        if (!strcmp(token->programmes[i], programme))
            return true;
    return false;
}

size_t cf_web_token_programmes(const cf_web_token_t *token)
{
    assert(token);
    return token->nprogrammes;
}

const char *cf_web_token_programme(const cf_web_token_t *token, size_t i)
{
    assert(token && i < token->nprogrammes);
    return token->programmes[i];
}
