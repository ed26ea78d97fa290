/*  cf_loop: a small zmq_poll reactor with socket handlers and repeating
    timers, in the manner of Redis's ae.c and CZMQ's zloop; see cf_loop.h.    */
#include "caseflow/cf_loop.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

typedef struct {
    void *socket;
    cf_loop_socket_fn *handler;
    void *arg;
} loop_reader_t;

typedef struct {
    int id;                 /* 0 = free slot */
    int interval_ms;
    int64_t due;
    cf_loop_timer_fn *handler;
    void *arg;
} loop_timer_t;

struct _cf_loop_t {
    loop_reader_t readers[CF_LOOP_MAX_SOCKETS];
    int reader_count;
    loop_timer_t timers[CF_LOOP_MAX_TIMERS];
    int next_timer_id;
    volatile sig_atomic_t *stop_flag;
};

int64_t cf_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cf_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

cf_loop_t *cf_loop_new(void)
{
    cf_loop_t *self = cf_calloc(1, sizeof *self);
    self->next_timer_id = 1;
    return self;
}

void cf_loop_destroy(cf_loop_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

int cf_loop_add_socket(cf_loop_t *self, void *socket, cf_loop_socket_fn *handler, void *arg)
{
    assert(self && socket && handler);
    if (self->reader_count == CF_LOOP_MAX_SOCKETS)
        return -1;
    self->readers[self->reader_count++] = (loop_reader_t) { socket, handler, arg };
    return 0;
}

void cf_loop_remove_socket(cf_loop_t *self, void *socket)
{
    assert(self);
    for (int i = 0; i < self->reader_count; i++)
        if (self->readers[i].socket == socket) {
            memmove(&self->readers[i], &self->readers[i + 1],
                    (size_t) (self->reader_count - i - 1) * sizeof self->readers[0]);
            self->reader_count--;
            return;
        }
}

int cf_loop_add_timer(cf_loop_t *self, int interval_ms, cf_loop_timer_fn *handler, void *arg)
{
    assert(self && handler && interval_ms > 0);
    for (int i = 0; i < CF_LOOP_MAX_TIMERS; i++)
        if (self->timers[i].id == 0) {
            self->timers[i] = (loop_timer_t) { self->next_timer_id++, interval_ms,
                                               cf_clock_ms() + interval_ms, handler, arg };
            return self->timers[i].id;
        }
    return -1;
}

void cf_loop_remove_timer(cf_loop_t *self, int timer_id)
{
    assert(self);
    for (int i = 0; i < CF_LOOP_MAX_TIMERS; i++)
        if (self->timers[i].id == timer_id)
            self->timers[i].id = 0;
}

void cf_loop_set_stop_flag(cf_loop_t *self, volatile sig_atomic_t *flag)
{
    assert(self);
    self->stop_flag = flag;
}

/* Milliseconds until the nearest timer is due, or -1 (wait forever) when
   there are none; capped so that the stop flag is looked at regularly. */
static long loop_timeout(cf_loop_t *self, int64_t now)
{
    long timeout = 500;
    for (int i = 0; i < CF_LOOP_MAX_TIMERS; i++)
        if (self->timers[i].id && self->timers[i].due - now < timeout)
            timeout = self->timers[i].due - now;
    return timeout < 0 ? 0 : timeout;
}

static int loop_fire_timers(cf_loop_t *self)
{
    int64_t now = cf_clock_ms();
    for (int i = 0; i < CF_LOOP_MAX_TIMERS; i++) {
        loop_timer_t *timer = &self->timers[i];
        if (timer->id == 0 || timer->due > now)
            continue;
        timer->due = now + timer->interval_ms;
        if (timer->handler(self, timer->id, timer->arg) < 0)
            return -1;
    }
    return 0;
}

static int loop_stopped(const cf_loop_t *self)
{
    return self->stop_flag && *self->stop_flag;
}

/* One poll of at most timeout_ms (-1: until the nearest timer) and what it
   brings: 1 when a handler ended the loop, 0 to go on, -1 when zmq_poll
   failed. */
static int loop_once(cf_loop_t *self, long timeout_ms)
{
    zmq_pollitem_t items[CF_LOOP_MAX_SOCKETS];
    int count = self->reader_count;
    loop_reader_t readers[CF_LOOP_MAX_SOCKETS];
    memcpy(readers, self->readers, sizeof readers);  /* handlers may add/remove */
    for (int i = 0; i < count; i++)
        items[i] = (zmq_pollitem_t) { readers[i].socket, 0, ZMQ_POLLIN, 0 };
    long timeout = loop_timeout(self, cf_clock_ms());
    int rc = zmq_poll(items, count, timeout_ms >= 0 && timeout_ms < timeout ? timeout_ms : timeout);
    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < count && rc > 0; i++)
        if (items[i].revents & ZMQ_POLLIN)
            if (readers[i].handler(self, readers[i].socket, readers[i].arg) < 0)
                return 1;
    return loop_fire_timers(self) < 0 ? 1 : 0;
}

int cf_loop_run(cf_loop_t *self)
{
    assert(self);
    while (!loop_stopped(self)) {
        int rc = loop_once(self, -1);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    return 0;
}

int cf_loop_run_once(cf_loop_t *self, int timeout_ms)
{
    assert(self && timeout_ms >= 0);
    return loop_stopped(self) ? 1 : loop_once(self, timeout_ms);
}
