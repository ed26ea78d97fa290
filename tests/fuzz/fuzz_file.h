/*  What the file harnesses share: the parsers of the rules and the config
    files read a path, as the daemons do, so each input is written to one
    temporary file that is reused for the whole run (and removed at exit).
    Header-only, for the harnesses alone.                                    */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char s_fuzz_path[64];

static void fuzz_file_remove(void)
{
    unlink(s_fuzz_path);
}

/* Writes data to the harness's temporary file; returns its path. */
static inline const char *fuzz_file_write(const char *name, const uint8_t *data, size_t size)
{
    if (!s_fuzz_path[0]) {
        snprintf(s_fuzz_path, sizeof s_fuzz_path, "/tmp/caseflow-fuzz-%s-XXXXXX", name);
        int fd = mkstemp(s_fuzz_path);
        assert(fd >= 0);
        close(fd);
        atexit(fuzz_file_remove);
    }
    FILE *f = fopen(s_fuzz_path, "wb");
    assert(f);
    fwrite(data, 1, size, f);
    fclose(f);
    return s_fuzz_path;
}

#endif
