/*  cf_store_payload: each event's payload in the apply script's input, one
    packer per type (docs/storage.md, "Script input"; PAYLOAD in
    lua/apply_input.lua is the other side). Values are put in the form the
    script sums exactly: money in cents, scores in ten-thousandths, days as
    "day:YYYY-MM-DD" and UTC day numbers, free strings escaped. No I/O.    */
#include "cf_store_internal.h"
#include "caseflow/cf_pack.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void pack_vulns(msgpack_packer *pk, uint32_t mask)
{
    unsigned n = 0;
    for (unsigned f = 0; f < CF_VULN_COUNT; f++)
        n += (mask >> f) & 1u;
    msgpack_pack_array(pk, n);
    for (unsigned f = 0; f < CF_VULN_COUNT; f++)
        if ((mask >> f) & 1u)
            cf_pack_str(pk, cf_vuln_name(f));
}

/* Persons by sex x age band, as alternating "<sex>|<band>", count. */
static void pack_demo(msgpack_packer *pk, const cf_event_t *e)
{
    unsigned counts[4][STORE_AGE_BANDS] = { { 0 } }, cells = 0;
    for (unsigned i = 0; i < e->person_count; i++) {
        unsigned sex = (unsigned) (strchr(STORE_SEXES, e->persons[i].sex) - STORE_SEXES);
        cells += counts[sex][e->persons[i].age_band]++ == 0;
    }
    msgpack_pack_array(pk, 2 * cells);
    char cell[16];
    for (unsigned s = 0; s < 4; s++)
        for (unsigned b = 0; b < STORE_AGE_BANDS; b++)
            if (counts[s][b]) {
                snprintf(cell, sizeof cell, "%c|%s", STORE_SEXES[s], cf_event_age_band_name(b));
                cf_pack_str(pk, cell);
                msgpack_pack_unsigned_int(pk, counts[s][b]);
            }
}

/* "day:YYYY-MM-DD" of a UTC ms time: the one period the counters keep. */
static void pack_day(msgpack_packer *pk, int64_t ms)
{
    time_t t = (time_t) (ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "day:%Y-%m-%d", &tm);
    cf_pack_str(pk, buf);
}

/* A free string as a field part: '%' and '|' escaped as %25 and %7C. */
static void pack_escaped(msgpack_packer *pk, const char *s)
{
    char buf[3 * CF_NAME_MAX + 1], *p = buf;
    for (; *s && p < buf + sizeof buf - 3; s++) {
        if (*s == '%' || *s == '|')
            p += sprintf(p, "%%%02X", (unsigned char) *s);
        else
            *p++ = *s;
    }
    *p = '\0';
    cf_pack_str(pk, buf);
}

/* An amount in hundredths, -1 when none; or a score in ten-thousandths. */
static void pack_scaled(msgpack_packer *pk, bool given, double x, double scale)
{
    msgpack_pack_int64(pk, given ? (int64_t) llround(x * scale) : -1);
}

static void pack_money(msgpack_packer *pk, const cf_event_t *e)
{
    cf_pack_str(pk, e->has_value ? e->currency : "-");
    msgpack_pack_int64(pk, e->has_value ? (int64_t) llround(e->value * 100) : 0);
}

static void pack_opt_uint(msgpack_packer *pk, bool given, uint64_t v)
{
    msgpack_pack_int64(pk, given ? (int64_t) v : -1);
}

static int pack_risk(const char *risk)
{
    return !strcmp(risk, "low") ? 1 : !strcmp(risk, "medium") ? 2 : !strcmp(risk, "high") ? 3 : 0;
}

/* The payload elements of each type; see PAYLOAD in lua/apply_input.lua. */
static const uint8_t s_payload_size[CF_EV_TYPE_COUNT] = {
    [CF_EV_CASE_REGISTERED] = 8, [CF_EV_CASE_SCREENED] = 5, [CF_EV_CASE_ASSISTED] = 3,
    [CF_EV_CASE_DETAINED] = 2, [CF_EV_CASE_RELEASED] = 2, [CF_EV_CASE_DEPARTED] = 3,
    [CF_EV_CASE_ARRIVED] = 2, [CF_EV_CASE_REINTEGRATION] = 5, [CF_EV_CASE_MONITORED] = 4,
    [CF_EV_CASE_REUNIFIED] = 1, [CF_EV_CASE_CLOSED] = 1, [CF_EV_FUNDING_TRANSACTION] = 6,
    [CF_EV_FLOW_OBSERVED] = 10,
};

