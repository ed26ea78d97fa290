/*  cf_store_payload: each event's payload in the apply script's input
    (docs/storage.md, "Script input"): the elements its type's row lists
    (cf_event_types.c), packed by kind. The script's prelude, made from the
    same rows, checks their shape. Values are put in the form the script sums
    exactly: money in cents, scores in ten-thousandths, days as
    "day:YYYY-MM-DD" and UTC day numbers, free strings escaped. No I/O.    */
#include "cf_store_internal.h"
#include "caseflow/cf_pack.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static void pack_vulns(msgpack_packer *pk, uint32_t mask)
{
    unsigned n = 0;
    for (unsigned f = 0; f < CF_VULN_COUNT; f++)
        n += (mask >> f) & 1u;
    msgpack_pack_array(pk, n);
    for (unsigned f = 0; f < CF_VULN_COUNT; f++)
        if ((mask >> f) & 1u)
            cf_pack_str(pk, cf_vocab_vuln_name((int) f));
}

/* Persons by sex x age band, as alternating "<sex>|<band>", count, in
   cf_vocab's orders. */
static void pack_demo(msgpack_packer *pk, const cf_event_t *e)
{
    unsigned counts[CF_SEXES][CF_AGE_BANDS];
    msgpack_pack_array(pk, 2 * cf_event_demo(e, counts));
    char cell[16];
    for (int s = 0; s < CF_SEXES; s++)
        for (int b = 0; b < CF_AGE_BANDS; b++)
            if (counts[s][b]) {
                snprintf(cell, sizeof cell, "%s|%s", cf_vocab_sex_name(s),
                         cf_vocab_age_band_name(b));
                cf_pack_str(pk, cell);
                msgpack_pack_unsigned_int(pk, counts[s][b]);
            }
}

static void pack_day(msgpack_packer *pk, int64_t ms)
{
    char buf[CF_EVENT_DAY_SIZE];
    cf_event_day(ms, buf, sizeof buf);
    cf_pack_str(pk, buf);
}

static void pack_escaped(msgpack_packer *pk, const char *s)
{
    char buf[3 * CF_NAME_MAX + 1];
    cf_pack_strn(pk, buf, cf_event_escape(s, buf, sizeof buf));
}

/* A score in ten-thousandths, -1 when none. */
static void pack_score(msgpack_packer *pk, bool given, double x)
{
    msgpack_pack_int64(pk, given ? cf_event_score(x) : -1);
}

static void pack_money(msgpack_packer *pk, const cf_event_t *e)
{
    cf_pack_str(pk, e->has_value ? e->currency : "-");
    msgpack_pack_int64(pk, e->has_value ? cf_event_cents(e->value) : 0);
}

/* One element of a payload (two for CF_PAY_MONEY). */
static void pack_element(msgpack_packer *pk, const cf_event_t *e, const cf_pay_element_t *p)
{
    const char *at = (const char *) e + p->at;
    bool given = p->has == CF_PAY_ALWAYS || *(const bool *) ((const char *) e + p->has);
    char code[4];
    switch (p->how) {
    case CF_PAY_TEXT: cf_pack_str(pk, at); break;
    case CF_PAY_TEXT_OR_DASH: cf_pack_str(pk, *at ? at : "-"); break;
    case CF_PAY_ESCAPED: pack_escaped(pk, at); break;
    case CF_PAY_CODE:
        snprintf(code, sizeof code, "%u", (unsigned) *(const uint8_t *) at);
        cf_pack_str(pk, code);
        break;
    case CF_PAY_UINT: msgpack_pack_int64(pk, given ? (int64_t) *(const uint64_t *) at : -1); break;
    case CF_PAY_BOOL: msgpack_pack_int(pk, given && *(const bool *) at); break;
    case CF_PAY_SCORE: pack_score(pk, given, *(const double *) at); break;
    case CF_PAY_MONEY: pack_money(pk, e); break;
    case CF_PAY_CENTS: msgpack_pack_int64(pk, cf_event_cents(e->value)); break;
    case CF_PAY_TIME: msgpack_pack_int64(pk, e->occurred_at); break;
    case CF_PAY_DAY: pack_day(pk, e->occurred_at); break;
    case CF_PAY_DAY_NUMBER: msgpack_pack_int64(pk, cf_event_day_number(e->occurred_at)); break;
    case CF_PAY_RISK: msgpack_pack_int(pk, cf_event_risk_level(e->risk)); break;
    case CF_PAY_PERSONS: msgpack_pack_unsigned_int(pk, e->person_count); break;
    case CF_PAY_VULNS: pack_vulns(pk, e->vulnerabilities); break;
    case CF_PAY_DEMO: pack_demo(pk, e); break;
    case CF_PAY_END: case CF_PAY_KINDS: assert(!"not an element"); break;
    }
}

/* One event: {type, stage, case_key, payload...}. */
void cf_store_pack_event(msgpack_packer *pk, const cf_event_t *e, size_t case_key)
{
    const cf_event_type_info_t *info = cf_event_type_info(e->type);
    assert(info);
    size_t n = 0;
    for (const cf_pay_element_t *p = info->payload; p->how != CF_PAY_END; p++)
        n += p->how == CF_PAY_MONEY ? 2 : 1;
    msgpack_pack_array(pk, 3 + n);
    msgpack_pack_int(pk, (int) e->type);
    msgpack_pack_int(pk, (int) info->stage);
    msgpack_pack_unsigned_int(pk, (unsigned) case_key);
    for (const cf_pay_element_t *p = info->payload; p->how != CF_PAY_END; p++)
        pack_element(pk, e, p);
}
