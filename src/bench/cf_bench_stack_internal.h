/*  cf_bench_stack internals shared by cf_bench_stack.c (the object,
    stopping, logs, peaks) and cf_bench_stack_start.c (ports, processes and
    the waits until they are ready). Not part of the public API.            */
#ifndef CF_BENCH_STACK_INTERNAL_H
#define CF_BENCH_STACK_INTERNAL_H

#include "cf_bench_stack.h"
#include "caseflow/cf_redis_auth.h"

#include <pthread.h>
#include <signal.h>

#define STACK_PORTS     5               /* redis, intake, workers, publish, replica */
#define STACK_STOP_MS   5000
#define STACK_TMPDIR_MAX 40             /* the stack's directory and files fit their fields */

struct _cf_bench_stack_t {
    char dir[64], key_file[96], intake[64];
    char password_file[96], redis_conf[96];     /* its Redis's password (requirepass) */
    cf_redis_auth_t *auth;                      /* ... as the bench presents it */
    int ports[STACK_PORTS];
    pid_t redis, replica, broker, workers[CF_BENCH_MAX_WORKERS];
    unsigned worker_count;
    bool failed;
    char error[512];
    pthread_mutex_t lock;                       /* stopping: the guard's or the owner's */
    pthread_t guard;                            /* cf_bench_stack_guard's thread */
    bool guarded;
    sigset_t guarded_signals;
};

/*  Records the error on self (and that the directory is to be kept); -1.   */
int cf_bench_stack_fail(cf_bench_stack_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void cf_bench_stack_sleep_ms(long ms);

/*  The lines of <dir>/<name>.log holding one of the NULL-terminated needles. */
unsigned cf_bench_stack_log_count(const cf_bench_stack_t *self, const char *name,
                                  const char *const *needles);

#endif
