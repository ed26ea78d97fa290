/*  cf_pseudo: turns a raw case_ref into its pseudonym, a keyed HMAC-SHA-256.

    The key comes from a file that only the workers read. The pseudonym is the
    first 16 bytes of the MAC in lower-case hex: stable for a given key, so the
    same case always lands on the same Redis state, and useless without the
    key, so Redis, logs and notifications can hold it.                         */
#ifndef CF_PSEUDO_H
#define CF_PSEUDO_H

#include <stddef.h>

#define CF_PSEUDO_KEY_MIN   32      /* bytes; a shorter key is refused */
#define CF_PSEUDO_KEY_MAX   1024

typedef struct _cf_pseudo_t cf_pseudo_t;

/*  Reads the key file. Returns NULL and writes why into err (which names the
    file) when it is missing, unreadable, shorter than CF_PSEUDO_KEY_MIN bytes
    or longer than CF_PSEUDO_KEY_MAX. A trailing newline is not part of the key. */
cf_pseudo_t *cf_pseudo_new(const char *key_file, char *err, size_t err_size);

/*  Writes the 32 hex chars and a NUL into out (at least 33 bytes).           */
void cf_pseudo_apply(const cf_pseudo_t *self, const char *ref, size_t len, char *out);

/*  Frees the key (wiped first) and nulls *self_p; accepts NULL.              */
void cf_pseudo_destroy(cf_pseudo_t **self_p);

#endif
