/*  Tests of the one-table lists (cf_vocab, the event types of
    cf_event_types.c, the key layout of cf_keys) against every consumer that
    cannot read them: each table is complete (no row missing inside an
    enum's range, which the size asserts cannot see), the Lua prelude made
    from them parses in Redis and names every entry, the scripts use no
    list name the prelude lacks and keep no list of their own, and the docs
    (domain.md, storage.md, reports.md, notifications.md) and the tests'
    model (tests/integration/expect.py) name the same stages, types,
    families, flags, limits, services and report families.                 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_keys.h"
#include "caseflow/cf_report.h"
#include "caseflow/cf_store.h"
#include "caseflow/cf_vocab.h"
#include "cf_event_internal.h"
#include "cf_test_store.h"

/* ---- helpers ------------------------------------------------------------------ */

/* The file at CF_SOURCE_DIR/rel, NUL-terminated; the caller frees it. */
static char *source_read(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", CF_SOURCE_DIR, rel);
    FILE *file = fopen(path, "rb");
    if (!file)
        fail_msg("cannot open %s", path);
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    do {
        text = cf_grow(text, &cap, len + 2, 1);
        got = fread(text + len, 1, cap - len - 1, file);
        len += got;
    } while (got > 0);
    fclose(file);
    text[len] = '\0';
    return text;
}

/* A list of strings, for what a consumer names. */
typedef struct {
    char *items[256];
    size_t n;
} names_t;

static void names_add(names_t *names, const char *s, size_t len)
{
    assert_true(names->n < 256);
    names->items[names->n++] = cf_strndup(s, len);
}

static bool names_has(const names_t *names, const char *s)
{
    for (size_t i = 0; i < names->n; i++)
        if (!strcmp(names->items[i], s))
            return true;
    return false;
}

static void names_clear(names_t *names)
{
    for (size_t i = 0; i < names->n; i++)
        free(names->items[i]);
    names->n = 0;
}

/* Fails unless names holds exactly want[0..count), in that order. */
static void names_equal(const names_t *names, const char *const *want, size_t count,
                        const char *what)
{
    bool same = names->n == count;
    for (size_t i = 0; same && i < count; i++)
        same = !strcmp(names->items[i], want[i]);
    if (!same) {
        print_error("%s names:", what);
        for (size_t i = 0; i < names->n; i++)
            print_error(" %s", names->items[i]);
        print_error("\n  the table has:");
        for (size_t i = 0; i < count; i++)
            print_error(" %s", want[i]);
        print_error("\n");
        fail();
    }
}

/* Adds every `quoted` token of text[0..len) to names, those holding one of
   the characters of skip left out. */
static void names_backticked(names_t *names, const char *text, size_t len, const char *skip)
{
    const char *end = text + len;
    for (const char *p = text; p < end && (p = memchr(p, '`', (size_t) (end - p)));) {
        const char *close = memchr(p + 1, '`', (size_t) (end - p - 1));
        if (!close)
            break;
        size_t n = (size_t) (close - p - 1);
        if (!(skip && strcspn(p + 1, skip) < n))
            names_add(names, p + 1, n);
        p = close + 1;
    }
}

/* The text from the line that starts with `start` to the next blank line. */
static const char *section(const char *text, const char *start, size_t *len)
{
    const char *p = strstr(text, start);
    if (!p)
        fail_msg("no line starting with \"%s\"", start);
    const char *end = strstr(p, "\n\n");
    *len = end ? (size_t) (end - p) : strlen(p);
    return p;
}

/* The n type names, stage names, ... of the tables, as arrays. */
static size_t table_names(const char *(*name_of)(int), int from, int to, const char **out)
{
    size_t n = 0;
    for (int i = from; i < to; i++)
        out[n++] = name_of(i);
    return n;
}

static const char *type_name(int type)
{
    return cf_event_type_name((cf_event_type_t) type);
}

