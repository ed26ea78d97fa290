/*  cf_store_script: the store's Lua scripts as Redis runs them (the
    workers' rejection and dead-letter counters; the broker's publisher
    commits with plain commands, cf_outbox_commit.c), each after a prelude
    of Lua locals made here from the C tables (the publisher's keys,
    cf_keys; no script uses them now), so that no script keeps a
    list of its own and a script always agrees with the C code that calls
    it; and all of them as the function
    library "caseflow" that the admin loads (Redis 7 Functions: each script
    the body of one function, KEYS and ARGV its parameters). Files and text
    only, no Redis.                                                          */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_store.h"
#include "cf_store_internal.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* ---- the prelude ------------------------------------------------------------ */

/* A Lua name from a list entry: prefix, then the entry upper-cased with
   '.' and '-' as '_' ("case.registered" -> T_CASE_REGISTERED). */
static void prelude_name(FILE *out, const char *prefix, const char *entry)
{
    fputs(prefix, out);
    for (; *entry; entry++)
        fputc(*entry == '.' || *entry == '-' ? '_' : toupper((unsigned char) *entry), out);
}

/* local P_A, P_B, ... = first, first + 1, ...: one constant per entry. */
static void prelude_constants(FILE *out, const char *prefix, const char *(*name_of)(int),
                              int count, int first)
{
    fputs("local ", out);
    for (int i = 0; i < count; i++) {
        fputs(i ? ", " : "", out);
        prelude_name(out, prefix, name_of(i));
    }
    fputs(" =", out);
    for (int i = 0; i < count; i++)
        fprintf(out, "%s %d", i ? "," : "", first + i);
    fputs("\n", out);
}

char *cf_store_script_prelude(size_t *len)
{
    assert(len);
    char *text = NULL;
    FILE *out = cf_memstream_open(&text, len);
    fputs("-- prelude made by cf_store_script.c from caseflow's C tables; do not edit\n", out);
    prelude_constants(out, "PUB_", cf_keys_pub_name, CF_KEYS_PUB_COUNT, 1);
    cf_memstream_close(out);
    return text;
}

/* ---- files ------------------------------------------------------------------ */

/* Appends the file at path to *text (length *len, capacity *cap). */
static int store_append_file(const char *path, char **text, size_t *len, size_t *cap,
                             char *err, size_t err_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t got, start = *len;
    do {
        *text = cf_grow(*text, cap, *len + 1, 1);
        got = fread(*text + *len, 1, *cap - *len, file);
        *len += got;
    } while (got > 0);
    int failed = ferror(file);
    fclose(file);
    if (failed || *len == start) {
        snprintf(err, err_size, "%s: %s", path, failed ? "read error" : "empty file");
        return -1;
    }
    return 0;
}

int cf_store_script_single(const char *script_dir, const char *name, char **text, size_t *len,
                           char *err, size_t err_size)
{
    assert(script_dir && name && text && len && err);
    char path[4096];
    *text = cf_store_script_prelude(len);
    size_t cap = *len;
    snprintf(path, sizeof path, "%s/%s", script_dir, name);
    if (store_append_file(path, text, len, &cap, err, err_size) < 0) {
        free(*text);
        *text = NULL;
        return -1;
    }
    *text = cf_grow(*text, &cap, *len + 1, 1);
    (*text)[(*len)++] = '\n';         /* the file may lack its last newline */
    return 0;
}

/* ---- the function library --------------------------------------------------- */

/* The library's functions and the scripts they run. */
static const struct {
    const char *function, *script;
} s_functions[] = {
    { CF_STORE_FN_REJECT, CF_STORE_REJECT_SCRIPT }, { CF_STORE_FN_DEAD, CF_STORE_DEAD_SCRIPT }
};

/* After the functions: each is registered behind a check of the caller's
   version (its first argument, removed before the script sees ARGV), and
   caseflow_version answers what was loaded. VERSION and LOADED are the
   header's, which cf_store_library_load writes. No flags on the scripts:
   they write, so Redis refuses them whole under maxmemory (OOM) or on a
   read-only replica, before their first command, rather than halfway. */
static const char s_library_footer[] =
    "local function checked(script)\n"
    "  return function(keys, args)\n"
    "    if args[1] ~= VERSION then\n"
    "      return redis.error_reply('CFVERSION Redis holds caseflow library ' .. VERSION ..\n"
    "        ', the caller is of ' .. tostring(args[1]) ..\n"
    "        ': load the caller\\'s with caseflow-ctl functions load, as the Redis admin')\n"
    "    end\n"
    "    table.remove(args, 1)\n"
    "    return script(keys, args)\n"
    "  end\n"
    "end\n"
    "redis.register_function{ function_name = '" CF_STORE_FN_VERSION "', flags = { 'no-writes' },\n"
    "  callback = function() return { VERSION, LOADED.appendfsync, LOADED.save } end }\n";

int cf_store_script_library(const char *script_dir, char **body, size_t *len, char *version,
                            char *err, size_t err_size)
{
    assert(script_dir && body && len && version && err);
    size_t count = sizeof s_functions / sizeof *s_functions;
    FILE *out = cf_memstream_open(body, len);
    fputs("-- the function library " CF_STORE_LIBRARY ", made by cf_store_script.c from lua/*.lua"
          " and caseflow's C tables;\n-- loaded by the Redis admin (caseflow-ctl functions"
          " load), called with FCALL\n", out);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        char *text;
        size_t text_len;
        rc = cf_store_script_single(script_dir, s_functions[i].script, &text, &text_len, err,
                                    err_size);
        if (rc == 0) {
            fprintf(out, "local function %s(KEYS, ARGV)\n", s_functions[i].function);
            fwrite(text, 1, text_len, out);
            fputs("end\n", out);
            free(text);
        }
    }
    fputs(s_library_footer, out);
    for (size_t i = 0; i < count; i++)
        fprintf(out, "redis.register_function('%s', checked(%s))\n", s_functions[i].function,
                s_functions[i].function);
    cf_memstream_close(out);
    if (rc < 0) {
        free(*body);
        *body = NULL;
        return -1;
    }
    unsigned char hash[crypto_hash_sha256_BYTES];
    if (sodium_init() < 0)
        abort();
    crypto_hash_sha256(hash, (const unsigned char *) *body, *len);
    for (size_t i = 0; i < CF_STORE_VERSION_LEN / 2; i++)
        snprintf(version + 2 * i, 3, "%02x", hash[i]);
    return 0;
}
