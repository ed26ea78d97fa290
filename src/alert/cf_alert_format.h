/*  cf_alert_format: what caseflow-alert sends, built from one notification
    as an outbox holds it (docs/notifications.md, "Alert sinks"): the JSON a
    webhook receives, its HMAC-SHA-256 signature, the one-line summary that
    a chat webhook ({"text": ...}) and a mail show, and the mail itself.
    Bytes in, text out: no sockets, no clock (the caller gives the time),
    never prints. The bodies are the outboxes' own, already pseudonymised
    (case_id, never a case_ref); nothing here adds personal data.            */
#ifndef CF_ALERT_FORMAT_H
#define CF_ALERT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define CF_ALERT_ID_MAX         64      /* "s7-<ms>-<seq>" or "p-<ms>-<seq>", with its NUL */
#define CF_ALERT_SIGNATURE_LEN  (7 + 64 + 1)    /* "sha256=" + 64 hex digits + NUL */

/*  One notification: its stable id (as the broker publishes it), topic, the
    time of its outbox entry (Unix ms) and its msgpack body (a map).        */
typedef struct {
    const char *id;
    const char *topic;
    uint64_t time_ms;
    const void *body;
    size_t body_len;
} cf_alert_note_t;

/*  The webhook's body: one JSON object, the envelope ("id", "topic",
    "time") then the body's members in their order. A malloc'd text (its
    length in *len), or NULL with the reason in err when the body is not a
    msgpack map.                                                             */
char *cf_alert_format_json(const cf_alert_note_t *note, size_t *len, char *err, size_t n);

/*  The body's "programme" when it is a string of at most 32 bytes, copied
    into out (33 bytes); else out is "" and NULL is returned.               */
const char *cf_alert_format_programme(const cf_alert_note_t *note, char out[33]);

/*  One line for people: "caseflow alert.vulnerable.vot: programme CH-AVR,
    flag vot, case_id 1f3a... (id s3-1700000000000-0)": the topic, the
    body's short scalar members but the event's id and times, and the id.
    A malloc'd text, or NULL when the body is not a map.                    */
char *cf_alert_format_summary(const cf_alert_note_t *note);

/*  A Slack- or Mattermost-compatible incoming-webhook body,
    {"text": <summary>}. Malloc'd (length in *len), or NULL as above.       */
char *cf_alert_format_chat(const cf_alert_note_t *note, size_t *len);

/*  A mail (RFC 5322, CRLF lines) from `from` to the count addresses of to,
    dated date_s (Unix seconds): Subject "[caseflow] <topic>", Message-ID
    <id@the sender's domain> and X-Caseflow-Id, so that a repeat is known;
    the summary, then the JSON. Malloc'd (length in *len), or NULL as
    above.                                                                   */
char *cf_alert_format_mail(const cf_alert_note_t *note, const char *from,
                           const char *const *to, size_t count, int64_t date_s, size_t *len);

/*  The webhook's signature header value: "sha256=" and the hex HMAC-SHA-256
    under key of "<timestamp>.<body>" (docs/notifications.md says how a
    receiver checks it). libsodium's HMAC; out gets CF_ALERT_SIGNATURE_LEN
    bytes.                                                                   */
void cf_alert_format_sign(const unsigned char *key, size_t key_len, const char *timestamp,
                          const char *body, size_t body_len, char out[CF_ALERT_SIGNATURE_LEN]);

#endif