/* The service kinds in type order. */
static size_t service_kinds(const char **out)
{
    size_t n = 0;
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++)
        for (const cf_event_service_t *s = cf_event_type_info((cf_event_type_t) t)->services;
             s->kind; s++)
            out[n++] = s->kind;
    return n;
}

/* Fails unless names holds the service kinds in type order. */
static void services_equal(names_t *names, const char *what)
{
    const char *kinds[CF_EV_TYPE_COUNT * CF_EVENT_SERVICES_MAX];
    names_equal(names, kinds, service_kinds(kinds), what);
    names_clear(names);
}

/* Fails unless the document holds the text fmt makes. */
static void doc_has(const char *doc, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void doc_has(const char *doc, const char *file, const char *fmt, ...)
{
    char want[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(want, sizeof want, fmt, args);
    va_end(args);
    if (!strstr(doc, want))
        fail_msg("%s has no \"%s\"", file, want);
}

/* ---- the tables ------------------------------------------------------------------ */

static void test_tables_complete(void **state)
{
    (void) state;
    names_t seen = { .n = 0 };
    const char *(*lists[])(int) = { cf_vocab_stage_name, cf_vocab_vuln_name, cf_vocab_sex_name,
                                    cf_vocab_age_band_name, cf_vocab_family_name,
                                    cf_vocab_limit_name, type_name, cf_keys_fixed_name,
                                    cf_keys_pub_name };
    const int counts[] = { CF_STAGE_COUNT, CF_VULN_COUNT, CF_SEXES, CF_AGE_BANDS,
                           CF_FAMILY_COUNT, CF_LIMIT_COUNT, CF_EV_TYPE_COUNT, CF_KEYS_FIXED,
                           CF_KEYS_PUB_COUNT };
    for (size_t l = 0; l < sizeof counts / sizeof *counts; l++) {
        for (int i = 0; i < counts[l]; i++) {
            const char *name = lists[l](i);
            assert_non_null(name);                      /* no row missing */
            assert_true(*name);
            assert_false(names_has(&seen, name));       /* no row twice */
            names_add(&seen, name, strlen(name));
        }
        assert_null(lists[l](counts[l]));
        assert_null(lists[l](-1));
        names_clear(&seen);
    }
    for (int level = 1; level <= CF_RISK_LEVELS; level++)
        assert_non_null(cf_vocab_risk_name(level));
    assert_null(cf_vocab_risk_name(0));
    assert_null(cf_vocab_risk_name(CF_RISK_LEVELS + 1));
    assert_null(cf_vocab_stages[CF_STAGE_COUNT]);
    assert_null(cf_vocab_vulns[CF_VULN_COUNT]);
    for (int i = 0; i < CF_STAGE_COUNT; i++)
        assert_int_equal(cf_vocab_stage_find(cf_vocab_stages[i], strlen(cf_vocab_stages[i])), i);
    for (size_t i = 0; cf_vocab_vulns_sensitive[i]; i++) {
        size_t f = 0;
        while (cf_vocab_vulns[f] && strcmp(cf_vocab_vulns[f], cf_vocab_vulns_sensitive[i]))
            f++;
        assert_non_null(cf_vocab_vulns[f]);             /* a sensitive flag is a flag */
    }
    assert_string_equal(cf_vocab_alert_flag_name(CF_VULN_COUNT), CF_VOCAB_RISK_ALERT);
    for (int l = 0; l < CF_LIMIT_COUNT; l++) {
        assert_non_null(cf_vocab_limit_alert((cf_limit_t) l));
        assert_true(cf_vocab_limit_default_days((cf_limit_t) l) > 0);
        assert_true(cf_vocab_limit_ended_by((cf_limit_t) l, CF_STAGE_CLOSED));
    }
    for (int id = 0; id < CF_F_COUNT_ALL; id++)
        assert_non_null(cf_event_field_name((cf_field_id_t) id));
}

/* Each type's row: a name that says case.* exactly for case types, fields
   required, every field it names has its row, a payload, and services that
   name members of the payload. */
static void test_type_rows(void **state)
{
    (void) state;
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++) {
        const cf_event_type_info_t *info = cf_event_type_info((cf_event_type_t) t);
        assert_non_null(info);
        assert_non_null(info->name);
        assert_int_equal(info->is_case, !strncmp(info->name, "case.", 5));
        assert_int_equal(cf_event_type_find(info->name, strlen(info->name)), t);
        assert_true(info->required != 0);
        assert_int_equal(info->required & info->optional, 0);
        assert_true(info->stage >= CF_STAGE_NONE && info->stage < CF_STAGE_COUNT);
        assert_int_not_equal(info->payload[0].how, CF_PAY_END);
        for (const cf_pay_element_t *p = info->payload; p->how != CF_PAY_END; p++)
            assert_true(p->how > CF_PAY_END && p->how < CF_PAY_KINDS);
        for (const cf_event_service_t *s = info->services; s->kind; s++) {
            size_t members[] = { s->detail[0], s->detail[1], s->when };
            assert_true(s->detail[0] != 0);
            for (size_t m = 0; m < 3; m++) {
                bool found = members[m] == 0;
                for (const cf_pay_element_t *p = info->payload; p->how != CF_PAY_END; p++)
                    found |= p->at == members[m] && (m == 2 ? p->how == CF_PAY_BOOL
                                                            : p->how == CF_PAY_TEXT);
                assert_true(found);
            }
            bool money = false;
            for (const cf_pay_element_t *p = info->payload; p->how != CF_PAY_END; p++)
                money |= p->how == CF_PAY_MONEY;
            assert_true(!s->money || money);
        }
    }
    assert_null(cf_event_type_info(CF_EV_TYPE_COUNT));
    assert_int_equal(cf_event_type_find("case.nope", 9), -1);
}

/* ---- the prelude and the scripts ------------------------------------------------ */

/* Appends one check to the Lua chunk: want(<got>, <expected>, "<got>"),
   got made by fmt; expected a Lua expression. */
static void lua_want(FILE *out, const char *expected, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lua_want(FILE *out, const char *expected, const char *fmt, ...)
{
    char got[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(got, sizeof got, fmt, args);
    va_end(args);
    fprintf(out, "want(%s, %s, \"%s\")\n", got, expected, got);
}

/* The same with expected a number, or a string (quoted here). */
static void lua_want_int(FILE *out, long expected, const char *got)
{
    char want[32];
    snprintf(want, sizeof want, "%ld", expected);
    lua_want(out, want, "%s", got);
}

static void lua_want_text(FILE *out, const char *expected, const char *got)
{
    char want[160];
    snprintf(want, sizeof want, "'%s'", expected);
    lua_want(out, want, "%s", got);
}

/* The Lua name of a list entry, as the prelude makes it. */
static void lua_name(char *buf, size_t size, const char *prefix, const char *entry)
{
    size_t n = (size_t) snprintf(buf, size, "%s", prefix);
    for (; *entry && n + 1 < size; entry++)
        buf[n++] = *entry == '.' || *entry == '-' ? '_' : (char) toupper((unsigned char) *entry);
    buf[n] = '\0';
}

/* Checks that constant prefix<entry i> is first + i and, when table is not
   NULL, that table[<that constant>] is the entry (or what value_of gives). */
static void lua_want_list(FILE *out, const char *prefix, const char *(*name_of)(int), int count,
                          int first, const char *table, const char *(*value_of)(int))
{
    char name[96], got[256];
    for (int i = 0; i < count; i++) {
        lua_name(name, sizeof name, prefix, name_of(i));
        lua_want_int(out, first + i, name);
        snprintf(got, sizeof got, "%s[%s]", table ? table : "", name);
        if (table)
            lua_want_text(out, (value_of ? value_of : name_of)(i), got);
    }
}

/* Checks of every entry of the scripts' prelude against the C tables (the
   publisher's keys), as Lua calls of want(got, expected, what). */
static void lua_checks(FILE *out)
{
    lua_want_list(out, "PUB_", cf_keys_pub_name, CF_KEYS_PUB_COUNT, 1, NULL, NULL);
}

/* EVALs the prelude and the checks that write writes; fails naming every
   entry that differs. */
static void eval_checks(fixture_t *f, void (*write)(FILE *))
{
    size_t len;
    char *prelude = cf_store_script_prelude(&len), *script = NULL;
    FILE *out = cf_memstream_open(&script, &len);
    fprintf(out, "%slocal bad = {}\nlocal function want(got, expected, what)\n"
            "  if got ~= expected then bad[#bad + 1] = what .. ' = ' .. tostring(got) end\n"
            "end\n", prelude);
    write(out);
    fputs("return bad\n", out);
    cf_memstream_close(out);
    redisReply *reply = redisCommand(f->raw, "EVAL %s 0", script);
    assert_non_null(reply);
    if (reply->type == REDIS_REPLY_ERROR)
        fail_msg("the prelude does not run: %s", reply->str);
    assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < reply->elements; i++)
        print_error("prelude: %s\n", reply->element[i]->str);
    assert_int_equal(reply->elements, 0);
    freeReplyObject(reply);
    free(script);
    free(prelude);
}

static void test_prelude_names_every_entry(void **state)
{
    fixture_t *f = *state;
    eval_checks(f, lua_checks);
}

static const char *const s_scripts[] = { CF_STORE_REJECT_SCRIPT,
                                         CF_STORE_DEAD_SCRIPT };

/* The scripts as Redis gets them compile (SCRIPT LOAD). */
static void test_scripts_load(void **state)
{
    fixture_t *f = *state;
    char *text, err[256];
    size_t len;
    for (size_t i = 0; i < sizeof s_scripts / sizeof *s_scripts; i++) {
        const char *name = s_scripts[i];
        assert_int_equal(cf_store_script_single(f->script_dir, name, &text, &len, err, sizeof err), 0);
        redisReply *reply = redisCommand(f->raw, "SCRIPT LOAD %b", text, len);
        assert_non_null(reply);
        if (reply->type != REDIS_REPLY_STRING)
            fail_msg("%s: %s", name, reply->str);
        freeReplyObject(reply);
        free(text);
    }
}

/* ---- Lua sources: no list of their own, no name the prelude lacks ---------- */

typedef struct {
    names_t declared;       /* names after `local` */
    names_t used;           /* constant-like names (upper case) used */
} lua_names_t;

static bool lua_ident_char(char c)
{
    return isalnum((unsigned char) c) || c == '_';
}

static bool lua_constant_like(const char *s, size_t len)
{
    bool letter = false;
    for (size_t i = 0; i < len; i++) {
        if (!(isupper((unsigned char) s[i]) || isdigit((unsigned char) s[i]) || s[i] == '_'))
            return false;
        letter |= isupper((unsigned char) s[i]) != 0;
    }
    return letter && len >= 2;
}

/* The identifiers of Lua text outside comments and strings: those right
   after `local` (and its comma list, or `local function`) as declared, the
   upper-case ones as used. */
static void lua_scan(const char *text, lua_names_t *out)
{
    bool declaring = false;
    for (const char *p = text; *p;) {
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
            continue;
        }
        if (*p == '\'' || *p == '"') {
            char quote = *p++;
            while (*p && *p != quote && *p != '\n')
                p += *p == '\\' && p[1] ? 2 : 1;
            p += *p == quote;
            declaring = false;
            continue;
        }
        if (lua_ident_char(*p) && !isdigit((unsigned char) *p)) {
            const char *start = p;
            while (lua_ident_char(*p))
                p++;
            size_t len = (size_t) (p - start);
            if (len == 5 && !memcmp(start, "local", 5)) {
                declaring = true;
                continue;
            }
            if (declaring && len == 8 && !memcmp(start, "function", 8))
                continue;
            if (declaring) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int) len, start);
                if (!names_has(&out->declared, name))
                    names_add(&out->declared, start, len);
            } else if (lua_constant_like(start, len)) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int) len, start);
                if (!names_has(&out->used, name))
                    names_add(&out->used, start, len);
            }
            continue;
        }
        if (*p != ',' && *p != ' ' && *p != '\t')
            declaring = false;
        p++;
    }
}

