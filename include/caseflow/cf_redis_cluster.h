/*  cf_redis_cluster: the one Redis client context that speaks to a Redis
    Cluster as well as to a single server (docs/scale-out.md, "Redis Cluster
    client"). Over Debian's hiredis 0.14, which has no cluster support: the
    slot of each command's key picks the node; one connection per node,
    each authenticated as the caller's user (cf_redis_auth); commands are
    pipelined per node and their replies given back in the caller's order;
    MOVED updates the slot map and resends, ASK sends ASKING and resends
    once without touching the map, TRYAGAIN waits and resends; the map is
    read again (CLUSTER SLOTS) before the next batch after a MOVED or a
    connection error, so a failover or a resharding is followed. Against a
    single server (chosen by the caller, or found in INFO cluster) it is a
    plain hiredis context: one connection, no CLUSTER command.

    Like hiredis: append commands, then take their replies one by one with
    cf_redis_cluster_get_reply (the first call sends the whole batch).
    Errors are a code and a readable message on the object; nothing is
    printed. A reply that is an error (WRONGTYPE, NOPERM...) is a reply,
    not an error of the context.                                          */
#ifndef CF_REDIS_CLUSTER_H
#define CF_REDIS_CLUSTER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "caseflow/cf_redis_auth.h"
#include "caseflow/cf_redis_slot.h"

typedef struct _cf_redis_cluster_t cf_redis_cluster_t;
typedef struct redisReply redisReply;
typedef struct redisContext redisContext;

typedef enum {
    CF_REDIS_MODE_AUTO = 0,         /* as the server says: cluster_enabled in INFO cluster */
    CF_REDIS_MODE_SINGLE,           /* one server, no CLUSTER command */
    CF_REDIS_MODE_CLUSTER,          /* a Redis Cluster; host:port is any of its nodes */
} cf_redis_mode_t;

typedef enum {
    CF_REDIS_CLUSTER_OK = 0,
    CF_REDIS_CLUSTER_ECONN,         /* a node could not be reached, or a connection broke
                                       mid-batch (its outcome unknown): retry; the map is read
                                       again first */
    CF_REDIS_CLUSTER_EAUTH,         /* a node refused the credentials */
    CF_REDIS_CLUSTER_EMAP,          /* no usable slot map: CLUSTER SLOTS or INFO refused or
                                       malformed, or a slot that no node serves */
    CF_REDIS_CLUSTER_EREDIRECT,     /* a command still redirected after CF_REDIS_CLUSTER_ROUNDS */
    CF_REDIS_CLUSTER_EPROTO,        /* an answer that makes no sense (ASKING refused) */
} cf_redis_cluster_err_t;

#define CF_REDIS_CLUSTER_ROUNDS     16  /* rounds of redirections a batch may take */

/*  Redirections followed and slot maps read since the context was made.  */
typedef struct {
    uint64_t moved, ask, tryagain;
    uint64_t refreshes;             /* CLUSTER SLOTS read, the first one included */
} cf_redis_cluster_stats_t;

/*  A context for the cluster (or server) at host:port, authenticating as
    auth (copied; NULL: no AUTH), each connection and command bounded by
    timeout_ms. Connects on the first use (or cf_redis_cluster_connect).
    Never NULL.                                                            */
cf_redis_cluster_t *cf_redis_cluster_new(const char *host, int port, const cf_redis_auth_t *auth,
                                         cf_redis_mode_t mode, int timeout_ms);

/*  Closes every connection, frees what is queued, nulls *self_p; accepts
    NULL.                                                                   */
void cf_redis_cluster_destroy(cf_redis_cluster_t **self_p);

/*  Connects to the seed, authenticates, settles the mode and (for a
    cluster) reads the slot map. 0, or -1 with the code and message set.    */
int cf_redis_cluster_connect(cf_redis_cluster_t *self);

/*  Whether it speaks to a cluster (after a successful connect).            */
bool cf_redis_cluster_is_cluster(const cf_redis_cluster_t *self);

/*  Queues a command built as hiredis's redisCommand builds it, sent to the
    node of key's slot (key NULL: a command without key, served by any
    node). 0, or -1 when fmt cannot be formatted (nothing queued). The keys
    of one command must share a slot (Redis refuses CROSSSLOT otherwise).  */
int cf_redis_cluster_append(cf_redis_cluster_t *self, const char *key, const char *fmt, ...);

/*  cf_redis_cluster_append with a va_list.                                */
int cf_redis_cluster_vappend(cf_redis_cluster_t *self, const char *key, const char *fmt,
                             va_list args);

/*  The same with arguments as hiredis's redisAppendCommandArgv takes them;
    argv[key_arg] is the key that routes it (-1: none).                    */
int cf_redis_cluster_append_argv(cf_redis_cluster_t *self, int key_arg, int argc,
                                 const char **argv, const size_t *argvlen);

