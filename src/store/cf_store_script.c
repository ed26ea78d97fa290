/*  cf_store_script: the store's Lua scripts as Redis runs them: the apply
    script's four parts joined in order, and the single scripts (the overdue
    timer's, the broker's publisher's, ...), each after a prelude of Lua
    locals made here from the C tables (stages, types, families, keys,
    payload shapes, services, risk levels, limits: cf_vocab, cf_event_types,
    cf_keys), so that no script keeps a list of its own and a script always
    agrees with the C code that calls it; and all of them as the function
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

const char *const cf_store_script_parts[CF_STORE_SCRIPT_PARTS] = {
    "apply_input.lua", "apply_state.lua", "apply_events.lua", "apply_batch.lua"
};

static const char *const s_lua_kinds[] = {
    [CF_PAY_TEXT] = "string", [CF_PAY_TEXT_OR_DASH] = "string", [CF_PAY_ESCAPED] = "string",
    [CF_PAY_CODE] = "string", [CF_PAY_UINT] = "int", [CF_PAY_BOOL] = "int",
    [CF_PAY_SCORE] = "int", [CF_PAY_MONEY] = "string', 'int", [CF_PAY_CENTS] = "int",
    [CF_PAY_TIME] = "int", [CF_PAY_DAY] = "string", [CF_PAY_DAY_NUMBER] = "int",
    [CF_PAY_RISK] = "int", [CF_PAY_PERSONS] = "int", [CF_PAY_VULNS] = "strings",
    [CF_PAY_DEMO] = "pairs"
};
_Static_assert(sizeof s_lua_kinds / sizeof *s_lua_kinds == CF_PAY_KINDS,
               "a payload kind without its Lua shape");

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

/* local NAME = { 'a', 'b', ... }, from index `first` ([0] = 'a', 'b' ...). */
static void prelude_list(FILE *out, const char *lua, const char *(*name_of)(int), int from,
                         int to, int first)
{
    fprintf(out, "local %s = {", lua);
    for (int i = from; i < to; i++)
        fprintf(out, "%s%s'%s'", i > from ? ", " : " ", i == from && first == 0 ? "[0] = " : "",
                name_of(i));
    fputs(" }\n", out);
}

static const char *prelude_type_name(int type)
{
    return cf_event_type_name((cf_event_type_t) type);
}

/* The position in an event array (type, stage, case_key first) of the
   payload element that holds member `at`, or of the MONEY element; 0 when
   the payload has none (a row that names one is a programmer error). */
static size_t prelude_position(const cf_event_type_info_t *info, cf_pay_t how, size_t at)
{
    size_t position = 4;
    for (const cf_pay_element_t *p = info->payload; p->how != CF_PAY_END; p++) {
        if (how == CF_PAY_MONEY ? p->how == CF_PAY_MONEY : p->at == at && p->how != CF_PAY_MONEY)
            return position;
        position += p->how == CF_PAY_MONEY ? 2 : 1;
    }
    assert(!"a service names a member its type's payload lacks");
    return 0;
}

static void prelude_position_or_false(FILE *out, size_t position)
{
    if (position)
        fprintf(out, ", %zu", position);
    else
        fputs(", false", out);
}

/* PAYLOAD: each type's element kinds after the header; SERVICES: what each
   type counts in the services family, {kind, detail, detail2, money, when}
   as positions in the event array (false: none). */
static void prelude_types(FILE *out)
{
    fputs("local PAYLOAD = {\n", out);
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++) {
        const cf_event_type_info_t *info = cf_event_type_info((cf_event_type_t) t);
        prelude_name(out, "  [T_", info->name);
        fputs("] = {", out);
        for (const cf_pay_element_t *p = info->payload; p->how != CF_PAY_END; p++)
            fprintf(out, "%s'%s'", p == info->payload ? " " : ", ", s_lua_kinds[p->how]);
        fputs(" },\n", out);
    }
    fputs("}\nlocal CASE_TYPES = {", out);
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++)
        if (cf_event_is_case_event((cf_event_type_t) t)) {
            prelude_name(out, " [T_", cf_event_type_name((cf_event_type_t) t));
            fputs("] = true,", out);
        }
    fputs(" }\nlocal SERVICES = {\n", out);
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++) {
        const cf_event_type_info_t *info = cf_event_type_info((cf_event_type_t) t);
        if (!info->services[0].kind)
            continue;
        prelude_name(out, "  [T_", info->name);
        fputs("] = {", out);
        for (const cf_event_service_t *s = info->services; s->kind; s++) {
            fprintf(out, " { '%s', %zu", s->kind, prelude_position(info, CF_PAY_TEXT, s->detail[0]));
            prelude_position_or_false(out, s->detail[1] ? prelude_position(info, CF_PAY_TEXT,
                                                                           s->detail[1]) : 0);
            prelude_position_or_false(out, s->money ? prelude_position(info, CF_PAY_MONEY, 0) : 0);
            prelude_position_or_false(out, s->when ? prelude_position(info, CF_PAY_BOOL, s->when)
                                                   : 0);
            fputs(" },", out);
        }
        fputs(" },\n", out);
    }
    fputs("}\n", out);
}

