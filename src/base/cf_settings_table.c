/*  cf_settings_table: every setting of every caseflow program, one row each
    (see cf_settings.h). Adding a setting is adding a row here and reading it
    in the program's main with cf_settings_text / _number / _host_port /
    _log_level after cf_settings_resolve; its flag, environment variable,
    file key, check and --help line follow from the row, and
    deploy/caseflow.conf must document it (integration.config fails until
    it does). A getopt flag becomes a row by moving its struct option line,
    its case (the parsing and range check) and its env name out of the main:
        { "metrics", BROKER, CF_HOST_PORT, NULL, 0, "HOST:PORT",
          "where Prometheus scrapes the metrics", NULL },
    SHARED when several programs read the same value (then it may stand in
    [caseflow]); CF_SETTING_ENV_ONLY | CF_SETTING_SECRET for a password.

    Endpoints that one program binds and another connects to are one name:
    `workers` (the broker's --workers; the worker's --broker, kept as an
    alias) and `subscribe` (the watcher's --subscribe; the broker's
    --publish, kept as an alias), which are the environment variables
    CASEFLOW_WORKERS and CASEFLOW_SUBSCRIBE that scripts/up has always set. */
#include "caseflow/cf_settings.h"
#include "caseflow/cf_shard.h"

#include <stdio.h>
#include <string.h>

#define BROKER CF_PROG_BROKER
#define WORKER CF_PROG_WORKER
#define PUSH CF_PROG_PUSH
#define WATCH CF_PROG_WATCH
#define CTL CF_PROG_CTL
#define BENCH CF_PROG_BENCH
#define WEB CF_PROG_WEB
#define ALERT CF_PROG_ALERT
#define SHARED CF_SETTING_SHARED
#define TEN_YEARS (10LL * 365 * 86400)
#define STR_(x) #x
#define STR(x) STR_(x)

