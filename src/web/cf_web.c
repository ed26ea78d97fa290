/*  cf_web: caseflow-web's HTTP server object; see cf_web.h. This file
    reads the certificate and key, registers the metrics, starts and stops
    libmicrohttpd's daemon and replaces the token set and the form mappings
    under the lock; each request is cf_web_request.c's.                     */
#include "cf_web.h"
#include "cf_web_internal.h"
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_listen.h"
#include "caseflow/cf_ratelimit.h"
#include "cf_web_file.h"
#include "cf_web_forms.h"

#include <assert.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  Reads the certificate and key when given. 0, or -1 with err set.        */
static int web_tls(cf_web_t *self, char *err, size_t n)
{
    const cf_web_config_t *c = &self->config;
    if (!c->tls_cert != !c->tls_key) {
        snprintf(err, n, "TLS needs both tls-cert and tls-key");
        return -1;
    }
    if (!c->tls_cert)
        return 0;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, n, "this libmicrohttpd has no TLS: tls-cert and tls-key cannot be used");
        return -1;
    }
    self->cert = cf_web_file_read(c->tls_cert, NULL, err, n);
    self->key = self->cert ? cf_web_file_read(c->tls_key, NULL, err, n) : NULL;
    return self->key ? 0 : -1;
}

static void web_metrics(cf_web_t *self)
{
    static const char *classes[] = { NULL, "code=\"1xx\"", "code=\"2xx\"", "code=\"3xx\"",
                                     "code=\"4xx\"", "code=\"5xx\"" };
    cf_metrics_t *m = self->config.metrics;
    for (size_t i = 1; i < 6; i++)
        self->answered[i] = cf_metrics_counter(m, "caseflow_web_requests_total",
                                               "HTTP requests answered, by status class",
                                               classes[i]);
    self->refused = cf_metrics_counter(m, "caseflow_web_auth_failures_total",
                                       "requests refused for a missing or unknown token", NULL);
    self->limited = cf_metrics_counter(m, "caseflow_web_auth_limited_total",
                                       "requests refused unchecked: too many failed sign-ins "
                                       "from their address", NULL);
}

cf_web_t *cf_web_new(const cf_web_config_t *config, char *err, size_t n)
{
    assert(config && config->host && config->tokens && config->source.read_family);
    cf_web_t *self = cf_calloc(1, sizeof *self);
    self->config = *config;
    self->tokens = cf_web_tokens_hold(config->tokens);
    self->config.tokens = NULL;         /* self->tokens, which cf_web_set_tokens replaces */
    self->forms = cf_web_forms_hold(config->source.forms);
    self->config.source.forms = NULL;   /* self->forms, which cf_web_set_forms replaces */
    pthread_mutex_init(&self->lock, NULL);
    self->limit = cf_ratelimit_new(CF_WEB_AUTH_RATE, CF_WEB_AUTH_BURST, CF_WEB_AUTH_CLIENTS);
    web_metrics(self);
    int fd = -1;
    if (web_tls(self, err, n) < 0
        || (fd = cf_listen_tcp("web", config->host, config->port, !self->cert, err, n)) < 0) {
        if (fd < 0 && self->cert == NULL && strstr(err, "not a loopback"))
            snprintf(err + strlen(err), n - strlen(err),
                     ": without tls-cert and tls-key caseflow-web serves this host only");
        cf_web_destroy(&self);
        return NULL;
    }
    self->port = cf_listen_port(fd);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION
                   | (self->cert ? MHD_USE_TLS : 0);
    /* its threads start with every signal blocked, so that SIGTERM reaches
       the main thread */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    struct MHD_OptionItem tls[] = { { MHD_OPTION_HTTPS_MEM_CERT, 0, self->cert },
                                    { MHD_OPTION_HTTPS_MEM_KEY, 0, self->key },
                                    { MHD_OPTION_END, 0, NULL } };
    self->daemon = MHD_start_daemon(flags, 0, NULL, NULL, cf_web_answer, self,
                                    MHD_OPTION_LISTEN_SOCKET, fd,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned) CF_WEB_CONNECTIONS,
                                    MHD_OPTION_NOTIFY_COMPLETED, cf_web_completed, NULL,
                                    MHD_OPTION_ARRAY, self->cert ? tls : tls + 2,
                                    MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!self->daemon) {
        snprintf(err, n, "cannot start the web server on %s:%d%s", config->host, config->port,
                 self->cert ? " (is the certificate or key PEM, and do they match?)" : "");
        close(fd);
        cf_web_destroy(&self);
        return NULL;
    }
    return self;
}

void cf_web_destroy(cf_web_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_web_t *self = *self_p;
    if (self->config.feed)
        cf_web_feed_close(self->config.feed);      /* ends the streams, so threads join */
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    cf_ratelimit_destroy(&self->limit);
    cf_web_tokens_destroy(&self->tokens);
    cf_web_forms_destroy(&self->forms);
    pthread_mutex_destroy(&self->lock);
    free(self->cert);
    if (self->key) {
        memset(self->key, 0, strlen(self->key));
        free(self->key);
    }
    free(self);
    *self_p = NULL;
}

void cf_web_set_tokens(cf_web_t *self, cf_web_tokens_t *tokens)
{
    assert(self && tokens);
    cf_web_tokens_t *fresh = cf_web_tokens_hold(tokens);
    pthread_mutex_lock(&self->lock);
    cf_web_tokens_t *old = self->tokens;
    self->tokens = fresh;
    pthread_mutex_unlock(&self->lock);
    /* the streams holding the old set follow it to the new one, or end:
       replaced first, then woken, so that none misses it */
    cf_web_tokens_replace(old, fresh);
    cf_web_tokens_destroy(&old);
    if (self->config.feed)
        cf_web_feed_wake(self->config.feed);
}

void cf_web_set_forms(cf_web_t *self, cf_web_forms_t *forms)
{
    assert(self);
    cf_web_forms_t *fresh = cf_web_forms_hold(forms);
    pthread_mutex_lock(&self->lock);
    cf_web_forms_t *old = self->forms;
    self->forms = fresh;
    pthread_mutex_unlock(&self->lock);
    cf_web_forms_destroy(&old);         /* freed when the last request is done with it */
}

int cf_web_port(const cf_web_t *self)
{
    assert(self);
    return self->port;
}