/*  The RESP bytes of one command, as redisFormatCommandArgv writes them
    (argvlen NULL: C strings), into *cmd, which the caller frees; their
    length, or -1 when too long for an int. Without hiredis's sprintf of
    each length: the apply path formats several commands per event.       */
int cf_redis_format_argv(char **cmd, int argc, const char **argv, const size_t *argvlen);

/*  The same, routed by slot (0..16383; -1: any node): for a command whose
    key the caller has hashed already, or one without key that must reach
    the node of a slot (the MULTI, EXEC, UNWATCH or WAIT of that slot's
    transaction; INFO or SCAN of one master: cf_redis_cluster_master_slots).*/
int cf_redis_cluster_append_slot(cf_redis_cluster_t *self, int slot, int argc,
                                 const char **argv, const size_t *argvlen);

/*  Whether redirections are followed (the default). Off, a MOVED, ASK or
    TRYAGAIN is the command's reply, as on a single server, and the map is
    read again before the next batch: for transactions, where a command
    resent to another node would run outside its MULTI (the caller gives
    up the transaction and starts again).                                  */
void cf_redis_cluster_set_follow(cf_redis_cluster_t *self, bool follow);

/*  The node that serves slot, by the map as it is (0 for a single server):
    commands to one node share a connection, so a caller that WATCHes
    knows which of its transactions would share one. The number stays the
    node's until the map is read again, which only happens after a
    redirection or a broken connection. -1 with the code and message set
    when the context cannot connect or no node serves the slot.            */
int cf_redis_cluster_slot_node(cf_redis_cluster_t *self, int slot);

/*  One slot of each master, into slots (at most size): the count, or -1
    with the code and message set. A command appended for each of them
    (cf_redis_cluster_append_slot) reaches every master once: INFO, SCAN,
    FUNCTION LOAD. A single server: 1, with slot -1.                       */
int cf_redis_cluster_master_slots(cf_redis_cluster_t *self, int *slots, size_t size);

/*  The hiredis connection to the node that serves slot (-1: the first
    node), made when missing; NULL with the code and message set. For code
    written over a bare hiredis context (cf_store_library, cf_store_shards),
    with one master at a time; only between batches (nothing queued). An
    I/O error on it is the caller's to report; the context reconnects at
    its next batch only after a failed one (cf_redis_cluster_reset).       */
redisContext *cf_redis_cluster_context(cf_redis_cluster_t *self, int slot);

/*  Closes every connection; the next use connects again and reads the map,
    from any node of the last map it knew (a cluster), the seed last.      */
void cf_redis_cluster_reset(cf_redis_cluster_t *self);

/*  Whether it is a redirection error reply (MOVED, ASK, TRYAGAIN) or a
    cluster that cannot serve (CLUSTERDOWN): the command was not run, and
    may succeed once the map is read again.                                */
bool cf_redis_cluster_redirected(const redisReply *reply);

/*  The reply to the oldest queued command, the caller's to free with
    freeReplyObject; the first call after appends sends them all. 0, or -1
    with the code and message set: then every queued command is dropped
    (after ECONN some may have been applied) and the next call reconnects. */
int cf_redis_cluster_get_reply(cf_redis_cluster_t *self, redisReply **reply);

/*  Writes the queued batch's commands to their nodes now, without waiting
    for a reply (the first cf_redis_cluster_get_reply reads them): a caller
    with several contexts sends each one's batch before reading any, so
    that their round trips overlap. Nothing may be appended between the
    flush and the first reply. 0, or -1 as cf_redis_cluster_get_reply.     */
int cf_redis_cluster_flush(cf_redis_cluster_t *self);

/*  Append and get_reply for one command: its reply, or NULL with the code
    and message set. Commands already queued are answered first and freed. */
redisReply *cf_redis_cluster_command(cf_redis_cluster_t *self, const char *key,
                                     const char *fmt, ...);

/*  The last error's code (CF_REDIS_CLUSTER_OK after a success) and what it
    was, in words ("" for none).                                            */
cf_redis_cluster_err_t cf_redis_cluster_errcode(const cf_redis_cluster_t *self);
const char *cf_redis_cluster_error(const cf_redis_cluster_t *self);

/*  The redirections followed so far.                                       */
void cf_redis_cluster_stats(const cf_redis_cluster_t *self, cf_redis_cluster_stats_t *stats);

/*  The address of the master serving key's slot (a single server: itself),
    for a caller that keeps a transaction of that slot (WATCH ... MULTI/EXEC)
    or a reply reader of its own on a plain connection of its own, and that
    reconnects through here after a MOVED. *host is valid until the map is
    read again. 0, or -1 with the code and message set.                    */
int cf_redis_cluster_key_master(cf_redis_cluster_t *self, const char *key, const char **host,
                                int *port);

#endif
