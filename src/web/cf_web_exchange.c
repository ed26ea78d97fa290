/*  cf_web_exchange: caseflow-web's JSON answers; see cf_web_exchange.h.   */
#include "cf_web_exchange.h"
#include "caseflow/cf_alloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cf_web_response_json(cf_web_response_t *res, unsigned status, void *value)
{
    json_t *json = value;
    res->status = status;
    res->type = CF_WEB_JSON;
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!text)
        abort();                /* jansson fails here on memory only */
    res->len = strlen(text);
    res->body = cf_malloc(res->len + 2);
    memcpy(res->body, text, res->len);
    res->body[res->len++] = '\n';
    res->body[res->len] = 0;
    free(text);
}

void cf_web_response_error(cf_web_response_t *res, unsigned status, const char *fmt, ...)
{
    char reason[CF_WEB_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    cf_web_response_json(res, status, json_pack("{ss}", "error", reason));
}
