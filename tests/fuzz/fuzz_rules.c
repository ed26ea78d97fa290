/*  libFuzzer harness: the rules file parser (cf_rules_load, libinih
    underneath). The input is the file; it is written to one temporary file
    that is reused, since the parser reads a path as the broker does. A
    failed load must leave the rules unchanged; a good one must pack.      */
#include "caseflow/cf_rules.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_path[64];

static void rules_file_remove(void)
{
    unlink(s_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        snprintf(s_path, sizeof s_path, "/tmp/caseflow-fuzz-rules-XXXXXX");
        int fd = mkstemp(s_path);
        assert(fd >= 0);
        close(fd);
        atexit(rules_file_remove);
    }
    FILE *f = fopen(s_path, "wb");
    assert(f);
    fwrite(data, 1, size, f);
    fclose(f);
    cf_rules_t *rules = cf_rules_new();
    msgpack_sbuffer before, after;
    msgpack_sbuffer_init(&before);
    msgpack_sbuffer_init(&after);
    cf_rules_pack(rules, &before);
    if (cf_rules_load(rules, s_path) < 0) {
        assert(cf_rules_error(rules)[0]);
        cf_rules_pack(rules, &after);
        assert(before.size == after.size && !memcmp(before.data, after.data, before.size));
    } else {
        cf_rules_pack(rules, &after);
        free(cf_rules_describe(rules));
    }
    msgpack_sbuffer_destroy(&before);
    msgpack_sbuffer_destroy(&after);
    cf_rules_destroy(&rules);
    return 0;
}