static const cf_setting_t s_rows[] = {
    /* name, programs, type, default, flags, arg, help[, alias] */
    { "intake", BROKER, CF_ENDPOINT, NULL, SHARED, "ENDPOINT",
      "where producers connect (required)", NULL },
    { "intake", PUSH, CF_ENDPOINTS, NULL, SHARED, "ENDPOINT[,...]",
      "the broker's intake endpoint (required); with several brokers, theirs, comma-separated: "
      "sends to one, fails over to the next when it stops answering", NULL },
    { "intake", WATCH, CF_ENDPOINTS, NULL, SHARED, "ENDPOINT[,...]",
      "where to ask for the --snapshot: the broker's intake endpoint (with several, the first "
      "that answers)", NULL },
    { "workers", BROKER, CF_ENDPOINT, NULL, SHARED, "ENDPOINT",
      "where workers connect (required)", NULL },
    { "workers", WORKER, CF_ENDPOINTS, NULL, SHARED, "ENDPOINT[,...]",
      "the brokers' worker endpoints, comma-separated: every broker's (required; also "
      "--broker)", "broker" },
    { "subscribe", BROKER, CF_ENDPOINT, NULL, SHARED, "ENDPOINT",
      "where subscribers connect (required; also --publish)", "publish" },
    { "subscribe", WATCH, CF_ENDPOINTS, NULL, SHARED, "ENDPOINT[,...]",
      "the broker's notification endpoint (required); with several brokers, every one's, "
      "comma-separated: each notification id is printed once", NULL },
    { "subscribe", WEB, CF_ENDPOINTS, NULL, SHARED, "ENDPOINT[,...]",
      "the broker's notification endpoint, for the live feed (default: no feed); with several "
      "brokers, every one's, comma-separated", NULL },
    { "intake", WEB, CF_ENDPOINTS, NULL, SHARED, "ENDPOINT[,...]",
      "the broker's intake endpoint: where POST /api/v1/events sends events, and the live "
      "feed asks for the snapshot (default: no HTTP intake); with several brokers, theirs, "
      "comma-separated (failover)", NULL },
    { "control", BROKER, CF_ENDPOINT, NULL, SHARED, "ENDPOINT",
      "where operators connect: caseflow-ctl status, workers, drain, pause, resume "
      "(default: none)", NULL },
    { "control", CTL, CF_ENDPOINT, NULL, SHARED, "ENDPOINT",
      "the broker's control endpoint (status, workers, drain, pause, resume)", NULL },
    { "control", WEB, CF_ENDPOINT, NULL, SHARED, "ENDPOINT",
      "the broker's control endpoint, for its status and workers in GET /api/v1/status "
      "(default: none)", NULL },
    { "redis", BROKER | WORKER | CTL | WEB | ALERT, CF_HOST_PORT, "127.0.0.1:6379", SHARED, "HOST:PORT",
      "the Redis server", NULL },
    { "redis-user", BROKER | WORKER | CTL | BENCH | WEB | ALERT, CF_TEXT, NULL, SHARED, "NAME",
      "Redis ACL user (default: Redis's default user; docs/security.md)", NULL },
    { "redis-password-file", BROKER | WORKER | CTL | BENCH | WEB | ALERT, CF_PATH, NULL, SHARED, "FILE",
      "the Redis user's password, in a file only its owner can read", NULL },
    { "redis-password", BROKER | WORKER | CTL | BENCH | WEB | ALERT, CF_TEXT, NULL,
      SHARED | CF_SETTING_ENV_ONLY | CF_SETTING_SECRET, "",
      "the Redis password itself, when there is no password file (never a flag or a file key)",
      NULL },
    { "key-file", WORKER, CF_PATH, NULL, SHARED, "FILE",
      "HMAC key for case_ref pseudonyms, at least 32 bytes (required)", NULL },
    { "key-file", BENCH, CF_PATH, NULL, SHARED, "FILE",
      "the running stack's HMAC key (with --intake and --redis)", NULL },
    { "shards", BROKER | WORKER | CTL | BENCH | WEB | ALERT, CF_NUMBER(1, CF_SHARD_MAX),
      STR(CF_SHARD_DEFAULT), SHARED, "N",
      "shards the state is split into: the same in every process of a deployment, recorded "
      "in Redis by the first (docs/storage.md)", NULL },
    { "scripts", BROKER | WORKER | CTL | BENCH | WEB, CF_PATH, NULL, SHARED, "DIR",
      "the Redis Lua scripts (default: where they were built or installed)", NULL },
    { "rules", BROKER | WORKER, CF_PATH, NULL, SHARED, "FILE",
      "notification rules (deploy/rules.ini; default: the domain's); SIGHUP reads it again",
      NULL },
    { "rules", ALERT, CF_PATH, NULL, SHARED, "FILE",
      "the rules file whose [sink.<name>] sections say where to deliver (required; "
      "docs/notifications.md)", NULL },
    { "log-level", BROKER | WORKER | WEB | ALERT, CF_LOG_LEVEL, "info", SHARED, "LEVEL",
      "error, warn, info or debug", NULL },
    { "queue", BROKER, CF_NUMBER(1, 100000000), STR(CF_SETTINGS_QUEUE_DEFAULT), 0, "N",
      "events waiting for a worker before producers hear 'busy'", NULL },
    { "job-events", BROKER, CF_NUMBER(1, CF_SETTINGS_JOB_EVENTS_MAX),
      STR(CF_SETTINGS_JOB_EVENTS_MAX), 0,
      "N",
      "the most events the broker bundles into one job from the parts waiting for a worker "
      "(a larger part goes alone; 1: no bundling)", NULL },
    { "queue-bytes", BROKER, CF_NUMBER(CF_SETTINGS_QUEUE_BYTES_MIN, 1LL << 40),
      STR(CF_SETTINGS_QUEUE_BYTES_DEFAULT), 0, "N",
      "the same in bytes of events (at least one largest PUSH)", NULL },
    { "producer-rate", BROKER, CF_NUMBER(1, CF_SETTINGS_PRODUCER_RATE_MAX),
      STR(CF_SETTINGS_PRODUCER_RATE_DEFAULT),
      0, "N",
      "events per second one producer (CURVE key: all its connections together) may push "
      "before it hears 'busy'", NULL },
    { "producer-bytes", BROKER, CF_NUMBER(CF_SETTINGS_QUEUE_BYTES_MIN, 1LL << 40),
      STR(CF_SETTINGS_PRODUCER_BYTES_DEFAULT), 0, "N",
      "bytes of events of one producer (CURVE key) the broker holds, queued or with a worker, "
      "before it hears 'busy' (at least one largest PUSH)", NULL },
    { "producers-max", BROKER, CF_NUMBER(1, 10000000), STR(CF_SETTINGS_PRODUCERS_MAX_DEFAULT),
      0, "N",
      "producers tracked at once; a new one beyond it hears 'busy'", NULL },
    { "connections-max", BROKER, CF_NUMBER(1, 1000000), STR(CF_SETTINGS_CONNECTIONS_MAX_DEFAULT), 0,
      "N", "connections each endpoint (intake, workers, publish, control) keeps open at once; "
      "a handshake beyond it is refused", NULL },
    { "stats", BROKER, CF_NUMBER(100, 3600000), STR(CF_SETTINGS_STATS_DEFAULT), 0, "MS",
      "how often to publish a stats notification", NULL },
    { "heartbeat", BROKER, CF_NUMBER(10, 60000), STR(CF_SETTINGS_HEARTBEAT_DEFAULT), 0, "MS",
      "heartbeat interval", NULL },
    { "liveness", BROKER, CF_NUMBER(20, 600000), STR(CF_SETTINGS_LIVENESS_DEFAULT), 0, "MS",
      "a worker silent this long is dropped and its jobs handed to others", NULL },
    { "metrics", BROKER, CF_HOST_PORT, NULL, 0, "HOST:PORT",
      "serve Prometheus metrics on http://HOST:PORT/metrics (default: off)", NULL },
    { "metrics", WORKER, CF_HOST_PORT, NULL, 0, "HOST:PORT",
      "serve Prometheus metrics on http://HOST:PORT/metrics (default: off; one port per worker)",
      NULL },
    { "broker-key", BROKER, CF_PATH, NULL, 0, "FILE",
      "the broker's CURVE secret key, NAME.key, mode 0600 (docs/security.md)", "curve-key" },
    { "allow-producers", BROKER, CF_PATH, NULL, 0, "FILE",
      "public keys that may push, one Z85 key a line", NULL },
    { "allow-workers", BROKER, CF_PATH, NULL, 0, "FILE", "public keys that may work", NULL },
    { "allow-subscribers", BROKER, CF_PATH, NULL, 0, "FILE",
      "public keys that may subscribe and ask for a snapshot", NULL },
    { "allow-operators", BROKER, CF_PATH, NULL, 0, "FILE",
      "public keys that may use the control endpoint", NULL },
    { "plain", BROKER, CF_BOOL, "no", 0, "",
      "no CURVE: allowed only when every endpoint is on loopback", NULL },
    { "server-key", WORKER | PUSH | WATCH | BENCH | CTL | WEB, CF_PATH, NULL, SHARED, "FILE",
      "the broker's CURVE public key, NAME.pub: CURVE with it and this program's key, plain "
      "with neither", NULL },
    { "worker-key", WORKER, CF_PATH, NULL, 0, "FILE",
      "this worker's CURVE secret key, NAME.key, mode 0600", "curve-key" },
    { "producer-key", PUSH | BENCH, CF_PATH, NULL, 0, "FILE",
      "this producer's CURVE secret key, NAME.key, mode 0600", "curve-key" },
    { "producer-key", WEB, CF_PATH, NULL, 0, "FILE",
      "intake: a CURVE secret key in the broker's allow-producers, NAME.key, mode 0600 "
      "(with server-key)", NULL },
    { "subscriber-key", WATCH | WEB, CF_PATH, NULL, 0, "FILE",
      "this subscriber's CURVE secret key, NAME.key, mode 0600", "curve-key" },
    { "credit", WORKER, CF_NUMBER(1, 64), STR(CF_SETTINGS_CREDIT_DEFAULT), 0, "N",
      "jobs held at once", NULL },
    { "eid-ttl", WORKER, CF_NUMBER(60, TEN_YEARS), "2592000", 0, "SECONDS",
      "how long event_ids are remembered for duplicate detection", NULL },
    { "case-ttl", WORKER, CF_NUMBER(60, TEN_YEARS), "2592000", 0, "SECONDS",
      "how long a closed case's state is kept", NULL },
    { "poison-tries", WORKER, CF_NUMBER(1, 100), "3", 0, "N",
      "tries of one event, across workers, before it goes to the dead-letter stream", NULL },
    { "ack-replicas", WORKER, CF_NUMBER(0, 16), "0", 0, "N",
      "Redis replicas that must hold a batch before it is acked (WAIT); 0: the master's own "
      "persistence only (docs/reliability.md)", NULL },
    { "ack-replica-timeout", WORKER, CF_NUMBER(10, 60000), "1000", 0, "MS",
      "how long a batch waits for those replicas; then it is kept and tried again, not acked",
      NULL },
    { "heartbeat", WORKER, CF_NUMBER(10, 60000), STR(CF_SETTINGS_HEARTBEAT_DEFAULT), 0, "MS",
      "heartbeat interval", NULL },
    { "liveness", WORKER, CF_NUMBER(20, 600000), STR(CF_SETTINGS_LIVENESS_DEFAULT), 0, "MS",
      "reconnect when the broker is silent this long", NULL },
    { "batch", PUSH, CF_NUMBER(1, CF_SETTINGS_BATCH_MAX), STR(CF_SETTINGS_BATCH_DEFAULT), 0, "N",
      "events per request", NULL },
    { "window", PUSH, CF_NUMBER(1, CF_SETTINGS_WINDOW_MAX), STR(CF_SETTINGS_WINDOW_DEFAULT), 0, "N",
      "requests in flight", NULL },
    { "timeout", PUSH, CF_NUMBER(1, 3600000), STR(CF_SETTINGS_TIMEOUT_DEFAULT), 0, "MS",
      "resend a request without ACK after MS, doubling up to 30 s", NULL },
    { "operator-key", CTL, CF_PATH, NULL, 0, "FILE",
      "status, workers, drain, pause, resume: the operator's CURVE secret key, NAME.key, "
      "mode 0600 (with server-key)", NULL },
    { "operator-key", WEB, CF_PATH, NULL, 0, "FILE",
      "control: a CURVE secret key in the broker's allow-operators, NAME.key, mode 0600 "
      "(with server-key)", NULL },
    { "control-timeout", CTL | WEB, CF_NUMBER(1, 3600000), "5000", 0, "MS",
      "how long status, workers, drain, pause and resume wait for the broker's answer",
      NULL },
    { "deadline", PUSH, CF_NUMBER(1, 86400), STR(CF_SETTINGS_DEADLINE_DEFAULT), 0, "S",
      "give up after S seconds without progress", NULL },
    { "connect-timeout", PUSH, CF_NUMBER(1, 3600000), STR(CF_SETTINGS_CONNECT_TIMEOUT_DEFAULT), 0,
      "MS", "give up at once when no broker has answered (completed or refused a handshake) "
      "within MS", NULL },
    { "listen", WEB, CF_HOST_PORT, "127.0.0.1:8090", 0, "HOST:PORT",
      "where the dashboard and its API are served; a loopback address unless tls-cert and "
      "tls-key are given", NULL },
    { "tokens", WEB, CF_PATH, NULL, 0, "FILE",
      "who may sign in: SHA-256 ROLE [PROGRAMMES] a line (docs/web.md; required)", NULL },
    { "tls-cert", WEB, CF_PATH, NULL, 0, "FILE",
      "the server's certificate chain, PEM: HTTPS, on any address (with tls-key)", NULL },
    { "tls-key", WEB, CF_PATH, NULL, 0, "FILE",
      "the certificate's private key, PEM, mode 0600 (with tls-cert)", NULL },
    { "dashboard", WEB, CF_PATH, NULL, 0, "DIR",
      "the dashboard's files (default: where they were built or installed)", NULL },
    { "forms", WEB, CF_PATH, NULL, 0, "DIR",
      "form mappings, NAME.ini each: POST /api/v1/forms/NAME takes that form's submissions "
      "(docs/forms.md; default: none)", NULL },
    { "metrics", WEB | ALERT, CF_HOST_PORT, NULL, 0, "HOST:PORT",
      "serve Prometheus metrics on http://HOST:PORT/metrics (default: off)", NULL },
};
#define S_ROWS (sizeof s_rows / sizeof s_rows[0])

