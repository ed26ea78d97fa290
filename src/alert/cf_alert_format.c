/*  cf_alert_format: the texts caseflow-alert sends; see cf_alert_format.h.
    JSON is written by cf_json from a msgpack map built here, so that the
    webhook's body, the chat body and the mail's JSON escape alike.         */
#include "cf_alert_format.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_pack.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>
#include <inttypes.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FORMAT_SCALAR_MAX   64      /* a string member longer than this is left out of the summary */

/*  Members the summary leaves out: the event's id and the times, which the
    JSON carries and a person reading a chat line does not need.            */
static const char *s_unsummarised[] = { "event_id", "occurred_at", "due", "now" };

/*  Decodes the body into *u; its map, or NULL (and err) when it is none.    */
static const msgpack_object *format_body(const cf_alert_note_t *note, msgpack_unpacked *u,
                                         char *err, size_t n)
{
    assert(note && note->id && note->topic);
    msgpack_unpacked_init(u);
    if (cf_unpack(u, note->body, note->body_len) != 0 || u->data.type != MSGPACK_OBJECT_MAP) {
        snprintf(err, n, "the body of %s is not a msgpack map", note->id);
        return NULL;
    }
    return &u->data;
}

/*  The text of a msgpack value rendered by cf_json, as a malloc'd copy.    */
static char *format_render(const void *data, size_t size, size_t *len)
{
    cf_json_t *json = cf_json_new();
    const char *text = cf_json_from_msgpack(json, data, size);
    char *copy = text ? cf_strdup(text) : NULL;
    if (len)
        *len = copy ? strlen(copy) : 0;
    cf_json_destroy(&json);
    return copy;
}

char *cf_alert_format_json(const cf_alert_note_t *note, size_t *len, char *err, size_t n)
{
    msgpack_unpacked u;
    const msgpack_object *body = format_body(note, &u, err, n);
    if (!body) {
        msgpack_unpacked_destroy(&u);
        return NULL;
    }
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3 + body->via.map.size);
    cf_pack_key_str(&pk, "id", note->id);
    cf_pack_key_str(&pk, "topic", note->topic);
    cf_pack_key_uint(&pk, "time", note->time_ms);
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        msgpack_pack_object(&pk, body->via.map.ptr[i].key);
        msgpack_pack_object(&pk, body->via.map.ptr[i].val);
    }
    char *text = format_render(buf.data, buf.size, len);
    if (!text)
        snprintf(err, n, "the body of %s cannot be written as JSON", note->id);
    msgpack_sbuffer_destroy(&buf);
    msgpack_unpacked_destroy(&u);
    return text;
}

const char *cf_alert_format_programme(const cf_alert_note_t *note, char out[33])
{
    msgpack_unpacked u;
    char err[128];
    *out = '\0';
    const msgpack_object *body = format_body(note, &u, err, sizeof err);
    const msgpack_object *programme = body ? cf_unpack_get(body, "programme") : NULL;
    if (programme && programme->type == MSGPACK_OBJECT_STR && programme->via.str.size <= 32
        && !memchr(programme->via.str.ptr, '\0', programme->via.str.size)) {
        memcpy(out, programme->via.str.ptr, programme->via.str.size);
        out[programme->via.str.size] = '\0';
    }
    msgpack_unpacked_destroy(&u);
    return *out ? out : NULL;
}

static bool format_summarised(const msgpack_object *key)
{
    if (key->type != MSGPACK_OBJECT_STR)
        return false;
    for (size_t i = 0; i < sizeof s_unsummarised / sizeof s_unsummarised[0]; i++)
        if (cf_unpack_str_equals(key, s_unsummarised[i]))
            return false;
    return true;
}

/*  ", key value" for a scalar member (a string shown as it is, when short
    and printable).                                                          */
