/*  cf_web_exchange: what caseflow-web's API is given and answers: a request
    (method, path, query parameters, the caller's token, a body) and its
    response (status, content type, body), with the JSON bodies every part
    builds: a value's text, or {"error": reason}. The API's routes
    (cf_web_api), its intake (cf_web_intake) and the server (cf_web_request)
    all speak it, so that none of them needs another's file for it.         */
#ifndef CF_WEB_EXCHANGE_H
#define CF_WEB_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "cf_web_tokens.h"

#define CF_WEB_JSON "application/json"
#define CF_WEB_ERR_MAX 512      /* an error's reason, with its NUL */

typedef struct {
    const char *key, *value;    /* value NULL: the key without '=' */
} cf_web_param_t;

#define CF_WEB_PARAMS_MAX 16

typedef struct {
    const char *method, *path;
    cf_web_param_t params[CF_WEB_PARAMS_MAX];
    size_t nparams;             /* more than CF_WEB_PARAMS_MAX: too many, a 400 */
    bool csv;                   /* Accept names text/csv */
    const cf_web_token_t *token;    /* authenticated by the caller; not NULL */
    const char *body;           /* a POST's body, body_len bytes; NULL: none */
    size_t body_len;
    bool body_too_large;        /* over CF_WEB_INTAKE_MAX_BODY: the rest was dropped */
} cf_web_request_t;

typedef struct {
    unsigned status;            /* 200, or a 4xx/5xx with {"error": reason} */
    const char *type;           /* the Content-Type, static */
    char *body;                 /* the caller frees it */
    size_t len;
    unsigned retry_after;       /* seconds for a Retry-After header; 0: none */
} cf_web_response_t;

/*  A response of json's text and a newline with status; takes json (a
    jansson json_t).                                                        */
void cf_web_response_json(cf_web_response_t *res, unsigned status, void *json);

/*  A response {"error": reason} with status; the reason is cut to
    CF_WEB_ERR_MAX - 1 bytes.                                               */
void cf_web_response_error(cf_web_response_t *res, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
