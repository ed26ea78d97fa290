/*  cf_web_api: the routes of caseflow-web's API; see cf_web_api.h. The
    reports take cf_report_choose's choices from the query, narrowed to what
    the token may see; the rest is cf_report_build and cf_table_render, as
    in caseflow-ctl report.                                                  */
#include "cf_web_api.h"
#include "cf_web_forms.h"
#include "cf_web_intake.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_dlq_table.h"
#include "caseflow/cf_report.h"
#include "caseflow/cf_settings.h"
#include "caseflow/cf_table.h"

#include <assert.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_PREFIX "/api/v1/"
#define API_CSV "text/csv; charset=utf-8"

static const char *s_report_params = "programme, by, period, from, to, exact, round";

static void api_text(cf_web_response_t *res, const char *type, char *text)
{
    res->status = 200;
    res->type = type;
    res->body = text;
    res->len = strlen(text);
}

/*  A yes/no parameter: no value or "" is yes. 0, or -1 when it is neither. */
static int api_flag(const cf_web_param_t *p, bool *out)
{
    if (!p->value || !*p->value) {
        *out = true;
        return 0;
    }
    return cf_settings_yes(p->value, out);
}

/*  Fills choices from the query. 0, or -1 with a 400 in res.               */
static int api_choices(const cf_web_request_t *req, cf_report_choices_t *c, cf_web_response_t *res)
{
    if (req->nparams > CF_WEB_PARAMS_MAX) {
        cf_web_response_error(res, 400, "too many parameters (a report takes %s)", s_report_params);
        return -1;
    }
    for (size_t i = 0; i < req->nparams; i++) {
        const cf_web_param_t *p = &req->params[i];
        const char **text = !strcmp(p->key, "programme") ? &c->programme
                          : !strcmp(p->key, "by") ? &c->by
                          : !strcmp(p->key, "period") ? &c->period
                          : !strcmp(p->key, "from") ? &c->from
                          : !strcmp(p->key, "to") ? &c->to : NULL;
        bool *flag = !strcmp(p->key, "exact") ? &c->exact
                   : !strcmp(p->key, "round") ? &c->round : NULL;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(req->params[j].key, p->key)) {
                cf_web_response_error(res, 400, "%s: given twice", p->key);
                return -1;
            }
        if (text && (!p->value || !*p->value)) {
            cf_web_response_error(res, 400, "%s: needs a value", p->key);
            return -1;
        }
        if (text)
            *text = p->value;
        else if (flag && api_flag(p, flag) < 0) {
            cf_web_response_error(res, 400, "%s: '%.64s' is not yes or no (1, 0, true, false...)",
                                  p->key, p->value);
            return -1;
        } else if (!flag) {
            cf_web_response_error(res, 400, "unknown parameter '%.64s' (a report takes %s)", p->key,
                                  s_report_params);
            return -1;
        }
    }
    return 0;
}

/*  Narrows c to what token may see. 0, or -1 with a 4xx in res.            */
static int api_scope(const cf_web_token_t *token, cf_report_choices_t *c, cf_web_response_t *res)
{
    if (c->exact && cf_web_token_role(token) < CF_WEB_EXACT) {
        cf_web_response_error(res, 403, "exact: exact figures need a token of the exact or "
                              "operator role");
        return -1;
    }
    size_t n = cf_web_token_programmes(token);
    if (n == 0)
        return 0;
    if (c->programme && !cf_web_token_sees(token, c->programme)) {
        cf_web_response_error(res, 403, "programme: this token does not see programme '%.64s'",
                              c->programme);
        return -1;
    }
    if (!c->programme && n > 1) {
        cf_web_response_error(res, 400, "programme: this token sees %zu programmes; choose one", n);
        return -1;
    }
    if (!c->programme)
        c->programme = cf_web_token_programme(token, 0);
    return 0;
}