/*  Section names, in the order of the CF_PROG_* bits.                       */
static const char *s_programs[] = { "broker", "worker", "push", "watch", "ctl", "bench", "web",
                                    "alert" };
#define S_PROGRAMS (sizeof s_programs / sizeof s_programs[0])

size_t cf_settings_rows(void)
{
    return S_ROWS;
}

const cf_setting_t *cf_settings_row(size_t index)
{
    return index < S_ROWS ? &s_rows[index] : NULL;
}

unsigned cf_settings_program(const char *section)
{
    for (size_t i = 0; i < S_PROGRAMS; i++)
        if (!strcmp(section, s_programs[i]))
            return 1u << i;
    return 0;
}

const char *cf_settings_program_name(size_t n)
{
    return n < S_PROGRAMS ? s_programs[n] : NULL;
}

const cf_setting_t *cf_settings_find(const char *section, const char *key)
{
    bool shared = !strcmp(section, CF_SETTINGS_SHARED);
    unsigned program = shared ? 0 : cf_settings_program(section);
    for (size_t i = 0; i < S_ROWS; i++) {
        const cf_setting_t *row = &s_rows[i];
        if (strcmp(row->name, key) || (row->flags & CF_SETTING_ENV_ONLY))
            continue;
        if (shared ? (row->flags & CF_SETTING_SHARED) != 0 : (row->programs & program) != 0)
            return row;
    }
    return NULL;
}

const char *cf_settings_env_name(const cf_setting_t *row, char *buf, size_t size)
{
    size_t len = (size_t) snprintf(buf, size, "CASEFLOW_%s", row->name);
    for (size_t i = 9; i < len && i < size; i++)
        buf[i] = buf[i] == '-' ? '_' : (char) (buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
    return buf;
}
