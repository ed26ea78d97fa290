/*  cf_test_files: see cf_test_files.h.                                       */
#include "cf_test_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_path[64];

const char *cf_test_file_write(const char *text)
{
    cf_test_file_remove();
    snprintf(s_path, sizeof s_path, "/tmp/cf_test_file.XXXXXX");
    int fd = mkstemp(s_path);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t) len)
        abort();
    close(fd);
    return s_path;
}

void cf_test_file_remove(void)
{
    if (*s_path)
        unlink(s_path);
    s_path[0] = '\0';
}

int cf_test_file_teardown(void **state)
{
    (void) state;
    cf_test_file_remove();
    return 0;
}

const char *cf_test_file_path(void)
{
    return *s_path ? s_path : NULL;
}

int cf_test_dir_remove(const char *dir, int failed)
{
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    return system(command) != 0 ? 1 : failed;
}