static void api_report(const cf_web_source_t *source, const cf_web_request_t *req,
                       const char *name, cf_web_response_t *res)
{
    cf_report_t *report = cf_report_new(name);
    if (!report) {
        cf_web_response_error(res, 404, "unknown report '%.64s' (GET " API_PREFIX "reports lists "
                              "them)", name);
        return;
    }
    bool by_programme = cf_report_set_programme(report, "-") == 0;
    cf_report_destroy(&report);
    if (!by_programme && cf_web_token_programmes(req->token)) {
        cf_web_response_error(res, 403, "report '%s' is not by programme, and this token sees only "
                              "some programmes", name);
        return;
    }
    cf_report_choices_t choices = { .name = name };
    char err[CF_WEB_ERR_MAX];
    if (api_choices(req, &choices, res) < 0 || api_scope(req->token, &choices, res) < 0)
        return;
    report = cf_report_choose(&choices, "", err, sizeof err);
    if (!report) {
        cf_web_response_error(res, 400, "%s", err);
        return;
    }
    cf_counts_t *counts = NULL;
    if (source->read_family(source->ctx, cf_report_family(report), &counts, err, sizeof err) < 0)
        cf_web_response_error(res, 503, "the figures cannot be read: %s", err);
    else {
        cf_table_t *table = cf_report_build(report, counts);
        api_text(res, req->csv ? API_CSV : CF_WEB_JSON,
                 cf_table_render(table, req->csv ? CF_TABLE_CSV : CF_TABLE_JSON));
        cf_table_destroy(&table);
    }
    cf_counts_destroy(&counts);
    cf_report_destroy(&report);
}

static void api_catalogue(cf_web_response_t *res)
{
    json_t *list = json_array();
    for (size_t i = 0; i < cf_report_catalogue_size(); i++)
        json_array_append_new(list, json_pack("{ssss}", "name", cf_report_catalogue_name(i),
                                              "summary", cf_report_catalogue_summary(i)));
    cf_web_response_json(res, 200, list);
}

/*  {"ok": true, "status": STATUS} or {"ok": false, "error": why}; null when
    caseflow-web has no control endpoint.                                   */
static json_t *api_broker(const cf_web_source_t *source)
{
    if (!source->broker)
        return json_null();
    char err[CF_WEB_ERR_MAX] = "";
    char *text = source->broker(source->broker_ctx, err, sizeof err);
    json_t *status = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!status)
        return json_pack("{sbss}", "ok", 0, "error", *err ? err : "not JSON");
    return json_pack("{sbso}", "ok", 1, "status", status);
}

static void api_status(const cf_web_source_t *source, const cf_web_request_t *req,
                       cf_web_response_t *res)
{
    char err[CF_WEB_ERR_MAX];
    int64_t ms = 0;
    const cf_web_token_t *token = req->token;
    json_t *programmes = json_array();
    for (size_t i = 0; i < cf_web_token_programmes(token); i++)
        json_array_append_new(programmes, json_string(cf_web_token_programme(token, i)));
    json_t *status = json_pack("{sss{ssso}}", "version", CF_VERSION, "token", "role",
                               cf_web_role_name(cf_web_token_role(token)), "programmes",
                               programmes);
    if (source->clock(source->ctx, &ms, err, sizeof err) < 0)
        json_object_set_new(status, "redis", json_pack("{sbss}", "ok", 0, "error", err));
    else
        json_object_set_new(status, "redis", json_pack("{sbso}", "ok", 1, "clock_ms",
                                                       ms < 0 ? json_null()
                                                              : json_integer((json_int_t) ms)));
    /* the broker's figures are the whole stack's, as its stats notification
       is, which a scoped token's feed does not carry either */
    if (!cf_web_token_programmes(token))
        json_object_set_new(status, "broker", api_broker(source));
    cf_web_response_json(res, 200, status);
}

/*  Whether token may see and replay dead letters: the operator role, and
    no programme list (a dead letter belongs to no one programme: its
    programme is inside a payload the API does not decode). 0, or -1 with a
    403 in res.                                                              */
static int api_operator(const cf_web_token_t *token, cf_web_response_t *res)
{
    if (cf_web_token_role(token) < CF_WEB_OPERATOR)
        cf_web_response_error(res, 403, "dead letters need a token of the operator role");
    else if (cf_web_token_programmes(token))
        cf_web_response_error(res, 403, "dead letters are not by programme, and this token sees "
                              "only some programmes");
    else
        return 0;
    return -1;
}

/*  Renders table (NULL: the source failed, err says why) as JSON or CSV.   */
static void api_table(const cf_web_request_t *req, cf_table_t *table, const char *err,
                      cf_web_response_t *res)
{
    if (!table) {
        cf_web_response_error(res, 503, "the dead letters cannot be read: %s", err);
        return;
    }
    api_text(res, req->csv ? API_CSV : CF_WEB_JSON,
             cf_table_render(table, req->csv ? CF_TABLE_CSV : CF_TABLE_JSON));
    cf_table_destroy(&table);
}

static void api_dlq_list(const cf_web_source_t *source, const cf_web_request_t *req,
                         cf_web_response_t *res)
{
    char err[CF_WEB_ERR_MAX] = "";
    if (api_operator(req->token, res) == 0)
        api_table(req, source->dlq_list(source->ctx, err, sizeof err), err, res);
}