static void format_member(FILE *out, const msgpack_object *key, const msgpack_object *val)
{
    const msgpack_object_str *k = &key->via.str;
    switch (val->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        fprintf(out, ", %.*s %" PRIu64, (int) k->size, k->ptr, val->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        fprintf(out, ", %.*s %" PRId64, (int) k->size, k->ptr, val->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32: case MSGPACK_OBJECT_FLOAT64:
        fprintf(out, ", %.*s %g", (int) k->size, k->ptr, val->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        if (val->via.str.size > FORMAT_SCALAR_MAX)
            return;
        for (uint32_t i = 0; i < val->via.str.size; i++)
            if ((unsigned char) val->via.str.ptr[i] < ' ' || val->via.str.ptr[i] == 0x7f)
                return;
        fprintf(out, ", %.*s %.*s", (int) k->size, k->ptr, (int) val->via.str.size,
                val->via.str.ptr);
        break;
    default:
        break;
    }
}

char *cf_alert_format_summary(const cf_alert_note_t *note)
{
    msgpack_unpacked u;
    char err[128];
    const msgpack_object *body = format_body(note, &u, err, sizeof err);
    if (!body) {
        msgpack_unpacked_destroy(&u);
        return NULL;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *out = cf_memstream_open(&text, &size);
    fprintf(out, "caseflow %s", note->topic);
    size_t mark = (size_t) ftell(out);
    for (uint32_t i = 0; i < body->via.map.size; i++) {
        const msgpack_object_kv *kv = &body->via.map.ptr[i];
        if (format_summarised(&kv->key))
            format_member(out, &kv->key, &kv->val);
    }
    cf_memstream_close(out);
    if (strlen(text) > mark)
        text[mark] = ':';           /* the first ", " becomes ": " */
    char *line = NULL;
    size = 0;
    out = cf_memstream_open(&line, &size);
    fprintf(out, "%s (id %s)", text, note->id);
    cf_memstream_close(out);
    free(text);
    msgpack_unpacked_destroy(&u);
    return line;
}

char *cf_alert_format_chat(const cf_alert_note_t *note, size_t *len)
{
    char *summary = cf_alert_format_summary(note);
    if (!summary)
        return NULL;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    cf_pack_key_str(&pk, "text", summary);
    char *text = format_render(buf.data, buf.size, len);
    msgpack_sbuffer_destroy(&buf);
    free(summary);
    return text;
}

char *cf_alert_format_mail(const cf_alert_note_t *note, const char *from,
                           const char *const *to, size_t count, int64_t date_s, size_t *len)
{
    assert(from && to && count > 0 && len);
    char err[128];
    char *summary = cf_alert_format_summary(note);
    char *json = summary ? cf_alert_format_json(note, NULL, err, sizeof err) : NULL;
    if (!json) {
        free(summary);
        return NULL;
    }
    char date[64];
    time_t t = (time_t) date_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    const char *domain = strchr(from, '@');
    char *text = NULL;
    size_t size = 0;
    FILE *out = cf_memstream_open(&text, &size);
    fprintf(out, "From: <%s>\r\nTo: ", from);
    for (size_t i = 0; i < count; i++)
        fprintf(out, "%s<%s>", i ? ", " : "", to[i]);
    fprintf(out, "\r\nSubject: [caseflow] %s\r\nDate: %s\r\nMessage-ID: <%s%s>\r\n"
            "X-Caseflow-Id: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            "\r\n%s\r\n\r\n%s\r\n", note->topic, date, note->id, domain ? domain : "@caseflow",
            note->id, summary, json);
    cf_memstream_close(out);
    *len = size;
    free(summary);
    free(json);
    return text;
}

void cf_alert_format_sign(const unsigned char *key, size_t key_len, const char *timestamp,
                          const char *body, size_t body_len, char out[CF_ALERT_SIGNATURE_LEN])
{
    assert(key && timestamp && (body || body_len == 0));
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&state, key, key_len);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *) timestamp, strlen(timestamp));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *) ".", 1);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *) body, body_len);
    crypto_auth_hmacsha256_final(&state, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, CF_ALERT_SIGNATURE_LEN - 7, mac, sizeof mac);
    sodium_memzero(&state, sizeof state);
}
