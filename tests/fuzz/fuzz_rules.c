/*  libFuzzer harness: the rules file parser (cf_rules_load, libinih
    underneath). The input is the file (fuzz_file.h). A failed load must
    leave the rules unchanged; a good one must pack.                        */
#include "caseflow/cf_rules.h"
#include "fuzz_file.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s_path = fuzz_file_write("rules", data, size);
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