static void api_dlq_replay(const cf_web_source_t *source, const cf_web_request_t *req,
                           const char *id, cf_web_response_t *res)
{
    char err[CF_WEB_ERR_MAX] = "";
    bool missing = false;
    if (api_operator(req->token, res) < 0)
        return;
    if (!cf_dlq_table_id_valid(id)) {
        cf_web_response_error(res, 400, "'%.64s' is not a dead letter's id (MS-SEQ, as GET "
                              API_PREFIX "dlq lists them)", id);
        return;
    }
    cf_table_t *table = source->dlq_replay(source->ctx, id, &missing, err, sizeof err);
    if (!table && missing)
        cf_web_response_error(res, 404, "no dead letter with id '%s' (GET " API_PREFIX "dlq lists "
                              "them)", id);
    else
        api_table(req, table, err, res);
}

/*  The id of route "dlq/ID/replay" into id, or false when route is not one. */
static bool api_replay_route(const char *route, char *id, size_t size)
{
    if (strncmp(route, "dlq/", 4))
        return false;
    const char *tail = strchr(route + 4, '/');
    size_t len = tail ? (size_t) (tail - route - 4) : 0;
    if (!tail || strcmp(tail, "/replay") || len == 0 || len >= size)
        return false;
    memcpy(id, route + 4, len);
    id[len] = 0;
    return true;
}

void cf_web_api_answer(const cf_web_source_t *source, const cf_web_request_t *req,
                       cf_web_response_t *res)
{
    assert(source && req && req->token && res);
    memset(res, 0, sizeof *res);
    if (strncmp(req->path, API_PREFIX, strlen(API_PREFIX))) {
        cf_web_response_error(res, 404, "not found: the API is under " API_PREFIX);
        return;
    }
    const char *route = req->path + strlen(API_PREFIX);
    bool reports = !strcmp(route, "reports"), status = !strcmp(route, "status");
    bool report = !strncmp(route, "reports/", 8) && route[8] && !strchr(route + 8, '/');
    bool dlq = !strcmp(route, "dlq"), events = !strcmp(route, "events");
    const char *form = !strncmp(route, "forms/", 6) ? route + 6 : NULL;
    char id[CF_DLQ_ID_MAX + 1];
    bool replay = api_replay_route(route, id, sizeof id);
    if (!reports && !status && !report && !dlq && !replay && !events && !form) {
        cf_web_response_error(res, 404, "not found: %.64s (the API has " API_PREFIX "status, "
                              API_PREFIX "reports, " API_PREFIX "reports/NAME, " API_PREFIX
                              "notifications, " API_PREFIX "dlq, " API_PREFIX "dlq/ID/replay, "
                              API_PREFIX "events and " API_PREFIX "forms/NAME)", req->path);
        return;
    }
    if (events || form) {
        const cf_form_map_t *map = form ? cf_web_forms_find(source->forms, form) : NULL;
        if (strcmp(req->method, "POST"))
            cf_web_response_error(res, 405, "method %.16s: %.64s takes POST", req->method,
                                  req->path);
        else if (req->nparams)
            cf_web_response_error(res, 400, "unknown parameter '%.64s' (%.64s takes none)",
                                  req->params[0].key, req->path);
        else if (form && !map)
            cf_web_response_error(res, 404, "no form '%.64s' (the forms are the mappings of the "
                                  "forms folder: %.256s)", form, cf_web_forms_names(source->forms));
        else if (form)
            cf_web_intake_answer_form(source->intake, map, req, res);
        else
            cf_web_intake_answer(source->intake, req, res);
        return;
    }
    if (!cf_web_token_reads(req->token)) {
        cf_web_response_error(res, 403, "a producer token may only post events (POST " API_PREFIX
                              "events)");
        return;
    }
    if (replay && strcmp(req->method, "POST")) {
        cf_web_response_error(res, 405, "method %.16s: a replay takes POST", req->method);
        return;
    }
    if (!replay && strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        cf_web_response_error(res, 405, "method %.16s: %s takes GET", req->method, req->path);
        return;
    }
    if (replay && req->nparams)
        cf_web_response_error(res, 400, "unknown parameter '%.64s' (a replay takes none)",
                              req->params[0].key);
    else if (replay)
        api_dlq_replay(source, req, id, res);
    else if (report)
        api_report(source, req, route + 8, res);
    else if (req->nparams)
        cf_web_response_error(res, 400, "unknown parameter '%.64s' (%s takes none)",
                              req->params[0].key, req->path);
    else if (reports)
        api_catalogue(res);
    else if (dlq)
        api_dlq_list(source, req, res);
    else
        api_status(source, req, res);
}