/* Every upper-case name the files use is the prelude's, their own
   (declared with local) or Redis's; none of their own is the prelude's. */
static void check_lua(const char *const *files, size_t count)
{
    size_t len;
    char *prelude = cf_store_script_prelude(&len);
    lua_names_t given = { { .n = 0 }, { .n = 0 } }, script = { { .n = 0 }, { .n = 0 } };
    lua_scan(prelude, &given);
    assert_true(given.declared.n > 0);
    for (size_t i = 0; i < count; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "lua/%s", files[i]);
        char *text = source_read(rel);
        lua_scan(text, &script);
        free(text);
    }
    for (size_t i = 0; i < script.declared.n; i++)
        if (names_has(&given.declared, script.declared.items[i]))
            fail_msg("%s: declares %s, which the prelude makes from the C tables", files[0],
                     script.declared.items[i]);
    for (size_t i = 0; i < script.used.n; i++) {
        const char *name = script.used.items[i];
        if (!names_has(&given.declared, name) && !names_has(&script.declared, name)
            && strcmp(name, "KEYS") && strcmp(name, "ARGV"))
            fail_msg("%s: uses %s, which neither the prelude nor the script defines", files[0],
                     name);
    }
    names_clear(&given.declared);
    names_clear(&given.used);
    names_clear(&script.declared);
    names_clear(&script.used);
    free(prelude);
}

