/*  cf_broker's security settings (docs/security.md): at start, the
    broker's CURVE key and the ZAP handler with one allow-list per role, or
    plain, which is refused unless every endpoint is loopback; each server
    socket then admits the roles its ZAP domain names. Separate from
    cf_broker.c so that the endpoints' logic does not mix with who may use
    them.                                                                   */
#include "cf_broker_internal.h"
#include "caseflow/cf_log.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char *s_loopback_only =
    "plain ZeroMQ is neither encrypted nor authenticated, so --plain is only allowed on "
    "loopback endpoints (tcp://127.x.y.z, tcp://localhost, ipc://, inproc://); "
    "use --curve-key and the --allow-* lists instead";

static int secure_check_plain(const char *endpoint, char *err, size_t err_size)
{
    /* no "://": not an address at all, which the bind reports */
    if (!endpoint || !strstr(endpoint, "://") || cf_curve_is_loopback(endpoint))
        return 0;
    snprintf(err, err_size, "--plain: endpoint %s is not loopback: %s", endpoint,
             s_loopback_only);
    return -1;
}

int cf_broker_secure_start(cf_broker_t *self, const cf_broker_config_t *config, char *err,
                           size_t err_size)
{
    assert(self && config);
    if (config->plain && config->curve_key) {
        snprintf(err, err_size, "--plain and --curve-key (or CASEFLOW_PLAIN and "
                 "CASEFLOW_BROKER_KEY) together: choose one");
        return -1;
    }
    if (config->plain) {
        self->plain = true;
        if (secure_check_plain(config->intake_endpoint, err, err_size) < 0
            || secure_check_plain(config->worker_endpoint, err, err_size) < 0
            || secure_check_plain(config->publish_endpoint, err, err_size) < 0)
            return -1;
        return 0;
    }
    if (!config->curve_key) {
        snprintf(err, err_size, "no --curve-key (CASEFLOW_BROKER_KEY): the broker does not "
                 "serve unauthenticated endpoints; give its secret key file and the --allow-* "
                 "lists, or --plain for a stack on loopback only");
        return -1;
    }
    self->curve = cf_curve_load(config->curve_key, err, err_size);
    if (!self->curve)
        return -1;
    const cf_zap_list_t lists[] = { { CF_ZAP_PRODUCERS, config->allow_producers },
                                    { CF_ZAP_WORKERS, config->allow_workers },
                                    { CF_ZAP_SUBSCRIBERS, config->allow_subscribers },
                                    { CF_ZAP_OPERATORS, config->allow_operators } };
    self->zap = cf_zap_new(self->ctx, lists, sizeof lists / sizeof lists[0], err, err_size);
    if (!self->zap)
        return -1;
    CF_LOG(CF_LOG_INFO, "curve on", "public_key=\"%s\" allowed_keys=%zu",
           cf_curve_public(self->curve), cf_zap_keys(self->zap));
    return 0;
}

int cf_broker_secure_socket(cf_broker_t *self, void *socket, const char *endpoint,
                            const char *roles, char *err, size_t err_size)
{
    assert(self && socket && roles);
    if (self->plain)
        return secure_check_plain(endpoint, err, err_size);
    assert(self->curve);
    if (cf_curve_server(self->curve, socket, roles) < 0) {
        snprintf(err, err_size, "CURVE on %s: %s (is libzmq built with libsodium?)",
                 endpoint ? endpoint : "(none)", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

bool cf_broker_secure_may(cf_broker_t *self, zmq_msg_t *msg, const char *role)
{
    assert(self);
    return self->plain || cf_zap_role_of(msg, role);
}

void cf_broker_secure_reload(cf_broker_t *self)
{
    assert(self);
    if (!self->zap)
        return;
    char err[512];
    if (cf_zap_reload(self->zap, err, sizeof err) < 0)
        CF_LOG(CF_LOG_ERROR, "allow-lists not reloaded, the old ones stay", "error=\"%s\"", err);
    else
        CF_LOG(CF_LOG_INFO, "allow-lists reloaded", "allowed_keys=%zu", cf_zap_keys(self->zap));
}

void cf_broker_secure_stop(cf_broker_t *self)
{
    assert(self);
    cf_zap_destroy(&self->zap);
    cf_curve_destroy(&self->curve);
}
