/*  cf_web_stream: GET /api/v1/notifications, the live feed (cf_web_feed)
    as Server-Sent Events for one token:
        id: EPOCH-N
        event: snapshot | notification
        data: one line of JSON
    A stream without a usable Last-Event-ID starts with the broker's
    snapshot (its id the feed's number when it was asked for), then every
    notification after it that the snapshot does not cover; one whose
    Last-Event-ID is of this run and still in the ring resumes after it with
    no snapshot. A stream that falls behind by more than the ring gets a new
    snapshot. A token scoped to programmes gets only the notifications of
    its programmes (those without a programme, such as stats, reject and
    alert.spike, are not sent to it) and the snapshot cut to them. A comment
    line (": keepalive") goes out every CF_WEB_STREAM_KEEPALIVE_MS without
    a notification, so that proxies and the server's idle timeout keep the
    connection. When the token file is read again (cf_web_feed_wake), a
    stream whose token is no longer in it ends; one whose token still is
    goes on as the token's new line says.                                   */
#ifndef CF_WEB_STREAM_H
#define CF_WEB_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>

#include "cf_web_feed.h"
#include "cf_web_tokens.h"

#define CF_WEB_STREAM_KEEPALIVE_MS 10000

/*  A response that streams the feed to token (an entry of tokens) until
    the client goes, the feed closes or the token is removed; last_event_id
    is the request's Last-Event-ID (NULL: none). The stream takes its own
    reference to tokens; feed must outlive it.                               */
struct MHD_Response *cf_web_stream_response(cf_web_feed_t *feed, cf_web_tokens_t *tokens,
                                             const cf_web_token_t *token,
                                             const char *last_event_id);

/*  Whether last_event_id ("EPOCH-N") names notification N of this run
    (epoch); *n gets N.                                                      */
bool cf_web_stream_parse_id(const char *last_event_id, const char *epoch, uint64_t *n);

/*  One event: "id: EPOCH-N\nevent: EVENT\ndata: DATA\n\n", a new string the
    caller frees. data is one line (JSON text).                             */
char *cf_web_stream_event(const char *epoch, uint64_t n, const char *event, const char *data);

#endif
