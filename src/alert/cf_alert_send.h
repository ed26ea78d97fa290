/*  cf_alert_send: one sink's delivery of one notification over libcurl: a
    webhook's signed POST, a chat webhook's POST, or a mail over SMTP
    (docs/notifications.md, "Alert sinks"). A sender holds the sink's
    settings, the secret it signs with or the password it logs in with (read
    from their files when it is made, wiped when it is destroyed) and one
    curl handle, so that connections are reused. Each call is one try, with
    timeouts: retries, backoff and what was delivered are cf_alert's.       */
#ifndef CF_ALERT_SEND_H
#define CF_ALERT_SEND_H

#include <stdatomic.h>
#include <stddef.h>
#include "caseflow/cf_rules.h"
#include "cf_alert_format.h"

#define CF_ALERT_SECRET_MAX     1024    /* bytes of a secret or password file */
#define CF_ALERT_CONNECT_S      5       /* a try's connection timeout */
#define CF_ALERT_TRY_S          15      /* a try's whole timeout */

typedef struct _cf_alert_send_t cf_alert_send_t;

/*  A sender for sink (copied); a try under way ends early once *stop (NULL:
    never) is set. NULL with the reason in err when a secret or password
    file cannot be read, is empty, or may be read by group or others.       */
cf_alert_send_t *cf_alert_send_new(const cf_rules_sink_t *sink, const atomic_int *stop,
                                   char *err, size_t n);

/*  Wipes the secrets, frees and nulls *self_p; accepts NULL.               */
void cf_alert_send_destroy(cf_alert_send_t **self_p);

/*  Delivers note once, at now_s (Unix seconds: the webhook's timestamp, the
    mail's date). 0 when the receiver took it (HTTP 2xx; the SMTP server
    accepted the mail); -1 with the reason in err ("HTTP 503", curl's
    message).                                                               */
int cf_alert_send(cf_alert_send_t *self, const cf_alert_note_t *note, int64_t now_s, char *err,
                  size_t n);

#endif
