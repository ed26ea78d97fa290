/*  cf_loop: a small reactor with socket handlers and repeating timers, in
    the manner of Redis's ae.c and CZMQ's zloop, polling the sockets' ZMQ_FD
    itself (poll(2)) rather than through zmq_poll; see cf_loop.h.            */
#include "caseflow/cf_loop.h"
#include "caseflow/cf_alloc.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
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

int64_t cf_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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

/* Microseconds until the nearest timer is due, capped so that the stop
   flag is looked at regularly. */
static int64_t loop_timeout(cf_loop_t *self, int64_t now_ms)
{
    int64_t timeout = 500;
    for (int i = 0; i < CF_LOOP_MAX_TIMERS; i++)
        if (self->timers[i].id && self->timers[i].due - now_ms < timeout)
            timeout = self->timers[i].due - now_ms;
    return timeout < 0 ? 0 : timeout * 1000;
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

/* Marks in ready[] the sockets that hold a message now, looking only at
   those whose ZMQ_FD polled readable when fds is given (else at all), and
   returns how many, or -1 when libzmq failed (errno set). ZMQ_EVENTS also
   takes in the commands queued by libzmq's I/O thread, which re-arms the
   ZMQ_FD: after it, a socket nothing else touches gets no new message
   without its ZMQ_FD becoming readable. */
static int loop_ready(const loop_reader_t *readers, int count, const struct pollfd *fds,
                      bool *ready)
{
    int n = 0;
    for (int i = 0; i < count; i++) {
        ready[i] = false;
        if (fds && !(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
            continue;
        uint32_t events = 0;
        size_t size = sizeof events;
        if (zmq_getsockopt(readers[i].socket, ZMQ_EVENTS, &events, &size) < 0)
            return -1;
        ready[i] = events & ZMQ_POLLIN;
        n += ready[i];
    }
    return n;
}

/* Waits at most timeout µs for a socket to hold a message,
   marking those that do in ready[]: how many (0 when the time is out), or
   -1 when poll or libzmq failed (errno set). Rather than zmq_poll, which
   asks every socket for ZMQ_EVENTS before and again after poll(2) (each
   ask costs two system calls in libzmq 4.3 when nothing is queued), every
   socket is asked once, since handlers may have touched any of them, and
   after the wait only those whose ZMQ_FD became readable: a third of the
   system calls of the broker's loop per message (docs/performance.md).
   ppoll(2) rather than poll(2), for waits shorter than a millisecond: a
   caller that paces its own sends (the bench's open loop) takes replies
   until the next send is due, to the microsecond. */
static int loop_wait(const loop_reader_t *readers, int count, int64_t timeout, bool *ready)
{
    int n = loop_ready(readers, count, NULL, ready);
    if (n != 0 || timeout == 0)
        return n;
    struct pollfd fds[CF_LOOP_MAX_SOCKETS];
    for (int i = 0; i < count; i++) {
        size_t size = sizeof fds[i].fd;
        if (zmq_getsockopt(readers[i].socket, ZMQ_FD, &fds[i].fd, &size) < 0)
            return -1;
        fds[i].events = POLLIN;
    }
    int64_t deadline = cf_clock_us() + timeout;
    for (;;) {
        for (int i = 0; i < count; i++)
            fds[i].revents = 0;
        struct timespec wait = { (time_t) (timeout / 1000000), (long) (timeout % 1000000) * 1000 };
        int rc = ppoll(fds, (nfds_t) count, &wait, NULL);
        if (rc <= 0)
            return rc;
        /* readable may be other commands than a message (a peer's credit,
           a pipe's end): wait on for the rest of the time */
        if ((n = loop_ready(readers, count, fds, ready)) != 0)
            return n;
        if ((timeout = deadline - cf_clock_us()) <= 0)
            return 0;
    }
}

/* One wait of at most timeout_us (-1: until the nearest timer) and what it
   brings: 1 when a handler ended the loop, 0 to go on, -1 when the wait
   failed. */
static int loop_once(cf_loop_t *self, int64_t timeout_us)
{
    int count = self->reader_count;
    loop_reader_t readers[CF_LOOP_MAX_SOCKETS];
    memcpy(readers, self->readers, sizeof readers);  /* handlers may add/remove */
    bool ready[CF_LOOP_MAX_SOCKETS];
    int64_t timeout = loop_timeout(self, cf_clock_ms());
    int rc = loop_wait(readers, count, timeout_us >= 0 && timeout_us < timeout ? timeout_us
                                                                                : timeout, ready);
    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < count && rc > 0; i++)
        if (ready[i])
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

int cf_loop_run_once(cf_loop_t *self, int64_t timeout_us)
{
    assert(self && timeout_us >= 0);
    return loop_stopped(self) ? 1 : loop_once(self, timeout_us);
}
