/*  A fake broker for the producer library's tests: a ROUTER in a thread, on
    a loopback port, that answers each PUSH by a script. An event's status
    comes from its event_id's prefix ("rej..." rejected, "dup..."
    duplicate, else accepted); the mode changes what becomes of the first
    push (busy, lost, garbled, held and answered late, lost with a
    restart) or of all of them (ERROR, answered twice, never answered).                     */
#ifndef CF_TEST_FAKE_BROKER_H
#define CF_TEST_FAKE_BROKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <zmq.h>
#include "caseflow/cf_client.h"

typedef enum { FAKE_NORMAL, FAKE_BUSY_FIRST, FAKE_DROP_FIRST, FAKE_GARBAGE_FIRST, FAKE_ERROR,
               FAKE_TWICE, FAKE_LATE_FIRST, FAKE_RESTART_FIRST,
               FAKE_SILENT /* takes every push, answers none: a broker cut off */ } fake_mode_t;

typedef struct {
    fake_mode_t mode;
    void *ctx, *router;
    char endpoint[64];
    pthread_t thread;
    atomic_int stop;
    atomic_int pushes;
    char ids[4][40];            /* the request ids of the first pushes */
    zmq_msg_t held[2];          /* FAKE_LATE_FIRST: the first push's peer and id */
} fake_t;

/*  Starts a fake in mode on a free loopback port (fake->endpoint).          */
fake_t *fake_start(fake_mode_t mode);

/*  Stops it, frees and nulls *fake_p.                                       */
void fake_stop(fake_t **fake_p);

/*  Adds count events {"event_id": "<prefix><i>"} to client.                */
void cf_test_add_events(cf_client_t *client, const char *prefix, int count);

#endif
