/*  cf_store_library: the function library "caseflow" in Redis: which
    version Redis holds (caseflow_version), loading it (the admin's
    FUNCTION LOAD REPLACE, with a record of the persistence settings that
    only the admin may read), and the check every connection of a worker or
    of the broker makes before it calls a function. The workers and the
    broker run as Redis users that may FCALL but not EVAL, SCRIPT, FUNCTION
    LOAD or CONFIG (deploy/redis-users.acl, docs/security.md), so they find
    a missing or outdated library and name the fix instead of loading it;
    a connection that may load it (tests, tools, a Redis without ACL) does.
    On a bare hiredis context, so that the store and the broker's outbox
    reader share it.                                                         */
#include "caseflow/cf_alloc.h"
#include "caseflow/cf_store.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#define LIBRARY_FIX     "load it with `caseflow-ctl functions load` as the Redis admin " \
                        "(docs/operations.md, \"The function library\")"

bool cf_store_library_gone(const char *error_reply)
{
    return error_reply && (strncmp(error_reply, "CFVERSION", 9) == 0
                           || strstr(error_reply, "Function not found") != NULL);
}

/* Copies a reply's string element into out ("" when it is not a string). */
static void library_text(const redisReply *reply, char *out, size_t size)
{
    out[0] = '\0';
    if (reply->type == REDIS_REPLY_STRING)
        snprintf(out, size, "%s", reply->str);
}

int cf_store_library_info(redisContext *c, cf_store_library_info_t *info, char *err,
                          size_t err_size)
{
    assert(c && info && err);
    memset(info, 0, sizeof *info);
    redisReply *reply = redisCommand(c, "FCALL_RO " CF_STORE_FN_VERSION " 0");
    if (!reply) {
        snprintf(err, err_size, "FCALL_RO " CF_STORE_FN_VERSION ": %s", c->errstr);
        return -1;
    }
    int rc = 0;
    if (reply->type == REDIS_REPLY_ERROR && cf_store_library_gone(reply->str))
        ;                           /* none: version "" */
    else if (reply->type == REDIS_REPLY_ERROR)
        rc = -1, snprintf(err, err_size, "FCALL_RO " CF_STORE_FN_VERSION ": %s", reply->str);
    else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
             || reply->element[0]->type != REDIS_REPLY_STRING
             || reply->element[0]->len != CF_STORE_VERSION_LEN)
        rc = -1, snprintf(err, err_size, "FCALL_RO " CF_STORE_FN_VERSION ": unexpected reply "
                          "(a library named " CF_STORE_LIBRARY " that is not caseflow's?)");
    else {
        library_text(reply->element[0], info->version, sizeof info->version);
        library_text(reply->element[1], info->appendfsync, sizeof info->appendfsync);
        library_text(reply->element[2], info->save, sizeof info->save);
    }
    freeReplyObject(reply);
    return rc;
}

/* CONFIG GET name into value, as a Lua string literal's safe content
   (letters, digits, spaces; anything else becomes '?'). */
static int library_config(redisContext *c, const char *name, char *value, size_t size,
                          char *err, size_t err_size)
{
    redisReply *reply = redisCommand(c, "CONFIG GET %s", name);
    if (!reply) {
        snprintf(err, err_size, "CONFIG GET %s: %s", name, c->errstr);
        return -1;
    }
    int rc = 0;
    value[0] = '\0';
    if (reply->type == REDIS_REPLY_ERROR)
        rc = -1, snprintf(err, err_size, "CONFIG GET %s: %s", name, reply->str);
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
        library_text(reply->element[1], value, size);
    for (char *p = value; *p; p++)
        *p = isalnum((unsigned char) *p) || *p == ' ' ? *p : '?';
    freeReplyObject(reply);
    return rc;
}

int cf_store_library_load(redisContext *c, const char *body, size_t len, const char *version,
                          char *err, size_t err_size)
{
    assert(c && body && version && err);
    char fsync[16], save[128];
    if (library_config(c, "appendfsync", fsync, sizeof fsync, err, err_size) < 0
        || library_config(c, "save", save, sizeof save, err, err_size) < 0)
        return -1;
    char *text = NULL;
    size_t text_len;
    FILE *out = cf_memstream_open(&text, &text_len);
    fprintf(out, "#!lua name=" CF_STORE_LIBRARY "\nlocal VERSION = '%s'\n"
            "local LOADED = { appendfsync = '%s', save = '%s' }\n", version, fsync, save);
    fwrite(body, 1, len, out);
    cf_memstream_close(out);
    redisReply *reply = redisCommand(c, "FUNCTION LOAD REPLACE %b", text, text_len);
    free(text);
    if (!reply) {
        snprintf(err, err_size, "FUNCTION LOAD: %s", c->errstr);
        return -1;
    }
    int rc = 0;
    if (reply->type == REDIS_REPLY_ERROR)
        rc = -1, snprintf(err, err_size, "FUNCTION LOAD: %s", reply->str);
    freeReplyObject(reply);
    return rc;
}

int cf_store_library_ensure(redisContext *c, const char *body, size_t len, const char *version,
                            char *err, size_t err_size)
{
    cf_store_library_info_t info;
    if (cf_store_library_info(c, &info, err, err_size) < 0)
        return -1;
    if (strcmp(info.version, version) == 0)
        return 0;
    char why[300];
    if (cf_store_library_load(c, body, len, version, why, sizeof why) == 0)
        return 0;
    if (c->err)
        snprintf(err, err_size, "%s", why);
    else if (info.version[0])
        snprintf(err, err_size, "Redis holds function library " CF_STORE_LIBRARY " %s, this "
                 "program needs %s: " LIBRARY_FIX " (this user may not: %.120s)", info.version,
                 version, why);
    else
        snprintf(err, err_size, "Redis has no function library " CF_STORE_LIBRARY ": "
                 LIBRARY_FIX " (this user may not: %.120s)", why);
    return -1;
}