static void test_lua_names(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_scripts / sizeof *s_scripts; i++)
        check_lua(&s_scripts[i], 1);
    /* the check sees a name that is neither the prelude's nor the script's */
    lua_names_t probe = { { .n = 0 }, { .n = 0 } };
    lua_scan("local A_B, c = 1 -- T_NOPE\nlocal function F() return T_X + 'Y_Z' end", &probe);
    assert_true(names_has(&probe.declared, "A_B") && names_has(&probe.declared, "c"));
    assert_true(names_has(&probe.declared, "F") && names_has(&probe.used, "T_X"));
    assert_false(names_has(&probe.used, "T_NOPE") || names_has(&probe.used, "Y_Z"));
    names_clear(&probe.declared);
    names_clear(&probe.used);
}

/* ---- docs ----------------------------------------------------------------------- */

/* docs/domain.md's event table names exactly the types, in their order. */
static void test_domain_doc(void **state)
{
    (void) state;
    char *doc = source_read("docs/domain.md");
    size_t len;
    const char *table = section(doc, "| event_type |", &len);
    names_t names = { .n = 0 };
    for (const char *line = strstr(table, "\n|"); line && line < table + len;
         line = strstr(line + 1, "\n|")) {
        const char *cell_end = strchr(line + 2, '|');
        if (strncmp(line, "\n|---", 5))
            names_backticked(&names, line, (size_t) (cell_end - line), NULL);
    }
    const char *types[CF_EV_TYPE_COUNT];
    names_equal(&names, types, table_names(type_name, 0, CF_EV_TYPE_COUNT, types),
                "docs/domain.md's event table");
    names_clear(&names);
    const char *order = strstr(doc, "A case moves through stages in this order: ");
    assert_non_null(order);
    for (int s = 0; s < CF_STAGE_COUNT; s++) {
        const char *at = strstr(order, cf_vocab_stage_name(s));
        assert_non_null(at);
        assert_true(at - order < 200);
        order = at;
    }
    free(doc);
}

