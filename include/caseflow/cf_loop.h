/*  cf_loop: the one event loop of a caseflow daemon (poll(2) on the
    sockets' ZMQ_FD underneath).

    Handlers are registered for readable ZeroMQ sockets and for repeating
    timers; the loop polls with the nearest timer as its timeout and calls
    them. Protocol code lives in the handlers and never polls on its own. A
    handler returns 0 to go on or -1 to end the loop. The loop also ends when
    the stop flag given to cf_loop_set_stop_flag becomes non-zero (set it from
    a signal handler).                                                         */
#ifndef CF_LOOP_H
#define CF_LOOP_H

#include <signal.h>
#include <stdint.h>

typedef struct _cf_loop_t cf_loop_t;
typedef int (cf_loop_socket_fn)(cf_loop_t *loop, void *socket, void *arg);
typedef int (cf_loop_timer_fn)(cf_loop_t *loop, int timer_id, void *arg);

cf_loop_t *cf_loop_new(void);
void cf_loop_destroy(cf_loop_t **self_p);

/*  Calls handler whenever socket is readable. Returns 0, or -1 when the loop
    already has CF_LOOP_MAX_SOCKETS sockets.                                  */
int cf_loop_add_socket(cf_loop_t *self, void *socket, cf_loop_socket_fn *handler, void *arg);
void cf_loop_remove_socket(cf_loop_t *self, void *socket);

/*  Calls handler every interval_ms (first after interval_ms). Returns a timer
    id > 0, or -1 when the loop is full.                                      */
int cf_loop_add_timer(cf_loop_t *self, int interval_ms, cf_loop_timer_fn *handler, void *arg);
void cf_loop_remove_timer(cf_loop_t *self, int timer_id);

void cf_loop_set_stop_flag(cf_loop_t *self, volatile sig_atomic_t *flag);

/*  Runs until a handler returns -1 or the stop flag is set. Returns 0 when
    stopped by flag or handler, -1 when the poll failed (errno set).         */
int cf_loop_run(cf_loop_t *self);

/*  One pass of cf_loop_run, for a caller with a loop of its own: polls for
    at most timeout_us microseconds (less when a timer is due sooner; the
    timers themselves count in milliseconds), calls the handlers
    of what is readable and the timers that are due. Returns 1 when a
    handler returned -1 or the stop flag is set, 0 to go on, -1 when
    the poll failed (errno set).                                              */
int cf_loop_run_once(cf_loop_t *self, int64_t timeout_us);

/*  Monotonic milliseconds, for deadlines and heartbeats.                     */
int64_t cf_clock_ms(void);
/*  The same clock in microseconds, for waits shorter than a millisecond.   */
int64_t cf_clock_us(void);

/*  Unix time in milliseconds (UTC), for what is compared with event times.   */
int64_t cf_wall_ms(void);

#define CF_LOOP_MAX_SOCKETS 16
#define CF_LOOP_MAX_TIMERS  16

#endif