static void pack_registration(msgpack_packer *pk, const cf_event_t *e)
{
    cf_pack_str(pk, e->programme);
    msgpack_pack_unsigned_int(pk, e->person_count);
    cf_pack_str(pk, e->origin_country);
    cf_pack_str(pk, e->host_country);
    cf_pack_str(pk, e->route[0] ? e->route : "-");
    pack_vulns(pk, e->vulnerabilities);
    pack_demo(pk, e);
    msgpack_pack_int64(pk, e->occurred_at);
}

static void pack_flow(msgpack_packer *pk, const cf_event_t *e)
{
    pack_day(pk, e->occurred_at);
    cf_pack_str(pk, e->route[0] ? e->route : "-");
    cf_pack_str(pk, e->from_country);
    cf_pack_str(pk, e->to_country);
    cf_pack_str(pk, e->country);
    msgpack_pack_int64(pk, (int64_t) e->count);
    pack_opt_uint(pk, e->has_uasc, e->uasc);
    pack_opt_uint(pk, e->has_females, e->females);
    pack_opt_uint(pk, e->has_males, e->males);
    int64_t ms = e->occurred_at;                /* the UTC day number, for spikes */
    msgpack_pack_int64(pk, ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000));
}

static void pack_funding(msgpack_packer *pk, const cf_event_t *e)
{
    char type[4];
    snprintf(type, sizeof type, "%u", (unsigned) e->transaction_type);
    pack_day(pk, e->occurred_at);
    pack_escaped(pk, e->donor);
    pack_escaped(pk, e->project_id);
    cf_pack_str(pk, e->currency);
    cf_pack_str(pk, type);
    msgpack_pack_int64(pk, (int64_t) llround(e->value * 100));
}

/* One event: {type, stage, case_key, payload...}. */
void cf_store_pack_event(msgpack_packer *pk, const cf_event_t *e, size_t case_key)
{
    msgpack_pack_array(pk, 3 + s_payload_size[e->type]);
    msgpack_pack_int(pk, (int) e->type);
    msgpack_pack_int(pk, (int) cf_event_stage(e->type));
    msgpack_pack_unsigned_int(pk, (unsigned) case_key);
    switch (e->type) {
    case CF_EV_CASE_REGISTERED: pack_registration(pk, e); break;
    case CF_EV_CASE_SCREENED:
        pack_vulns(pk, e->vulnerabilities);
        cf_pack_str(pk, e->screening);
        cf_pack_str(pk, e->outcome);
        msgpack_pack_int(pk, pack_risk(e->risk));
        msgpack_pack_int64(pk, e->occurred_at);
        break;
    case CF_EV_CASE_ASSISTED: cf_pack_str(pk, e->assistance); pack_money(pk, e); break;
    case CF_EV_CASE_DETAINED: case CF_EV_CASE_RELEASED:
        cf_pack_str(pk, e->country);
        msgpack_pack_int64(pk, e->occurred_at);
        break;
    case CF_EV_CASE_DEPARTED:
        cf_pack_str(pk, e->mode);
        msgpack_pack_int(pk, e->has_escort && e->escort);
        msgpack_pack_int64(pk, e->occurred_at);
        break;
    case CF_EV_CASE_ARRIVED:
        pack_day(pk, e->occurred_at);
        msgpack_pack_int64(pk, e->occurred_at);
        break;
    case CF_EV_CASE_REINTEGRATION:
        cf_pack_str(pk, e->dimension);
        cf_pack_str(pk, e->modality);
        pack_money(pk, e);
        msgpack_pack_int64(pk, e->occurred_at);
        break;
    case CF_EV_CASE_MONITORED:
        pack_scaled(pk, true, e->economic, 1e4);
        pack_scaled(pk, true, e->social, 1e4);
        pack_scaled(pk, true, e->psychosocial, 1e4);
        pack_scaled(pk, e->has_composite, e->composite, 1e4);
        break;
    case CF_EV_CASE_REUNIFIED: cf_pack_str(pk, e->country); break;
    case CF_EV_CASE_CLOSED: cf_pack_str(pk, e->reason); break;
    case CF_EV_FUNDING_TRANSACTION: pack_funding(pk, e); break;
    case CF_EV_FLOW_OBSERVED: pack_flow(pk, e); break;
    case CF_EV_TYPE_COUNT: break;
    }
}

