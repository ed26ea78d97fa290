/*  cf_secret_file: a secret read from a file only its owner can read; see
    cf_secret_file.h. Moved out of cf_redis_auth when caseflow-alert came to
    read webhook secrets and SMTP passwords the same way.                   */
#include "caseflow/cf_secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cf_secret_file_read(const char *what, const char *path, bool root_group, char *buf,
                        size_t size, size_t *len, size_t limit, char *err, size_t err_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, err_size, "%s %s: %s", what, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    mode_t too_open = root_group && st.st_uid == 0 ? (S_IWGRP | S_IXGRP | S_IRWXO) : 077;
    const char *wrong = !S_ISREG(st.st_mode) ? "is not a regular file"
                      : (st.st_mode & too_open) ? "is readable or writable by group or others "
                                                  "(chmod 600 it)"
                      : NULL;
    if (wrong) {
        snprintf(err, err_size, "%s %s: mode %04o %s", what, path,
                 (unsigned) (st.st_mode & 07777), wrong);
        close(fd);
        return -1;
    }
    ssize_t got = read(fd, buf, size);
    int why = errno;
    close(fd);
    if (got < 0) {
        snprintf(err, err_size, "%s %s: %s", what, path, strerror(why));
        return -1;
    }
    size_t n = (size_t) got;
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n == 0 || n >= size - 1) {
        if (n == 0)
            snprintf(err, err_size, "%s %s: empty", what, path);
        else
            snprintf(err, err_size, "%s %s: longer than %zu bytes", what, path, limit);
        return -1;
    }
    *len = n;
    return 0;
}
