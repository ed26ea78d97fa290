/*  cf_pseudo: keyed HMAC-SHA-256 pseudonyms of case references (libsodium).
    See include/caseflow/cf_pseudo.h for the contract.                        */
#include "caseflow/cf_pseudo.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

struct _cf_pseudo_t {
    /* HMAC's state after the key: each pseudonym starts from a copy of it,
       instead of hashing the key's two pads again for every event */
    crypto_auth_hmacsha256_state keyed;
};

/* Reads at most CF_PSEUDO_KEY_MAX + 1 bytes, so an oversized file is seen. */
static int read_key(const char *path, unsigned char *buf, size_t *len, char *err, size_t err_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(err, err_size, "key file %s: %s", path, strerror(errno));
        return -1;
    }
    errno = 0;
    size_t got = fread(buf, 1, CF_PSEUDO_KEY_MAX + 1, file);
    int failed = ferror(file), why = errno;
    fclose(file);
    if (failed) {
        snprintf(err, err_size, "key file %s: cannot read it: %s", path,
                 why ? strerror(why) : "read error");
        return -1;
    }
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
        got--;
    if (got < CF_PSEUDO_KEY_MIN || got > CF_PSEUDO_KEY_MAX) {
        snprintf(err, err_size, "key file %s: key is %zu bytes, must be %d to %d",
                 path, got, CF_PSEUDO_KEY_MIN, CF_PSEUDO_KEY_MAX);
        return -1;
    }
    *len = got;
    return 0;
}

cf_pseudo_t *cf_pseudo_new(const char *key_file, char *err, size_t err_size)
{
    assert(key_file);
    if (sodium_init() < 0) {
        snprintf(err, err_size, "libsodium failed to initialise");
        return NULL;
    }
    unsigned char buf[CF_PSEUDO_KEY_MAX + 1];
    size_t len;
    if (read_key(key_file, buf, &len, err, err_size) < 0) {
        sodium_memzero(buf, sizeof buf);
        return NULL;
    }
    cf_pseudo_t *self = cf_calloc(1, sizeof *self);
    crypto_auth_hmacsha256_init(&self->keyed, buf, len);
    sodium_memzero(buf, sizeof buf);
    return self;
}

void cf_pseudo_apply(const cf_pseudo_t *self, const char *ref, size_t len, char *out)
{
    assert(self && ref && out);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state = self->keyed;
    crypto_auth_hmacsha256_update(&state, (const unsigned char *) ref, len);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_memzero(&state, sizeof state);
    sodium_bin2hex(out, 33, mac, 16);
}

void cf_pseudo_destroy(cf_pseudo_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero(&(*self_p)->keyed, sizeof (*self_p)->keyed);
    free(*self_p);
    *self_p = NULL;
}