/* The words of the first `a b c` token after lead in text, as names. */
static void names_after(names_t *names, const char *text, const char *lead)
{
    const char *p = strstr(text, lead);
    if (!p)
        fail_msg("no \"%s\"", lead);
    p = strchr(p + strlen(lead), '`');
    assert_non_null(p);
    const char *end = strchr(++p, '`');
    assert_non_null(end);
    while (p < end) {
        size_t n = strcspn(p, " \n`");
        names_add(names, p, n);
        p += n;
        p += strspn(p, " \n");
    }
}

/* The services a docs row names as `<kind>\|<detail>`, in order. */
static void names_services(names_t *names, const char *row, size_t len)
{
    names_t tokens = { .n = 0 };
    names_backticked(&tokens, row, len, NULL);
    for (size_t i = 0; i < tokens.n; i++) {
        const char *t = tokens.items[i];
        size_t kind = strspn(t, "abcdefghijklmnopqrstuvwxyz_");
        if (kind && !strncmp(t + kind, "\\|", 2))
            names_add(names, t, kind);
    }
    names_clear(&tokens);
}

/* A list a consumer writes after `lead`, and the table it must match. */
typedef struct {
    const char *lead;
    const char *const *list;
    size_t count;
} list_check_t;

/* Reads each list of text with read and compares it with its table. */
static void check_lists(const char *text, void (*read)(names_t *, const char *, const char *),
                        const list_check_t *checks, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        names_t names = { .n = 0 };
        read(&names, text, checks[i].lead);
        names_equal(&names, checks[i].list, checks[i].count, checks[i].lead);
        names_clear(&names);
    }
}