static const char *prelude_fixed_type(int key)
{
    return cf_keys_fixed_type(key);
}

/* The apply script's: stages, types, families and fixed KEYS, payload
   shapes, services, risk levels, limits. */
static void prelude_apply(FILE *out)
{
    prelude_list(out, "STAGES", cf_vocab_stage_name, 0, CF_STAGE_COUNT, 0);
    prelude_constants(out, "ST_", cf_vocab_stage_name, CF_STAGE_COUNT, 0);
    fprintf(out, "local NSTAGES = %d\n", CF_STAGE_COUNT);
    prelude_constants(out, "T_", prelude_type_name, CF_EV_TYPE_COUNT, 0);
    fprintf(out, "local NTYPES = %d\n", CF_EV_TYPE_COUNT);
    prelude_constants(out, "F_", cf_vocab_family_name, CF_FAMILY_COUNT, 1);
    fprintf(out, "local NFAMILIES = %d\n", CF_FAMILY_COUNT);
    fputs("local ", out);
    for (int k = CF_FAMILY_COUNT; k < CF_KEYS_FIXED; k++)
        prelude_name(out, k > CF_FAMILY_COUNT ? ", K_" : "K_", cf_keys_fixed_name(k));
    fputs(" =", out);
    for (int k = CF_FAMILY_COUNT; k < CF_KEYS_FIXED; k++)
        fprintf(out, "%s %d", k > CF_FAMILY_COUNT ? "," : "", k + 1);
    fprintf(out, "\nlocal NFIXED = %d\n", CF_KEYS_FIXED);
    prelude_list(out, "FIXED_TYPES", prelude_fixed_type, 0, CF_KEYS_FIXED, 1);
    prelude_types(out);
    prelude_list(out, "RISKS", cf_vocab_risk_name, 1, CF_RISK_LEVELS + 1, 1);
    fprintf(out, "local ALERT_RISK = '%s'\n", CF_VOCAB_RISK_ALERT);
    prelude_list(out, "LIMITS", cf_vocab_limit_name, 0, CF_LIMIT_COUNT, 1);
}

/* The single scripts': the publisher's KEYS and each limit's alert word. */
static void prelude_single(FILE *out)
{
    prelude_constants(out, "PUB_", cf_keys_pub_name, CF_KEYS_PUB_COUNT, 1);
    fputs("local LIMIT_ALERT = {", out);
    for (int l = 0; l < CF_LIMIT_COUNT; l++)
        fprintf(out, "%s%s = '%s'", l ? ", " : " ", cf_vocab_limit_name(l),
                cf_vocab_limit_alert((cf_limit_t) l));
    fputs(" }\n", out);
}

char *cf_store_script_prelude(bool apply, size_t *len)
{
    assert(len);
    char *text = NULL;
    FILE *out = cf_memstream_open(&text, len);
    fputs("-- prelude made by cf_store_script.c from caseflow's C tables; do not edit\n", out);
    if (apply)
        prelude_apply(out);
    else
        prelude_single(out);
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

/* The prelude, then the count files of script_dir, each followed by a
   newline (a part may lack its last one), into a new text. */
static int store_read_script(const char *script_dir, bool apply, const char *const *names,
                             size_t count, char **text, size_t *len, char *err, size_t err_size)
{
    assert(script_dir && names && text && len && err);
    char path[4096];
    *text = cf_store_script_prelude(apply, len);
    size_t cap = *len;
    for (size_t i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%s", script_dir, names[i]);
        if (store_append_file(path, text, len, &cap, err, err_size) < 0) {
            free(*text);
            *text = NULL;
            return -1;
        }
        *text = cf_grow(*text, &cap, *len + 1, 1);
        (*text)[(*len)++] = '\n';     /* a part may lack its last newline */
    }
    return 0;
}

int cf_store_script_read(const char *script_dir, char **text, size_t *len, char *err,
                         size_t err_size)
{
    return store_read_script(script_dir, true, cf_store_script_parts, CF_STORE_SCRIPT_PARTS, text,
                             len, err, err_size);
}

int cf_store_script_single(const char *script_dir, const char *name, char **text, size_t *len,
                           char *err, size_t err_size)
{
    assert(name);
    return store_read_script(script_dir, false, &name, 1, text, len, err, err_size);
}

/* ---- the function library --------------------------------------------------- */

/* The library's functions and the scripts they run (NULL: the apply
   script's parts). */
static const struct {
    const char *function, *script;
} s_functions[] = {
    { CF_STORE_FN_APPLY, NULL }, { CF_STORE_FN_FIRE, CF_STORE_FIRE_SCRIPT },
    { CF_STORE_FN_REJECT, CF_STORE_REJECT_SCRIPT }, { CF_STORE_FN_DEAD, CF_STORE_DEAD_SCRIPT },
    { CF_STORE_FN_PUBLISH, CF_STORE_PUBLISH_SCRIPT }
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
        rc = s_functions[i].script
           ? cf_store_script_single(script_dir, s_functions[i].script, &text, &text_len, err,
                                    err_size)
           : cf_store_script_read(script_dir, &text, &text_len, err, err_size);
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
