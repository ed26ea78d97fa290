/*  cf_alert_send: one try at delivering one notification to one sink, over
    libcurl's easy interface; see cf_alert_send.h. The bodies come from
    cf_alert_format; this file only moves them.                              */
#include "cf_alert_send.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_secret_file.h"

#include <assert.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _cf_alert_send_t {
    cf_rules_sink_t sink;
    char secret[CF_ALERT_SECRET_MAX + 2];   /* webhook: the HMAC key; smtp: the password */
    size_t secret_len;
    const atomic_int *stop;         /* NULL: never */
    CURL *curl;
};

/*  The upload of a mail: curl reads it from here.                           */
typedef struct {
    const char *data;
    size_t len, sent;
} send_upload_t;

static size_t send_read(char *buf, size_t size, size_t nitems, void *ctx)
{
    send_upload_t *up = ctx;
    size_t n = size * nitems, left = up->len - up->sent;
    n = n < left ? n : left;
    memcpy(buf, up->data + up->sent, n);
    up->sent += n;
    return n;
}

/*  A receiver's answer is not read: it is dropped as it comes.              */
static size_t send_discard(char *data, size_t size, size_t nmemb, void *ctx)
{
    (void) data, (void) ctx;
    return size * nmemb;
}

/*  curl's progress callback: a non-zero answer aborts the transfer.        */
static int send_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
    (void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
    const cf_alert_send_t *self = ctx;
    return self->stop && atomic_load(self->stop);
}

cf_alert_send_t *cf_alert_send_new(const cf_rules_sink_t *sink, const atomic_int *stop,
                                   char *err, size_t n)
{
    assert(sink);
    cf_alert_send_t *self = cf_calloc(1, sizeof *self);
    self->sink = *sink;
    self->stop = stop;
    const char *file = sink->type == CF_RULES_SINK_WEBHOOK ? sink->secret_file
                     : sink->type == CF_RULES_SINK_SMTP ? sink->password_file : "";
    char what[96];
    snprintf(what, sizeof what, "sink %s: %s", sink->name,
             sink->type == CF_RULES_SINK_WEBHOOK ? "secret_file" : "password_file");
    /* root_group: a Kubernetes secret volume, as for the CURVE keys */
    if (*file && cf_secret_file_read(what, file, true, self->secret, sizeof self->secret,
                                     &self->secret_len, CF_ALERT_SECRET_MAX, err, n) < 0) {
        cf_alert_send_destroy(&self);
        return NULL;
    }
    self->secret[self->secret_len] = '\0';
    if (!(self->curl = curl_easy_init()))
        abort();                        /* curl could not allocate */
    return self;
}

void cf_alert_send_destroy(cf_alert_send_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_alert_send_t *self = *self_p;
    sodium_memzero(self->secret, sizeof self->secret);
    if (self->curl)
        curl_easy_cleanup(self->curl);
    free(self);
    *self_p = NULL;
}

/*  The options every try sets: the URL, timeouts, no signals (the daemon
    runs one sender per thread), no redirects (a 3xx is not a delivery).   */
static void send_common(cf_alert_send_t *self)
{
    CURL *c = self->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, self->sink.url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) CF_ALERT_CONNECT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) CF_ALERT_TRY_S);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, self->sink.type == CF_RULES_SINK_SMTP
                                                ? "smtp,smtps" : "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, send_discard);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, send_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, self);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}

/*  A webhook's or a chat webhook's POST of body.                            */
static int send_post(cf_alert_send_t *self, const cf_alert_note_t *note, const char *body,
                     size_t len, int64_t now_s, char *err, size_t n)
{
    char header[160], timestamp[24];
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(header, sizeof header, "X-Caseflow-Id: %s", note->id);
    headers = curl_slist_append(headers, header);
    if (self->sink.type == CF_RULES_SINK_WEBHOOK) {
        char signature[CF_ALERT_SIGNATURE_LEN];
        snprintf(timestamp, sizeof timestamp, "%" PRId64, now_s);
        cf_alert_format_sign((const unsigned char *) self->secret, self->secret_len, timestamp,
                             body, len, signature);
        snprintf(header, sizeof header, "X-Caseflow-Timestamp: %s", timestamp);
        headers = curl_slist_append(headers, header);
        snprintf(header, sizeof header, "X-Caseflow-Signature: %s", signature);
        headers = curl_slist_append(headers, header);
    }
    headers = curl_slist_append(headers, "Expect:");    /* no 100-continue round trip */
    if (!headers)
        abort();
    send_common(self);
    curl_easy_setopt(self->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(self->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(self->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    CURLcode rc = curl_easy_perform(self->curl);
    long status = 0;
    curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        snprintf(err, n, "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(err, n, "HTTP %ld", status);
        return -1;
    }
    return 0;
}

/*  A mail to every recipient: accepted when the server took the message.   */
static int send_mail(cf_alert_send_t *self, const cf_alert_note_t *note, int64_t now_s,
                     char *err, size_t n)
{
    const char *to[CF_RULES_LIST_MAX];
    for (size_t i = 0; i < self->sink.to_n; i++)
        to[i] = self->sink.to[i];
    size_t len;
    char *mail = cf_alert_format_mail(note, self->sink.from, to, self->sink.to_n, now_s, &len);
    if (!mail) {
        snprintf(err, n, "the body of %s is not a msgpack map", note->id);
        return -1;
    }
    char from[CF_RULES_TEXT_MAX + 2];
    snprintf(from, sizeof from, "<%s>", self->sink.from);
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < self->sink.to_n; i++) {
        char one[CF_RULES_TEXT_MAX + 2];
        snprintf(one, sizeof one, "<%s>", self->sink.to[i]);
        if (!(rcpt = curl_slist_append(rcpt, one)))
            abort();
    }
    send_upload_t up = { mail, len, 0 };
    send_common(self);
    CURL *c = self->curl;
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, send_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) len);
    if (*self->sink.username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, self->sink.username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, self->secret);
        /* a password only over TLS: smtps://, or STARTTLS on smtp:// */
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    free(mail);
    if (rc != CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status)
            snprintf(err, n, "%s (SMTP %ld)", curl_easy_strerror(rc), status);
        else
            snprintf(err, n, "%s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

int cf_alert_send(cf_alert_send_t *self, const cf_alert_note_t *note, int64_t now_s, char *err,
                  size_t n)
{
    assert(self && note);
    if (self->sink.type == CF_RULES_SINK_SMTP)
        return send_mail(self, note, now_s, err, n);
    char why[128];
    size_t len;
    char *body = self->sink.type == CF_RULES_SINK_WEBHOOK
               ? cf_alert_format_json(note, &len, why, sizeof why)
               : cf_alert_format_chat(note, &len);
    if (!body) {
        snprintf(err, n, "the body of %s is not a msgpack map", note->id);
        return -1;
    }
    int rc = send_post(self, note, body, len, now_s, err, n);
    free(body);
    return rc;
}