/* docs/storage.md: the stage and flag lines, a row of every fixed key, the
   payload table's type codes, the services row's order, each family's
   measures in their tuple's order. */
static void test_storage_doc(void **state)
{
    (void) state;
    char *doc = source_read("docs/storage.md");
    const list_check_t lists[] = {
        { "- Stages, in order:", cf_vocab_stages, CF_STAGE_COUNT },
        { "- Flags:", cf_vocab_vulns, CF_VULN_COUNT },
        { "Sexes", cf_vocab_sexes, CF_SEXES },
        { "age bands", cf_vocab_age_bands, CF_AGE_BANDS } };
    check_lists(doc, names_after, lists, sizeof lists / sizeof *lists);
    for (int k = 0; k < CF_KEYS_FIXED; k++)
        doc_has(doc, "docs/storage.md", "| `cf:{sN}:%s` | %s", cf_keys_fixed_name(k),
                k < CF_FAMILY_COUNT ? "hash" : "");
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++)       /* the payload table */
        doc_has(doc, "docs/storage.md", "`%s` (%d)", cf_event_type_name((cf_event_type_t) t), t);
    size_t len;
    for (int f = 0; f < CF_FAMILY_COUNT; f++) {      /* the tuples' table, in order */
        const char *const *m = cf_vocab_family_measures(f);
        char list[200] = "";
        for (size_t i = 0; m && m[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " " : "", m[i]);
        if (m)
            doc_has(doc, "docs/storage.md", "| %s | `%s` |", cf_vocab_family_name(f), list);
    }
    const char *row = section(doc, "| services | `<programme>", &len);
    names_t names = { .n = 0 };
    names_services(&names, row, strcspn(row, "\n"));
    services_equal(&names, "storage.md's services row");
    free(doc);
}

/* docs/reports.md: each report's family, and the services in order. */
static void test_reports_doc(void **state)
{
    (void) state;
    char *doc = source_read("docs/reports.md");
    for (size_t i = 0; i < cf_report_catalogue_size(); i++) {
        cf_report_t *report = cf_report_new(cf_report_catalogue_name(i));
        const char *family = cf_report_family(report);
        assert_true(cf_vocab_family_find(family, strlen(family)) >= 0);
        doc_has(doc, "docs/reports.md", "| `%s` | `%s`", cf_report_name(report), family);
        cf_report_destroy(&report);
    }
    cf_report_t *report = cf_report_new("reintegration");
    assert_int_equal(cf_report_set_by(report, "origin"), 0);
    assert_string_equal(cf_report_family(report), cf_vocab_family_name(CF_FAMILY_MONITOR));
    cf_report_destroy(&report);
    size_t len;
    const char *text = section(doc, "Services delivered by programme", &len);
    names_t names = { .n = 0 };
    names_backticked(&names, text, (size_t) (strstr(text, "Counters") - text), "<");
    services_equal(&names, "reports.md's services");
    free(doc);
}

