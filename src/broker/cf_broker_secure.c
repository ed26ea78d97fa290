/*  cf_broker's security settings (docs/security.md): at start, the
    broker's CURVE key and the ZAP handler with one allow-list per role, or
    plain, which is refused unless every endpoint is loopback; each server
    socket then admits the roles its ZAP domain names, and at most
    --connections-max connections at once (cf_zap_limit; in plain mode too,
    through a handler that admits everyone else). Separate from
    cf_broker.c so that the endpoints' logic does not mix with who may use
    them.                                                                   */
#include "cf_broker_internal.h"
#include "caseflow/cf_log.h"
#include "caseflow/cf_settings.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* Descriptors the broker needs besides its clients' connections: its
   sockets' mailboxes and libzmq's threads, Redis, metrics, logs. */
#define SECURE_FD_RESERVE 256

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

/* Raises the descriptor limit to what the endpoints at their connection cap
   need, or, when the hard limit is lower, lowers the cap to fit it and says
   so: a broker out of descriptors cannot even refuse a client (libzmq's
   listener then retries accept() in a loop), so the cap must come first. */
static void secure_fit_descriptors(cf_broker_t *self, size_t endpoints)
{
    struct rlimit limit;
    rlim_t need = (rlim_t) (endpoints * self->connections_max + SECURE_FD_RESERVE);
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur >= need)
        return;
    struct rlimit raised = { limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= need
                             ? need : limit.rlim_max, limit.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
        limit.rlim_cur = raised.rlim_cur;
    if (limit.rlim_cur >= need)
        return;
    size_t fit = limit.rlim_cur > SECURE_FD_RESERVE + endpoints
                 ? (size_t) (limit.rlim_cur - SECURE_FD_RESERVE) / endpoints : 1;
    CF_LOG(CF_LOG_WARN, "connections-max lowered to fit the descriptor limit",
           "connections_max=%zu asked=%zu nofile=%llu endpoints=%zu "
           "hint=\"raise LimitNOFILE= or ulimit -n\"", fit, self->connections_max,
           (unsigned long long) limit.rlim_cur, endpoints);
    self->connections_max = fit;
}

int cf_broker_secure_start(cf_broker_t *self, const cf_broker_config_t *config, char *err,
                           size_t err_size)
{
    assert(self && config);
    self->connections_max = config->connections_max ? config->connections_max
                                                    : CF_SETTINGS_CONNECTIONS_MAX_DEFAULT;
    secure_fit_descriptors(self, config->control_endpoint ? 4 : 3);
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
        self->zap = cf_zap_new_plain(self->ctx, err, err_size);
        return self->zap ? 0 : -1;
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
    CF_LOG(CF_LOG_INFO, "curve on", "public_key=\"%s\" allowed_keys=%zu connections_max=%zu",
           cf_curve_public(self->curve), cf_zap_keys(self->zap), self->connections_max);
    return 0;
}

int cf_broker_secure_socket(cf_broker_t *self, void *socket, const char *endpoint,
                            const char *roles, char *err, size_t err_size)
{
    assert(self && socket && roles && self->zap);
    if (self->plain) {
        if (secure_check_plain(endpoint, err, err_size) < 0)
            return -1;
        /* the domain makes libzmq ask the handler, for the limit */
        zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, roles, strlen(roles));
    } else if (cf_curve_server(self->curve, socket, roles) < 0) {
        snprintf(err, err_size, "CURVE on %s: %s (is libzmq built with libsodium?)",
                 endpoint ? endpoint : "(none)", zmq_strerror(zmq_errno()));
        return -1;
    }
    int handshake_ms = CF_BROKER_HANDSHAKE_MS;      /* until then it takes a place */
    zmq_setsockopt(socket, ZMQ_HANDSHAKE_IVL, &handshake_ms, sizeof handshake_ms);
    return cf_zap_limit(self->zap, socket, roles, self->connections_max, err, err_size);
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
        CF_LOG(CF_LOG_ERROR, "allow-lists not reloaded, the old ones stay", "error=%s",
               CF_LOG_QUOTE(err));
    else
        CF_LOG(CF_LOG_INFO, "allow-lists reloaded", "allowed_keys=%zu", cf_zap_keys(self->zap));
}

void cf_broker_secure_stop(cf_broker_t *self)
{
    assert(self);
    cf_zap_destroy(&self->zap);
    cf_curve_destroy(&self->curve);
}
