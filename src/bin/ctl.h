/*  caseflow-ctl's commands, one file each: report (ctl.c), dlq (ctl_dlq.c)
    and rules (ctl_rules.c). Each takes argv from its own name on and
    returns the exit status: 0, 1 for a runtime error, 2 for a usage error.  */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include "caseflow/cf_store.h"

#define CTL_DEFAULT_REDIS "127.0.0.1:6379"

/*  A store for Redis at host:port (script_dir NULL: a reader) that
    authenticates with the credentials of the environment
    (CASEFLOW_REDIS_USER, CASEFLOW_REDIS_PASSWORD_FILE or
    CASEFLOW_REDIS_PASSWORD: cf_redis_auth). NULL with the reason in err
    when they cannot be read.                                                */
cf_store_t *ctl_store_new(const char *host, int port, const char *script_dir, char *err,
                          size_t err_size);

int ctl_report(int argc, char **argv);
int ctl_dlq(int argc, char **argv);
int ctl_clock(int argc, char **argv);
int ctl_rules(int argc, char **argv);

#endif
