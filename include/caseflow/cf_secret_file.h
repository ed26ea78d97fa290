/*  cf_secret_file: reading a secret (a password, an HMAC key) from a file,
    the way ssh reads a key: the file must be a regular file that group and
    others can neither read nor write, since a secret others can read is
    already leaked. The Redis password (cf_redis_auth) and caseflow-alert's
    webhook secrets and SMTP passwords are read here.                        */
#ifndef CF_SECRET_FILE_H
#define CF_SECRET_FILE_H

#include <stdbool.h>
#include <stddef.h>

/*  Reads the file at path into buf (size bytes), the final newline (and a
    CR before it) dropped; *len gets the secret's length. 0, or -1 with the
    reason in err, starting with what ("redis password file PATH: empty"):
    the file cannot be opened or read, has a wrong mode, is empty, or holds
    size - 1 bytes or more (then limit is said as the most it may hold).
    root_group: a file root owns may also be read by its group (the rule of
    the CURVE key files, cf_curve: a Kubernetes secret volume).             */
int cf_secret_file_read(const char *what, const char *path, bool root_group, char *buf,
                        size_t size, size_t *len, size_t limit, char *err, size_t err_size);

#endif
