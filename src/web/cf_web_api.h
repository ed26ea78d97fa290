/*  cf_web_api: the JSON API of caseflow-web, as a function from a request
    (method, path, query parameters, the caller's token) to a response
    (status, content type, body), over a source of counters and the store's
    clock given as callbacks. No sockets: cf_web serves it over HTTP, the
    unit test calls it directly. The reports are cf_report's, built and
    rendered as caseflow-ctl report builds and renders them, so that
    GET /api/v1/reports/NAME answers the rows of caseflow-ctl report NAME
    --json (or --csv); GET /api/v1/dlq and POST /api/v1/dlq/ID/replay, for
    operators, the tables of caseflow-ctl dlq list and replay --json;
    POST /api/v1/events and /api/v1/forms/NAME, for producers,
    cf_web_intake's.
    docs/openapi.yaml is the contract.                                      */
#ifndef CF_WEB_API_H
#define CF_WEB_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caseflow/cf_counts.h"
#include "caseflow/cf_table.h"
#include "cf_web_exchange.h"

/*  Where the figures come from (caseflow-web: Redis, through cf_store).    */
typedef struct {
    /*  Sums family's counters over the shards into a new *counts. 0, or -1
        with the reason in err.                                              */
    int (*read_family)(void *ctx, const char *family, cf_counts_t **counts, char *err, size_t n);
    /*  The store's clock in ms (and so whether Redis answers). 0, or -1 with
        the reason in err.                                                   */
    int (*clock)(void *ctx, int64_t *ms, char *err, size_t n);
    /*  The dead letters (cf_dlq_table_list's table). NULL with the reason
        in err.                                                              */
    cf_table_t *(*dlq_list)(void *ctx, char *err, size_t n);
    /*  Replays dead letter id (cf_dlq_table_replay's table). NULL with the
        reason in err; *missing true when no entry has this id.              */
    cf_table_t *(*dlq_replay)(void *ctx, const char *id, bool *missing, char *err, size_t n);
    void *ctx;
    /*  The broker's status (cf_control_status_json: a new JSON text), from
        its control endpoint, with broker_ctx; NULL in err too when there
        is no answer. NULL callback: no control endpoint configured.         */
    char *(*broker)(void *broker_ctx, char *err, size_t n);
    void *broker_ctx;
    /*  Where POST /api/v1/events sends events (cf_web_intake); NULL: no
        intake endpoint configured (503).                                    */
    struct _cf_web_intake_t *intake;
    /*  The forms POST /api/v1/forms/NAME takes (cf_web_forms); NULL: none.
        cf_web holds a reference of its own (cf_web_set_forms replaces it). */
    struct _cf_web_forms_t *forms;
} cf_web_source_t;

/*  Answers req from source; fills *res. A path outside /api/v1/ is a 404.  */
void cf_web_api_answer(const cf_web_source_t *source, const cf_web_request_t *req,
                       cf_web_response_t *res);

#endif
