/*  cf_web_stream: one Server-Sent Events stream; see cf_web_stream.h. The
    server gives each connection its own thread, so the content callback
    may wait for the feed.                                                  */
#include "cf_web_stream.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_seqcheck.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cf_web_feed_t *feed;
    cf_web_tokens_t *tokens;        /* a reference, so that token stays valid */
    const cf_web_token_t *token;    /* one of tokens' entries */
    uint64_t woken;                 /* cf_web_feed_next's */
    uint64_t cursor;                /* the last notification considered */
    bool snapshot_due;
    cf_seqcheck_t *seqs;            /* the snapshot's cursors; NULL when resumed */
    char *pending;                  /* what is still to be sent of the last event */
    size_t len, off;
} stream_t;

bool cf_web_stream_parse_id(const char *last_event_id, const char *epoch, uint64_t *n)
{
    size_t len = strlen(epoch);
    if (!last_event_id || strncmp(last_event_id, epoch, len) || last_event_id[len] != '-')
        return false;
    const char *digits = last_event_id + len + 1;
    char *end = NULL;
    if (*digits < '0' || *digits > '9')
        return false;
    unsigned long long value = strtoull(digits, &end, 10);
    if (*end)
        return false;
    *n = value;
    return true;
}

char *cf_web_stream_event(const char *epoch, uint64_t n, const char *event, const char *data)
{
    size_t size = strlen(epoch) + strlen(event) + strlen(data) + 64;
    char *text = cf_malloc(size);
    snprintf(text, size, "id: %s-%" PRIu64 "\nevent: %s\ndata: %s\n\n", epoch, n, event, data);
    return text;
}

static bool stream_sees(const char *programme, void *arg)
{
    return cf_web_token_sees(arg, programme);
}

static void stream_set(stream_t *s, char *text)
{
    free(s->pending);
    s->pending = text;
    s->len = strlen(text);
    s->off = 0;
}

/*  The snapshot event, from the feed's number now.                         */
static void stream_snapshot(stream_t *s)
{
    char err[512], *json = NULL;
    s->snapshot_due = false;
    s->cursor = cf_web_feed_head(s->feed);      /* before asking: the Clone pattern */
    cf_seqcheck_destroy(&s->seqs);
    s->seqs = cf_seqcheck_new();
    if (cf_web_feed_snapshot(s->feed, s->seqs, &json, err, sizeof err) < 0) {
        /* the live notifications still come; the page says the figures wait */
        json_t *error = json_pack("{ss}", "error", err);
        char *data = json_dumps(error, JSON_COMPACT);
        json_decref(error);
        if (!data)
            abort();            /* jansson fails here on memory only */
        stream_set(s, cf_web_stream_event(cf_web_feed_epoch(s->feed), s->cursor, "error", data));
        free(data);
        return;
    }
    if (cf_web_token_programmes(s->token)) {
        char *scoped = cf_web_feed_scope_snapshot(json, stream_sees, (void *) s->token);
        free(json);
        json = scoped ? scoped : cf_strdup("{}");
    }
    stream_set(s, cf_web_stream_event(cf_web_feed_epoch(s->feed), s->cursor, "snapshot", json));
    free(json);
}

/*  Makes the next event (or keepalive) pending. -1 when the stream ends:
    the feed closed, or the token file was read again without its token
    (with its token, the stream goes on with the token's new role and
    programmes).                                                             */
static int stream_produce(stream_t *s)
{
    for (;;) {
        if (!(s->token = cf_web_tokens_renew(&s->tokens, s->token)))
            return -1;
        if (s->snapshot_due) {
            stream_snapshot(s);
            return 0;
        }
        cf_web_feed_entry_t e = { 0 };
        int rc = cf_web_feed_next(s->feed, s->cursor, &s->woken, CF_WEB_STREAM_KEEPALIVE_MS, &e);
        if (rc == -1)
            return -1;
        if (rc == -2) {             /* fell behind the ring: start over */
            stream_snapshot(s);
            return 0;
        }
        if (rc == 0) {
            stream_set(s, cf_strdup(": keepalive\n\n"));
            return 0;
        }
        s->cursor = e.n;
        bool send = (!cf_web_token_programmes(s->token)
                     || (e.programme && cf_web_token_sees(s->token, e.programme)))
                 && !(s->seqs && e.outbox_id
                      && cf_seqcheck_repeat(s->seqs, e.outbox_id, strlen(e.outbox_id)));
        if (send)
            stream_set(s, cf_web_stream_event(cf_web_feed_epoch(s->feed), e.n, "notification",
                                              e.json));
        cf_web_feed_entry_clear(&e);
        if (send)
            return 0;
    }
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void) pos;
    stream_t *s = cls;
    if (s->off == s->len && stream_produce(s) < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    return (ssize_t) n;
}

static void stream_free(void *cls)
{
    stream_t *s = cls;
    cf_web_feed_stream_count(s->feed, -1);
    cf_seqcheck_destroy(&s->seqs);
    cf_web_tokens_destroy(&s->tokens);
    free(s->pending);
    free(s);
}

struct MHD_Response *cf_web_stream_response(cf_web_feed_t *feed, cf_web_tokens_t *tokens,
                                            const cf_web_token_t *token,
                                            const char *last_event_id)
{
    assert(feed && tokens && token);
    stream_t *s = cf_calloc(1, sizeof *s);
    s->feed = feed;
    s->woken = cf_web_feed_woken(feed);     /* before the first look at the token */
    s->tokens = cf_web_tokens_hold(tokens);
    s->token = token;
    s->pending = cf_strdup("");
    uint64_t n;
    if (cf_web_stream_parse_id(last_event_id, cf_web_feed_epoch(feed), &n)
        && cf_web_feed_can_resume(feed, n))
        s->cursor = n;
    else
        s->snapshot_due = true;
    cf_web_feed_stream_count(feed, 1);
    struct MHD_Response *response =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    if (!response)
        stream_free(s);
    return response;
}
