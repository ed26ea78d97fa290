/*  cf_web internals shared by cf_web.c (the server object: TLS, metrics,
    the daemon's start and stop, the token set and form mappings) and
    cf_web_request.c (one request, from libmicrohttpd's callbacks to the
    response). cf_web.c hands the callbacks to libmicrohttpd; the request
    side reads the object's fields and calls nothing of cf_web.c. Not part
    of the public API.                                                       */
#ifndef CF_WEB_INTERNAL_H
#define CF_WEB_INTERNAL_H

#include "cf_web.h"
#include "caseflow/cf_metrics.h"
#include "caseflow/cf_ratelimit.h"
#include "cf_web_forms.h"
#include "cf_web_tokens.h"

#include <microhttpd.h>
#include <pthread.h>

struct _cf_web_t {
    struct MHD_Daemon *daemon;
    cf_web_config_t config;
    int port;
    char *cert, *key;                   /* PEM text, held while the daemon runs */
    pthread_mutex_t lock;               /* guards limit, tokens and forms: a thread per connection */
    cf_ratelimit_t *limit;
    cf_web_tokens_t *tokens;            /* the current set; a request takes a reference */
    cf_web_forms_t *forms;              /* the current mappings (config.source.forms is
                                           NULL); a request takes a reference */
    cf_metric_t *answered[6];           /* by status class, 1xx..5xx; [0] unused */
    cf_metric_t *refused, *limited;
};

/*  libmicrohttpd's access handler, cls the server: checks the token, keeps
    an intake's body and queues the response (an asset, the event stream or
    cf_web_api's answer).                                                    */
enum MHD_Result cf_web_answer(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_data_size, void **state);

/*  libmicrohttpd's completion handler: frees what cf_web_answer kept in
    *state (and NULLs it).                                                   */
void cf_web_completed(void *cls, struct MHD_Connection *connection, void **state,
                      enum MHD_RequestTerminationCode code);

#endif