/* docs/notifications.md: every limit in the rules table, with its alert. */
static void test_notifications_doc(void **state)
{
    (void) state;
    char *doc = source_read("docs/notifications.md");
    char want[160], topic[160];
    for (int l = 0; l < CF_LIMIT_COUNT; l++) {
        doc_has(doc, "docs/notifications.md", "| `%s` |", cf_vocab_limit_name(l));
        const char *alert = cf_vocab_limit_alert((cf_limit_t) l);
        snprintf(topic, sizeof topic, "`alert.overdue.%s`", alert);
        snprintf(want, sizeof want, "`.%s`", alert);
        if (!strstr(doc, topic) && !strstr(doc, want))
            fail_msg("docs/notifications.md names no %s", topic);
    }
    free(doc);
}

/* ---- the tests' model ------------------------------------------------------------ */

/* The quoted strings of the Python line `lead = [...]`. */
static void python_list(names_t *names, const char *text, const char *lead)
{
    const char *p = strstr(text, lead);
    if (!p)
        fail_msg("expect.py has no \"%s\"", lead);
    const char *end = strchr(p, ']');
    for (p = strchr(p, '"'); p && p < end; p = strchr(p, '"')) {
        const char *close = strchr(p + 1, '"');
        names_add(names, p + 1, (size_t) (close - p - 1));
        p = close + 1;
    }
}

static void test_expect_model(void **state)
{
    (void) state;
    char *model = source_read("tests/integration/expect.py");
    const char *kinds[CF_EV_TYPE_COUNT * CF_EVENT_SERVICES_MAX];
    const list_check_t lists[] = {
        { "\nSTAGES = [", cf_vocab_stages, CF_STAGE_COUNT },
        { "\nSEXES = [", cf_vocab_sexes, CF_SEXES },
        { "\nAGE_BANDS = [", cf_vocab_age_bands, CF_AGE_BANDS },
        { "\nRISKS = [", cf_vocab_risks, CF_RISK_LEVELS },
        { "\nSERVICES = [", kinds, service_kinds(kinds) } };
    check_lists(model, python_list, lists, sizeof lists / sizeof *lists);
    const char *stage_of = strstr(model, "\nSTAGE_OF = {");
    assert_non_null(stage_of);
    char *block = cf_strndup(stage_of, strcspn(stage_of, "}"));
    char want[128];
    for (int t = 0; t < CF_EV_TYPE_COUNT; t++) {
        const char *type = cf_event_type_name((cf_event_type_t) t);
        cf_stage_t stage = cf_event_stage((cf_event_type_t) t);
        snprintf(want, sizeof want, "\"%s\": \"%s\"", type, cf_vocab_stage_name(stage));
        bool listed = strstr(block, want) != NULL;
        snprintf(want, sizeof want, "\"%s\":", type);
        if (listed != (stage != CF_STAGE_NONE) || (!listed && strstr(block, want)))
            fail_msg("expect.py's STAGE_OF and the type table differ on %s", type);
    }
    free(block);
    free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_complete),
        cmocka_unit_test(test_type_rows),
        cmocka_unit_test_setup_teardown(test_prelude_names_every_entry, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test_setup_teardown(test_scripts_load, cf_test_store_setup,
                                        cf_test_store_teardown),
        cmocka_unit_test(test_lua_names),
        cmocka_unit_test(test_domain_doc),
        cmocka_unit_test(test_storage_doc),
        cmocka_unit_test(test_reports_doc),
        cmocka_unit_test(test_notifications_doc),
        cmocka_unit_test(test_expect_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
